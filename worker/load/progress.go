package load

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// Tracker turns a backend's progress calls (bytes read so far, of the total) into
// progress with a rate and a time left, and tells when the load has stalled.
type Tracker struct {
	report func(v1alpha1.LoadProgress)
	now    func() time.Time

	mu          sync.Mutex
	start, last time.Time // when the load started, when it last moved
	p           v1alpha1.LoadProgress
}

// NewTracker returns a tracker that passes every update to report (which may
// rate-limit); now is the clock, nil for time.Now.
func NewTracker(report func(v1alpha1.LoadProgress), now func() time.Time) *Tracker {
	if now == nil {
		now = time.Now
	}
	if report == nil {
		report = func(v1alpha1.LoadProgress) {}
	}
	t := now()
	return &Tracker{report: report, now: now, start: t, last: t, p: v1alpha1.LoadProgress{ETA: -1}}
}

// Update records done of total bytes; it is a model.ProgressFunc.
func (t *Tracker) Update(done, total uint64) {
	now := t.now()
	t.mu.Lock()
	if done > t.p.Done || t.p.Total != total {
		t.last = now
	}
	t.p.Done, t.p.Total = done, total
	t.p.BytesPerSecond, t.p.ETA = 0, -1
	if el := now.Sub(t.start).Seconds(); el > 0 && done > 0 {
		rate := float64(done) / el
		t.p.BytesPerSecond = uint64(rate)
		t.p.ETA = time.Duration(float64(total-min(done, total)) / rate * float64(time.Second))
	}
	p := t.p
	t.mu.Unlock()
	t.report(p)
}

// Progress is the last progress recorded.
func (t *Tracker) Progress() v1alpha1.LoadProgress {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.p
}

// idle is how long the load has not moved.
func (t *Tracker) idle() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.now().Sub(t.last)
}

// StallError is a load that made no progress for the stall timeout.
type StallError struct {
	Timeout time.Duration
	Last    v1alpha1.LoadProgress
}

func (e *StallError) Error() string {
	return fmt.Sprintf("model load stalled: no progress for %s (last: %s)", e.Timeout, e.Last)
}

// Watch runs load and returns its result, or a *StallError once the tracker has
// seen no progress for timeout (checked every check interval). A stalled load cannot
// be interrupted (it is blocked in page faults or the driver), so the caller exits.
func Watch(ctx context.Context, t *Tracker, timeout, check time.Duration, load func() (*Model, error)) (*Model, error) {
	type result struct {
		m   *Model
		err error
	}
	done := make(chan result, 1)
	go func() {
		m, err := load()
		done <- result{m, err}
	}()
	if timeout <= 0 {
		r := <-done
		return r.m, r.err
	}
	tick := time.NewTicker(check)
	defer tick.Stop()
	for {
		select {
		case r := <-done:
			return r.m, r.err
		case <-tick.C:
			if t.idle() >= timeout {
				return nil, &StallError{Timeout: timeout, Last: t.Progress()}
			}
		case <-ctx.Done():
			r := <-done // the load is not interruptible; SIGTERM waits for it as before
			return r.m, r.err
		}
	}
}
