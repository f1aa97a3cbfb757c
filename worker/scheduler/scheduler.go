// Package scheduler serves many generation requests on one Backend with
// continuous batching: a single goroutine owns the backend; each step it
// admits waiting requests, prefills at most one chunk's worth of prompt tokens
// (Config.PrefillChunk), samples the next token of every running sequence,
// streams it to its request, and advances all sequences that go on with one
// Decode call. A long prompt is so prefilled over several steps, between
// which the running streams keep getting their tokens. It works with any
// engine.Backend.
//
// KV space comes from the backend's kvcache.Pool as sequences grow. A request
// is admitted when the pool has room for its prompt; when a step needs more
// blocks than are free, the newest sequences are preempted (their blocks
// freed) and resumed later by recomputing their tokens, so a full pool makes
// requests wait, never fail.
package scheduler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
)

// Errors Submit returns; the server maps them to HTTP statuses.
var (
	// ErrQueueFull: MaxQueue requests already wait (429).
	ErrQueueFull = errors.New("the request queue is full")
	// ErrShuttingDown: Drain was called (503).
	ErrShuttingDown = errors.New("the server is shutting down")
	// ErrPromptTooLong: the prompt leaves no room for a token in the context (400).
	ErrPromptTooLong = errors.New("prompt is too long")
	// ErrCut ends requests still running when the drain grace period ends.
	ErrCut = errors.New("generation cut short by shutdown")
)

// Config sizes the scheduler.
type Config struct {
	// MaxConcurrent is the most sequences decoded together.
	MaxConcurrent int
	// MaxQueue is the most requests waiting for a slot; past it Submit
	// returns ErrQueueFull.
	MaxQueue int
	// MaxContext caps prompt plus generated tokens of one request; 0 or
	// more than the model's context (or the KV pool) means the smaller of those.
	MaxContext int
	// PrefillChunk is the most prompt tokens prefilled in one step, over all
	// sequences that are prefilling: it bounds how long a step's decode waits
	// behind prompts. <= 0 means DefaultPrefillChunk.
	PrefillChunk int
	// PrefillHold is the most decode steps a new prompt waits, while other
	// sequences decode, for more prompts to share its prefill pass: a pass
	// over the weights for several prompts costs little more than for one,
	// and each step waited adds one step to its time to first token. The
	// pass runs sooner once the waiting prompts hold half a PrefillChunk, and
	// at once when nothing decodes. 0 never waits (the server's default is
	// DefaultPrefillHold).
	PrefillHold int
	// Serial runs each decode step after the host has emitted the last
	// step's tokens, rather than during it (the default: the GPU then waits
	// for the host only to pick the tokens and launch the step). Outputs are
	// the same either way; it is there to measure what the overlap is worth.
	Serial bool
	Log    logr.Logger

	// testHookEmit, when set (by this package's tests), runs as each token is emitted.
	testHookEmit func()
}

// DefaultPrefillHold is the worker's --prefill-hold on a GPU (the CPU engine's is 0): at 64 streams of
// 128-token prompts about one prompt arrives every four steps, so four steps
// gather about two prompts a pass for a few milliseconds of time to first
// token. On the H200 (Llama-3.2-1B, 64 streams, 8 requests a client) 26,187
// tok/s with it and 25,595 without, TTFT p50 10.6 and 10.9 ms.
const DefaultPrefillHold = 4

// DefaultPrefillChunk is the prefill chunk when none is configured: at 512
// tokens a step's prefill costs about what a large batch's decode costs on a
// GPU, so a long prompt at most doubles the running streams' step time. The KV
// pool sizes a windowed model's sequences by it (kvcache.DefaultStepTokens).
const DefaultPrefillChunk = kvcache.DefaultStepTokens

// Request is one generation.
type Request struct {
	Prompt []int
	// MaxTokens caps generated tokens; <= 0 means until the context is full.
	MaxTokens int
	Sampling  engine.SamplingParams
	Stop      []string
	// Logprobs asks for the chosen token's log probability and TopLogprobs
	// alternatives (0 to 20) with every token.
	Logprobs    bool
	TopLogprobs int
	// IgnoreEOS keeps generating past end-of-generation tokens, to MaxTokens (benchmarks).
	IgnoreEOS bool
	// Constraint, when set, limits every token to those it allows (structured
	// output), and the request ends when it is done. It is the request's own:
	// the scheduler advances it.
	Constraint engine.Constraint
	// Pooling, when set, asks for the prompt's embedding instead of a
	// generation (Result.Embedding); the backend must be an engine.Embedder.
	Pooling engine.Pooling
	// Priority orders requests as vLLM's priority scheduling does: a lower
	// value is served first; requests of one priority, first come first
	// served. 0 is the default.
	Priority int
}

// TokenLogprob is a token with its log probability.
type TokenLogprob struct {
	Token   int
	Text    string
	Logprob float32
}

// Event is one generated token. Text is the newly final text (see
// engine.Event); Logprob is set when the request asked for logprobs.
type Event struct {
	Token   int
	Text    string
	Logprob *TokenLogprob
	Top     []TokenLogprob
}

// Result is how a request ended.
type Result struct {
	Tokens       []int
	Text         string
	Finish       engine.FinishReason
	StopSequence string
	PromptTokens int
	// Embedding is the prompt's embedding, for a request with Pooling.
	Embedding []float32
	// Err is set when generation failed or was cancelled or cut; the other
	// fields then hold what was generated so far.
	Err error
}

// Stats is a snapshot for metrics.
type Stats struct {
	// Queued requests wait for a first admission; Running ones were admitted
	// and have not finished (Preempted of them wait to be resumed).
	Queued, Running, Preempted int
	// KVUsedTokens is the capacity of the KV blocks sequences hold, of KVCapacityTokens,
	// in blocks of KVBlockTokens.
	KVUsedTokens, KVCapacityTokens, KVBlockTokens int
	// Preemptions counts sequences preempted for KV space since the start.
	Preemptions uint64
	// Prefix reuse since the start: prompt tokens looked up in the KV pool, and those found.
	PrefixQueriedTokens, PrefixHitTokens uint64
	// Where the scheduling loop's time went since the start, while it had work: in the backend's decode steps
	// (DecodeSteps of them) and prefill calls, and on the host between them (admission, sampling, turning
	// tokens into text and events), when the device waits for the next call.
	DecodeTime, PrefillTime, HostTime time.Duration
	DecodeSteps                       uint64
}

