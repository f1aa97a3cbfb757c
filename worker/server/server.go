// Package server is the worker's HTTP front: the OpenAI-compatible API
// (completions, chat completions, models), health and readiness probes and
// Prometheus metrics, over a scheduler that batches requests on one backend.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/load"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/report"
	"github.com/kubeinfer/kubeinfer/worker/scheduler"
)

// Config configures the server.
type Config struct {
	// ServedName is the model name clients send and /v1/models lists.
	ServedName string
	// MaxConcurrent, MaxQueue, MaxContext, PrefillChunk and PrefillHold size
	// the scheduler (see scheduler.Config); MaxQueue < 0 means 4 × MaxConcurrent,
	// PrefillHold < 0 the backend's (prefillHold).
	MaxConcurrent int
	MaxQueue      int
	MaxContext    int
	PrefillChunk  int
	PrefillHold   int
	// SerialSteps runs each decode step after the last step's tokens are
	// streamed rather than during it (scheduler.Config.Serial).
	SerialSteps bool
	// Priority honours requests' priority field (vLLM's priority scheduling:
	// lower first); without it a priority other than 0 is refused, so no client
	// can put itself ahead of the others.
	Priority bool
	// RetryAfter is the Retry-After seconds of a 429; 0 means 1.
	RetryAfter int
	// MaxRequestBytes caps a request body; 0 means 16 bytes per context
	// token plus 64 KiB (see Limits).
	MaxRequestBytes int64
	// MaxConnections caps open connections; 0 means 2 × (slots + queue) + 64.
	MaxConnections int
	// Timeouts; 0 means the Default* constant. ReadTimeout applies to a
	// request body, WriteTimeout to each write of a response (one streamed
	// chunk), so neither cuts a long stream that the client keeps reading.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration

	Narrator report.Narrator
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
	// conn are the limits that do not depend on the model: timeouts,
	// connections, intake.
	conn Limits

	mu       sync.RWMutex
	model    *load.Model
	sched    *scheduler.Scheduler
	lim      Limits
	grammars *grammarCache

	// intakeSlots holds one token per request being read, decoded and
	// tokenized (Limits.Intake).
	intakeSlots chan struct{}
	// cut counts requests the shutdown grace period ended.
	cut atomic.Int32

	ready    atomic.Bool
	draining atomic.Bool
	// nonFinite counts requests in a row whose logits were not finite; at
	// UnreadyAfterNonFinite, unready holds why /readyz answers 503 from then on.
	nonFinite atomic.Int32
	unready   atomic.Pointer[string]
}

// UnreadyAfterNonFinite is how many requests in a row must end with non-finite
// logits before the worker reports itself not ready. One can be a fluke of one
// prompt; several in a row mean the model or the device is broken, and the
// worker stays unready (the operator shows it Degraded) until it is restarted.
const UnreadyAfterNonFinite = 3

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
	s := &Server{cfg: cfg, log: cfg.Log, created: time.Now().Unix(), conn: cfg.limits(0)}
	s.intakeSlots = make(chan struct{}, s.conn.Intake)
	s.metrics = newMetrics(cfg.ServedName, s.stats)
	s.metrics.reg.MustRegister(cfg.Collectors...)
	mux := http.NewServeMux()
	// Paths without methods: route answers a wrong method with 405 in
	// OpenAI's error shape (the mux's own 405 is plain text).
	route := func(path, method string, h http.HandlerFunc) {
		allow := method
		if method == http.MethodGet {
			allow = "GET, HEAD"
		}
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
				w.Header().Set("Allow", allow)
				writeError(w, &apiError{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error", Code: strp("method_not_allowed"),
					Message: fmt.Sprintf("%s %s is not allowed; use %s.", r.Method, path, method)})
				return
			}
			h(w, r)
		})
	}
	route("/healthz", http.MethodGet, func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	route("/readyz", http.MethodGet, s.readyz)
	route("/metrics", http.MethodGet, promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP)
	route("/v1/models", http.MethodGet, s.models)
	route("/v1/completions", http.MethodPost, s.completions)
	route("/v1/chat/completions", http.MethodPost, s.chatCompletions)
	route("/v1/embeddings", http.MethodPost, s.embeddings)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{Status: http.StatusNotFound, Type: "invalid_request_error",
			Message: "unknown endpoint " + r.Method + " " + r.URL.Path + "; this server serves /v1/completions, /v1/chat/completions, /v1/embeddings and /v1/models."})
	})
	s.handler = s.instrument(requireAPIKey(cfg.APIKeys, mux))
	return s
}

// Limits are the server's limits for the loaded model; zero before Start.
func (s *Server) Limits() Limits {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lim
}

