// Package server is the worker's HTTP front: the OpenAI-compatible API
// (completions, chat completions, models), health and readiness probes and
// Prometheus metrics, over a scheduler that batches requests on one backend.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubeinfer/kubeinfer/worker/load"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/report"
	"github.com/kubeinfer/kubeinfer/worker/scheduler"
)

// Config configures the server.
type Config struct {
	// ServedName is the model name clients send and /v1/models lists.
	ServedName string
	// MaxConcurrent, MaxQueue and MaxContext size the scheduler (see
	// scheduler.Config); MaxQueue < 0 means 4 × MaxConcurrent.
	MaxConcurrent int
	MaxQueue      int
	MaxContext    int
	// RetryAfter is the Retry-After seconds of a 429; 0 means 1.
	RetryAfter int
	Narrator   report.Narrator
	// Collectors are served on /metrics with the server's own (e.g. narration's).
	Collectors []prometheus.Collector
	Log        logr.Logger
	// APIKeys, when set, are the keys API requests must carry (see auth.go).
	APIKeys *APIKeys
}

// Server serves one model. Create it with New, serve Handler at once (so
// /healthz answers while the model loads), then Start it with the model.
type Server struct {
	cfg     Config
	log     logr.Logger
	metrics *metrics
	handler http.Handler
	created int64

	mu    sync.RWMutex
	model *load.Model
	sched *scheduler.Scheduler

	ready    atomic.Bool
	draining atomic.Bool
}

// New returns a server that is alive but not ready.
func New(cfg Config) *Server {
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 1
	}
	if cfg.MaxQueue < 0 {
		cfg.MaxQueue = 4 * cfg.MaxConcurrent
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 1
	}
	if cfg.Narrator == nil {
		cfg.Narrator = report.Nop{}
	}
	s := &Server{cfg: cfg, log: cfg.Log, created: time.Now().Unix()}
	s.metrics = newMetrics(s.stats)
	s.metrics.reg.MustRegister(cfg.Collectors...)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /v1/models", s.models)
	mux.HandleFunc("POST /v1/completions", s.completions)
	mux.HandleFunc("POST /v1/chat/completions", s.chatCompletions)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{Status: http.StatusNotFound, Type: "invalid_request_error",
			Message: "unknown endpoint " + r.Method + " " + r.URL.Path})
	})
	s.handler = s.instrument(requireAPIKey(cfg.APIKeys, mux))
	return s
}

// Handler is the HTTP handler of all endpoints.
func (s *Server) Handler() http.Handler { return s.handler }

// ModelLoadFailed reports a failed load to the Narrator.
func (s *Server) ModelLoadFailed(err error) { s.cfg.Narrator.OnModelLoadFailed(err) }

// Start serves m: it starts the scheduler, generates one warm-up token,
// and then reports ready. The server owns m from now on.
func (s *Server) Start(ctx context.Context, m *load.Model) error {
	start := time.Now()
	sched := scheduler.New(m.Backend, m.Tokenizer, scheduler.Config{
		MaxConcurrent: s.cfg.MaxConcurrent, MaxQueue: s.cfg.MaxQueue, MaxContext: s.cfg.MaxContext,
		Log: s.log.WithName("scheduler"),
	})
	warm := m.Tokenizer.Encode("Hello", true)
	if len(warm) == 0 {
		warm = []int{0}
	}
	h, err := sched.Submit(ctx, scheduler.Request{Prompt: warm, MaxTokens: 1})
	if err == nil {
		for _, ok := h.Next(ctx); ok; _, ok = h.Next(ctx) {
		}
		err = h.Result().Err
	}
	if err != nil {
		_ = sched.Drain(context.Background())
		return errors.Join(errors.New("warm-up failed"), err)
	}
	m.LoadTime += time.Since(start)
	s.mu.Lock()
	s.model, s.sched = m, sched
	s.mu.Unlock()
	s.metrics.modelLoadSeconds.Set(m.LoadTime.Seconds())
	s.ready.Store(true)
	h0 := m.Backend.Model().Hyper
	rec := report.ModelLoaded{ServedName: s.cfg.ServedName, Arch: h0.Arch, Backend: m.Backend.Name(), Device: m.Backend.Device(),
		ContextLength: sched.ContextLength(), LoadTime: m.LoadTime}
	if f := m.Backend.Model().File; f != nil {
		rec.Parameters = int64(model.Inspect(f).Parameters)
	}
	if m.Plan.Total() > 0 {
		rec.RequiredMiB, rec.WeightsBytes = m.Plan.TotalMiB(), int64(m.Plan.Weights)
	}
	if u, ok := m.Backend.(interface{ UsedBytes() uint64 }); ok {
		rec.DeviceBytes = u.UsedBytes()
	}
	s.log.Info("model ready", "servedName", rec.ServedName, "arch", rec.Arch, "backend", rec.Backend, "device", rec.Device,
		"contextLength", rec.ContextLength, "loadSeconds", rec.LoadTime.Seconds())
	s.cfg.Narrator.OnModelLoaded(rec)
	return nil
}

