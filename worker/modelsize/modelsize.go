// Package modelsize learns the GPU memory a GGUF model needs from its header
// alone: a local file, or a URL read with HTTP Range requests, never the
// tensor data. The operator schedules workers by it before any worker has run,
// and `kubeinfer-worker inspect` prints the same figures. It links the GGUF
// reader, the model's shapes and the memory plan, and nothing of inference
// (tokenizer, engines, server).
package modelsize

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// FromHeader is the plan of a model whose header (or whole file) f holds.
func FromHeader(f *gguf.File, opts memplan.Options) (memplan.Plan, error) {
	m, err := model.FromFile(f, "")
	if err != nil {
		return memplan.Plan{}, err
	}
	return memplan.ForModel(m, opts)
}

// Sizer reads URL models' headers and keeps the result per sha256 digest, which
// names the content, so each model is read once per process however many
// InferenceWorkers use it: concurrent callers for one digest share one read.
type Sizer struct {
	Client *http.Client
	// Timeout bounds one header read; 0 means 10 s.
	Timeout time.Duration
	// MaxBytes bounds one header read; 0 means 64 MiB.
	MaxBytes uint64
	// RetryAfter is how long a failed read is remembered before trying again; 0 means 1 min.
	RetryAfter time.Duration

	mu    sync.Mutex
	cache map[string]*entry
}

// entry is one digest's read: done closes when m and err are final.
type entry struct {
	done chan struct{}
	m    *model.Model // header only: shapes and sizes, no data
	err  error
	at   time.Time
}

// Plan is the GPU memory plan of the model at url, whose content has the given
// sha256 digest, with the worker's options.
func (s *Sizer) Plan(ctx context.Context, url, digest string, opts memplan.Options) (memplan.Plan, error) {
	m, err := s.header(ctx, url, digest)
	if err != nil {
		return memplan.Plan{}, err
	}
	return memplan.ForModel(m, opts)
}

func (s *Sizer) header(ctx context.Context, url, digest string) (*model.Model, error) {
	retry := s.RetryAfter
	if retry <= 0 {
		retry = time.Minute
	}
	s.mu.Lock()
	if s.cache == nil {
		s.cache = map[string]*entry{}
	}
	e, ok := s.cache[digest]
	if ok {
		select {
		case <-e.done:
			if e.err != nil && time.Since(e.at) >= retry {
				ok = false // a failure is remembered for a while only
			}
		default: // a read is under way: wait for it below
		}
	}
	if !ok {
		e = &entry{done: make(chan struct{})}
		s.cache[digest] = e
		s.mu.Unlock()
		e.m, e.err = s.read(ctx, url)
		e.at = time.Now()
		close(e.done)
		return e.m, e.err
	}
	s.mu.Unlock()
	select {
	case <-e.done:
		return e.m, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Sizer) read(ctx context.Context, url string) (*model.Model, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	f, _, err := ReadHeader(rctx, s.Client, url, s.MaxBytes)
	if err != nil {
		return nil, err
	}
	m, err := model.FromFile(f, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return m, nil
}

// Unsupported says err means no worker of this version can run the model (a tensor
// type it cannot compute with), rather than that its header could not be read.
func Unsupported(err error) bool {
	var u *gguf.UnsupportedTypeError
	return errors.As(err, &u)
}
