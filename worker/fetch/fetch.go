// Package fetch downloads a model file: resumable (HTTP Range on a partial
// file, with If-Range on the first response's ETag so a changed file starts
// over), retried with backoff (also when no data arrives for a while),
// verified against a SHA-256 digest, and written atomically, so a reader
// never sees a half-written model. It reports its progress at most once a
// second. Secret headers (a hub token) go to the URL's own host only, never
// to a host it redirects to; hf:// references are resolved to the hub. With a
// cache directory (cache.go) the pods of one node download a file once.
package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/internal/hfhub"
	"github.com/kubeinfer/kubeinfer/internal/httprange"
)

// File names inside the destination directory.
const (
	FileName    = "model.gguf"
	partialName = ".model.gguf.partial"
)

// DigestMismatchError says the downloaded bytes are not the expected ones.
type DigestMismatchError struct {
	Want, Got string
}

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("sha256 mismatch: expected %s, got %s", e.Want, e.Got)
}

// Options configure a download.
type Options struct {
	URL    string // http(s), or hf://OWNER/REPO/PATH[@REVISION]
	SHA256 string // hex
	Dest   string // directory
	Client *http.Client
	// Headers are sent with the request to the URL's host (scheme and host equal) and
	// dropped from requests that a redirect sends elsewhere: a hub token is for the hub,
	// and a CDN's signed URL refuses a second credential.
	Headers http.Header
	// CacheDir, when set, keeps the verified file there under its digest, shared by the
	// pods that mount it; Dest then gets a hard link (or a copy). CacheSizeLimit > 0
	// bounds it (least recently used files that no pod holds are removed).
	CacheDir       string
	CacheSizeLimit int64
	// Attempts is how many times a failing transfer is tried; 0 means 8.
	Attempts int
	// Backoff is the first wait between attempts, doubled each time up to
	// 30s; 0 means 1s.
	Backoff time.Duration
	Log     logr.Logger
	// ProgressEvery is the least time between progress reports; 0 means 1s.
	ProgressEvery time.Duration
	// Progress, when set, receives the progress (at most once per ProgressEvery, at the
	// end of each attempt, and when an attempt fails) instead of the progress log lines.
	// While no data arrives for StallNotice, or after a failed attempt until data
	// arrives again, it has StalledSince set.
	Progress func(v1alpha1.LoadProgress)
	// StallTimeout gives up an attempt (request or body) that receives no data for this
	// long; the next attempt resumes. 0 means 1 min; negative never gives up.
	StallTimeout time.Duration
	// StallNotice is how long without data before the progress says stalled; 0 means
	// 10 s, or half the StallTimeout when that is shorter.
	StallNotice time.Duration
	// Downloaded, when set, is told the size and duration of a download once it is
	// verified (not when the file was already there).
	Downloaded func(size int64, took time.Duration)
}

// StallError is an attempt that received no data for the stall timeout.
type StallError struct {
	Timeout time.Duration
	Last    v1alpha1.LoadProgress
}

func (e *StallError) Error() string {
	return fmt.Sprintf("download stalled: no data for %s (last: %s)", e.Timeout, e.Last.Sentence("Downloading"))
}

// Fetch makes Dest/model.gguf hold the verified file and returns its path.
// When a file with the right digest is already there it does nothing else.
func Fetch(ctx context.Context, o Options) (string, error) {
	want := strings.ToLower(strings.TrimPrefix(o.SHA256, "sha256:"))
	if b, err := hex.DecodeString(want); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("--sha256 %q is not 64 hex digits", o.SHA256)
	}
	resolved, err := hfhub.Resolve(o.URL)
	if err != nil {
		return "", err
	}
	o.URL = resolved
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	o.Client = headersStayHome(o.Client, o.Headers)
	if o.Attempts <= 0 {
		o.Attempts = 8
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	if o.StallTimeout == 0 {
		o.StallTimeout = time.Minute
	}
	if o.StallNotice <= 0 {
		o.StallNotice = 10 * time.Second
		if o.StallTimeout > 0 {
			o.StallNotice = min(o.StallNotice, o.StallTimeout/2)
		}
	}
	if err := os.MkdirAll(o.Dest, 0o755); err != nil {
		return "", err
	}
	final := filepath.Join(o.Dest, FileName)
	if o.CacheDir != "" {
		return fetchCached(ctx, o, want, final)
	}
	if got, err := fileDigest(final); err == nil {
		if got == want {
			o.Log.Info("model already present and verified", "path", final)
			return final, nil
		}
		o.Log.Info("model present but its digest differs; downloading again", "path", final, "expected", want, "got", got)
	}
	if err := get(ctx, o, want, filepath.Join(o.Dest, partialName), final); err != nil {
		return "", err
	}
	return final, nil
}