// Handle is a submitted request. Read its events with Next until it
// reports the end, then Result.
type Handle struct {
	ctx      context.Context
	req      Request
	limit    int // prompt plus the most generated tokens: the sequence's length limit
	maxNew   int
	enqueued time.Time

	mu       sync.Mutex
	events   []Event
	done     bool
	result   Result
	admitted time.Time     // the first admission; zero while queued
	notify   chan struct{} // capacity 1: "something changed"
}

// QueueTime is how long the request waited in the queue before its first admission
// (resumes after a preemption are not counted); 0 while it still waits, or when it
// never got a slot.
func (h *Handle) QueueTime() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.admitted.IsZero() {
		return 0
	}
	return h.admitted.Sub(h.enqueued)
}

// Next returns the next event, or false when the request has ended (then
// Result is final). It returns false as well when ctx ends.
func (h *Handle) Next(ctx context.Context) (Event, bool) {
	for {
		h.mu.Lock()
		if len(h.events) > 0 {
			ev := h.events[0]
			if len(h.events) == 1 {
				// Drained: the next push reuses the array (a stream's reader takes each token as it comes,
				// so slicing past it left no room and every push allocated).
				h.events[0] = Event{}
				h.events = h.events[:0]
			} else {
				h.events = h.events[1:]
			}
			h.mu.Unlock()
			return ev, true
		}
		done := h.done
		h.mu.Unlock()
		if done {
			return Event{}, false
		}
		select {
		case <-h.notify:
		case <-ctx.Done():
			return Event{}, false
		}
	}
}

// Result is the outcome; valid once Next has returned false.
func (h *Handle) Result() Result {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.result
}

func (h *Handle) push(ev Event) {
	h.mu.Lock()
	h.events = append(h.events, ev)
	h.mu.Unlock()
	h.wake()
}

func (h *Handle) finish(r Result) {
	h.mu.Lock()
	h.done, h.result = true, r
	h.mu.Unlock()
	h.wake()
}

func (h *Handle) wake() {
	select {
	case h.notify <- struct{}{}:
	default:
	}
}

// running is the scheduler's state for one admitted request.
type running struct {
	h       *Handle
	order   uint64 // admission order (rank: preemption takes the least urgent, newest first)
	seq     engine.SeqID
	hasSeq  bool // false while preempted
	sampler *engine.Sampler
	history []int
	filled  int // tokens of history whose keys and values the sequence holds
	chunks  int // prefill calls since the sequence started (a held prompt has none)
	text    *engine.TextTracker
	logits  []float32
	picked  int                 // the next token when the backend chose it (GreedyDecoder, SamplingDecoder)
	hasPick bool                // picked is set (logits are nil)
	lp      *engine.RowLogprobs // picked's logprobs, worked out where the logits are (LogprobDecoder)
	drawn   int                 // the sampler's draw from logits, made ahead by drawAhead
	hasDraw bool                // drawn is set
	maskErr error               // the constraint's Allowed failed for the step the backend picked (MaskedDecoder)
	gen     []int
	step    int
}

// Scheduler owns a Backend. Create it with New and stop it with Drain.
type Scheduler struct {
	b      engine.Backend
	d      engine.Detokenizer
	cfg    Config
	ctxLen int
	log    logr.Logger

	kv     *kvcache.Pool
	admits uint64 // admissions so far, the next running.order
	// noBatchPrefill, noMixedStep: the backend answered engine.ErrNoBatchPrefill, engine.ErrNoMixedStep;
	// the loop's own.
	noBatchPrefill, noMixedStep bool
	held                        int // steps the prefilling prompts have waited (holdPrefill)
	// The loop's time in backend calls this iteration (Stats' DecodeTime and PrefillTime take them when it ends).
	decodeTime, prefillTime time.Duration

	mu          sync.Mutex
	queue       []*Handle
	nRunning    int // admitted, not finished: running or preempted
	nPreempted  int
	preemptions uint64
	times       Stats // DecodeTime, PrefillTime, HostTime and DecodeSteps so far
	draining    bool
	cut         bool
	wakeCh      chan struct{}
	stopped     chan struct{}
}

// New starts the scheduling goroutine.
func New(b engine.Backend, d engine.Detokenizer, cfg Config) *Scheduler {
	// One request may hold the whole pool, never more: a sequence alone always fits.
	if cfg.PrefillChunk <= 0 {
		cfg.PrefillChunk = DefaultPrefillChunk
	}
	// A sequence is as long as the pool can hold it alone: all of it, or without bound when windows keep it within the pool (kvcache.Pool.MaxSeqTokens).
	ctxLen := min(b.Model().Hyper.ContextLength, b.KV().MaxSeqTokens(cfg.PrefillChunk))
	if cfg.MaxContext > 0 && cfg.MaxContext < ctxLen {
		ctxLen = cfg.MaxContext
	}
	cfg.MaxContext = ctxLen
	cfg.MaxConcurrent = max(cfg.MaxConcurrent, 1)
	if cfg.MaxQueue < 0 {
		cfg.MaxQueue = 0
	}
	s := &Scheduler{b: b, d: d, cfg: cfg, ctxLen: ctxLen, log: cfg.Log, kv: b.KV(),
		wakeCh: make(chan struct{}, 1), stopped: make(chan struct{})}
	go s.loop()
	return s
}

// ContextLength is the most tokens one request may hold.
func (s *Scheduler) ContextLength() int { return s.ctxLen }

// Stats returns queue and KV use.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.kv.Stats()
	return Stats{Queued: len(s.queue), Running: s.nRunning, Preempted: s.nPreempted, Preemptions: s.preemptions,
		KVUsedTokens: s.kv.UsedTokens(), KVCapacityTokens: s.kv.CapacityTokens(), KVBlockTokens: s.kv.BlockTokens(),
		PrefixQueriedTokens: ps.QueriedTokens, PrefixHitTokens: ps.HitTokens,
		DecodeTime: s.times.DecodeTime, PrefillTime: s.times.PrefillTime, HostTime: s.times.HostTime,
		DecodeSteps: s.times.DecodeSteps}
}

