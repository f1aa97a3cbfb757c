package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/grammar"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

// load builds a tiny byte-level model whose vocabulary covers every byte,
// so any text encodes.
func load(t *testing.T) (*engine.CPU, *tokenizer.Tokenizer) { return loadTiny(t, "gpt2", 256, 0) }

// loadTiny writes and loads a tiny byte-level model of arch with a context of
// ctx tokens and a KV pool of kvTokens (0: the engine's default).
func loadTiny(t testing.TB, arch string, ctx, kvTokens int) (*engine.CPU, *tokenizer.Tokenizer) {
	t.Helper()
	cfg := modeltest.Small(arch)
	cfg.Vocab, cfg.Context = 320, ctx
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := modeltest.WriteFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	tok, err := tokenizer.FromGGUF(m.File)
	if err != nil {
		t.Fatal(err)
	}
	b, err := engine.NewCPU(m, engine.CPUOptions{KVCacheTokens: kvTokens})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, tok
}

func collect(t *testing.T, h *Handle) ([]Event, Result) {
	t.Helper()
	var evs []Event
	for {
		ev, ok := h.Next(context.Background())
		if !ok {
			return evs, h.Result()
		}
		evs = append(evs, ev)
	}
}

func TestGreedyMatchesGenerate(t *testing.T) {
	b, tok := load(t)
	s := New(b, tok, Config{MaxConcurrent: 4, MaxQueue: 64})
	defer s.Drain(context.Background())

	type job struct {
		prompt string
		max    int
		stop   []string
	}
	var jobs []job
	for i := range 12 {
		jobs = append(jobs, job{prompt: fmt.Sprintf("prompt %d: %s", i, "xyz"[:i%3+1]), max: 5 + 3*i})
	}
	jobs = append(jobs, job{prompt: "with a stop", max: 40, stop: []string{"e", "Q"}})
	want := make([]engine.Result, len(jobs))
	for i, j := range jobs {
		var err error
		want[i], err = engine.Generate(context.Background(), b, tok, engine.Request{Prompt: tok.Encode(j.prompt, true), MaxTokens: j.max, Stop: j.stop}, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	// Submit them all at once so that they interleave in the batch.
	handles := make([]*Handle, len(jobs))
	for i, j := range jobs {
		var err error
		if handles[i], err = s.Submit(context.Background(), Request{Prompt: tok.Encode(j.prompt, true), MaxTokens: j.max, Stop: j.stop}); err != nil {
			t.Fatal(err)
		}
	}
	for i, h := range handles {
		evs, got := collect(t, h)
		if got.Err != nil {
			t.Fatalf("job %d: %v", i, got.Err)
		}
		var text string
		for _, ev := range evs {
			text += ev.Text
		}
		if text != got.Text || got.Text != want[i].Text || got.Finish != want[i].Finish || fmt.Sprint(got.Tokens) != fmt.Sprint(want[i].Tokens) || got.StopSequence != want[i].StopSequence {
			t.Errorf("job %d: scheduler %q %v %s %q (streamed %q), Generate %q %v %s %q", i,
				got.Text, got.Tokens, got.Finish, got.StopSequence, text, want[i].Text, want[i].Tokens, want[i].Finish, want[i].StopSequence)
		}
	}
	if st := s.Stats(); st.Running != 0 || st.Queued != 0 || st.KVUsedTokens != 0 {
		t.Errorf("stats after all finished = %+v", st)
	}
}

func TestLogprobs(t *testing.T) {
	b, tok := load(t)
	s := New(b, tok, Config{MaxConcurrent: 1, MaxQueue: 1})
	defer s.Drain(context.Background())
	h, err := s.Submit(context.Background(), Request{Prompt: tok.Encode("abc", true), MaxTokens: 4, Logprobs: true, TopLogprobs: 3})
	if err != nil {
		t.Fatal(err)
	}
	evs, res := collect(t, h)
	if res.Err != nil || len(evs) == 0 {
		t.Fatalf("res %+v, %d events", res, len(evs))
	}
	for _, ev := range evs {
		if ev.Logprob == nil || len(ev.Top) != 3 {
			t.Fatalf("event %+v lacks logprobs", ev)
		}
		// Greedy: the chosen token is the most likely one.
		if ev.Top[0].Token != ev.Token || ev.Top[0].Logprob != ev.Logprob.Logprob || ev.Logprob.Logprob > 0 {
			t.Errorf("event %+v: chosen token is not the top one", ev)
		}
		if !(ev.Top[0].Logprob >= ev.Top[1].Logprob && ev.Top[1].Logprob >= ev.Top[2].Logprob) {
			t.Errorf("top logprobs not sorted: %+v", ev.Top)
		}
	}
}

func TestCancelFreesSlot(t *testing.T) {
	b, tok := load(t)
	s := New(b, tok, Config{MaxConcurrent: 1, MaxQueue: 2})
	defer s.Drain(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	h, err := s.Submit(ctx, Request{Prompt: tok.Encode("long", true), MaxTokens: 0})
	if err != nil {
		t.Fatal(err)
	}
	// Also a queued one behind it, cancelled while waiting.
	ctx2, cancel2 := context.WithCancel(context.Background())
	h2, err := s.Submit(ctx2, Request{Prompt: tok.Encode("queued", true), MaxTokens: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Next(context.Background()); !ok {
		t.Fatal("no first token")
	}
	cancel2()
	cancel()
	_, res := collect(t, h)
	if !errors.Is(res.Err, context.Canceled) {
		t.Errorf("running: err = %v, want context.Canceled", res.Err)
	}
	_, res2 := collect(t, h2)
	if res2.Err == nil && len(res2.Tokens) == 3 {
		t.Log("queued request ran before its cancellation was seen")
	}
	h3, err := s.Submit(context.Background(), Request{Prompt: tok.Encode("after", true), MaxTokens: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, res := collect(t, h3); res.Err != nil || len(res.Tokens) == 0 {
		t.Errorf("request after cancellation: %+v", res)
	}
	if st := s.Stats(); st.Running != 0 || st.KVUsedTokens != 0 {
		t.Errorf("stats = %+v, want nothing running", st)
	}
}

// gatedBackend holds every Prefill until gate is closed, and records the sequences started and freed, in order.
type gatedBackend struct {
	engine.Backend
	gate           chan struct{}
	mu             sync.Mutex
	started, freed []engine.SeqID
}

func (g *gatedBackend) Prefill(seq engine.SeqID, tokens []int, all bool) ([][]float32, error) {
	<-g.gate
	return g.Backend.Prefill(seq, tokens, all)
}

func (g *gatedBackend) StartSequence(maxTokens int, prompt []int) (engine.SeqID, int, error) {
	id, cached, err := g.Backend.StartSequence(maxTokens, prompt)
	g.mu.Lock()
	g.started = append(g.started, id)
	g.mu.Unlock()
	return id, cached, err
}

func (g *gatedBackend) FreeSequence(seq engine.SeqID) {
	g.mu.Lock()
	g.freed = append(g.freed, seq)
	g.mu.Unlock()
	g.Backend.FreeSequence(seq)
}

// batchingBackend is the CPU engine, a batched prefill, that records the parts of every PrefillBatch call and
// counts the single Prefill calls; after hold, the next prefill call of either kind waits for the gate.
type batchingBackend struct {
	*engine.CPU
	refuse        error // every PrefillBatch fails with it, changing nothing, as a backend's may
	mu            sync.Mutex
	gate, entered chan struct{}
	batches       [][]engine.PrefillPart
	singles       int
}

// hold makes the next prefill call close entered, then wait until gate is closed.
func (b *batchingBackend) hold() (entered, gate chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entered, b.gate = make(chan struct{}), make(chan struct{})
	return b.entered, b.gate
}

func (b *batchingBackend) wait() {
	b.mu.Lock()
	entered, gate := b.entered, b.gate
	b.entered = nil
	b.mu.Unlock()
	if entered != nil {
		close(entered)
		<-gate
	}
}

func (b *batchingBackend) Prefill(seq engine.SeqID, tokens []int, all bool) ([][]float32, error) {
	b.wait()
	b.mu.Lock()
	b.singles++
	b.mu.Unlock()
	return b.CPU.Prefill(seq, tokens, all)
}

func (b *batchingBackend) PrefillBatch(parts []engine.PrefillPart) ([][]float32, error) {
	b.wait()
	b.mu.Lock()
	b.batches = append(b.batches, slices.Clone(parts))
	b.mu.Unlock()
	if b.refuse != nil {
		return nil, b.refuse
	}
	return b.CPU.PrefillBatch(parts)
}

// runTogether submits prompts to s, the first alone until its prefill is under way and the rest while it waits
// (b.hold), and returns each one's tokens.
func runTogether(t *testing.T, s *Scheduler, b *batchingBackend, tok *tokenizer.Tokenizer, prompts []string) [][]int {
	t.Helper()
	entered, gate := b.hold()
	var hs []*Handle
	for i, p := range prompts {
		h, err := s.Submit(context.Background(), Request{Prompt: tok.Encode(p, true), MaxTokens: 8, IgnoreEOS: true})
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
		if i == 0 {
			<-entered
		}
	}
	close(gate)
	return tokensOf(t, hs)
}

// tokensOf waits for every request of hs and returns each one's tokens; a failed request fails the test.
func tokensOf(t *testing.T, hs []*Handle) [][]int {
	t.Helper()
	var got [][]int
	for _, h := range hs {
		_, res := collect(t, h)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		got = append(got, res.Tokens)
	}
	return got
}

// checkAlone runs each prompt alone on a fresh engine whose Prefill is all the scheduler sees, and compares its
// tokens with got's.
func checkAlone(t *testing.T, tok *tokenizer.Tokenizer, prompts []string, got [][]int) {
	t.Helper()
	alone, _ := load(t)
	one := New(struct{ engine.Backend }{alone}, tok, Config{MaxConcurrent: 1, MaxQueue: 1})
	defer one.Drain(context.Background())
	for i, p := range prompts {
		h, err := one.Submit(context.Background(), Request{Prompt: tok.Encode(p, true), MaxTokens: 8, IgnoreEOS: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, res := collect(t, h); !slices.Equal(res.Tokens, got[i]) {
			t.Errorf("prompt %q: %v with the others, %v alone", p, got[i], res.Tokens)
		}
	}
}

// Prompts that arrive while another is being prefilled are prefilled together, in one call, and each answers
// what it answers alone on an engine that prefills one sequence a call.
func TestPromptsArrivingTogetherArePrefilledInOneCall(t *testing.T) {
	cpu, tok := load(t)
	b := &batchingBackend{CPU: cpu}
	s := New(b, tok, Config{MaxConcurrent: 4, MaxQueue: 4})
	defer s.Drain(context.Background())
	prompts := []string{"the first", "a second prompt", "third", "and a fourth one"}
	got := runTogether(t, s, b, tok, prompts)
	b.mu.Lock()
	widest := 0
	for _, parts := range b.batches {
		widest = max(widest, len(parts))
	}
	b.mu.Unlock()
	if widest < len(prompts)-1 {
		t.Errorf("the widest batched prefill had %d sequences, want the %d that arrived together", widest, len(prompts)-1)
	}
	checkAlone(t, tok, prompts, got)
}

// pacedBackend is the CPU engine (several prompts a prefill call) whose every decode step announces itself on
// entered and waits for proceed, so a test submits prompts between two steps; log holds the calls in order:
// "decode", or "prefill N" for a call over N prompts.
type pacedBackend struct {
	*engine.CPU
	entered, proceed chan struct{}
	mu               sync.Mutex
	log              []string
}

func (b *pacedBackend) add(what string) {
	b.mu.Lock()
	b.log = append(b.log, what)
	b.mu.Unlock()
}

func (b *pacedBackend) Prefill(seq engine.SeqID, tokens []int, all bool) ([][]float32, error) {
	b.add("prefill 1")
	return b.CPU.Prefill(seq, tokens, all)
}

func (b *pacedBackend) PrefillBatch(parts []engine.PrefillPart) ([][]float32, error) {
	b.add(fmt.Sprintf("prefill %d", len(parts)))
	return b.CPU.PrefillBatch(parts)
}

func (b *pacedBackend) Decode(batch []engine.DecodeInput) ([][]float32, error) {
	b.entered <- struct{}{}
	<-b.proceed
	b.add("decode")
	return b.CPU.Decode(batch)
}

// Prompts arriving while a stream decodes wait up to PrefillHold steps for others to share their prefill pass
// (two prompts arriving a step apart go in one call after four steps), not at all with PrefillHold 0 or once they
// hold half a prefill chunk; held or not, each answers what it answers alone.
func TestPromptsWaitToShareAPrefillPass(t *testing.T) {
	_, tok := load(t)
	prompts := []string{"a second prompt", "and a third one"}
	half := min(len(tok.Encode(prompts[0], true)), len(tok.Encode(prompts[1], true)))
	oneByOne := []string{"prefill 1", "decode", "prefill 1", "decode", "prefill 1"}
	for _, c := range []struct {
		name        string
		hold, chunk int
		want        []string // the log's first calls: the stream's prefill, then the prompts'
	}{
		{"held", 4, 512, []string{"prefill 1", "decode", "decode", "decode", "decode", "decode", "prefill 2"}},
		{"never held", 0, 512, oneByOne},
		{"half a chunk waiting", 4, 2 * half, oneByOne},
	} {
		t.Run(c.name, func(t *testing.T) {
			cpu, _ := load(t)
			b := &pacedBackend{CPU: cpu, entered: make(chan struct{}), proceed: make(chan struct{})}
			s := New(b, tok, Config{MaxConcurrent: 4, MaxQueue: 4, PrefillChunk: c.chunk, PrefillHold: c.hold})
			stream := submitted(t, s, context.Background(), Request{Prompt: tok.Encode("the stream", true), MaxTokens: 40, IgnoreEOS: true})
			var hs []*Handle
			for _, p := range prompts { // each submitted while the loop waits in a decode step
				<-b.entered
				hs = append(hs, submitted(t, s, context.Background(), Request{Prompt: tok.Encode(p, true), MaxTokens: 8, IgnoreEOS: true}))
				b.proceed <- struct{}{}
			}
			done := make(chan struct{})
			go func() { // every later step at once
				for {
					select {
					case <-b.entered:
						b.proceed <- struct{}{}
					case <-done:
						return
					}
				}
			}()
			got := tokensOf(t, hs)
			if _, res := collect(t, stream); res.Err != nil || len(res.Tokens) != 40 {
				t.Errorf("the stream: %v after %d tokens", res.Err, len(res.Tokens))
			}
			if err := s.Drain(context.Background()); err != nil {
				t.Fatal(err)
			}
			close(done)
			b.mu.Lock()
			log := slices.Clone(b.log)
			b.mu.Unlock()
			if len(log) < len(c.want) || !slices.Equal(log[:len(c.want)], c.want) {
				t.Errorf("calls %v, want them to start %v", log[:min(len(log), len(c.want)+2)], c.want)
			}
			checkAlone(t, tok, prompts, got)
		})
	}
}

// When the batched prefill fails (changing nothing), the step's chunks go one Prefill a sequence, and every
// request answers what it answers alone; a backend that answers engine.ErrNoBatchPrefill is not asked again.
func TestFailedBatchedPrefillGoesOneByOne(t *testing.T) {
	for _, c := range []struct {
		name   string
		refuse error
		tries  int // batched calls over two bursts of arrivals
	}{{"failed", errors.New("batched prefill refused"), 2}, {"off", engine.ErrNoBatchPrefill, 1}} {
		t.Run(c.name, func(t *testing.T) {
			cpu, tok := load(t)
			b := &batchingBackend{CPU: cpu, refuse: c.refuse}
			s := New(b, tok, Config{MaxConcurrent: 4, MaxQueue: 4})
			defer s.Drain(context.Background())
			first, second := []string{"one", "two prompts", "and three"}, []string{"four", "five prompts", "and six"}
			got := runTogether(t, s, b, tok, first)
			got = append(got, runTogether(t, s, b, tok, second)...)
			b.mu.Lock()
			tries, singles := len(b.batches), b.singles
			b.mu.Unlock()
			if tries != c.tries || singles != len(first)+len(second) {
				t.Errorf("%d batched prefills tried and %d single ones, want %d and %d", tries, singles, c.tries, len(first)+len(second))
			}
			checkAlone(t, tok, append(first, second...), got)
		})
	}
}

// heldBackend blocks every Decode until release is closed, so a test knows a
// request is still running however fast the engine is.
type heldBackend struct {
	engine.Backend
	release chan struct{}
}

func (h *heldBackend) Decode(batch []engine.DecodeInput) ([][]float32, error) {
	<-h.release
	return h.Backend.Decode(batch)
}

func TestQueueFullAndPromptTooLong(t *testing.T) {
	cpu, tok := load(t)
	b := &heldBackend{Backend: cpu, release: make(chan struct{})}
	s := New(b, tok, Config{MaxConcurrent: 1, MaxQueue: 1, MaxContext: 32})
	defer s.Drain(context.Background())
	if _, err := s.Submit(context.Background(), Request{Prompt: make([]int, 32)}); !errors.Is(err, ErrPromptTooLong) {
		t.Errorf("prompt of the whole context: err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// One runs (its decode steps are held), one waits, the third is refused.
	var hs []*Handle
	for i := range 2 {
		h, err := s.Submit(ctx, Request{Prompt: tok.Encode("x", true)})
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
		if i == 0 {
			// Wait until the first runs, so that the second surely waits.
			if _, ok := h.Next(context.Background()); !ok {
				t.Fatal("no token")
			}
		}
	}
	if _, err := s.Submit(ctx, Request{Prompt: tok.Encode("y", true)}); !errors.Is(err, ErrQueueFull) {
		t.Errorf("third request: err = %v, want ErrQueueFull", err)
	}
	close(b.release)
	cancel()
	for _, h := range hs {
		collect(t, h)
	}
}

func TestDrain(t *testing.T) {
	b, tok := load(t)
	s := New(b, tok, Config{MaxConcurrent: 2, MaxQueue: 4})
	h, err := s.Submit(context.Background(), Request{Prompt: tok.Encode("drain", true), MaxTokens: 6})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var res Result
	wg.Go(func() { _, res = collect(t, h) })
	if err := s.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if res.Err != nil || len(res.Tokens) == 0 {
		t.Errorf("running request during drain: %+v", res)
	}
	if _, err := s.Submit(context.Background(), Request{Prompt: []int{5}}); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("submit after drain: err = %v", err)
	}

	// A grace period that has already ended cuts what runs.
	s2 := New(b, tok, Config{MaxConcurrent: 1, MaxQueue: 4})
	h2, err := s2.Submit(context.Background(), Request{Prompt: tok.Encode("cut", true)})
	if err != nil {
		t.Fatal(err)
	}
	h2.Next(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s2.Drain(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("drain past grace: err = %v", err)
	}
	if _, res := collect(t, h2); !errors.Is(res.Err, ErrCut) {
		t.Errorf("cut request: err = %v, want ErrCut", res.Err)
	}
}

// greedyCPU is the CPU engine with engine.GreedyDecoder on top, counting the
// steps it decides itself, as the CUDA backend's argmax on the GPU would.
type greedyCPU struct {
	*engine.CPU
	mu          sync.Mutex
	greedySteps int
	logitsSteps int
	during      func(batch []engine.DecodeInput) // set before the scheduler starts; runs in every decode (decodeRows)
}

// decodeRows is the CPU engine's logits for batch, through the test's hook (during) when it has one: every
// decode method of greedyCPU and the fakes built on it computes its rows here.
func (g *greedyCPU) decodeRows(batch []engine.DecodeInput) ([][]float32, error) {
	if g.during != nil {
		g.during(batch)
	}
	return g.CPU.Decode(batch)
}

func (g *greedyCPU) Decode(batch []engine.DecodeInput) ([][]float32, error) {
	g.mu.Lock()
	g.logitsSteps++
	g.mu.Unlock()
	return g.decodeRows(batch)
}

func (g *greedyCPU) DecodeGreedy(batch []engine.DecodeInput) ([]int, error) {
	g.mu.Lock()
	g.greedySteps++
	g.mu.Unlock()
	rows, err := g.decodeRows(batch)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(rows))
	for i, row := range rows {
		for id, l := range row {
			if l > row[out[i]] {
				out[i] = id
			}
		}
	}
	return out, nil
}

func TestGreedyDecoderPicksTheSameTokens(t *testing.T) {
	cpu, tok := load(t)
	g := &greedyCPU{CPU: cpu}
	s := New(g, tok, Config{MaxConcurrent: 4, MaxQueue: 16})
	defer s.Drain(context.Background())
	run := func(req Request) Result {
		t.Helper()
		h, err := s.Submit(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		_, res := collect(t, h)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		return res
	}
	prompt := tok.Encode("greedy on the device", true)
	want, err := engine.Generate(context.Background(), cpu, tok, engine.Request{Prompt: prompt, MaxTokens: 24}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := run(Request{Prompt: prompt, MaxTokens: 24})
	if fmt.Sprint(got.Tokens) != fmt.Sprint(want.Tokens) || got.Text != want.Text {
		t.Errorf("greedy through DecodeGreedy %v %q, Generate %v %q", got.Tokens, got.Text, want.Tokens, want.Text)
	}
	if g.greedySteps == 0 || g.logitsSteps != 0 {
		t.Errorf("greedy request: %d DecodeGreedy steps, %d Decode steps; want only DecodeGreedy", g.greedySteps, g.logitsSteps)
	}
	// Requests that need the logits on the host keep the Decode path.
	for _, req := range []Request{
		{Prompt: prompt, MaxTokens: 8, Logprobs: true},
		{Prompt: prompt, MaxTokens: 8, Sampling: engine.SamplingParams{Temperature: 0.8, Seed: 1}},
		{Prompt: prompt, MaxTokens: 8, Sampling: engine.SamplingParams{PresencePenalty: 0.5}},
	} {
		before := g.greedySteps
		run(req)
		if g.greedySteps != before || g.logitsSteps == 0 {
			t.Errorf("%+v: %d DecodeGreedy steps, want none", req.Sampling, g.greedySteps-before)
		}
	}
}

// maskedCPU is greedyCPU with engine.MaskedDecoder on top: it applies the masks where the logits are, as the
// CUDA backend does on the GPU, here with the host's own pick, and counts those steps.
type maskedCPU struct {
	greedyCPU
	off         bool // MasksOnDevice's answer is false (KUBEINFER_GPU_MASK=0)
	maskedSteps int
}

func (g *maskedCPU) MasksOnDevice() bool { return !g.off }

func (g *maskedCPU) DecodeGreedyMasked(batch []engine.DecodeInput, masks func() [][]uint64) ([]int, error) {
	g.mu.Lock()
	g.maskedSteps++
	g.mu.Unlock()
	rows, err := g.decodeRows(batch)
	if err != nil {
		return nil, err
	}
	ms := masks()
	out := make([]int, len(rows))
	for i, row := range rows {
		switch {
		case engine.CheckFinite(row) != nil:
			out[i] = engine.NonFiniteToken
		default:
			if out[i] = engine.NewSampler(engine.SamplingParams{}).SampleMasked(row, nil, ms[i]); out[i] < 0 {
				out[i] = engine.NoAllowedToken
			}
		}
	}
	return out, nil
}

// runsOut is a constraint whose masks run out after allowed tokens: then it allows none, or fails with err.
type runsOut struct {
	allowed int
	err     error
	vocab   int
}

func (f *runsOut) Allowed() ([]uint64, error) {
	m := make([]uint64, (f.vocab+63)/64)
	if f.allowed > 0 {
		for i := range m {
			m[i] = ^uint64(0)
		}
	} else if f.err != nil {
		return nil, f.err
	}
	return m, nil
}
func (f *runsOut) Accept(int) error { f.allowed--; return nil }
func (f *runsOut) Done() bool       { return false }

// Constrained greedy requests are masked where the logits are (MaskedDecoder), batched with unconstrained ones,
// and give Generate's tokens; with MasksOnDevice off they take the host's path, with the same tokens. A
// constraint that allows nothing or fails ends its request with the host path's error.
func TestMaskedDecoderPicksTheSameTokens(t *testing.T) {
	cpu, tok := load(t)
	mach := personMachine(t, tok)
	jsonPrompt, freePrompt := tok.Encode("a person as JSON: ", true), tok.Encode("free text", true)
	want, err := engine.Generate(context.Background(), cpu, tok, engine.Request{Prompt: jsonPrompt, MaxTokens: 120,
		Constraint: mach.NewMatcher()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantFree, err := engine.Generate(context.Background(), cpu, tok, engine.Request{Prompt: freePrompt, MaxTokens: 30}, nil)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	for _, off := range []bool{false, true} {
		b := &maskedCPU{greedyCPU: greedyCPU{CPU: cpu}, off: off}
		s := New(b, tok, Config{MaxConcurrent: 4, MaxQueue: 16})
		submit := func(req Request) *Handle {
			h, err := s.Submit(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		// Together, so that they share decode steps.
		hs := []*Handle{submit(Request{Prompt: jsonPrompt, MaxTokens: 120, Constraint: mach.NewMatcher()}),
			submit(Request{Prompt: freePrompt, MaxTokens: 30}),
			submit(Request{Prompt: freePrompt, MaxTokens: 30, Constraint: &runsOut{allowed: 3, vocab: tok.VocabSize()}}),
			submit(Request{Prompt: freePrompt, MaxTokens: 30, Constraint: &runsOut{allowed: 2, err: boom, vocab: tok.VocabSize()}})}
		var res []Result
		for _, h := range hs {
			_, r := collect(t, h)
			res = append(res, r)
		}
		s.Drain(context.Background())
		if res[0].Err != nil || fmt.Sprint(res[0].Tokens) != fmt.Sprint(want.Tokens) || res[0].Text != want.Text {
			t.Errorf("off %v: constrained %v %q (%v), Generate %v %q", off, res[0].Tokens, res[0].Text, res[0].Err, want.Tokens, want.Text)
		}
		if res[1].Err != nil || fmt.Sprint(res[1].Tokens) != fmt.Sprint(wantFree.Tokens) {
			t.Errorf("off %v: unconstrained %v (%v), Generate %v", off, res[1].Tokens, res[1].Err, wantFree.Tokens)
		}
		if !errors.Is(res[2].Err, errNoneAllowed) || len(res[2].Tokens) != 3 {
			t.Errorf("off %v: a constraint that allows nothing after 3 tokens: %v after %v", off, res[2].Err, res[2].Tokens)
		}
		if !errors.Is(res[3].Err, boom) || len(res[3].Tokens) != 2 {
			t.Errorf("off %v: a constraint that fails after 2 tokens: %v after %v", off, res[3].Err, res[3].Tokens)
		}
		if off && (b.maskedSteps != 0 || b.logitsSteps == 0) || !off && (b.maskedSteps == 0 || b.logitsSteps+b.greedySteps != 0) {
			t.Errorf("off %v: %d masked steps, %d Decode steps, %d DecodeGreedy steps", off, b.maskedSteps, b.logitsSteps, b.greedySteps)
		}
	}
	if want.Finish != engine.FinishStop || !json.Valid([]byte(want.Text)) {
		t.Errorf("the constrained reference %q (%s) is not a whole document", want.Text, want.Finish)
	}
}

// personMachine is the grammar of a small JSON schema (a person: name and age) over tok's vocabulary.
func personMachine(t *testing.T, tok *tokenizer.Tokenizer) *grammar.Machine {
	t.Helper()
	pieces := make([][]byte, tok.VocabSize())
	for id := range pieces {
		pieces[id] = tok.Piece(id)
	}
	g, err := grammar.FromJSONSchema([]byte(`{"type":"object","properties":{"name":{"type":"string","maxLength":8},
		"age":{"type":"integer","minimum":0,"maximum":99}},"required":["name","age"]}`))
	if err != nil {
		t.Fatal(err)
	}
	mach, err := grammar.NewMachine(g, grammar.NewVocab(pieces, tok.IsEOG, tok.IsControl), 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	return mach
}

// loadKV is load with a KV pool of tokens tokens.
func loadKV(t *testing.T, tokens int) (*engine.CPU, *tokenizer.Tokenizer) {
	t.Helper()
	b, tok := load(t)
	small, err := engine.NewCPU(b.Model(), engine.CPUOptions{KVCacheTokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { small.Close() })
	return small, tok
}

// A KV pool far smaller than the slots' needs makes requests wait and sequences take
// turns (preempted, then resumed by recomputing their tokens), never fail; each output
// equals the request run alone, sampled ones included.
func TestSmallKVPoolMakesRequestsWaitNotFail(t *testing.T) {
	b, tok := loadKV(t, 48) // 3 blocks of 16 tokens for 4 slots
	ref, _ := load(t)
	s := New(b, tok, Config{MaxConcurrent: 4, MaxQueue: 16})
	defer s.Drain(context.Background())
	if s.ContextLength() != 48 {
		t.Errorf("context length %d, want the pool's 48 tokens", s.ContextLength())
	}
	var reqs []Request
	for i := range 8 {
		req := Request{Prompt: tok.Encode(fmt.Sprintf("request %d", i), true), MaxTokens: 20 + i}
		if i%2 == 1 {
			req.Sampling = engine.SamplingParams{Temperature: 0.9, Seed: uint64(i)}
		}
		reqs = append(reqs, req)
	}
	handles := make([]*Handle, len(reqs))
	for i, req := range reqs {
		var err error
		if handles[i], err = s.Submit(context.Background(), req); err != nil {
			t.Fatalf("request %d refused: %v", i, err)
		}
	}
	for i, h := range handles {
		_, got := collect(t, h)
		want, err := engine.Generate(context.Background(), ref, tok, engine.Request{Prompt: reqs[i].Prompt,
			MaxTokens: reqs[i].MaxTokens, Sampling: reqs[i].Sampling}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.Err != nil || fmt.Sprint(got.Tokens) != fmt.Sprint(want.Tokens) || got.Finish != want.Finish {
			t.Errorf("request %d: %v %v %v, alone %v %v", i, got.Err, got.Tokens, got.Finish, want.Tokens, want.Finish)
		}
	}
	st := s.Stats()
	if st.Preemptions == 0 {
		t.Error("no sequence was preempted: the test did not exercise a full pool")
	}
	if st.Running != 0 || st.Preempted != 0 || st.KVUsedTokens != 0 || b.KV().FreeBlocks() != 3 {
		t.Errorf("after all finished: %+v, %d free blocks", st, b.KV().FreeBlocks())
	}
}

// blockedPrefill holds every Prefill until release is closed, so requests pile up
// while the scheduler's goroutine is busy.
type blockedPrefill struct {
	engine.Backend
	release chan struct{}
}

func (b *blockedPrefill) Prefill(seq engine.SeqID, tokens []int, all bool) ([][]float32, error) {
	<-b.release
	return b.Backend.Prefill(seq, tokens, all)
}

// A burst of exactly slots + queue requests is taken whole, and the next is refused,
// however far the scheduler's goroutine has got in moving requests into slots.
func TestBurstOfSlotsPlusQueueIsAccepted(t *testing.T) {
	cpu, tok := load(t)
	b := &blockedPrefill{Backend: cpu, release: make(chan struct{})}
	s := New(b, tok, Config{MaxConcurrent: 4, MaxQueue: 8})
	defer s.Drain(context.Background())
	release := sync.OnceFunc(func() { close(b.release) })
	defer release() // before Drain, also when the test fails early
	var hs []*Handle
	for i := range 12 {
		h, err := s.Submit(context.Background(), Request{Prompt: tok.Encode("burst", true), MaxTokens: 2})
		if err != nil {
			t.Fatalf("request %d of 12 (4 slots + 8 queued) refused: %v", i+1, err)
		}
		hs = append(hs, h)
	}
	if _, err := s.Submit(context.Background(), Request{Prompt: tok.Encode("one more", true)}); !errors.Is(err, ErrQueueFull) {
		t.Errorf("request 13: err = %v, want ErrQueueFull", err)
	}
	release()
	for i, h := range hs {
		if _, res := collect(t, h); res.Err != nil {
			t.Errorf("request %d: %v", i, res.Err)
		}
	}
}

// nanGreedy picks greedily but reports NonFiniteToken from its third step on, as the
// CUDA backend does for a row holding NaN or +Inf.
type nanGreedy struct {
	*engine.CPU
	steps int
}

func (g *nanGreedy) DecodeGreedy(batch []engine.DecodeInput) ([]int, error) {
	g.steps++
	if _, err := g.CPU.Decode(batch); err != nil {
		return nil, err
	}
	out := make([]int, len(batch))
	for i := range out {
		out[i] = 5
		if g.steps >= 3 {
			out[i] = engine.NonFiniteToken
		}
	}
	return out, nil
}

// A greedy token the backend could not pick (non-finite logits where they are) ends the
// request with the cause after the tokens before it, never as a token.
func TestNonFinitePickEndsTheRequest(t *testing.T) {
	cpu, tok := load(t)
	s := New(&nanGreedy{CPU: cpu}, tok, Config{MaxConcurrent: 2, MaxQueue: 2})
	defer s.Drain(context.Background())
	h, err := s.Submit(context.Background(), Request{Prompt: tok.Encode("nan", true), MaxTokens: 20})
	if err != nil {
		t.Fatal(err)
	}
	_, res := collect(t, h)
	if !errors.Is(res.Err, engine.ErrNonFinite) || len(res.Tokens) != 3 || slices.Contains(res.Tokens, engine.NonFiniteToken) {
		t.Fatalf("result %v after tokens %v, want ErrNonFinite after 3 tokens", res.Err, res.Tokens)
	}
}

// countingPrefill counts the tokens each Prefill computes.
type countingPrefill struct {
	*engine.CPU
	mu       sync.Mutex
	computed []int
}

func (c *countingPrefill) Prefill(seq engine.SeqID, tokens []int, all bool) ([][]float32, error) {
	c.mu.Lock()
	c.computed = append(c.computed, len(tokens))
	c.mu.Unlock()
	return c.CPU.Prefill(seq, tokens, all)
}

// loadLong is a tiny byte-level llama with a 2048-token context.
func loadLong(t *testing.T, kvTokens int) (*engine.CPU, *tokenizer.Tokenizer) {
	return loadTiny(t, "llama", 2048, kvTokens)
}

// A request whose prompt starts with a 1k-token prefix an earlier request had computes
// only its own part, and answers exactly what a cold run answers.
func TestSharedPrefixIsComputedOnce(t *testing.T) {
	cpu, tok := loadLong(t, 4096)
	b := &countingPrefill{CPU: cpu}
	s := New(b, tok, Config{MaxConcurrent: 2, MaxQueue: 4})
	defer s.Drain(context.Background())
	prefix := make([]int, 1024)
	for i := range prefix {
		prefix[i] = 3 + (i*7)%300
	}
	run := func(sched *Scheduler, suffix ...int) Result {
		t.Helper()
		h, err := sched.Submit(context.Background(), Request{Prompt: append(slices.Clone(prefix), suffix...), MaxTokens: 12, IgnoreEOS: true})
		if err != nil {
			t.Fatal(err)
		}
		_, res := collect(t, h)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		return res
	}
	run(s, 11, 12, 13)
	second := run(s, 21, 22, 23, 24, 25)
	if got := b.computed[len(b.computed)-1]; got != 5 {
		t.Errorf("the second request computed %d prompt tokens, want its 5 after the cached 1024", got)
	}
	if st := s.Stats(); st.PrefixHitTokens != 1024 || st.PrefixQueriedTokens != 1024+3+1024+5 {
		t.Errorf("prefix stats %+v", st)
	}
	// Cold: a fresh engine with nothing cached.
	fresh, _ := loadLong(t, 4096)
	cold := New(fresh, tok, Config{MaxConcurrent: 1, MaxQueue: 1})
	defer cold.Drain(context.Background())
	if want := run(cold, 21, 22, 23, 24, 25); !slices.Equal(second.Tokens, want.Tokens) {
		t.Errorf("with the cached prefix %v, cold %v", second.Tokens, want.Tokens)
	}
}

// call is one call the scheduler made into its backend.
type call struct {
	kind   string // "start", "prefill", "decode" or "free"
	seq    engine.SeqID
	tokens []int          // prefill: the tokens computed; start: the sequence's tokens
	batch  []engine.SeqID // decode: the sequences stepped
}

// tracing records every call into the backend, in order; when step is set, each Decode
// is recorded, then waits for a value from it, so a test can act between two steps.
type tracing struct {
	engine.Backend
	mu    sync.Mutex
	calls []call
	step  chan struct{}
}

func (t *tracing) add(c call) {
	t.mu.Lock()
	t.calls = append(t.calls, c)
	t.mu.Unlock()
}

func (t *tracing) trace() []call {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.calls)
}

func (t *tracing) StartSequence(maxTokens int, prompt []int) (engine.SeqID, int, error) {
	seq, cached, err := t.Backend.StartSequence(maxTokens, prompt)
	t.add(call{kind: "start", seq: seq, tokens: slices.Clone(prompt)})
	return seq, cached, err
}

func (t *tracing) Prefill(seq engine.SeqID, tokens []int, all bool) ([][]float32, error) {
	t.add(call{kind: "prefill", seq: seq, tokens: slices.Clone(tokens)})
	return t.Backend.Prefill(seq, tokens, all)
}

func (t *tracing) Decode(batch []engine.DecodeInput) ([][]float32, error) {
	c := call{kind: "decode"}
	for _, in := range batch {
		c.batch = append(c.batch, in.Seq)
	}
	t.add(c)
	if t.step != nil {
		<-t.step
	}
	return t.Backend.Decode(batch)
}

// until polls the trace until cond holds; it fails the test only if cond never
// does, so it does not depend on timing.
func (t *tracing) until(tb testing.TB, what string, cond func([]call) bool) []call {
	tb.Helper()
	for range 4000 {
		if cs := t.trace(); cond(cs) {
			return cs
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatalf("timed out waiting for %s", what)
	return nil
}

func count(cs []call, f func(call) bool) int {
	n := 0
	for _, c := range cs {
		if f(c) {
			n++
		}
	}
	return n
}

func startOf(cs []call, promptLen int) engine.SeqID {
	for _, c := range cs {
		if c.kind == "start" && len(c.tokens) == promptLen {
			return c.seq
		}
	}
	return 0
}

func (t *tracing) FreeSequence(seq engine.SeqID) {
	t.add(call{kind: "free", seq: seq})
	t.Backend.FreeSequence(seq)
}

// longPrompt is n token ids of the byte-level vocabulary, varied by salt.
func longPrompt(n, salt int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = 3 + (i*7+salt*13)%300
	}
	return p
}

// submitted submits req and fails the test if it is refused.
func submitted(t *testing.T, s *Scheduler, ctx context.Context, req Request) *Handle {
	t.Helper()
	h, err := s.Submit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// A long prompt is prefilled a chunk per step, and the streams already running get a token
// between every two chunks; its output is the same as prefilled whole.
func TestChunkedPrefillInterleavesWithDecode(t *testing.T) {
	cpu, tok := loadLong(t, 4096)
	b := &tracing{Backend: cpu}
	const chunk = 128
	s := New(b, tok, Config{MaxConcurrent: 4, MaxQueue: 4, PrefillChunk: chunk})
	defer s.Drain(context.Background())
	stream := submitted(t, s, context.Background(), Request{Prompt: longPrompt(20, 1), MaxTokens: 300, IgnoreEOS: true})
	if _, ok := stream.Next(context.Background()); !ok {
		t.Fatal("the running stream got no token")
	}
	long := longPrompt(1000, 2)
	_, got := collect(t, submitted(t, s, context.Background(), Request{Prompt: long, MaxTokens: 8, IgnoreEOS: true}))
	if _, res := collect(t, stream); res.Err != nil || len(res.Tokens) != 300 {
		t.Fatalf("running stream: %v after %d tokens", res.Err, len(res.Tokens))
	}
	calls := b.trace()
	var streamSeq, longSeq engine.SeqID
	for _, c := range calls {
		if c.kind == "start" && len(c.tokens) == 20 {
			streamSeq = c.seq
		}
		if c.kind == "start" && len(c.tokens) == len(long) {
			longSeq = c.seq
		}
	}
	var chunks [][]int
	decodesSince := -1 // decode steps of the running stream since the long prompt's last chunk
	for _, c := range calls {
		switch {
		case c.kind == "prefill" && c.seq == longSeq:
			if decodesSince == 0 {
				t.Errorf("chunk %d of the long prompt follows the one before with no decode of the running stream between", len(chunks))
			}
			chunks = append(chunks, c.tokens)
			decodesSince = 0
		case c.kind == "decode" && slices.Contains(c.batch, streamSeq) && decodesSince >= 0:
			decodesSince++
		}
	}
	if len(chunks) != (len(long)+chunk-1)/chunk {
		t.Fatalf("the %d-token prompt was prefilled in %d calls, want %d chunks of at most %d", len(long), len(chunks), (len(long)+chunk-1)/chunk, chunk)
	}
	if joined := slices.Concat(chunks...); !slices.Equal(joined, long) {
		t.Errorf("the chunks are not the prompt in order")
	}
	for i, c := range chunks[:len(chunks)-1] {
		if len(c) != chunk {
			t.Errorf("chunk %d has %d tokens, want %d", i, len(c), chunk)
		}
	}

	// The same prompt prefilled in one call, on a fresh engine.
	fresh, _ := loadLong(t, 4096)
	whole := &tracing{Backend: fresh}
	ref := New(whole, tok, Config{MaxConcurrent: 1, MaxQueue: 1, PrefillChunk: 4096})
	defer ref.Drain(context.Background())
	_, want := collect(t, submitted(t, ref, context.Background(), Request{Prompt: long, MaxTokens: 8, IgnoreEOS: true}))
	if n := len(slices.DeleteFunc(whole.trace(), func(c call) bool { return c.kind != "prefill" })); n != 1 {
		t.Fatalf("the reference run prefilled in %d calls, want 1", n)
	}
	if got.Err != nil || want.Err != nil || !slices.Equal(got.Tokens, want.Tokens) {
		t.Errorf("chunked %v (%v), whole %v (%v)", got.Tokens, got.Err, want.Tokens, want.Err)
	}
}

// A prompt whose start the pool has cached prefills only the rest, in chunks that start
// right after the cached blocks.
func TestChunkedPrefillStartsAfterTheCachedPrefix(t *testing.T) {
	cpu, tok := loadLong(t, 4096)
	b := &tracing{Backend: cpu}
	s := New(b, tok, Config{MaxConcurrent: 2, MaxQueue: 2, PrefillChunk: 100})
	defer s.Drain(context.Background())
	prefix := longPrompt(512, 3)
	collect(t, submitted(t, s, context.Background(), Request{Prompt: append(slices.Clone(prefix), 7, 8, 9), MaxTokens: 4, IgnoreEOS: true}))
	prompt := append(slices.Clone(prefix), longPrompt(250, 4)...)
	before := len(b.trace())
	_, got := collect(t, submitted(t, s, context.Background(), Request{Prompt: prompt, MaxTokens: 6, IgnoreEOS: true}))
	var chunks [][]int
	for _, c := range b.trace()[before:] {
		if c.kind == "prefill" {
			chunks = append(chunks, c.tokens)
		}
	}
	if want := [][]int{prompt[512:612], prompt[612:712], prompt[712:]}; fmt.Sprint(chunks) != fmt.Sprint(want) {
		t.Errorf("prefilled chunks of %v tokens, want %v after the 512 cached", lens(chunks), lens(want))
	}
	fresh, _ := loadLong(t, 4096)
	cold := New(fresh, tok, Config{MaxConcurrent: 1, MaxQueue: 1})
	defer cold.Drain(context.Background())
	if _, want := collect(t, submitted(t, cold, context.Background(), Request{Prompt: prompt, MaxTokens: 6, IgnoreEOS: true})); !slices.Equal(got.Tokens, want.Tokens) {
		t.Errorf("with the cached prefix %v, cold %v", got.Tokens, want.Tokens)
	}
}

func lens(chunks [][]int) []int {
	out := make([]int, len(chunks))
	for i, c := range chunks {
		out[i] = len(c)
	}
	return out
}

// A request whose client goes away gives its blocks back before the next step: while
// decoding, and while its prompt is still being prefilled in chunks.
func TestCancelledRequestFreesItsBlocksAtTheNextStep(t *testing.T) {
	cpu, tok := loadLong(t, 4096)
	b := &tracing{Backend: cpu, step: make(chan struct{})}
	s := New(b, tok, Config{MaxConcurrent: 4, MaxQueue: 4, PrefillChunk: 64})
	defer s.Drain(context.Background())
	isDecode := func(c call) bool { return c.kind == "decode" }
	keep := submitted(t, s, context.Background(), Request{Prompt: longPrompt(10, 5), MaxTokens: 200, IgnoreEOS: true})
	ctx, cancel := context.WithCancel(context.Background())
	gone := submitted(t, s, ctx, Request{Prompt: longPrompt(40, 6), MaxTokens: 200, IgnoreEOS: true})
	// Step until a decode step holds both, then cancel while it runs.
	var goneSeq engine.SeqID
	for {
		cs := b.until(t, "a decode step", func(cs []call) bool { return count(cs, isDecode) > 0 })
		goneSeq = startOf(cs, 40)
		if last := cs[len(cs)-1]; isDecode(last) && len(last.batch) == 2 {
			break
		}
		b.step <- struct{}{}
	}
	cancel()
	n := count(b.trace(), isDecode)
	b.step <- struct{}{}
	cs := b.until(t, "the next decode step", func(cs []call) bool { return count(cs, isDecode) > n })
	last := cs[len(cs)-1]
	freed := slices.IndexFunc(cs, func(c call) bool { return c.kind == "free" && c.seq == goneSeq })
	if !isDecode(last) || slices.Contains(last.batch, goneSeq) || freed < 0 {
		t.Fatalf("the step after the cancellation ran %+v; the sequence was freed at call %d of %d", last, freed, len(cs))
	}
	if _, res := collect(t, gone); !errors.Is(res.Err, context.Canceled) {
		t.Errorf("cancelled request: %v", res.Err)
	}

	// Now one whose long prompt is still being prefilled, a chunk per step.
	ctx2, cancel2 := context.WithCancel(context.Background())
	long := submitted(t, s, ctx2, Request{Prompt: longPrompt(1000, 7), MaxTokens: 4})
	chunksOf := func(cs []call) int {
		seq := startOf(cs, 1000)
		return count(cs, func(c call) bool { return c.kind == "prefill" && c.seq == seq })
	}
	for chunksOf(b.trace()) < 2 {
		n := count(b.trace(), isDecode)
		b.step <- struct{}{}
		b.until(t, "the next decode step", func(cs []call) bool { return count(cs, isDecode) > n })
	}
	cancel2()
	cs = b.trace()
	longSeq, chunks, n := startOf(cs, 1000), chunksOf(cs), count(cs, isDecode)
	b.step <- struct{}{}
	cs = b.until(t, "the next decode step", func(cs []call) bool { return count(cs, isDecode) > n })
	if !slices.ContainsFunc(cs, func(c call) bool { return c.kind == "free" && c.seq == longSeq }) || chunksOf(cs) != chunks {
		t.Errorf("after the cancellation mid-prefill (%d of 16 chunks done): freed %v, %d chunks; want it freed and no more chunks",
			chunks, slices.ContainsFunc(cs, func(c call) bool { return c.kind == "free" && c.seq == longSeq }), chunksOf(cs))
	}
	if _, res := collect(t, long); !errors.Is(res.Err, context.Canceled) {
		t.Errorf("cancelled prefilling request: %v", res.Err)
	}
	close(b.step)
	if _, res := collect(t, keep); res.Err != nil || len(res.Tokens) != 200 {
		t.Errorf("the other request: %v after %d tokens", res.Err, len(res.Tokens))
	}
	if st := s.Stats(); st.KVUsedTokens != 0 || st.Running != 0 {
		t.Errorf("stats after all finished = %+v", st)
	}
}

// Admission is first come first served: a request that waits for KV space holds back the
// ones behind it even when they would fit, so a large prompt is never overtaken forever.
func TestAdmissionIsFirstComeFirstServed(t *testing.T) {
	cpu, tok := loadLong(t, 64) // 4 blocks of 16
	b := &tracing{Backend: cpu}
	s := New(b, tok, Config{MaxConcurrent: 4, MaxQueue: 8, PrefillChunk: 16})
	defer s.Drain(context.Background())
	first := submitted(t, s, context.Background(), Request{Prompt: longPrompt(20, 8), MaxTokens: 30, IgnoreEOS: true})
	if _, ok := first.Next(context.Background()); !ok {
		t.Fatal("no token")
	}
	// 40 tokens need 3 blocks while the first holds 2: it waits; the short ones behind it would fit.
	hs := []*Handle{first, submitted(t, s, context.Background(), Request{Prompt: longPrompt(40, 9), MaxTokens: 4, IgnoreEOS: true})}
	for i := range 4 {
		hs = append(hs, submitted(t, s, context.Background(), Request{Prompt: longPrompt(3+i, 10+i), MaxTokens: 4, IgnoreEOS: true}))
	}
	for i, h := range hs {
		if _, res := collect(t, h); res.Err != nil {
			t.Fatalf("request %d: %v", i, res.Err)
		}
	}
	var order []int // prompt lengths in the order they first started
	for _, c := range b.trace() {
		if c.kind == "start" && !slices.Contains(order, len(c.tokens)) {
			order = append(order, len(c.tokens))
		}
	}
	if want := []int{20, 40, 3, 4, 5, 6}; !slices.Equal(order, want) {
		t.Errorf("requests started in the order of their prompt lengths %v, want the order they came in %v", order, want)
	}
}

// gatedPrefill holds each Prefill until gate gives a value (or is closed).
type gatedPrefill struct {
	*tracing
	gate chan struct{}
}

func (g *gatedPrefill) Prefill(seq engine.SeqID, tokens []int, all bool) ([][]float32, error) {
	g.add(call{kind: "prefill", seq: seq, tokens: slices.Clone(tokens)})
	<-g.gate
	return g.Backend.Prefill(seq, tokens, all)
}

// A request that waits for a prompt being prefilled (it starts with the same block) does not hold the queue:
// a newer, unrelated request starts while the long prompt is still being computed, and the waiting one then
// takes the long prompt's blocks from the pool instead of computing them.
func TestNewerRequestStartsPastOneAwaitingAPrefill(t *testing.T) {
	cpu, tok := loadLong(t, 4096)
	tr := &tracing{Backend: cpu}
	b := &gatedPrefill{tracing: tr, gate: make(chan struct{})}
	s := New(b, tok, Config{MaxConcurrent: 3, MaxQueue: 4, PrefillChunk: 64})
	defer s.Drain(context.Background())
	long := longPrompt(640, 21)
	first := submitted(t, s, context.Background(), Request{Prompt: long, MaxTokens: 2, IgnoreEOS: true})
	tr.until(t, "the long prompt's first chunk", func(cs []call) bool {
		return count(cs, func(c call) bool { return c.kind == "prefill" }) == 1
	})
	// While that chunk is held: a request sharing its first 128 tokens, then an unrelated one.
	same := append(slices.Clone(long[:128]), longPrompt(20, 22)...)
	hs := []*Handle{first, submitted(t, s, context.Background(), Request{Prompt: same, MaxTokens: 2, IgnoreEOS: true}),
		submitted(t, s, context.Background(), Request{Prompt: longPrompt(30, 23), MaxTokens: 2, IgnoreEOS: true})}
	close(b.gate)
	for i, h := range hs {
		if _, res := collect(t, h); res.Err != nil {
			t.Fatalf("request %d: %v", i, res.Err)
		}
	}
	cs := tr.trace()
	longSeq := startOf(cs, len(long))
	lastChunk, startedOther, startedSame := -1, -1, -1
	for i, c := range cs {
		switch {
		case c.kind == "prefill" && c.seq == longSeq:
			lastChunk = i
		case c.kind == "start" && len(c.tokens) == 30 && startedOther < 0:
			startedOther = i
		case c.kind == "start" && len(c.tokens) == len(same) && startedSame < 0:
			startedSame = i
		}
	}
	if startedOther < 0 || startedOther > lastChunk {
		t.Errorf("the unrelated request started at call %d, after the long prompt's last chunk (%d)", startedOther, lastChunk)
	}
	if startedSame < lastChunk {
		t.Errorf("the request sharing the long prompt's start began at call %d, before its prefill ended (%d)", startedSame, lastChunk)
	}
	sameSeq := startOf(cs, len(same))
	computed := 0
	for _, c := range cs {
		if c.kind == "prefill" && c.seq == sameSeq {
			computed += len(c.tokens)
		}
	}
	if computed > len(same)-128 {
		t.Errorf("the request sharing 128 tokens computed %d of its %d", computed, len(same))
	}
}

// With every layer windowed (the mistral_swa fixture), a pool of four blocks serves a prompt and answer many
// times its size: the scheduler does not cap the context at the pool, admits the prompt by the window's blocks,
// and the tokens are the ones a pool that holds everything gives.
func TestWindowedModelOutgrowsTheKVPool(t *testing.T) {
	m, err := model.Load(filepath.Join("..", "testdata", "fidelity", "mistral_swa.gguf"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tok, err := tokenizer.FromGGUF(m.File)
	if err != nil {
		t.Fatal(err)
	}
	small, err := engine.NewCPU(m, engine.CPUOptions{KVCacheTokens: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	ref, err := engine.NewCPU(m, engine.CPUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	s := New(small, tok, Config{MaxConcurrent: 2, MaxQueue: 4, PrefillChunk: 16})
	defer s.Drain(context.Background())
	if s.ContextLength() != m.Hyper.ContextLength {
		t.Fatalf("context length %d, want the model's %d (a window's blocks fit the pool)", s.ContextLength(), m.Hyper.ContextLength)
	}
	prompt := make([]int, 70)
	for i := range prompt {
		prompt[i] = 3 + (i*37)%(m.Hyper.VocabSize-3)
	}
	req := Request{Prompt: prompt, MaxTokens: 50, IgnoreEOS: true}
	h, err := s.Submit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	_, got := collect(t, h)
	want, err := engine.Generate(context.Background(), ref, tok, engine.Request{Prompt: prompt, MaxTokens: 50, IgnoreEOS: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Err != nil || len(got.Tokens) != 50 || fmt.Sprint(got.Tokens) != fmt.Sprint(want.Tokens) {
		t.Fatalf("120 tokens through a 64-token pool: %v %v, with a whole pool %v", got.Err, got.Tokens, want.Tokens)
	}
	if st := s.Stats(); st.KVUsedTokens != 0 || small.KV().FreeBlocks() != small.KV().Blocks() {
		t.Errorf("after the request: %+v, %d of %d blocks free", st, small.KV().FreeBlocks(), small.KV().Blocks())
	}
}

// Priorities (vLLM's: lower first): waiting requests are admitted by priority, first come first served within
// one; when the KV pool runs out, the least urgent sequence is preempted, though it is the older one.
func TestPriorityOrdersAdmissionAndPreemption(t *testing.T) {
	ctx := context.Background()
	cpu, tok := load(t)
	held := &heldBackend{Backend: cpu, release: make(chan struct{})}
	s := New(held, tok, Config{MaxConcurrent: 1, MaxQueue: 8})
	defer s.Drain(ctx)
	busy, err := s.Submit(ctx, Request{Prompt: tok.Encode("busy", true), MaxTokens: 3, IgnoreEOS: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := busy.Next(ctx); !ok { // running: the four below wait
		t.Fatal("no token")
	}
	type queued struct {
		name string
		h    *Handle
	}
	var qs []queued
	for _, q := range []struct {
		name     string
		priority int
	}{{"low", 5}, {"normal 1", 0}, {"urgent", -1}, {"normal 2", 0}} {
		h, err := s.Submit(ctx, Request{Prompt: tok.Encode(q.name, true), MaxTokens: 3, IgnoreEOS: true, Priority: q.priority})
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, queued{q.name, h})
	}
	close(held.release)
	collect(t, busy)
	for _, q := range qs {
		collect(t, q.h)
	}
	// One slot: each is admitted when the one before it ends.
	slices.SortFunc(qs, func(a, b queued) int { return a.h.admitted.Compare(b.h.admitted) })
	var order []string
	for _, q := range qs {
		order = append(order, q.name)
	}
	if want := []string{"urgent", "normal 1", "normal 2", "low"}; !slices.Equal(order, want) {
		t.Errorf("one slot admitted %v, want %v", order, want)
	}

	// Two sequences that outgrow a 3-block pool together: the older but less urgent one makes way. The first is
	// admitted (its sequence started) and its prefill held until the second is submitted, so both run together.
	small, _ := loadKV(t, 48)
	gated := &gatedBackend{Backend: small, gate: make(chan struct{})}
	s2 := New(gated, tok, Config{MaxConcurrent: 2, MaxQueue: 2})
	defer s2.Drain(ctx)
	prompt := tok.Encode("grow", true)
	var hs []*Handle
	for _, p := range []int{1, 0} {
		h, err := s2.Submit(ctx, Request{Prompt: prompt, MaxTokens: 30, IgnoreEOS: true, Priority: p})
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
		for p == 1 && func() bool { gated.mu.Lock(); defer gated.mu.Unlock(); return len(gated.started) == 0 }() {
			time.Sleep(time.Millisecond)
		}
	}
	close(gated.gate)
	for _, h := range hs {
		collect(t, h)
	}
	// Both need the whole pool to finish, so the first sequence freed is the one preempted: the older one (the
	// first started), which is the less urgent.
	if st := s2.Stats(); st.Preemptions == 0 || len(gated.freed) == 0 || gated.freed[0] != gated.started[0] {
		t.Errorf("%d preemptions; started %v, freed %v: the older, less urgent sequence should have made way",
			st.Preemptions, gated.started, gated.freed)
	}
}

// sampledCPU is greedyCPU with engine.SamplingDecoder on top, as the CUDA backend draws on the GPU: row i is
// drawn by a sampler seeded from its row's seed and step alone (the device's contract), and the steps each
// seed was drawn at are recorded, with the widest batch.
type sampledCPU struct {
	greedyCPU
	sampledSteps int
	widest       int
	steps        map[uint64][]uint64 // seed -> the steps it was drawn at, in order
}

func (g *sampledCPU) DecodeSampled(batch []engine.DecodeInput, rows []engine.RowSampling) ([]int, error) {
	if len(rows) != len(batch) {
		return nil, fmt.Errorf("%d rows for a batch of %d", len(rows), len(batch))
	}
	g.mu.Lock()
	g.sampledSteps++
	g.widest = max(g.widest, len(batch))
	g.mu.Unlock()
	logits, err := g.decodeRows(batch)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(rows))
	for i, r := range rows {
		out[i] = g.draw(logits[i], r)
	}
	return out, nil
}

// draw is the device's pick for one row: a sampler seeded from the row's seed and step alone; it records the step.
func (g *sampledCPU) draw(logits []float32, r engine.RowSampling) int {
	g.mu.Lock()
	g.steps[r.Seed] = append(g.steps[r.Seed], r.Step)
	g.mu.Unlock()
	p := engine.SamplingParams{Temperature: r.Temperature, TopK: r.TopK, TopP: r.TopP, MinP: r.MinP, Seed: r.Seed*1000003 + r.Step}
	return engine.NewSampler(p).Sample(logits, nil)
}

// A request at a temperature is drawn where the logits are when the backend can apply its parameters: the
// same tokens batched as alone (its row's parameters, not a neighbour's), drawn at steps 1, 2, ... (the first
// token comes from the prefill's logits on the host); what needs the logits on the host keeps Decode.
func TestSampledRequestsPickTheirTokensOnTheDevice(t *testing.T) {
	cpu, tok := load(t)
	g := &sampledCPU{greedyCPU: greedyCPU{CPU: cpu}, steps: map[uint64][]uint64{}}
	s := New(g, tok, Config{MaxConcurrent: 8, MaxQueue: 16})
	defer s.Drain(context.Background())
	prompt := tok.Encode("sampled on the device", true)
	const n = 12
	req := func(p engine.SamplingParams) Request {
		return Request{Prompt: prompt, MaxTokens: n, IgnoreEOS: true, Sampling: p}
	}
	mine := engine.SamplingParams{Temperature: 0.9, TopK: 40, TopP: 0.95, Seed: 5}
	alone, err := s.Submit(context.Background(), req(mine))
	if err != nil {
		t.Fatal(err)
	}
	_, want := collect(t, alone)
	if want.Err != nil || len(want.Tokens) != n {
		t.Fatalf("alone: %d tokens, err %v", len(want.Tokens), want.Err)
	}
	if g.sampledSteps == 0 || g.logitsSteps != 0 || g.greedySteps != 0 {
		t.Errorf("sampled request: %d DecodeSampled, %d Decode, %d DecodeGreedy steps; want only DecodeSampled",
			g.sampledSteps, g.logitsSteps, g.greedySteps)
	}
	wantSteps := make([]uint64, n-1)
	for i := range wantSteps {
		wantSteps[i] = uint64(i + 1)
	}
	if fmt.Sprint(g.steps[5]) != fmt.Sprint(wantSteps) {
		t.Errorf("seed 5 drawn at steps %v, want %v", g.steps[5], wantSteps)
	}

	// The same request among others (another seed, another temperature, a greedy one): its own tokens.
	others := []engine.SamplingParams{{Temperature: 1.3, Seed: 6}, {Temperature: 0.5, TopP: 0.5, Seed: 7}, {}}
	var hs []*Handle
	for _, p := range append(others, mine) {
		h, err := s.Submit(context.Background(), req(p))
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	var got Result
	for i, h := range hs {
		if _, res := collect(t, h); res.Err != nil {
			t.Fatal(res.Err)
		} else if i == len(hs)-1 {
			got = res
		}
	}
	if g.widest < 2 {
		t.Fatalf("the requests were never decoded together (widest batch %d)", g.widest)
	}
	if fmt.Sprint(got.Tokens) != fmt.Sprint(want.Tokens) {
		t.Errorf("batched %v, alone %v", got.Tokens, want.Tokens)
	}

	// Min-p is drawn where the logits are too.
	before, logits := g.sampledSteps, g.logitsSteps
	h, err := s.Submit(context.Background(), req(engine.SamplingParams{Temperature: 0.8, MinP: 0.1, Seed: 8}))
	if err != nil {
		t.Fatal(err)
	}
	if _, res := collect(t, h); res.Err != nil {
		t.Fatal(res.Err)
	}
	if g.sampledSteps == before || g.logitsSteps != logits {
		t.Errorf("min-p: %d DecodeSampled steps, %d Decode steps; want only DecodeSampled", g.sampledSteps-before, g.logitsSteps-logits)
	}

	// Parameters only the host applies, and logprobs, keep the logits path.
	for _, r := range []Request{
		req(engine.SamplingParams{Temperature: 0.8, FrequencyPenalty: 0.3, Seed: 7}),
		req(engine.SamplingParams{Temperature: 0.8, PresencePenalty: 0.5, Seed: 9}),
		{Prompt: prompt, MaxTokens: 4, Logprobs: true, Sampling: engine.SamplingParams{Temperature: 0.8, Seed: 10}},
	} {
		before, logits := g.sampledSteps, g.logitsSteps
		h, err := s.Submit(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if _, res := collect(t, h); res.Err != nil {
			t.Fatal(res.Err)
		}
		if g.sampledSteps != before || g.logitsSteps == logits {
			t.Errorf("%+v logprobs %v: %d DecodeSampled steps, %d Decode steps; want only Decode", r.Sampling, r.Logprobs,
				g.sampledSteps-before, g.logitsSteps-logits)
		}
	}
}

// mixedCPU is sampledCPU with engine.MixedDecoder on top: the rows drawn on the device are drawn as
// sampledCPU draws them, and only the host rows' logits come back; it counts the rows of each kind.
type mixedCPU struct {
	sampledCPU
	mixedSteps, hostRows, deviceRows int
}

func (g *mixedCPU) DecodeMixed(batch []engine.DecodeInput, rows []engine.RowSampling, host []bool) ([]int, [][]float32, error) {
	if len(rows) != len(batch) || len(host) != len(batch) {
		return nil, nil, fmt.Errorf("%d rows, %d host flags for a batch of %d", len(rows), len(host), len(batch))
	}
	logits, err := g.decodeRows(batch)
	if err != nil {
		return nil, nil, err
	}
	g.mu.Lock()
	g.mixedSteps++
	g.widest = max(g.widest, len(batch))
	g.mu.Unlock()
	picked, out := make([]int, len(batch)), make([][]float32, len(batch))
	for i, r := range rows {
		if host[i] {
			out[i] = logits[i]
			g.hostRows++
			continue
		}
		g.deviceRows++
		picked[i] = g.draw(logits[i], r)
	}
	return picked, out, nil
}

// A batch where some requests need their logits on the host (logprobs, a penalty) and others do not brings
// back only the former's rows: each request gets the tokens it gets alone, the host's requests their
// logprobs, and no step copies a device row.
func TestMixedBatchesCopyOnlyTheHostRows(t *testing.T) {
	cpu, tok := load(t)
	g := &mixedCPU{sampledCPU: sampledCPU{greedyCPU: greedyCPU{CPU: cpu}, steps: map[uint64][]uint64{}}}
	s := New(g, tok, Config{MaxConcurrent: 8, MaxQueue: 16})
	defer s.Drain(context.Background())
	prompt := tok.Encode("some rows on the host", true)
	const n = 10
	reqs := []Request{
		{Prompt: prompt, MaxTokens: n, IgnoreEOS: true, Sampling: engine.SamplingParams{Temperature: 0.9, Seed: 21}},
		{Prompt: prompt, MaxTokens: n, IgnoreEOS: true, Logprobs: true, TopLogprobs: 2, Sampling: engine.SamplingParams{Temperature: 0.9, Seed: 22}},
		{Prompt: prompt, MaxTokens: n, IgnoreEOS: true, Sampling: engine.SamplingParams{Temperature: 0.9, PresencePenalty: 0.4, Seed: 23}},
		{Prompt: prompt, MaxTokens: n, IgnoreEOS: true},
	}
	type out struct {
		tokens string
		events []Event
	}
	run := func(rs []Request) []out {
		t.Helper()
		var hs []*Handle
		for _, r := range rs {
			h, err := s.Submit(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		var outs []out
		for _, h := range hs {
			evs, res := collect(t, h)
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			outs = append(outs, out{fmt.Sprint(res.Tokens), evs})
		}
		return outs
	}
	var alone []out
	for _, r := range reqs {
		alone = append(alone, run([]Request{r})...)
	}
	g.mixedSteps, g.hostRows, g.deviceRows, g.widest = 0, 0, 0, 0
	together := run(reqs)
	if g.mixedSteps == 0 || g.widest < 2 {
		t.Fatalf("%d DecodeMixed steps, widest batch %d: the requests were never decoded together", g.mixedSteps, g.widest)
	}
	for i := range reqs {
		if together[i].tokens != alone[i].tokens {
			t.Errorf("request %d: %s batched, %s alone", i, together[i].tokens, alone[i].tokens)
		}
	}
	for _, ev := range together[1].events {
		if ev.Token >= 0 && (ev.Logprob == nil || len(ev.Top) != 2) {
			t.Fatalf("logprobs request: event %+v has no logprob or not 2 alternatives", ev)
		}
	}
	// The logprobs and penalty requests' rows came to the host, the other two were picked where the logits are.
	if g.hostRows == 0 || g.deviceRows == 0 || g.hostRows > 2*(n-1) {
		t.Errorf("%d host rows, %d device rows over the batch's steps; want at most %d host rows and some device ones",
			g.hostRows, g.deviceRows, 2*(n-1))
	}
}

// logprobCPU is mixedCPU with engine.LogprobDecoder on top: every row drawn as sampledCPU draws it, with its
// logprobs worked out from the same logits (engine.Logprobs), as the CUDA backend does on the GPU.
type logprobCPU struct {
	mixedCPU
	logprobSteps, widestTop int
}

func (g *logprobCPU) DecodeSampledLogprobs(batch []engine.DecodeInput, rows []engine.RowSampling, topN int) ([]int, []engine.RowLogprobs, error) {
	if len(rows) != len(batch) || topN > engine.MaxTopLogprobs {
		return nil, nil, fmt.Errorf("%d rows for a batch of %d, %d alternatives", len(rows), len(batch), topN)
	}
	logits, err := g.decodeRows(batch)
	if err != nil {
		return nil, nil, err
	}
	g.mu.Lock()
	g.logprobSteps++
	g.widest, g.widestTop = max(g.widest, len(batch)), max(g.widestTop, topN)
	g.mu.Unlock()
	picked, lps := make([]int, len(batch)), make([]engine.RowLogprobs, len(batch))
	for i, r := range rows {
		picked[i] = g.draw(logits[i], r)
		lps[i] = engine.Logprobs(logits[i], picked[i], topN)
	}
	return picked, lps, nil
}

// Requests with logprobs whose tokens can be drawn where the logits are get their logprobs from there too: greedy
// ones the same tokens and logprobs as the host works out (a MixedDecoder copying their rows), each request its own
// number of alternatives though the step asked for the most of the batch's; a request that needs its logits on the
// host for more (a penalty) sends its batch back to DecodeMixed.
func TestLogprobsComeFromTheDevice(t *testing.T) {
	cpu, tok := load(t)
	host := &mixedCPU{sampledCPU: sampledCPU{greedyCPU: greedyCPU{CPU: cpu}, steps: map[uint64][]uint64{}}}
	dev := &logprobCPU{mixedCPU: mixedCPU{sampledCPU: sampledCPU{greedyCPU: greedyCPU{CPU: cpu}, steps: map[uint64][]uint64{}}}}
	prompt := tok.Encode("logprobs where the logits are", true)
	const n = 8
	reqs := []Request{
		{Prompt: prompt, MaxTokens: n, IgnoreEOS: true, Logprobs: true, TopLogprobs: 2, Sampling: engine.SamplingParams{Temperature: 0.9, Seed: 31}},
		{Prompt: prompt, MaxTokens: n, IgnoreEOS: true, Logprobs: true, TopLogprobs: 5},
		{Prompt: prompt, MaxTokens: n, IgnoreEOS: true, Logprobs: true},
		{Prompt: prompt, MaxTokens: n, IgnoreEOS: true, Sampling: engine.SamplingParams{Temperature: 0.7, Seed: 32}},
	}
	run := func(b engine.Backend, rs []Request) [][]Event { return submitAll(t, b, tok, rs) }
	want, got := run(host, reqs), run(dev, reqs)
	if dev.logprobSteps == 0 || dev.mixedSteps != 0 || dev.logitsSteps != 0 || dev.widestTop != 5 {
		t.Fatalf("%d DecodeSampledLogprobs steps (most alternatives %d), %d DecodeMixed, %d Decode; want only the first, 5",
			dev.logprobSteps, dev.widestTop, dev.mixedSteps, dev.logitsSteps)
	}
	for i := range reqs {
		if !reqs[i].Sampling.Greedy() { // drawn by the device's own random stream, not the host sampler's
			for k, ev := range got[i] {
				if ev.Token >= 0 && reqs[i].Logprobs && (ev.Logprob == nil || len(ev.Top) != reqs[i].TopLogprobs ||
					ev.Top[0].Logprob < ev.Top[len(ev.Top)-1].Logprob || ev.Logprob.Logprob > ev.Top[0].Logprob) {
					t.Errorf("request %d event %d: logprob %v, alternatives %+v", i, k, ev.Logprob, ev.Top)
				}
			}
			continue
		}
		if fmt.Sprint(eventTokens(got[i])) != fmt.Sprint(eventTokens(want[i])) {
			t.Fatalf("request %d: tokens %v from the device's logprobs path, %v from the host's", i, eventTokens(got[i]), eventTokens(want[i]))
		}
		for k, ev := range got[i] {
			w := want[i][k]
			if (ev.Logprob == nil) != (w.Logprob == nil) || len(ev.Top) != len(w.Top) || len(ev.Top) != reqs[i].TopLogprobs*btoi(reqs[i].Logprobs && ev.Token >= 0) {
				t.Fatalf("request %d event %d: logprob %v top %d, host %v top %d", i, k, ev.Logprob, len(ev.Top), w.Logprob, len(w.Top))
			}
			if ev.Logprob != nil && (ev.Logprob.Logprob != w.Logprob.Logprob || ev.Logprob.Text != w.Logprob.Text) {
				t.Errorf("request %d event %d: logprob %+v, host %+v", i, k, *ev.Logprob, *w.Logprob)
			}
			for j := range ev.Top {
				if ev.Top[j] != w.Top[j] {
					t.Errorf("request %d event %d alternative %d: %+v, host %+v", i, k, j, ev.Top[j], w.Top[j])
				}
			}
		}
	}

	// A penalized request among them needs its row's logits on the host: those steps copy the logits rows
	// (DecodeMixed: the plain sampled request is still drawn where the logits are).
	pen := Request{Prompt: prompt, MaxTokens: n, IgnoreEOS: true, Sampling: engine.SamplingParams{Temperature: 0.9, FrequencyPenalty: 0.3, Seed: 33}}
	run(dev, []Request{reqs[0], pen, reqs[3]})
	if dev.mixedSteps == 0 {
		t.Errorf("a batch with a penalized request: %d DecodeMixed steps, %d Decode; want DecodeMixed", dev.mixedSteps, dev.logitsSteps)
	}
}

// submitAll submits rs at once to a new scheduler over b and returns each request's events; a request that
// fails fails the test.
func submitAll(t *testing.T, b engine.Backend, tok *tokenizer.Tokenizer, rs []Request) [][]Event {
	t.Helper()
	s := New(b, tok, Config{MaxConcurrent: 8, MaxQueue: 16})
	defer s.Drain(context.Background())
	var hs []*Handle
	for _, r := range rs {
		h, err := s.Submit(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	var out [][]Event
	for _, h := range hs {
		evs, res := collect(t, h)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		out = append(out, evs)
	}
	return out
}

// eventTokens is the token ids of events, without the text-only ones.
func eventTokens(evs []Event) []int {
	var toks []int
	for _, ev := range evs {
		if ev.Token >= 0 {
			toks = append(toks, ev.Token)
		}
	}
	return toks
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Requests whose logits come to the host have their logprobs worked out with their draws, over the host's cores
// (drawAhead): batched, each gets the tokens and logprobs it gets alone.
func TestHostLogprobsAreTheirRowsOwn(t *testing.T) {
	cpu, tok := load(t)
	prompt := tok.Encode("each row its own logprobs", true)
	reqs := []Request{
		{Prompt: prompt, MaxTokens: 6, IgnoreEOS: true, Logprobs: true, TopLogprobs: 3, Sampling: engine.SamplingParams{Temperature: 0.9, Seed: 41}},
		{Prompt: tok.Encode("another prompt entirely", true), MaxTokens: 6, IgnoreEOS: true, Logprobs: true, TopLogprobs: 1, Sampling: engine.SamplingParams{Temperature: 1.2, Seed: 42}},
		{Prompt: prompt, MaxTokens: 6, IgnoreEOS: true, Logprobs: true, Sampling: engine.SamplingParams{Temperature: 0.5, MinP: 0.1, Seed: 43}},
	}
	run := func(rs []Request) [][]Event { return submitAll(t, cpu, tok, rs) }
	together := run(reqs)
	for i, r := range reqs {
		alone := run([]Request{r})[0]
		if fmt.Sprint(eventTokens(alone)) != fmt.Sprint(eventTokens(together[i])) {
			t.Fatalf("request %d: tokens %v batched, %v alone", i, eventTokens(together[i]), eventTokens(alone))
		}
		for k, ev := range together[i] {
			w := alone[k]
			if (ev.Logprob == nil) != (w.Logprob == nil) || fmt.Sprint(ev.Top) != fmt.Sprint(w.Top) ||
				(ev.Logprob != nil && *ev.Logprob != *w.Logprob) {
				t.Errorf("request %d event %d: %v %v batched, %v %v alone", i, k, ev.Logprob, ev.Top, w.Logprob, w.Top)
			}
		}
	}
}

// stepMixedCPU is sampledCPU with engine.MixedStepper on top: StepMixed is the CPU's PrefillBatch of the parts and
// sampledCPU's draw of the decode rows, in one call it counts (failing every call when fail is set, before
// touching any sequence, as the CUDA backend's checks do).
type stepMixedCPU struct {
	sampledCPU
	fail               bool
	mixedCalls, mixed  int // calls, and calls that ran
	mixedParts, widest int
}

func (g *stepMixedCPU) MixedStepLimits() (int, int) { return 64, 8 }

func (g *stepMixedCPU) StepMixed(batch []engine.DecodeInput, rows []engine.RowSampling, parts []engine.PrefillPart) ([]int, [][]float32, error) {
	g.mu.Lock()
	g.mixedCalls++
	g.mu.Unlock()
	tokens, most := len(batch), 0
	for _, p := range parts {
		tokens += len(p.Tokens)
	}
	if most, _ = g.MixedStepLimits(); g.fail || tokens > most || len(batch)+len(parts) > 8 {
		return nil, nil, fmt.Errorf("mixed step of %d tokens refused", tokens)
	}
	logits, err := g.CPU.PrefillBatch(parts)
	if err != nil {
		return nil, nil, err
	}
	picked, err := g.DecodeSampled(batch, rows)
	if err != nil {
		return nil, nil, err
	}
	g.mu.Lock()
	g.mixed++
	g.mixedParts += len(parts)
	g.widest = max(g.widest, len(batch)+len(parts))
	g.mu.Unlock()
	return picked, logits, nil
}

// Prompts that arrive while others stream are prefilled in the streams' decode pass (StepMixed), within the
// backend's limits, and every request's tokens are the ones it gets alone; a backend whose mixed step fails
// prefills and decodes apart with the same tokens; a request that wants logprobs keeps the steps apart.
func TestPromptsRideInTheDecodeStep(t *testing.T) {
	ctx := context.Background()
	cpu, tok := load(t)
	long := tok.Encode("a prompt long enough to take two of the mixed step's chunks, at 64 tokens a step less the rows"+
		" that decode in it, so its prefill spans steps", true)
	req := func(prompt []int, p engine.SamplingParams, n int) Request {
		return Request{Prompt: prompt, MaxTokens: n, IgnoreEOS: true, Sampling: p}
	}
	reqs := []Request{
		req(tok.Encode("streaming", true), engine.SamplingParams{}, 40),
		req(tok.Encode("joins greedy", true), engine.SamplingParams{}, 12),
		req(tok.Encode("joins sampled", true), engine.SamplingParams{Temperature: 0.9, TopK: 40, Seed: 3}, 12),
		req(long, engine.SamplingParams{Temperature: 0.7, Seed: 4}, 8),
	}
	alone := make([][]int, len(reqs))
	ref := New(&sampledCPU{greedyCPU: greedyCPU{CPU: cpu}, steps: map[uint64][]uint64{}}, tok, Config{MaxConcurrent: 8, MaxQueue: 8})
	for i, r := range reqs {
		h, err := ref.Submit(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if _, res := collect(t, h); res.Err != nil {
			t.Fatal(res.Err)
		} else {
			alone[i] = res.Tokens
		}
	}
	ref.Drain(ctx)

	// run submits the first request, waits for its first token, then the rest, and compares each one's tokens.
	run := func(g *stepMixedCPU, extra ...Request) {
		t.Helper()
		s := New(g, tok, Config{MaxConcurrent: 8, MaxQueue: 8})
		defer s.Drain(ctx)
		first, err := s.Submit(ctx, reqs[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := first.Next(ctx); !ok {
			t.Fatal("the first request ended before its first token")
		}
		hs := []*Handle{first}
		for _, r := range append(reqs[1:], extra...) {
			h, err := s.Submit(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		for i, h := range hs {
			_, res := collect(t, h)
			if res.Err != nil {
				t.Fatalf("request %d: %v", i, res.Err)
			}
			if i < len(alone) && !slices.Equal(res.Tokens, alone[i]) {
				t.Errorf("request %d: %v with others, %v alone", i, res.Tokens, alone[i])
			}
		}
	}
	newMixed := func(fail bool) *stepMixedCPU {
		return &stepMixedCPU{sampledCPU: sampledCPU{greedyCPU: greedyCPU{CPU: cpu}, steps: map[uint64][]uint64{}}, fail: fail}
	}

	g := newMixed(false)
	run(g)
	if g.mixed == 0 || g.mixedParts < len(reqs)-1 {
		t.Errorf("%d mixed steps carrying %d prefill chunks; want the %d prompts that arrived during the stream in them",
			g.mixed, g.mixedParts, len(reqs)-1)
	}
	if g.widest > 8 {
		t.Errorf("a mixed step of %d rows, past the backend's 8", g.widest)
	}

	failing := newMixed(true)
	run(failing)
	if failing.mixedCalls == 0 || failing.mixed != 0 {
		t.Errorf("failing backend: %d mixed calls, %d ran; want calls, none run", failing.mixedCalls, failing.mixed)
	}

}

// mixer mixes only a step with sequences to prefill and to decode, every decoding one drawn on the device.
func TestMixerNeedsDeviceDrawnRowsAndPrompts(t *testing.T) {
	cpu, _ := load(t)
	g := &stepMixedCPU{sampledCPU: sampledCPU{greedyCPU: greedyCPU{CPU: cpu}, steps: map[uint64][]uint64{}}}
	s := &Scheduler{b: g}
	row := func(prefilling bool, req Request) *running {
		return &running{h: &Handle{req: req}, hasSeq: true, hasPick: !prefilling}
	}
	prompt, decode := row(true, Request{}), row(false, Request{Sampling: engine.SamplingParams{Temperature: 0.8, Seed: 1}})
	for _, c := range []struct {
		what string
		run  []*running
		want bool
	}{
		{"a prompt and a sampled stream", []*running{decode, prompt}, true},
		{"streams only", []*running{decode}, false},
		{"prompts only", []*running{prompt}, false},
		{"a stream with logprobs", []*running{decode, prompt, row(false, Request{Logprobs: true})}, false},
		{"a stream with a penalty", []*running{decode, prompt, row(false, Request{Sampling: engine.SamplingParams{PresencePenalty: 0.5}})}, false},
		{"a stream with min-p", []*running{decode, prompt, row(false, Request{Sampling: engine.SamplingParams{Temperature: 0.7, MinP: 0.1}})}, true},
		{"a prompt with logprobs", []*running{decode, row(true, Request{Logprobs: true})}, true},
	} {
		if got := s.mixer(c.run) != nil; got != c.want {
			t.Errorf("%s: mixed %v, want %v", c.what, got, c.want)
		}
	}
	s.noMixedStep = true
	if s.mixer([]*running{decode, prompt}) != nil {
		t.Error("mixed after the backend said mixed steps are off")
	}
	if (&Scheduler{b: &g.sampledCPU}).mixer([]*running{decode, prompt}) != nil {
		t.Error("mixed on a backend without StepMixed")
	}
}

// sampledMaskedCPU is sampledCPU with engine.SampledMaskedDecoder on top: each row drawn as sampledCPU draws it
// (greedy rows their argmax), among its mask's tokens, and the steps counted.
type sampledMaskedCPU struct {
	sampledCPU
	off         bool // MasksOnDevice's answer is false
	maskedSteps int
}

func (g *sampledMaskedCPU) MasksOnDevice() bool { return !g.off }

func (g *sampledMaskedCPU) DecodeGreedyMasked(batch []engine.DecodeInput, masks func() [][]uint64) ([]int, error) {
	return g.DecodeSampledMasked(batch, make([]engine.RowSampling, len(batch)), masks)
}

func (g *sampledMaskedCPU) DecodeSampledMasked(batch []engine.DecodeInput, rows []engine.RowSampling, masks func() [][]uint64) ([]int, error) {
	g.mu.Lock()
	g.maskedSteps++
	g.mu.Unlock()
	logits, err := g.decodeRows(batch)
	if err != nil {
		return nil, err
	}
	ms := masks()
	out := make([]int, len(rows))
	for i, r := range rows {
		p := engine.SamplingParams{Temperature: r.Temperature, TopK: r.TopK, TopP: r.TopP, MinP: r.MinP, Seed: r.Seed*1000003 + r.Step}
		switch {
		case engine.CheckFinite(logits[i]) != nil:
			out[i] = engine.NonFiniteToken
		default:
			if out[i] = engine.NewSampler(p).SampleMasked(logits[i], nil, ms[i]); out[i] < 0 {
				out[i] = engine.NoAllowedToken
			}
		}
	}
	return out, nil
}

// A constrained request at a temperature draws among its mask's tokens where the logits are (SampledMaskedDecoder),
// batched with a sampled and a constrained greedy one: a whole JSON document, each request's tokens as alone, no
// logits to the host; with MasksOnDevice off its logits come to the host and it still writes a whole document.
func TestSampledConstrainedRequestsDrawOnTheDevice(t *testing.T) {
	cpu, tok := load(t)
	mach := personMachine(t, tok)
	jsonPrompt, freePrompt := tok.Encode("a person as JSON: ", true), tok.Encode("free text", true)
	reqs := func() []Request {
		return []Request{
			{Prompt: jsonPrompt, MaxTokens: 120, Constraint: mach.NewMatcher(), Sampling: engine.SamplingParams{Temperature: 0.9, TopP: 0.95, Seed: 51}},
			{Prompt: freePrompt, MaxTokens: 20, IgnoreEOS: true, Sampling: engine.SamplingParams{Temperature: 0.8, Seed: 52}},
			{Prompt: jsonPrompt, MaxTokens: 120, Constraint: mach.NewMatcher()},
		}
	}
	for _, off := range []bool{false, true} {
		b := &sampledMaskedCPU{sampledCPU: sampledCPU{greedyCPU: greedyCPU{CPU: cpu}, steps: map[uint64][]uint64{}}, off: off}
		var alone []Result
		for _, r := range reqs() {
			_, res := collect(t, submitOne(t, b, tok, r))
			alone = append(alone, res)
		}
		before := b.maskedSteps
		evs := submitAll(t, b, tok, reqs())
		for i, res := range alone {
			var got []int
			for _, ev := range evs[i] {
				if ev.Token >= 0 {
					got = append(got, ev.Token)
				}
			}
			if res.Err != nil || !off && !slices.Equal(got, res.Tokens) {
				t.Errorf("off %v, request %d: %v together, %v alone (%v)", off, i, got, res.Tokens, res.Err)
			}
		}
		for _, i := range []int{0, 2} {
			if alone[i].Finish != engine.FinishStop || !json.Valid([]byte(alone[i].Text)) {
				t.Errorf("off %v, request %d: %q (%s) is not a whole JSON document", off, i, alone[i].Text, alone[i].Finish)
			}
		}
		if off && b.maskedSteps != 0 || !off && (b.maskedSteps == before || b.logitsSteps != 0) {
			t.Errorf("off %v: %d masked steps (%d together), %d Decode steps", off, b.maskedSteps, b.maskedSteps-before, b.logitsSteps)
		}
	}
}

// submitOne runs r alone on a new scheduler over b.
func submitOne(t *testing.T, b engine.Backend, tok *tokenizer.Tokenizer, r Request) *Handle {
	t.Helper()
	s := New(b, tok, Config{MaxConcurrent: 4, MaxQueue: 4})
	t.Cleanup(func() { s.Drain(context.Background()) })
	h, err := s.Submit(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