// get downloads the file into partial (resuming what is there), verifies it and renames
// it to final.
func get(ctx context.Context, o Options, want, partial, final string) error {
	wait := o.Backoff
	var err error
	started := time.Now()
	p := newProgress(o, started)
	for attempt := 1; attempt <= o.Attempts; attempt++ {
		if err = download(ctx, o, partial, p); err == nil {
			break
		}
		var perm permanentError
		if errors.As(err, &perm) || ctx.Err() != nil || attempt == o.Attempts {
			return err
		}
		p.interrupted()
		o.Log.Info("download interrupted; retrying", "attempt", attempt, "wait", wait.String(), "error", err.Error())
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait = min(2*wait, 30*time.Second)
	}
	got, err := fileDigest(partial)
	if err != nil {
		return err
	}
	_ = os.Remove(partial + etagSuffix)
	if got != want {
		_ = os.Remove(partial) // start over next time: the bytes are wrong
		return &DigestMismatchError{Want: want, Got: got}
	}
	if err := os.Rename(partial, final); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(final)); err == nil {
		_ = d.Sync() // persist the rename
		d.Close()
	}
	o.Log.Info("model downloaded and verified", "path", final, "sha256", got)
	if o.Downloaded != nil {
		if fi, err := os.Stat(final); err == nil {
			o.Downloaded(fi.Size(), time.Since(started))
		}
	}
	return nil
}

// etagSuffix names the file beside a partial download that keeps the ETag of the
// response it came from, so a resume (also by the next pod) asks for the same version.
const etagSuffix = ".etag"

// headersStayHome returns a copy of c whose redirects keep the secret headers only while
// they stay on the first request's scheme and host.
func headersStayHome(c *http.Client, secret http.Header) *http.Client {
	cc := *c
	next := c.CheckRedirect
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return permanentError{fmt.Errorf("stopped after 10 redirects (last to %s)", req.URL.Redacted())}
		}
		if first := via[0].URL; req.URL.Host != first.Host || req.URL.Scheme != first.Scheme {
			for name := range secret {
				req.Header.Del(name)
			}
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &cc
}

// permanentError is not worth retrying (a 404, a 403).
type permanentError struct{ error }