// Submit queues req. ctx is the request's: when it ends, the request stops
// within one step and its sequence is freed.
func (s *Scheduler) Submit(ctx context.Context, req Request) (*Handle, error) {
	if len(req.Prompt) == 0 {
		return nil, errors.New("empty prompt")
	}
	if len(req.Prompt) >= s.ctxLen {
		return nil, fmt.Errorf("%w: %d prompt tokens leave no room in the %d-token context", ErrPromptTooLong, len(req.Prompt), s.ctxLen)
	}
	maxNew := s.ctxLen - len(req.Prompt)
	if req.MaxTokens > 0 {
		maxNew = min(maxNew, req.MaxTokens)
	}
	h := &Handle{ctx: ctx, req: req, maxNew: maxNew, limit: len(req.Prompt) + maxNew,
		enqueued: time.Now(), notify: make(chan struct{}, 1)}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.draining:
		return nil, ErrShuttingDown
	// Slots and queue are counted together, so a burst of MaxConcurrent + MaxQueue
	// requests is taken whole even before the loop has moved any into a slot.
	case s.nRunning+len(s.queue) >= s.cfg.MaxConcurrent+s.cfg.MaxQueue:
		return nil, ErrQueueFull
	}
	// After every waiting request of the same or a more urgent priority.
	i := len(s.queue)
	for i > 0 && s.queue[i-1].req.Priority > req.Priority {
		i--
	}
	s.queue = slices.Insert(s.queue, i, h)
	s.wake()
	return h, nil
}

// rank orders running requests: the more urgent priority first, then the
// earlier admission. Preempted sequences resume in this order and
// preemption takes the last.
func rank(a, b *running) int {
	return cmp.Or(cmp.Compare(a.h.req.Priority, b.h.req.Priority), cmp.Compare(a.order, b.order))
}

func (s *Scheduler) wake() {
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
}

