package scheduler

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

// instantBackend keeps a real KV pool's accounting (blocks taken as sequences grow, prefixes cached) and picks
// every token without computing anything: a step through it costs what the scheduler itself costs, the host
// time a GPU step waits for between its passes.
type instantBackend struct {
	work  time.Duration // each step's device time, spent spinning (as a CUDA stream synchronisation waits)
	m     *model.Model
	kv    *kvcache.Pool
	mu    sync.Mutex
	seqs  map[engine.SeqID]*kvcache.Seq
	next  engine.SeqID
	steps int
}

func newInstant(m *model.Model, kvTokens int) *instantBackend {
	return &instantBackend{m: m, kv: kvcache.NewPool(kvTokens, 16), seqs: map[engine.SeqID]*kvcache.Seq{}}
}

func (b *instantBackend) Name() string              { return "instant" }
func (b *instantBackend) Device() string            { return "none" }
func (b *instantBackend) Model() *model.Model       { return b.m }
func (b *instantBackend) KV() *kvcache.Pool         { return b.kv }
func (b *instantBackend) Close() error              { return nil }
func (b *instantBackend) FreeSequence(engine.SeqID) {}

func (b *instantBackend) NewSequence(maxTokens int) (engine.SeqID, error) {
	id, _, err := b.StartSequence(maxTokens, nil)
	return id, err
}

func (b *instantBackend) StartSequence(_ int, prompt []int) (engine.SeqID, int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, cached := b.kv.NewSeqFromCache(prompt)
	b.next++
	b.seqs[b.next] = s
	return b.next, cached, nil
}

// logits is one row that makes token 1 the argmax.
func (b *instantBackend) logits() []float32 {
	l := make([]float32, b.m.Hyper.VocabSize)
	l[1] = 1
	return l
}

func (b *instantBackend) Prefill(seq engine.SeqID, tokens []int, _ bool) ([][]float32, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.seqs[seq]
	if err := s.Reserve(tokens); err != nil {
		return nil, err
	}
	s.Filled()
	return [][]float32{b.logits()}, nil
}

func (b *instantBackend) step(batch []engine.DecodeInput) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	kvs, toks := make([]*kvcache.Seq, len(batch)), make([][]int, len(batch))
	for i, in := range batch {
		kvs[i], toks[i] = b.seqs[in.Seq], []int{in.Token}
	}
	if err := kvcache.Reserve(kvs, toks); err != nil {
		return err
	}
	for _, s := range kvs {
		s.Filled()
	}
	b.steps++
	for t0 := time.Now(); time.Since(t0) < b.work; {
	}
	return nil
}

func (b *instantBackend) Decode(batch []engine.DecodeInput) ([][]float32, error) {
	if err := b.step(batch); err != nil {
		return nil, err
	}
	out := make([][]float32, len(batch))
	for i := range out {
		out[i] = b.logits()
	}
	return out, nil
}

// DecodeGreedy implements engine.GreedyDecoder, as the CUDA backend does: no logits reach the host.
func (b *instantBackend) DecodeGreedy(batch []engine.DecodeInput) ([]int, error) {
	if err := b.step(batch); err != nil {
		return nil, err
	}
	out := make([]int, len(batch))
	for i := range out {
		out[i] = 1
	}
	return out, nil
}

// BenchmarkSchedulerStep is the scheduler's own time per decode step with 64 streams of greedy requests
// (16-token prompts, 256 or 2048 tokens each, every event taken by its client as the HTTP handler takes them):
// the backend computes nothing, so the figure is what the host adds to each GPU step at 64 streams.
//
//	go test ./worker/scheduler -run '^$' -bench SchedulerStep -benchtime 3x
func BenchmarkSchedulerStep(b *testing.B) {
	cpu, tok := loadTiny(b, "gpt2", 4096, 0)
	for _, gen := range []int{256, 2048} {
		b.Run(fmt.Sprintf("gen=%d", gen), func(b *testing.B) { benchSteps(b, cpu.Model(), tok, 64, gen, 0, false) })
	}
}

// BenchmarkOverlappedSteps is a step's time at 64 streams when the device takes 1.75 ms a step (the
// Llama-3.2-1B shape's batched step on the H200), with the host's work on each step's tokens done during the
// next step (the default) and after it (Config.Serial): the difference is the host time the overlap hides.
//
//	go test ./worker/scheduler -run '^$' -bench OverlappedSteps -benchtime 3x
func BenchmarkOverlappedSteps(b *testing.B) {
	cpu, tok := loadTiny(b, "gpt2", 4096, 0)
	for _, serial := range []bool{false, true} {
		b.Run(fmt.Sprintf("serial=%v", serial), func(b *testing.B) {
			benchSteps(b, cpu.Model(), tok, 64, 256, 1750*time.Microsecond, serial)
		})
	}
}

func benchSteps(b *testing.B, m *model.Model, tok *tokenizer.Tokenizer, streams, gen int, work time.Duration, serial bool) {
	for range b.N {
		be := newInstant(m, streams*(gen+32))
		be.work = work
		s := New(be, tok, Config{MaxConcurrent: streams, MaxQueue: streams, Serial: serial})
		var wg sync.WaitGroup
		t0 := time.Now()
		for i := range streams {
			prompt := make([]int, 16)
			for j := range prompt {
				prompt[j] = 2 + (i*16+j)%200 // distinct prompts: no prefix shared
			}
			h, err := s.Submit(context.Background(), Request{Prompt: prompt, MaxTokens: gen, IgnoreEOS: true})
			if err != nil {
				b.Fatal(err)
			}
			wg.Go(func() {
				for {
					if _, ok := h.Next(context.Background()); !ok {
						return
					}
				}
			})
		}
		wg.Wait()
		el := time.Since(t0)
		s.Drain(context.Background())
		st := s.Stats()
		b.ReportMetric(float64(el.Microseconds())/float64(be.steps), "us/step")
		b.ReportMetric(float64(st.HostTime.Microseconds())/float64(st.DecodeSteps), "host-us/step")
		b.ReportMetric(float64(streams*gen)/el.Seconds(), "tok/s")
	}
}