// download appends the rest of the file to partial, resuming after the
// bytes already there, and fsyncs it. It gives up with a *StallError when no
// data arrives for the stall timeout.
func download(ctx context.Context, o Options, partial string, p *progress) (err error) {
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return permanentError{err}
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	p.begin(have)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopWatch := p.watch(cancel)
	defer stopWatch()
	defer func() {
		// A stall cancels the request: say so rather than "context canceled".
		var stall *StallError
		if err != nil && errors.As(context.Cause(ctx), &stall) {
			err = stall
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.URL, nil)
	if err != nil {
		return permanentError{err}
	}
	for name, values := range o.Headers {
		req.Header[name] = values
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
		// Go copies these to a redirect's request: the CDN that holds the bytes sees them.
		if etag, err := os.ReadFile(partial + etagSuffix); err == nil && len(etag) > 0 {
			req.Header.Set("If-Range", string(etag))
		}
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var total int64 = -1
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		if start, size, ok := httprange.ParseContentRange(resp.Header.Get("Content-Range")); ok {
			if start != have {
				return fmt.Errorf("server resumed at byte %d, not %d", start, have)
			}
			total = size
		}
		o.Log.Info("resuming download", "from", have)
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		// Most likely we already have it all; the digest check decides.
		return nil
	case resp.StatusCode == http.StatusOK:
		if have > 0 { // the server ignored Range, or the file changed (If-Range): start over
			o.Log.Info("the server sent the whole file: starting over", "had", have)
			if err := f.Truncate(0); err != nil {
				return err
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			have = 0
		}
		total = resp.ContentLength
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("GET %s: %s", redacted(o.URL), resp.Status)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		hint := "the model may be gated or private: put a token in a Secret and name it in spec.model.source.url.headersSecretRef"
		if len(o.Headers) > 0 {
			hint = "check the token in the Secret of spec.model.source.url.headersSecretRef, and that it has access to the model"
		}
		return permanentError{fmt.Errorf("GET %s: %s: %s", redacted(o.URL), resp.Status, hint)}
	default:
		return permanentError{fmt.Errorf("GET %s: %s", redacted(o.URL), resp.Status)}
	}
	if etag := resp.Header.Get("ETag"); resp.StatusCode == http.StatusOK && etag != "" && !strings.HasPrefix(etag, "W/") {
		// If-Range takes strong validators only.
		_ = os.WriteFile(partial+etagSuffix, []byte(etag), 0o644)
	}
	p.setTotal(have, total)
	_, err = io.Copy(f, io.TeeReader(resp.Body, p))
	if serr := f.Sync(); err == nil {
		err = serr
	}
	done := p.bytes()
	if err != nil {
		return fmt.Errorf("after %d bytes: %w", done, err)
	}
	if total >= 0 && done != total {
		return fmt.Errorf("got %d of %d bytes", done, total)
	}
	p.report(true)
	return nil
}

// progress follows a download across its attempts and reports it (to
// Options.Progress, else the log) at most once per interval.
type progress struct {
	o Options

	mu          sync.Mutex
	done, total int64 // total is -1 while unknown
	// start and startBytes are the current attempt's start, for its rate; lastData is
	// when data last arrived (or the download started), over all attempts.
	start, lastData time.Time
	startBytes      int64
	lastReport      time.Time
	failed          bool // an attempt failed and no data arrived since
}

func newProgress(o Options, now time.Time) *progress {
	return &progress{o: o, total: -1, start: now, lastData: now}
}

// begin starts an attempt with have bytes already on disk.
func (p *progress) begin(have int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.startBytes, p.start = have, have, time.Now()
}

// setTotal records the response: the bytes kept (0 when the server ignored Range) and
// the file's size, -1 when unknown.
func (p *progress) setTotal(have, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.startBytes = have, have
	if total >= 0 || have == 0 {
		p.total = total
	}
}

func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	p.done += int64(len(b))
	p.lastData, p.failed = time.Now(), false
	p.mu.Unlock()
	p.report(false)
	return len(b), nil
}

func (p *progress) bytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// watch reports the progress on a ticker, so that a stall is reported while no data
// comes, and cancels the attempt with a *StallError once the attempt has had no data
// for the stall timeout. The returned func stops it.
func (p *progress) watch(cancel context.CancelCauseFunc) func() {
	check := p.o.ProgressEvery
	if p.o.StallTimeout > 0 {
		check = min(check, max(p.o.StallTimeout/10, time.Millisecond))
	}
	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(check)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				p.mu.Lock()
				idle := now.Sub(p.start)
				if p.lastData.After(p.start) {
					idle = now.Sub(p.lastData)
				}
				last := p.snapshot(now, false)
				p.mu.Unlock()
				if p.o.StallTimeout > 0 && idle >= p.o.StallTimeout {
					cancel(&StallError{Timeout: p.o.StallTimeout, Last: last})
					return
				}
				p.report(false)
			}
		}
	}()
	return func() { close(stop) }
}

// interrupted reports, once per failed attempt, that the download is not moving.
func (p *progress) interrupted() {
	p.mu.Lock()
	p.failed = true
	p.lastReport = time.Time{}
	p.mu.Unlock()
	p.report(false)
}

// snapshot is the progress now; stalled marks it with when data last came. p.mu is held.
func (p *progress) snapshot(now time.Time, stalled bool) v1alpha1.LoadProgress {
	lp := v1alpha1.LoadProgress{Done: uint64(max(p.done, 0)), ETA: -1}
	if p.total > 0 {
		lp.Total = uint64(p.total)
	}
	// No rate from the first few bytes: it would be nonsense.
	if el := now.Sub(p.start); el >= p.o.ProgressEvery/2 && p.done > p.startBytes {
		rate := float64(p.done-p.startBytes) / el.Seconds()
		lp.BytesPerSecond = uint64(rate)
		if p.total > 0 {
			lp.ETA = time.Duration(float64(max(p.total-p.done, 0)) / rate * float64(time.Second))
		}
	}
	if stalled {
		lp.StalledSince = p.lastData
	}
	return lp
}

// report sends the progress at most once per interval (final: now).
func (p *progress) report(final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !final && now.Sub(p.lastReport) < p.o.ProgressEvery {
		return
	}
	p.lastReport = now
	lp := p.snapshot(now, p.failed || now.Sub(p.lastData) >= p.o.StallNotice)
	if p.o.Progress != nil {
		p.o.Progress(lp)
		return
	}
	kv := []any{"bytes", p.done, "total", p.total, "bytesPerSecond", lp.BytesPerSecond}
	if !lp.StalledSince.IsZero() {
		kv = append(kv, "noDataSince", lp.StalledSince.UTC().Format(time.RFC3339))
	}
	p.o.Log.Info("download progress", kv...)
}

func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var h hash.Hash = sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// redacted is a URL for messages: no password, no query (a signed URL's signature).
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.RawQuery, u.Fragment = "", ""
	return u.Redacted()
}