// Drain stops accepting requests and waits for queued and running ones to
// finish. When ctx ends first, the rest are cut (their Result.Err is
// ErrCut). Either way the scheduling goroutine has stopped when Drain
// returns; the backend is the caller's to close.
func (s *Scheduler) Drain(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.wake()
	select {
	case <-s.stopped:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	s.cut = true
	s.mu.Unlock()
	s.wake()
	<-s.stopped
	return ctx.Err()
}

// Draining reports whether Drain was called.
func (s *Scheduler) Draining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

func (s *Scheduler) loop() {
	defer close(s.stopped)
	var run, pre []*running // running, and preempted in rank order
	for {
		s.mu.Lock()
		cut, draining := s.cut, s.draining
		idle := len(run) == 0 && len(pre) == 0 && len(s.queue) == 0
		s.mu.Unlock()
		if cut {
			s.cutAll(append(run, pre...))
			return
		}
		if idle {
			if draining {
				return
			}
			<-s.wakeCh
			continue
		}
		start := time.Now()
		run, pre = s.admit(run, pre)
		var ms engine.MixedStepper
		if !s.holdPrefill(run) {
			if ms = s.mixer(run); ms == nil {
				run, pre = s.prefill(run, pre)
			}
		}
		run, pre = s.step(run, pre, ms)
		s.account(time.Since(start))
	}
}

// timed starts a clock whose returned stop adds the time since to *total (the loop's decodeTime, prefillTime).
func timed(total *time.Duration) func() {
	t0 := time.Now()
	return func() { *total += time.Since(t0) }
}

// account adds one loop iteration of took to the Stats' times: the backend calls it made, and the rest as host time.
func (s *Scheduler) account(took time.Duration) {
	s.mu.Lock()
	s.times.DecodeTime += s.decodeTime
	s.times.PrefillTime += s.prefillTime
	s.times.HostTime += max(took-s.decodeTime-s.prefillTime, 0)
	if s.decodeTime > 0 {
		s.times.DecodeSteps++
	}
	s.mu.Unlock()
	s.decodeTime, s.prefillTime = 0, 0
}

// holdPrefill says whether this step's prompts wait (Config.PrefillHold) for
// more to share their prefill pass: only while other sequences decode, for at
// most PrefillHold steps in a row, while they hold less than half a
// PrefillChunk, and never once a prompt's prefill has begun (a long prompt's
// later chunks keep their pace).
func (s *Scheduler) holdPrefill(run []*running) bool {
	waiting, decoding, started := 0, false, false
	for _, r := range run {
		if r.prefilling() {
			waiting += len(r.history) - r.filled
			started = started || r.chunks > 0
		} else {
			decoding = true
		}
	}
	if waiting == 0 || !decoding || started || s.held >= s.cfg.PrefillHold || 2*waiting >= s.cfg.PrefillChunk {
		s.held = 0
		return false
	}
	s.held++
	return true
}

// mixer is the backend as an engine.MixedStepper when this step's prefill chunks can ride in its decode pass:
// some sequences prefill, some decode, and every decoding one is drawn where the logits are (no logprobs, no
// constraint, parameters the device applies). Nil otherwise, and after the backend answered
// engine.ErrNoMixedStep.
func (s *Scheduler) mixer(run []*running) engine.MixedStepper {
	ms, ok := s.b.(engine.MixedStepper)
	if !ok || s.noMixedStep {
		return nil
	}
	prefilling, decoding := false, false
	for _, r := range run {
		switch {
		case r.prefilling():
			prefilling = true
		case needsLogits(r):
			return nil
		default:
			decoding = true
		}
	}
	if !prefilling || !decoding {
		return nil
	}
	return ms
}

// admit drops cancelled requests, resumes preempted sequences while the pool
// has room for them, then admits waiting requests that fit in queue order
// (the more urgent priority first, then first come first served): nothing
// later in it starts while an earlier sequence waits for KV space
// (past one that waits for a shared prompt's prefill, only with what that one
// leaves; see next).
// Room is what the pool has free less what admitted sequences still need to
// finish their prefill, so a prompt admitted now never takes the blocks an
// earlier one was admitted with.
func (s *Scheduler) admit(run, pre []*running) ([]*running, []*running) {
	kept := pre[:0]
	for _, r := range pre {
		if err := r.h.ctx.Err(); err != nil {
			res := r.result()
			res.Err = err
			s.release(r, res)
		} else {
			kept = append(kept, r)
		}
	}
	clear(pre[len(kept):])
	pre = kept
	for len(pre) > 0 && s.room(run) >= s.kvNeed(len(pre[0].history)) {
		r := pre[0]
		pre = pre[1:]
		s.mu.Lock()
		s.nPreempted--
		s.mu.Unlock()
		run = s.start(r, run)
	}
	for len(pre) == 0 {
		room := s.room(run)
		s.mu.Lock()
		kept := s.queue[:0]
		var gone []*Handle
		for _, h := range s.queue {
			if h.ctx.Err() != nil {
				gone = append(gone, h)
			} else {
				kept = append(kept, h)
			}
		}
		clear(s.queue[len(kept):])
		s.queue = kept
		var h *Handle
		if i := s.next(run, room); i >= 0 {
			h = s.queue[i]
			s.queue = slices.Delete(s.queue, i, i+1)
			s.nRunning++
		}
		s.mu.Unlock()
		for _, g := range gone {
			g.finish(Result{PromptTokens: len(g.req.Prompt), Err: g.ctx.Err()})
		}
		if h == nil {
			break
		}
		s.admits++
		h.mu.Lock()
		h.admitted = time.Now()
		h.mu.Unlock()
		r := &running{h: h, order: s.admits, sampler: engine.NewSampler(h.req.Sampling),
			history: append([]int(nil), h.req.Prompt...),
			text:    engine.NewTextTracker(s.d, h.req.Prompt, h.req.Stop)}
		s.log.V(2).Info("admitted", "promptTokens", len(h.req.Prompt), "queued", time.Since(h.enqueued).String())
		if h.req.Pooling != engine.PoolingNone {
			s.embed(r)
			continue
		}
		run = s.start(r, run)
	}
	return run, pre
}

// next is the index in the queue of the request to admit with room blocks
// free, or -1: the oldest, unless it waits for a prompt being prefilled
// (awaitsPrefill). Newer requests may then start past it, with what is left
// after the blocks and slots every such waiting request will take, so that
// none of them is delayed by it; the first that does not wait either fits or
// admits nothing, as in first come, first served. s.mu is held.
func (s *Scheduler) next(run []*running, room int) int {
	slots := s.cfg.MaxConcurrent - s.nRunning
	for i, h := range s.queue {
		if slots <= 0 {
			return -1
		}
		need := s.kvNeed(len(h.req.Prompt))
		if !s.awaitsPrefill(run, h.req.Prompt) {
			if room >= need {
				return i
			}
			return -1
		}
		room -= need
		slots--
	}
	return -1
}

// awaitsPrefill reports whether prompt starts with at least a full block of
// tokens that a sequence of run is still prefilling. Such a request (another
// choice of the same prompt, the next turn of a conversation sent at once)
// waits for that prefill and then takes the blocks from the pool instead of
// computing them a second time; the wait is a few steps at most.
func (s *Scheduler) awaitsPrefill(run []*running, prompt []int) bool {
	bt := s.kv.BlockTokens()
	if len(prompt) <= bt {
		return false
	}
	for _, r := range run {
		if !r.prefilling() || len(r.history) < bt {
			continue
		}
		if slices.Equal(r.history[:bt], prompt[:bt]) {
			return true
		}
	}
	return false
}

// embed computes r's embedding in a sequence of its own and finishes it.
func (s *Scheduler) embed(r *running) {
	defer timed(&s.prefillTime)()
	res := Result{PromptTokens: len(r.h.req.Prompt)}
	em, ok := s.b.(engine.Embedder)
	if !ok {
		res.Err = engine.ErrNoEmbeddings
		s.release(r, res)
		return
	}
	seq, err := s.b.NewSequence(len(r.h.req.Prompt))
	if err != nil {
		res.Err = fmt.Errorf("new sequence: %w", err)
		s.release(r, res)
		return
	}
	r.seq, r.hasSeq = seq, true
	if res.Embedding, err = em.Embed(seq, r.h.req.Prompt, r.h.req.Pooling); err != nil {
		res.Err = fmt.Errorf("embed: %w", err)
	}
	s.release(r, res)
}

// kvNeed is the blocks a sequence of n tokens needs to run its next step: the
// n tokens, prefilled a chunk at a time, and the one it decodes next.
func (s *Scheduler) kvNeed(n int) int { return s.kv.Need(0, n+1, s.cfg.PrefillChunk) }

// prefilling reports whether r is still computing its tokens (no logits yet).
func (r *running) prefilling() bool { return r.hasSeq && !r.hasPick && r.logits == nil }

// pending is the blocks the prefilling sequences of run still have to take to
// finish their prefill and decode once.
func (s *Scheduler) pending(run []*running) int {
	n := 0
	for _, r := range run {
		if r.prefilling() {
			n += s.kv.Need(r.filled, len(r.history)+1, s.cfg.PrefillChunk)
		}
	}
	return n
}

// room is the blocks free for sequences not yet running.
func (s *Scheduler) room(run []*running) int { return s.kv.FreeBlocks() - s.pending(run) }

// start gives r a sequence holding the longest prefix of its tokens (its
// prompt, or everything it had when it was preempted) that the pool has
// cached, and adds it to run; prefill computes the rest, a chunk a step. Any
// failure finishes r.
func (s *Scheduler) start(r *running, run []*running) []*running {
	// Blocks the pool already holds for a prefix of the tokens (a shared system prompt, the
	// conversation so far, or this sequence's own tokens before it was preempted) are taken
	// as they are; only the rest is computed.
	seq, cached, err := s.b.StartSequence(r.h.limit, r.history)
	if err != nil {
		s.release(r, Result{PromptTokens: len(r.h.req.Prompt), Err: fmt.Errorf("new sequence: %w", err)})
		return run
	}
	r.seq, r.hasSeq, r.filled, r.chunks = seq, true, cached, 0
	r.logits, r.hasPick, r.lp = nil, false, nil
	return append(run, r)
}

// prefill computes up to PrefillChunk tokens of the prefilling sequences, by
// rank (the more urgent priority, then the oldest, first): a long prompt takes
// several steps, and the decode of every running sequence goes on between
// them. Where the backend prefills several sequences in one pass
// (engine.BatchPrefiller), the step's chunks go in one call, so prompts that
// arrive together share the pass over the weights; otherwise, or when that
// call fails (which changes no sequence), one Prefill call each. A sequence
// whose last chunk is done has its logits and joins this step's decode.
func (s *Scheduler) prefill(run, pre []*running) ([]*running, []*running) {
	run, chunked, parts := s.chunks(run, s.cfg.PrefillChunk, s.cfg.MaxConcurrent)
	return s.prefillParts(run, pre, chunked, parts)
}

// chunks picks this step's prefill chunks, most urgent first: up to budget tokens over at most maxParts
// sequences. A prefilling request whose client went away is released and left out of run.
func (s *Scheduler) chunks(run []*running, budget, maxParts int) (rest, chunked []*running, parts []engine.PrefillPart) {
	var todo, gone []*running
	for _, r := range run {
		if r.prefilling() {
			todo = append(todo, r)
		}
	}
	slices.SortFunc(todo, rank)
	for _, r := range todo {
		if budget <= 0 || len(parts) == maxParts {
			break
		}
		if err := r.h.ctx.Err(); err != nil {
			res := r.result()
			res.Err = err
			s.release(r, res)
			gone = append(gone, r)
			continue
		}
		n := min(budget, len(r.history)-r.filled)
		chunked = append(chunked, r)
		parts = append(parts, engine.PrefillPart{Seq: r.seq, Tokens: r.history[r.filled : r.filled+n]})
		budget -= n
	}
	if len(gone) > 0 {
		run = slices.DeleteFunc(run, func(r *running) bool { return slices.Contains(gone, r) })
	}
	return run, chunked, parts
}

// prefillParts runs the chunks chunks picked: in one BatchPrefiller call when the backend has one, else (or
// when that call fails) one Prefill each.
func (s *Scheduler) prefillParts(run, pre, chunked []*running, parts []engine.PrefillPart) ([]*running, []*running) {
	defer timed(&s.prefillTime)()
	var gone []*running
	if bp, ok := s.b.(engine.BatchPrefiller); ok && len(parts) > 1 && !s.noBatchPrefill {
		logits, err := bp.PrefillBatch(parts)
		switch {
		case err == nil:
			for i, r := range chunked {
				r.prefilled(len(parts[i].Tokens), logits[i])
			}
			chunked = nil
		case errors.Is(err, engine.ErrNoBatchPrefill):
			s.noBatchPrefill = true
		default:
			s.log.V(1).Info("batched prefill failed; prefilling its sequences one at a time", "sequences", len(parts), "err", err.Error())
		}
	}
	for i, r := range chunked {
		logits, err := s.b.Prefill(r.seq, parts[i].Tokens, false)
		switch {
		case errors.Is(err, kvcache.ErrFull):
			// Admission kept room for this prompt; recomputing later is still right.
			s.log.Error(err, "prefill chunk ran out of KV blocks after the scheduler's check; preempting the sequence")
			pre = s.preempted(pre, r)
			gone = append(gone, r)
			continue
		case err != nil:
			res := r.result()
			res.Err = fmt.Errorf("prefill: %w", err)
			s.release(r, res)
			gone = append(gone, r)
			continue
		}
		r.prefilled(len(parts[i].Tokens), logits[0])
	}
	if len(gone) > 0 {
		run = slices.DeleteFunc(run, func(r *running) bool { return slices.Contains(gone, r) })
	}
	return run, pre
}

// prefilled records n more prompt tokens computed; after the last, logits are
// the prompt's next-token logits.
func (r *running) prefilled(n int, logits []float32) {
	r.filled += n
	r.chunks++
	if r.filled == len(r.history) {
		r.logits = logits
	}
}

// preempted frees r's sequence and files it among pre by rank.
func (s *Scheduler) preempted(pre []*running, r *running) []*running {
	if r.hasSeq {
		s.b.FreeSequence(r.seq)
		r.hasSeq = false
	}
	r.logits, r.hasPick, r.lp, r.filled = nil, false, nil, 0
	s.mu.Lock()
	s.nPreempted++
	s.preemptions++
	s.mu.Unlock()
	i, _ := slices.BinarySearchFunc(pre, r, rank)
	s.log.V(2).Info("preempted for KV space", "tokens", len(r.history), "freeBlocks", s.kv.FreeBlocks())
	return slices.Insert(pre, i, r)
}

// release frees a request's slot and its sequence, if it holds one, and
// finishes its handle.
func (s *Scheduler) release(r *running, res Result) {
	if r.hasSeq {
		s.b.FreeSequence(r.seq)
		r.hasSeq = false
	}
	s.mu.Lock()
	s.nRunning--
	s.mu.Unlock()
	r.h.finish(res)
}

func (r *running) result() Result {
	return Result{Tokens: r.gen, Text: r.text.EmittedText(), PromptTokens: len(r.h.req.Prompt)}
}

// step samples one token for every running sequence that has finished its
// prefill, preempts the newest sequences while the pool cannot hold the step
// (besides what prefilling ones still need), then decodes those that go on,
// all in one Decode call. A sequence's KV holds its history but the token
// just sampled, which the decode appends. With ms (mixer's) the step's
// prefill chunks go in the same call (StepMixed), or apart when they cannot.
//
// Unless Config.Serial, the decode starts as soon as the tokens are picked and the host's work on them
// (their text, stop sequences, events) runs while it computes (stepOverlapped).
func (s *Scheduler) step(run, pre []*running, ms engine.MixedStepper) ([]*running, []*running) {
	drawAhead(run)
	run, picked, toks := s.pickAll(run)
	if ms == nil && s.overlaps(run, picked) {
		return s.stepOverlapped(run, pre, picked, toks)
	}
	ended := make([]bool, len(picked))
	for i, r := range picked {
		if done, res := s.emit(r, toks[i]); done {
			s.release(r, res)
			ended[i] = true
		}
	}
	run = without(run, picked, ended)
	need := func() int {
		n := 0
		for _, r := range run {
			if !r.prefilling() {
				n += s.kv.Need(len(r.history)-1, len(r.history), 1)
			}
		}
		return n
	}
	for len(run) > 0 && need() > s.room(run) {
		last := 0 // the least urgent, newest request
		for i, r := range run {
			if rank(r, run[last]) > 0 {
				last = i
			}
		}
		r := run[last]
		run = slices.Delete(run, last, last+1)
		pre = s.preempted(pre, r)
	}
	var next []*running
	for _, r := range run {
		if !r.prefilling() {
			next = append(next, r)
		}
	}
	batch := make([]engine.DecodeInput, len(next))
	for i, r := range next {
		batch[i] = engine.DecodeInput{Seq: r.seq, Token: r.history[len(r.history)-1]}
	}
	if ms != nil {
		var mixed bool
		done := timed(&s.decodeTime)
		run, mixed = s.stepMixed(ms, run, next, batch)
		done()
		if mixed {
			return run, pre
		}
		run, pre = s.prefill(run, pre)
	}
	if len(next) == 0 {
		return run, pre
	}
	done := timed(&s.decodeTime)
	logits, picks, lps, err := s.decode(next, batch, drawRows(next, 0))
	done()
	return s.decodedAll(run, pre, next, logits, picks, lps, err)
}

// pickAll picks the next token of every decoding request of run (pick). Those that end there, or whose client
// went away, are released and left out of run; picked are the others, toks their tokens, not yet emitted.
func (s *Scheduler) pickAll(run []*running) (kept, picked []*running, toks []int) {
	kept = run[:0]
	for _, r := range run {
		if err := r.h.ctx.Err(); err != nil {
			res := r.result()
			res.Err = err
			s.release(r, res)
			continue
		}
		if !r.prefilling() {
			tok, done, res := s.pick(r)
			if done {
				s.release(r, res)
				continue
			}
			picked, toks = append(picked, r), append(toks, tok)
		}
		kept = append(kept, r)
	}
	clear(run[len(kept):])
	return kept, picked, toks
}

// overlaps says whether this step's decode can run while the host emits the picked tokens (stepOverlapped): not
// under Config.Serial; some picked request goes on; none is constrained (its matcher, which the next step's
// mask reads, is the loop's); and the pool holds the step without preempting anything (preemption takes the
// newest requests, whose tokens must be emitted first).
func (s *Scheduler) overlaps(run, picked []*running) bool {
	if s.cfg.Serial || slices.ContainsFunc(picked, constrained) {
		return false
	}
	need, goes := 0, false
	for _, r := range picked {
		if !r.lastToken() {
			need += s.kv.Need(len(r.history), len(r.history)+1, 1)
			goes = true
		}
	}
	return goes && need <= s.room(run)
}

// stepOverlapped is step with the decode started before the picked tokens are emitted: the backend computes the
// next token of every picked request that goes on (not at its last token) while another goroutine turns toks
// into text and events. A request that a stop sequence ends then has had one token more computed, whose result is
// dropped; its KV holds only tokens of its history. Requests that end are released once the decode has
// returned: the step still holds their sequences, and a backend's FreeSequence would wait for it anyway.
func (s *Scheduler) stepOverlapped(run, pre, picked []*running, toks []int) ([]*running, []*running) {
	var next []*running
	var batch []engine.DecodeInput
	row := make([]int, len(picked)) // picked[i]'s row of next, or -1
	for i, r := range picked {
		row[i] = -1
		if !r.lastToken() {
			row[i] = len(next)
			next = append(next, r)
			batch = append(batch, engine.DecodeInput{Seq: r.seq, Token: toks[i]})
		}
	}
	// The rows' sampling is read now: emit moves each request's step on.
	draw := drawRows(next, 1)
	// The decode stays on this goroutine, so that it is launched without waiting for the Go scheduler; the
	// emits go to another, which only the results wait for.
	ended, results := make([]bool, len(picked)), make([]Result, len(picked))
	emitted := make(chan struct{})
	go func() {
		defer close(emitted)
		for i, r := range picked {
			ended[i], results[i] = s.emit(r, toks[i])
		}
	}()
	done := timed(&s.decodeTime)
	logits, picks, lps, err := s.decode(next, batch, draw)
	done()
	<-emitted
	dropped := make([]bool, len(next))
	for i, r := range picked {
		if ended[i] {
			s.release(r, results[i])
			if row[i] >= 0 {
				dropped[row[i]] = true
			}
		}
	}
	run = without(run, picked, ended)
	return s.decodedAll(run, pre, without(next, next, dropped), dropRows(logits, dropped), dropRows(picks, dropped),
		dropRows(lps, dropped), err)
}

// decodedAll takes a decode step's outcome for next: each row's result (decoded), or on an error their end, or
// their preemption when the pool ran out.
func (s *Scheduler) decodedAll(run, pre, next []*running, logits [][]float32, picks []int, lps []engine.RowLogprobs, err error) ([]*running, []*running) {
	if err != nil {
		run = slices.DeleteFunc(run, func(r *running) bool { return slices.Contains(next, r) })
	}
	if errors.Is(err, kvcache.ErrFull) {
		// The check before the step makes this a bug in the accounting; recomputing later is still
		// right, so the requests wait rather than fail.
		s.log.Error(err, "decode step ran out of KV blocks after the scheduler's check; preempting the batch")
		for _, r := range next {
			pre = s.preempted(pre, r)
		}
		return run, pre
	}
	if err != nil {
		for _, r := range next {
			res := r.result()
			if errors.Is(err, engine.ErrSequenceFull) {
				res.Finish = engine.FinishLength
			} else {
				res.Err = fmt.Errorf("decode: %w", err)
			}
			s.release(r, res)
		}
		return run, pre
	}
	decoded(next, logits, picks, lps)
	return run, pre
}

// without is run less the requests rs[i] whose flag is set.
func without(run, rs []*running, flags []bool) []*running {
	var gone []*running
	for i, r := range rs {
		if flags[i] {
			gone = append(gone, r)
		}
	}
	if len(gone) == 0 {
		return run
	}
	return slices.DeleteFunc(run, func(r *running) bool { return slices.Contains(gone, r) })
}

// dropRows is xs (a step's results by row; nil stays nil) less the rows whose drop is set.
func dropRows[T any](xs []T, drop []bool) []T {
	if xs == nil || !slices.Contains(drop, true) {
		return xs
	}
	kept := make([]T, 0, len(xs))
	for i, x := range xs {
		if !drop[i] {
			kept = append(kept, x)
		}
	}
	return kept
}

// pick is r's next token: the backend's pick, or drawn here from its logits, and accepted by its constraint. A
// request that ends before its token is emitted (an end-of-generation token, a non-finite logit, a constraint
// that fails or allows nothing) reports done with its result. It and emit follow engine.Generate step for step,
// so that the outputs are identical.
func (s *Scheduler) pick(r *running) (tok int, done bool, res Result) {
	req := &r.h.req
	tok = r.picked
	fail := func(err error) (int, bool, Result) {
		res := r.result()
		res.Err = err
		return 0, true, res
	}
	switch {
	case r.hasPick && tok == engine.NonFiniteToken:
		// The backend picked where the logits are and found NaN or Inf there.
		return fail(fmt.Errorf("%w (found where the greedy token was picked, on the %s)", engine.ErrNonFinite, s.b.Device()))
	case r.hasPick && r.maskErr != nil:
		return fail(fmt.Errorf("constraint: %w", r.maskErr))
	case r.hasPick && tok == engine.NoAllowedToken:
		return fail(errNoneAllowed)
	case !r.hasPick:
		// Sampling from NaN or Inf picks garbage: end the request with the cause.
		if err := engine.CheckFinite(r.logits); err != nil {
			return fail(err)
		}
		var mask []uint64
		if req.Constraint != nil {
			var err error
			if mask, err = req.Constraint.Allowed(); err != nil {
				return fail(fmt.Errorf("constraint: %w", err))
			}
		}
		if r.hasDraw {
			tok, r.hasDraw = r.drawn, false
		} else {
			tok = r.sampler.SampleMasked(r.logits, r.history, mask)
		}
		if tok < 0 {
			return fail(errNoneAllowed)
		}
	}
	if !req.IgnoreEOS && s.d.IsEOG(tok) {
		return 0, true, s.final(r, engine.FinishStop, "")
	}
	if req.Constraint != nil {
		if err := req.Constraint.Accept(tok); err != nil {
			return fail(fmt.Errorf("constraint: %w", err))
		}
	}
	return tok, false, Result{}
}

// emit streams r's picked token tok (with its logprobs) and reports whether that ends the request: a stop
// sequence, a constraint done, its last token (lastToken).
func (s *Scheduler) emit(r *running, tok int) (bool, Result) {
	if s.cfg.testHookEmit != nil {
		s.cfg.testHookEmit()
	}
	req := &r.h.req
	last := r.lastToken()
	ev := Event{Token: tok}
	if req.Logprobs {
		ev.Logprob, ev.Top = s.logprobs(r, tok, req.TopLogprobs)
		r.lp = nil
	}
	r.history = append(r.history, tok)
	r.gen = append(r.gen, tok)
	piece, stop := r.text.Add(tok)
	ev.Text = piece
	r.h.push(ev)
	r.step++
	if stop != "" {
		return true, s.final(r, engine.FinishStop, stop)
	}
	if req.Constraint != nil && req.Constraint.Done() {
		return true, s.final(r, engine.FinishStop, "")
	}
	if last {
		return true, s.final(r, engine.FinishLength, "")
	}
	return false, Result{}
}

// lastToken says whether the token r emits next is its last: MaxTokens (or the context's room) reached.
func (r *running) lastToken() bool { return r.step+1 >= r.h.maxNew }

// decoded records a decode step's results for its rows: each row's logits, or its pick (and logprobs).
func decoded(next []*running, logits [][]float32, picked []int, lps []engine.RowLogprobs) {
	for i, r := range next {
		r.filled = len(r.history)
		r.lp = nil
		if logits != nil && logits[i] != nil {
			r.logits, r.hasPick = logits[i], false
		} else {
			r.logits, r.picked, r.hasPick = nil, picked[i], true
			if lps != nil && r.h.req.Logprobs {
				r.lp = &lps[i]
			}
		}
	}
}

// stepMixed runs the decode batch of next and this step's prefill chunks (as many as ms's limits leave room for)
// in one StepMixed call. It reports false when there was nothing to prefill or the call failed, which changes
// no sequence: the caller then prefills and decodes apart.
func (s *Scheduler) stepMixed(ms engine.MixedStepper, run, next []*running, batch []engine.DecodeInput) ([]*running, bool) {
	if len(next) == 0 {
		return run, false
	}
	maxTokens, maxRows := ms.MixedStepLimits()
	run, chunked, parts := s.chunks(run, min(s.cfg.PrefillChunk, maxTokens-len(next)), maxRows-len(next))
	if len(parts) == 0 {
		return run, false
	}
	rows := drawRows(next, 0)
	picked, logits, err := ms.StepMixed(batch, rows, parts)
	if err != nil {
		if errors.Is(err, engine.ErrNoMixedStep) {
			s.noMixedStep = true
		} else {
			s.log.V(1).Info("mixed step failed; prefilling and decoding apart", "decoding", len(next), "prefilling", len(parts), "err", err.Error())
		}
		return run, false
	}
	for i, r := range chunked {
		r.prefilled(len(parts[i].Tokens), logits[i])
	}
	decoded(next, nil, picked, nil)
	return run, true
}

// decode runs one step for the batch. When every request in it samples
// greedily and wants no logprobs, a GreedyDecoder backend picks the tokens
// itself and no logits cross to the host: the same tokens, less traffic.
// Constrained requests go that way too when the backend applies their masks
// (MaskedDecoder). A batch with requests at a temperature goes to a
// SamplingDecoder when the backend can apply all of their parameters (and
// none is constrained): each draws on the device from its seed and the
// number of tokens it has drawn; constrained ones among them draw among their
// masks' tokens there (SampledMaskedDecoder). Otherwise the batch's logits come to the
// host, where pick draws and masks: those rows' logits only when the backend
// is a MixedDecoder, the whole batch's otherwise. A row has its logits or
// its pick: decode's results hold a non-nil logits row or a picked token.
// Rows that want logprobs but could otherwise be drawn where the logits are
// get them there from a LogprobDecoder (lps, by row), when no row of the
// batch needs its logits on the host for anything else. draw is each row's
// sampling on the device (drawRows). decode changes no request: it may run
// while the loop emits their last tokens (stepOverlapped).
func (s *Scheduler) decode(run []*running, batch []engine.DecodeInput, draw []engine.RowSampling) (logits [][]float32, picked []int, lps []engine.RowLogprobs, err error) {
	if allGreedy(run) {
		if md, ok := s.b.(engine.MaskedDecoder); ok && md.MasksOnDevice() {
			picked, err := md.DecodeGreedyMasked(batch, func() [][]uint64 { return masks(run) })
			return nil, picked, nil, err
		}
		if gd, ok := s.b.(engine.GreedyDecoder); ok && !slices.ContainsFunc(run, constrained) {
			picked, err := gd.DecodeGreedy(batch)
			return nil, picked, nil, err
		}
	}
	// Constrained rows at a temperature draw among their masks' tokens on the device too, when no row of the
	// batch needs its logits on the host for anything else.
	if smd, ok := s.b.(engine.SampledMaskedDecoder); ok && smd.MasksOnDevice() && slices.ContainsFunc(run, constrained) &&
		!slices.ContainsFunc(run, hostBesidesMask) {
		picked, err := smd.DecodeSampledMasked(batch, draw, func() [][]uint64 { return masks(run) })
		return nil, picked, nil, err
	}
	if ld, ok := s.b.(engine.LogprobDecoder); ok && !slices.ContainsFunc(run, hostOnly) {
		if topN, want := topLogprobs(run); want {
			picked, lps, err := ld.DecodeSampledLogprobs(batch, draw, topN)
			return nil, picked, lps, err
		}
	}
	// Each row's sampling on the device; a row drawn on the host keeps the zero value (greedy), its pick unused.
	rows, host := make([]engine.RowSampling, len(run)), make([]bool, len(run))
	anyHost, anyDevice := false, false
	for i, r := range run {
		if host[i] = needsLogits(r); host[i] {
			anyHost = true
		} else {
			rows[i], anyDevice = draw[i], true
		}
	}
	if sd, ok := s.b.(engine.SamplingDecoder); ok && !anyHost {
		picked, err := sd.DecodeSampled(batch, rows)
		return nil, picked, nil, err
	}
	if md, ok := s.b.(engine.MixedDecoder); ok && anyDevice {
		picked, logits, err := md.DecodeMixed(batch, rows, host)
		return logits, picked, nil, err
	}
	logits, err = s.b.Decode(batch)
	return logits, nil, nil, err
}

// needsLogits says whether r's next token needs its logits on the host: for
// logprobs, a constraint's mask, or sampling parameters a SamplingDecoder
// does not apply.
func needsLogits(r *running) bool { return r.h.req.Logprobs || hostOnly(r) }

// hostOnly says whether r's next token needs its logits on the host for
// more than logprobs, which a LogprobDecoder works out where the logits are.
func hostOnly(r *running) bool { return constrained(r) || !r.h.req.Sampling.OnDevice() }

// drawRows is each request's sampling for its next draw on the device, with ahead tokens picked and not yet
// emitted (stepOverlapped's one): a row's draw depends on the tokens it has drawn before.
func drawRows(run []*running, ahead int) []engine.RowSampling {
	rows := make([]engine.RowSampling, len(run))
	for i, r := range run {
		rows[i] = r.h.req.Sampling.Row(r.step + ahead)
	}
	return rows
}

// hostBesidesMask says whether r's next token needs its logits on the host for more than a constraint's mask
// (which a SampledMaskedDecoder applies where the logits are).
func hostBesidesMask(r *running) bool { return r.h.req.Logprobs || !r.h.req.Sampling.OnDevice() }

// topLogprobs is the most alternatives a request of run wants, and whether
// any wants logprobs at all.
func topLogprobs(run []*running) (n int, want bool) {
	for _, r := range run {
		if r.h.req.Logprobs {
			n, want = max(n, r.h.req.TopLogprobs), true
		}
	}
	return n, want
}

// drawAhead samples, all at once over the host's cores, the next token of
// every request in run whose logits came to the host and that has no
// constraint (whose matcher runs in order in pick): a draw from a 128k
// vocabulary costs a millisecond or more, one request after another it
// was the batch's step. pick then takes the draw; each request's sampler is
// its own, so the tokens are those of drawing in turn. A request that wants
// logprobs has them worked out in the same pass (another pass over its
// logits, ~2 ms for a 128k vocabulary on one core).
func drawAhead(run []*running) {
	var todo []*running
	for _, r := range run {
		if !r.prefilling() && !r.hasPick && r.logits != nil && r.h.req.Constraint == nil {
			todo = append(todo, r)
		}
	}
	if len(todo) < 2 {
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(todo), runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(todo)); i = next.Add(1) - 1 {
				r := todo[i]
				r.drawn, r.hasDraw = r.sampler.SampleMasked(r.logits, r.history, nil), true
				if r.h.req.Logprobs && r.drawn >= 0 {
					lp := engine.Logprobs(r.logits, r.drawn, r.h.req.TopLogprobs)
					r.lp = &lp
				}
			}
		})
	}
	wg.Wait()
}

