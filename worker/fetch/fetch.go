// Package fetch downloads a model file: resumable (HTTP Range on a partial
// file), retried with backoff, verified against a SHA-256 digest, and
// written atomically, so a reader never sees a half-written model.
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
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
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
	URL    string
	SHA256 string // hex
	Dest   string // directory
	Client *http.Client
	// Attempts is how many times a failing transfer is tried; 0 means 8.
	Attempts int
	// Backoff is the first wait between attempts, doubled each time up to
	// 30s; 0 means 1s.
	Backoff time.Duration
	Log     logr.Logger
	// ProgressEvery is the least time between progress logs; 0 means 1s.
	ProgressEvery time.Duration
}

// Fetch makes Dest/model.gguf hold the verified file and returns its path.
// When a file with the right digest is already there it does nothing else.
func Fetch(ctx context.Context, o Options) (string, error) {
	want := strings.ToLower(strings.TrimPrefix(o.SHA256, "sha256:"))
	if b, err := hex.DecodeString(want); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("--sha256 %q is not 64 hex digits", o.SHA256)
	}
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if o.Attempts <= 0 {
		o.Attempts = 8
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	if err := os.MkdirAll(o.Dest, 0o755); err != nil {
		return "", err
	}
	final := filepath.Join(o.Dest, FileName)
	if got, err := fileDigest(final); err == nil {
		if got == want {
			o.Log.Info("model already present and verified", "path", final)
			return final, nil
		}
		o.Log.Info("model present but its digest differs; downloading again", "path", final, "expected", want, "got", got)
	}
	partial := filepath.Join(o.Dest, partialName)
	wait := o.Backoff
	var err error
	for attempt := 1; attempt <= o.Attempts; attempt++ {
		if err = download(ctx, o, partial); err == nil {
			break
		}
		var perm permanentError
		if errors.As(err, &perm) || ctx.Err() != nil || attempt == o.Attempts {
			return "", err
		}
		o.Log.Info("download interrupted; retrying", "attempt", attempt, "wait", wait.String(), "error", err.Error())
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return "", ctx.Err()
		}
		wait = min(2*wait, 30*time.Second)
	}
	got, err := fileDigest(partial)
	if err != nil {
		return "", err
	}
	if got != want {
		_ = os.Remove(partial) // start over next time: the bytes are wrong
		return "", &DigestMismatchError{Want: want, Got: got}
	}
	if err := os.Rename(partial, final); err != nil {
		return "", err
	}
	if d, err := os.Open(o.Dest); err == nil {
		_ = d.Sync() // persist the rename
		d.Close()
	}
	o.Log.Info("model downloaded and verified", "path", final, "sha256", got)
	return final, nil
}

// permanentError is not worth retrying (a 404, a 403).
type permanentError struct{ error }

// download appends the rest of the file to partial, resuming after the
// bytes already there, and fsyncs it.
func download(ctx context.Context, o Options, partial string) error {
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return permanentError{err}
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.URL, nil)
	if err != nil {
		return permanentError{err}
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var total int64 = -1
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		if start, size, ok := parseContentRange(resp.Header.Get("Content-Range")); ok {
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
		if have > 0 { // the server ignored Range: start over
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
		return fmt.Errorf("GET %s: %s", o.URL, resp.Status)
	default:
		return permanentError{fmt.Errorf("GET %s: %s", o.URL, resp.Status)}
	}
	p := &progress{log: o.Log, every: o.ProgressEvery, done: have, total: total, start: time.Now(), startBytes: have, last: time.Now()}
	_, err = io.Copy(f, io.TeeReader(resp.Body, p))
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("after %d bytes: %w", p.done, err)
	}
	if total >= 0 && p.done != total {
		return fmt.Errorf("got %d of %d bytes", p.done, total)
	}
	p.report(true)
	return nil
}

// parseContentRange reads "bytes START-END/SIZE".
func parseContentRange(v string) (start, size int64, ok bool) {
	v, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, sz, found := strings.Cut(v, "/")
	s, _, found2 := strings.Cut(rng, "-")
	if !found || !found2 {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(s, 10, 64)
	size, err2 := strconv.ParseInt(sz, 10, 64)
	if err1 != nil {
		return 0, 0, false
	}
	if err2 != nil {
		size = -1
	}
	return start, size, true
}

// progress logs bytes, total and rate at most once per interval.
type progress struct {
	log         logr.Logger
	every       time.Duration
	done, total int64
	start, last time.Time
	startBytes  int64
}

func (p *progress) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	p.report(false)
	return len(b), nil
}

func (p *progress) report(final bool) {
	now := time.Now()
	if !final && now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	rate := float64(p.done-p.startBytes) / max(now.Sub(p.start).Seconds(), 1e-9)
	p.log.Info("download progress", "bytes", p.done, "total", p.total, "bytesPerSecond", int64(rate))
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