// CutRequests is how many requests the shutdown grace period cut short.
// Read it once the HTTP server has stopped (their handlers have returned).
func (s *Server) CutRequests() int { return int(s.cut.Load()) }

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
		PrefillChunk: s.cfg.PrefillChunk, PrefillHold: prefillHold(s.cfg.PrefillHold, m.Backend), Serial: s.cfg.SerialSteps, Log: s.log.WithName("scheduler"),
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
	lim := s.cfg.limits(sched.ContextLength())
	s.mu.Lock()
	s.model, s.sched, s.lim, s.grammars = m, sched, lim, newGrammarCache(m.Tokenizer, lim)
	s.mu.Unlock()
	s.log.Info("request limits", "maxRequestBytes", lim.MaxRequestBytes, "contextLength", lim.ContextLength,
		"intake", lim.Intake, "maxConnections", lim.MaxConnections, "memoryBoundBytes", lim.MemoryBound,
		"readHeaderTimeout", lim.ReadHeaderTimeout.String(), "readTimeout", lim.ReadTimeout.String(),
		"writeTimeout", lim.WriteTimeout.String(), "idleTimeout", lim.IdleTimeout.String())
	s.metrics.modelLoadSeconds.Set(m.LoadTime.Seconds())
	s.ready.Store(true)
	h0 := m.Backend.Model().Hyper
	rec := report.ModelLoaded{ServedName: s.cfg.ServedName, Arch: h0.Arch, Backend: m.Backend.Name(), Device: m.Backend.Device(),
		ContextLength: sched.ContextLength(), LoadTime: m.LoadTime}
	if f := m.Backend.Model().File; f != nil {
		rec.Parameters = int64(model.Inspect(f).Parameters)
	}
	if m.Plan.Total() > 0 {
		rec.RequiredMiB, rec.WeightsBytes = m.Plan.RequiredMiB(), int64(m.Plan.Weights)
	}
	if u, ok := m.Backend.(interface{ UsedBytes() uint64 }); ok {
		rec.DeviceBytes = u.UsedBytes()
	}
	if g, ok := m.Backend.(interface{ GPUs() int }); ok {
		rec.GPUs = g.GPUs()
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
	case s.unready.Load() != nil:
		http.Error(w, *s.unready.Load(), http.StatusServiceUnavailable)
	default:
		w.Write([]byte("ok\n"))
	}
}

func (s *Server) models(w http.ResponseWriter, _ *http.Request) {
	mo := modelObject{ID: s.cfg.ServedName, Object: "model", Created: s.created, OwnedBy: "kubeinfer"}
	s.mu.RLock()
	m, lim := s.model, s.lim
	s.mu.RUnlock()
	if m != nil { // loaded: what a client can plan with
		_, embeds := m.Backend.(engine.Embedder)
		mo.MaxModelLen, mo.ContextLength = lim.ContextLength, m.Backend.Model().Hyper.ContextLength
		mo.Limits = &modelLimits{MaxRequestBytes: lim.MaxRequestBytes, MaxConcurrent: s.cfg.MaxConcurrent, MaxQueued: s.cfg.MaxQueue,
			MaxChoices: lim.MaxChoices, MaxStopSequences: maxStopSequences, MaxTopLogprobs: maxTopLogprobs,
			MaxEmbeddingBatch: maxEmbeddingInputs, Embeddings: embeds}
	}
	writeJSON(w, http.StatusOK, modelList{Object: "list", Data: []modelObject{mo}})
}

// generated records how a generation ended for the worker's health: a
// non-finite failure counts toward unreadiness, a success resets the count.
func (s *Server) generated(id, endpoint string, err error) {
	if err == nil {
		s.nonFinite.Store(0)
		return
	}
	if !errors.Is(err, engine.ErrNonFinite) {
		return
	}
	s.metrics.nonFinite.Inc()
	n := int(s.nonFinite.Add(1))
	rec := report.InferenceFailure{CorrelationID: id, Endpoint: endpoint, Cause: err.Error(), Consecutive: n}
	if n >= UnreadyAfterNonFinite {
		why := fmt.Sprintf("degraded: %d requests in a row produced non-finite logits (NaN or Inf), the last: %s; restart the worker", n, err)
		rec.Unready = s.unready.CompareAndSwap(nil, &why)
	}
	s.log.Info("generation produced non-finite logits", "correlationID", id, "cause", err.Error(), "consecutive", n, "unready", s.unready.Load() != nil)
	s.cfg.Narrator.OnInferenceFailed(rec)
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

// statusWriter records the status code and gives every write its own
// deadline, so a client that stops reading is cut after the write timeout
// while a long stream that it reads goes on; Unwrap lets
// http.ResponseController reach Flush.
type statusWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	code    int
}

func (w *statusWriter) deadline() { _ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout)) }

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.deadline()
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.deadline()
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
		sw := &statusWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: s.conn.WriteTimeout}
		// A write deadline left by the previous response on this connection
		// must not fail this one's first write; a read deadline bounds the
		// reading of a body the handler leaves unread (net/http discards it).
		_ = sw.rc.SetWriteDeadline(time.Time{})
		_ = sw.rc.SetReadDeadline(time.Now().Add(s.conn.ReadTimeout))
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

// prefillHold is the scheduler's PrefillHold for a configured hold (< 0: none given) on backend b: given, as
// given; else scheduler.DefaultPrefillHold on a GPU, where a step takes a millisecond or two and a pass over the
// weights for several prompts costs little more than for one, and 0 on the CPU engine, whose steps are long
// enough that a held prompt's wait would show in its time to first token.
func prefillHold(configured int, b engine.Backend) int {
	if configured >= 0 {
		return configured
	}
	if _, cpu := b.(*engine.CPU); cpu {
		return 0
	}
	return scheduler.DefaultPrefillHold
}