// allGreedy says whether every request picks the argmax of the model's
// logits (of those its constraint allows) and needs nothing else of them.
func allGreedy(run []*running) bool {
	for _, r := range run {
		if !r.h.req.Sampling.Greedy() || r.h.req.Logprobs {
			return false
		}
	}
	return true
}

func constrained(r *running) bool { return r.h.req.Constraint != nil }

// masks are the constraints' allowed tokens for the step being decoded (nil
// for a request without one); a request whose constraint fails keeps the
// error in maskErr, for pick to end it with, and masks nothing. Only
// constrained requests are written to (none of them is in an overlapped step).
func masks(run []*running) [][]uint64 {
	out := make([][]uint64, len(run))
	for i, r := range run {
		if constrained(r) {
			out[i], r.maskErr = r.h.req.Constraint.Allowed()
			if r.maskErr != nil {
				out[i] = nil
			}
		}
	}
	return out
}

var errNoneAllowed = errors.New("constraint: no token of the vocabulary is allowed")

func (s *Scheduler) final(r *running, finish engine.FinishReason, stop string) Result {
	if stop == "" {
		if rest := r.text.Flush(); rest != "" {
			r.h.push(Event{Token: -1, Text: rest})
		}
	}
	res := r.result()
	res.Finish, res.StopSequence = finish, stop
	return res
}

