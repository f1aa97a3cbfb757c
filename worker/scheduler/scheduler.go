// Package scheduler serves many generation requests on one Backend with
// continuous batching: a single goroutine owns the backend; each step it
// admits waiting requests (prefill), samples the next token of every running
// sequence, streams it to its request, and advances all sequences that go on
// with one Decode call. It works with any engine.Backend.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/kubeinfer/kubeinfer/worker/engine"
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
	// more than the model's context means the model's context.
	MaxContext int
	// KVBudget caps the tokens reserved by all running sequences together;
	// 0 means MaxContext × MaxConcurrent.
	KVBudget int
	Log      logr.Logger
}

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
	// Err is set when generation failed or was cancelled or cut; the other
	// fields then hold what was generated so far.
	Err error
}

// Stats is a snapshot for metrics.
type Stats struct {
	Queued, Running        int
	KVReserved, KVCapacity int
}

// Handle is a submitted request. Read its events with Next until it
// reports the end, then Result.
type Handle struct {
	ctx      context.Context
	req      Request
	reserve  int
	maxNew   int
	enqueued time.Time

	mu     sync.Mutex
	events []Event
	done   bool
	result Result
	notify chan struct{} // capacity 1: "something changed"
}

// Next returns the next event, or false when the request has ended (then
// Result is final). It returns false as well when ctx ends.
func (h *Handle) Next(ctx context.Context) (Event, bool) {
	for {
		h.mu.Lock()
		if len(h.events) > 0 {
			ev := h.events[0]
			h.events = h.events[1:]
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
	seq     engine.SeqID
	sampler *engine.Sampler
	history []int
	text    *engine.TextTracker
	logits  []float32
	picked  int // the next token when the backend chose it (GreedyDecoder), else -1
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

	mu         sync.Mutex
	queue      []*Handle
	nRunning   int
	kvReserved int
	draining   bool
	cut        bool
	wakeCh     chan struct{}
	stopped    chan struct{}
}

// New starts the scheduling goroutine.
func New(b engine.Backend, d engine.Detokenizer, cfg Config) *Scheduler {
	ctxLen := b.Model().Hyper.ContextLength
	if cfg.MaxContext > 0 && cfg.MaxContext < ctxLen {
		ctxLen = cfg.MaxContext
	}
	cfg.MaxContext = ctxLen
	cfg.MaxConcurrent = max(cfg.MaxConcurrent, 1)
	if cfg.MaxQueue < 0 {
		cfg.MaxQueue = 0
	}
	if cfg.KVBudget <= 0 {
		cfg.KVBudget = ctxLen * cfg.MaxConcurrent
	}
	s := &Scheduler{b: b, d: d, cfg: cfg, ctxLen: ctxLen, log: cfg.Log,
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
	return Stats{Queued: len(s.queue), Running: s.nRunning, KVReserved: s.kvReserved, KVCapacity: s.cfg.KVBudget}
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
	h := &Handle{ctx: ctx, req: req, maxNew: maxNew, reserve: len(req.Prompt) + maxNew,
		enqueued: time.Now(), notify: make(chan struct{}, 1)}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.draining:
		return nil, ErrShuttingDown
	case len(s.queue) >= s.cfg.MaxQueue && !s.canAdmitNowLocked(h):
		return nil, ErrQueueFull
	}
	s.queue = append(s.queue, h)
	s.wake()
	return h, nil
}

// canAdmitNowLocked reports whether h would be admitted at the next step
// even with a full queue: with MaxQueue 0 a free slot still takes work.
func (s *Scheduler) canAdmitNowLocked(h *Handle) bool {
	return len(s.queue) == 0 && s.nRunning < s.cfg.MaxConcurrent && s.kvReserved+h.reserve <= s.cfg.KVBudget
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
	var run []*running
	for {
		s.mu.Lock()
		cut, draining := s.cut, s.draining
		idle := len(run) == 0 && len(s.queue) == 0
		s.mu.Unlock()
		if cut {
			s.cutAll(run)
			return
		}
		if idle {
			if draining {
				return
			}
			<-s.wakeCh
			continue
		}
		run = s.admit(run)
		run = s.step(run)
	}
}

// admit drops cancelled waiting requests and prefills those that fit,
// first come first served.
func (s *Scheduler) admit(run []*running) []*running {
	for {
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
		if len(s.queue) > 0 && s.nRunning < s.cfg.MaxConcurrent && s.kvReserved+s.queue[0].reserve <= s.cfg.KVBudget {
			h = s.queue[0]
			s.queue = s.queue[1:]
			s.nRunning++
			s.kvReserved += h.reserve
		}
		s.mu.Unlock()
		for _, g := range gone {
			g.finish(Result{PromptTokens: len(g.req.Prompt), Err: g.ctx.Err()})
		}
		if h == nil {
			return run
		}
		if r := s.prefill(h); r != nil {
			run = append(run, r)
		}
	}
}

func (s *Scheduler) prefill(h *Handle) *running {
	seq, err := s.b.NewSequence(h.reserve)
	if err != nil {
		s.release(h, 0, false, Result{PromptTokens: len(h.req.Prompt), Err: fmt.Errorf("new sequence: %w", err)})
		return nil
	}
	logits, err := s.b.Prefill(seq, h.req.Prompt, false)
	if err != nil {
		s.release(h, seq, true, Result{PromptTokens: len(h.req.Prompt), Err: fmt.Errorf("prefill: %w", err)})
		return nil
	}
	s.log.V(2).Info("admitted", "promptTokens", len(h.req.Prompt), "reserved", h.reserve, "queued", time.Since(h.enqueued).String())
	return &running{
		h: h, seq: seq, sampler: engine.NewSampler(h.req.Sampling), picked: -1,
		history: append([]int(nil), h.req.Prompt...),
		text:    engine.NewTextTracker(s.d, h.req.Prompt, h.req.Stop),
		logits:  logits[0],
	}
}

// release frees a sequence's slot and KV reservation and finishes its handle.
func (s *Scheduler) release(h *Handle, seq engine.SeqID, hasSeq bool, res Result) {
	if hasSeq {
		s.b.FreeSequence(seq)
	}
	s.mu.Lock()
	s.nRunning--
	s.kvReserved -= h.reserve
	s.mu.Unlock()
	h.finish(res)
}

func (r *running) result() Result {
	return Result{Tokens: r.gen, Text: r.text.EmittedText(), PromptTokens: len(r.h.req.Prompt)}
}

// step samples one token for every running sequence, then decodes those
// that go on, all in one Decode call.
func (s *Scheduler) step(run []*running) []*running {
	next := run[:0]
	var batch []engine.DecodeInput
	for _, r := range run {
		if err := r.h.ctx.Err(); err != nil {
			res := r.result()
			res.Err = err
			s.release(r.h, r.seq, true, res)
			continue
		}
		if done, res := s.sample(r); done {
			s.release(r.h, r.seq, true, res)
			continue
		}
		next = append(next, r)
		batch = append(batch, engine.DecodeInput{Seq: r.seq, Token: r.gen[len(r.gen)-1]})
	}
	clear(run[len(next):])
	if len(batch) == 0 {
		return next
	}
	logits, picked, err := s.decode(next, batch)
	if err != nil {
		for _, r := range next {
			res := r.result()
			if errors.Is(err, engine.ErrSequenceFull) {
				res.Finish = engine.FinishLength
			} else {
				res.Err = fmt.Errorf("decode: %w", err)
			}
			s.release(r.h, r.seq, true, res)
		}
		return next[:0]
	}
	for i, r := range next {
		if picked != nil {
			r.logits, r.picked = nil, picked[i]
		} else {
			r.logits, r.picked = logits[i], -1
		}
	}
	return next
}

// decode runs one step for the batch. When every request in it samples
// greedily and wants no logprobs, a GreedyDecoder backend picks the tokens
// itself and no logits cross to the host: the same tokens, less traffic.
func (s *Scheduler) decode(run []*running, batch []engine.DecodeInput) ([][]float32, []int, error) {
	if gd, ok := s.b.(engine.GreedyDecoder); ok && allGreedy(run) {
		picked, err := gd.DecodeGreedy(batch)
		return nil, picked, err
	}
	logits, err := s.b.Decode(batch)
	return logits, nil, err
}

func allGreedy(run []*running) bool {
	for _, r := range run {
		if !r.h.req.Sampling.Greedy() || r.h.req.Logprobs {
			return false
		}
	}
	return true
}

// sample picks r's next token and streams it; it reports whether the
// request is finished, with its result. It follows engine.Generate step for
// step so that the outputs are identical.
func (s *Scheduler) sample(r *running) (bool, Result) {
	req := &r.h.req
	tok := r.picked
	if tok < 0 {
		tok = r.sampler.Sample(r.logits, r.history)
	}
	if s.d.IsEOG(tok) {
		return true, s.final(r, engine.FinishStop, "")
	}
	ev := Event{Token: tok}
	if req.Logprobs {
		ev.Logprob, ev.Top = s.logprobs(r, tok, req.TopLogprobs)
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
	if r.step >= r.h.maxNew {
		return true, s.final(r, engine.FinishLength, "")
	}
	return false, Result{}
}

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
	logits := r.logits
	m := float32(math.Inf(-1))
	for _, l := range logits {
		m = max(m, l)
	}
	var sum float64
	for _, l := range logits {
		sum += math.Exp(float64(l - m))
	}
	lse := float64(m) + math.Log(sum)
	prev := r.history[len(r.history)-1]
	lp := func(id int) TokenLogprob {
		return TokenLogprob{Token: id, Text: tokenText(s.d, prev, id), Logprob: float32(float64(logits[id]) - lse)}
	}
	chosen := lp(tok)
	if n <= 0 {
		return &chosen, nil
	}
	// Keep the n best, best first; ties go to the lower id.
	best := make([]int, 0, n+1)
	for id, l := range logits {
		if len(best) == n && l <= logits[best[n-1]] {
			continue
		}
		i := sort.Search(len(best), func(i int) bool { return logits[best[i]] < l })
		best = append(best, 0)
		copy(best[i+1:], best[i:])
		best[i] = id
		if len(best) > n {
			best = best[:n]
		}
	}
	top := make([]TokenLogprob, len(best))
	for i, id := range best {
		top[i] = lp(id)
	}
	return &chosen, top
}

func (s *Scheduler) cutAll(run []*running) {
	for _, r := range run {
		res := r.result()
		res.Err = ErrCut
		s.release(r.h, r.seq, true, res)
	}
	s.mu.Lock()
	q := s.queue
	s.queue = nil
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