// Shutdown stops admitting requests (they get 503, /readyz too), lets
// running and queued ones finish until ctx ends, cuts the rest, and closes
// the model. Stop the HTTP server after it returns.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.mu.RLock()
	sched, m := s.sched, s.model
	s.mu.RUnlock()
	if sched == nil {
		return nil
	}
	err := sched.Drain(ctx)
	if errors.Is(err, ctx.Err()) && err != nil {
		s.log.Info("shutdown grace period ended; cut the remaining requests")
	}
	return errors.Join(err, m.Close())
}

func (s *Server) stats() (scheduler.Stats, bool) {
	s.mu.RLock()
	sched := s.sched
	s.mu.RUnlock()
	if sched == nil {
		return scheduler.Stats{}, false
	}
	return sched.Stats(), true
}

// Stats returns the scheduler's queue and KV use; zero before Start.
func (s *Server) Stats() scheduler.Stats { st, _ := s.stats(); return st }

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	switch {
	case s.draining.Load():
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
	case !s.ready.Load():
		http.Error(w, "model loading", http.StatusServiceUnavailable)
	default:
		w.Write([]byte("ok\n"))
	}
}

func (s *Server) models(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, modelList{Object: "list", Data: []modelObject{{
		ID: s.cfg.ServedName, Object: "model", Created: s.created, OwnedBy: "kubeinfer"}}})
}

// Correlation ids.

// HeaderCorrelationID carries the correlation id in and out.
const HeaderCorrelationID = "X-Correlation-ID"

type ctxKey struct{}

type requestInfo struct {
	id  string
	log logr.Logger
}

func infoFrom(ctx context.Context) requestInfo {
	ri, _ := ctx.Value(ctxKey{}).(requestInfo)
	return ri
}

func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// statusWriter records the status code; Unwrap lets
// http.ResponseController reach Flush.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument gives every request a correlation id and a logger, echoes the
// id, and counts the request by endpoint and status.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderCorrelationID)
		if id == "" {
			id = r.Header.Get("X-Request-ID")
		}
		if id == "" || len(id) > 128 {
			id = newID("")
		}
		w.Header().Set(HeaderCorrelationID, id)
		log := s.log.WithValues("correlationID", id, "method", r.Method, "path", r.URL.Path)
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, requestInfo{id: id, log: log}))
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(sw, r)
		endpoint := r.URL.Path
		if r.Pattern == "" || r.Pattern == "/" {
			endpoint = "other"
		}
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		s.metrics.requests.WithLabelValues(endpoint, itoa(code)).Inc()
		if endpoint != "/healthz" && endpoint != "/readyz" && endpoint != "/metrics" {
			log.V(1).Info("request served", "status", code, "seconds", time.Since(start).Seconds())
		}
	})
}