// logprobs returns the log-softmax of the model's logits (before
// temperature and penalties, as OpenAI reports them) for tok and the top n.
func (s *Scheduler) logprobs(r *running, tok, n int) (*TokenLogprob, []TokenLogprob) {
	var lps engine.RowLogprobs
	if r.lp != nil { // worked out where the logits are (for the most any request of the step wanted), or by drawAhead
		lps = *r.lp
		lps.Top = lps.Top[:min(n, len(lps.Top))]
	} else {
		lps = engine.Logprobs(r.logits, tok, n)
	}
	prev := r.history[len(r.history)-1]
	chosen := TokenLogprob{Token: tok, Text: tokenText(s.d, prev, tok), Logprob: lps.Chosen}
	if n <= 0 {
		return &chosen, nil
	}
	top := make([]TokenLogprob, len(lps.Top))
	for i, t := range lps.Top {
		top[i] = TokenLogprob{Token: t.ID, Text: tokenText(s.d, prev, t.ID), Logprob: t.Logprob}
	}
	return &chosen, top
}

func (s *Scheduler) cutAll(run []*running) {
	for _, r := range run {
		res := r.result()
		res.Err = ErrCut
		s.release(r, res)
	}
	s.mu.Lock()
	q := s.queue
	s.queue, s.nPreempted = nil, 0
	s.mu.Unlock()
	for _, h := range q {
		h.finish(Result{PromptTokens: len(h.req.Prompt), Err: ErrCut})
	}
}

// tokenText is the text one token adds after prev, for logprobs: decoding
// the pair keeps a SentencePiece token's leading space.
func tokenText(d engine.Detokenizer, prev, tok int) string {
	p := d.Decode([]int{prev})
	if both := d.Decode([]int{prev, tok}); strings.HasPrefix(both, p) {
		return both[len(p):]
	}
	return d.Decode([]int{tok})
}
