package load

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWatchLoadFailsAStalledLoad: progress, then nothing for the stall timeout, gives a
// StallError carrying the last progress; a load that keeps moving is left alone.
func TestWatchLoadFailsAStalledLoad(t *testing.T) {
	tr := NewTracker(nil, nil)
	block := make(chan struct{})
	defer close(block)
	_, err := Watch(context.Background(), tr, 150*time.Millisecond, 10*time.Millisecond, func() (*Model, error) {
		tr.Update(0, 1000)
		tr.Update(500, 1000)
		<-block // stuck, e.g. on a dead network volume
		return nil, nil
	})
	var stall *StallError
	if !errors.As(err, &stall) || stall.Last.Done != 500 || stall.Last.Total != 1000 {
		t.Fatalf("err = %v", err)
	}
	if !strings.HasPrefix(err.Error(), "model load stalled: no progress for 150ms (last: Loading 0.5 of 1.0 kB (50%") {
		t.Errorf("message %q", err.Error())
	}

	tr = NewTracker(nil, nil)
	var mu sync.Mutex
	_, err = Watch(context.Background(), tr, 150*time.Millisecond, 10*time.Millisecond, func() (*Model, error) {
		for i := range 10 { // 400 ms in all, never 150 ms without progress
			mu.Lock()
			tr.Update(uint64(i+1)*100, 1000)
			mu.Unlock()
			time.Sleep(40 * time.Millisecond)
		}
		return nil, errors.New("done")
	})
	if err == nil || err.Error() != "done" {
		t.Errorf("a moving load was stopped: %v", err)
	}
}

func TestLoadTrackerRateAndETA(t *testing.T) {
	now := time.Unix(0, 0)
	tr := NewTracker(nil, func() time.Time { return now })
	now = now.Add(2 * time.Second)
	tr.Update(1e9, 3e9)
	p := tr.Progress()
	if p.BytesPerSecond != 5e8 || p.ETA != 4*time.Second || p.Percent() != 33 {
		t.Errorf("progress %+v", p)
	}
}
