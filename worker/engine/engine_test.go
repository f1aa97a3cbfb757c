package engine

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
)

// Differences between mathematically equal computations done in a
// different order (prefill vs decode, batched vs single) stay at float32
// rounding level for these tiny models.
const sameMathTol = 1e-5

func newBackend(t *testing.T, cfg modeltest.Config, tensors []modeltest.Tensor) *CPU {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.gguf")
	if tensors == nil {
		tensors = modeltest.Tensors(cfg)
	}
	if err := modeltest.WriteTensors(path, cfg, tensors); err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewCPU(m, CPUOptions{})
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	// The engine reads the weights from the file's mapping: close it first.
	t.Cleanup(func() {
		b.Close()
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

func maxDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func variants() map[string]modeltest.Config {
	llama := modeltest.Small("llama")
	qwen := modeltest.Small("qwen2")
	qwen.QKVBias, qwen.TiedOutput = true, true
	gpt := modeltest.Small("gpt2")
	gpt.HeadsKV = 0
	scaled := modeltest.Small("llama")
	scaled.RopeFreqs = []float32{1, 1.5, 4, 8}
	scaled.RopeBase = 500000
	f16 := modeltest.Small("llama")
	f16.Type = gguf.TypeF16
	q8 := modeltest.Small("gpt2")
	q8.HeadsKV, q8.Type, q8.FeedForward = 0, gguf.TypeQ8_0, 64
	return map[string]modeltest.Config{"llama_gqa": llama, "qwen2_bias_tied": qwen, "gpt2": gpt,
		"llama3_rope_freqs": scaled, "llama_f16": f16, "gpt2_q8_0": q8}
}

var prompt = []int{1, 5, 9, 3, 17, 22, 8, 8, 30, 2, 11}

func TestPrefillMatchesStepwiseDecode(t *testing.T) {
	for name, cfg := range variants() {
		t.Run(name, func(t *testing.T) {
			b := newBackend(t, cfg, nil)
			s1, _ := b.NewSequence(0)
			all, err := b.Prefill(s1, prompt, true)
			if err != nil {
				t.Fatal(err)
			}
			s2, _ := b.NewSequence(len(prompt))
			for i, tok := range prompt {
				var step [][]float32
				if i == 0 {
					step, err = b.Prefill(s2, []int{tok}, false)
				} else {
					step, err = b.Decode([]DecodeInput{{Seq: s2, Token: tok}})
				}
				if err != nil {
					t.Fatal(err)
				}
				if d := maxDiff(all[i], step[0]); d > sameMathTol {
					t.Fatalf("position %d: prefill and decode differ by %g", i, d)
				}
			}
			// Logits must depend on the context, or the test proves nothing.
			if maxDiff(all[3], all[4]) < 1e-3 {
				t.Fatal("logits do not change with position")
			}
			if _, err := b.Decode([]DecodeInput{{Seq: s2, Token: 1}}); !errors.Is(err, ErrSequenceFull) {
				t.Fatalf("decode past capacity: %v", err)
			}
		})
	}
}

func TestBatchedDecodeMatchesSingle(t *testing.T) {
	b := newBackend(t, variants()["qwen2_bias_tied"], nil)
	run := func(p []int, next int) []float32 {
		s, _ := b.NewSequence(0)
		defer b.FreeSequence(s)
		b.Prefill(s, p, false)
		out, err := b.Decode([]DecodeInput{{Seq: s, Token: next}})
		if err != nil {
			t.Fatal(err)
		}
		return out[0]
	}
	wantA, wantB := run(prompt[:4], 7), run(prompt[2:9], 13)

	a, _ := b.NewSequence(0)
	c, _ := b.NewSequence(0)
	b.Prefill(a, prompt[:4], false)
	b.Prefill(c, prompt[2:9], false)
	got, err := b.Decode([]DecodeInput{{Seq: c, Token: 13}, {Seq: a, Token: 7}})
	if err != nil {
		t.Fatal(err)
	}
	if d := max(maxDiff(got[0], wantB), maxDiff(got[1], wantA)); d > sameMathTol {
		t.Fatalf("batched decode differs by %g", d)
	}
}

// Several sequences' chunks prefilled in one pass give what each gives alone, a
// sequence already holding tokens included, and the sequences then decode as
// after separate prefills.
func TestPrefillBatchMatchesSeparatePrefills(t *testing.T) {
	for name, cfg := range variants() {
		t.Run(name, func(t *testing.T) {
			b := newBackend(t, cfg, nil)
			alone := func(head, chunk []int) ([]float32, []float32) {
				s, _ := b.NewSequence(0)
				defer b.FreeSequence(s)
				if len(head) > 0 {
					b.Prefill(s, head, false)
				}
				out, err := b.Prefill(s, chunk, false)
				if err != nil {
					t.Fatal(err)
				}
				next, err := b.Decode([]DecodeInput{{Seq: s, Token: 4}})
				if err != nil {
					t.Fatal(err)
				}
				return out[0], next[0]
			}
			wantA, nextA := alone(nil, prompt[:7])
			wantB, nextB := alone(prompt[:3], prompt[3:10])
			wantC, nextC := alone(nil, prompt[5:6])

			a, _ := b.NewSequence(0)
			c, _ := b.NewSequence(0)
			bb, _ := b.NewSequence(0)
			b.Prefill(bb, prompt[:3], false)
			got, err := b.PrefillBatch([]PrefillPart{{Seq: a, Tokens: prompt[:7]}, {Seq: bb, Tokens: prompt[3:10]}, {Seq: c, Tokens: prompt[5:6]}})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 {
				t.Fatalf("%d logit rows for 3 parts", len(got))
			}
			if d := max(maxDiff(got[0], wantA), maxDiff(got[1], wantB), maxDiff(got[2], wantC)); d > sameMathTol {
				t.Errorf("batched prefill differs by %g", d)
			}
			next, err := b.Decode([]DecodeInput{{Seq: a, Token: 4}, {Seq: bb, Token: 4}, {Seq: c, Token: 4}})
			if err != nil {
				t.Fatal(err)
			}
			if d := max(maxDiff(next[0], nextA), maxDiff(next[1], nextB), maxDiff(next[2], nextC)); d > sameMathTol {
				t.Errorf("decode after the batched prefill differs by %g", d)
			}
		})
	}
}

// A batched prefill that cannot run changes no sequence: a repeated sequence, an
// invalid token, or more KV blocks than the pool has for the parts together.
func TestPrefillBatchFailsWhole(t *testing.T) {
	cfg := variants()["llama_gqa"]
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := modeltest.WriteTensors(path, cfg, modeltest.Tensors(cfg)); err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b, err := NewCPU(m, CPUOptions{KVCacheTokens: 32})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bt := b.KV().BlockTokens()
	a, _ := b.NewSequence(0)
	c, _ := b.NewSequence(0)
	long := make([]int, 32-bt+1) // with the other part's block: one block more than the pool
	for i := range long {
		long[i] = 1 + i%20
	}
	free := b.KV().FreeBlocks()
	for name, parts := range map[string][]PrefillPart{
		"repeated": {{Seq: a, Tokens: prompt[:3]}, {Seq: a, Tokens: prompt[3:5]}},
		"token":    {{Seq: a, Tokens: prompt[:3]}, {Seq: c, Tokens: []int{1, cfg.Vocab}}},
		"full":     {{Seq: a, Tokens: prompt[:3]}, {Seq: c, Tokens: long}},
	} {
		if _, err := b.PrefillBatch(parts); err == nil {
			t.Errorf("%s: no error", name)
		} else if name == "full" && !errors.Is(err, kvcache.ErrFull) {
			t.Errorf("full: %v, want kvcache.ErrFull", err)
		}
		if b.KV().FreeBlocks() != free {
			t.Errorf("%s: %d free blocks after the failed call, want %d", name, b.KV().FreeBlocks(), free)
		}
	}
	// Both sequences are still empty: each takes its prompt as a first prefill.
	if _, err := b.Prefill(a, prompt[:3], false); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Prefill(c, prompt[:2], false); err != nil {
		t.Fatal(err)
	}
}

// A GQA model equals the MHA model whose K/V heads are repeated per group.
func TestGQAEqualsExpandedMHA(t *testing.T) {
	gqa := modeltest.Small("llama") // 4 query heads, 2 KV heads
	tensors := modeltest.Tensors(gqa)
	mha := gqa
	mha.HeadsKV = 4
	expanded := slices.Clone(tensors)
	hd, cols := 8, 32
	for i, tt := range expanded {
		if !(hasSuffix(tt.Name, "attn_k.weight") || hasSuffix(tt.Name, "attn_v.weight")) {
			continue
		}
		var v []float32
		for h := range 4 {
			kv := h / 2
			v = append(v, tt.Values[kv*hd*cols:(kv+1)*hd*cols]...)
		}
		expanded[i] = modeltest.Tensor{Name: tt.Name, Dims: []uint64{32, 32}, Values: v}
	}
	want := prefillAll(t, newBackend(t, gqa, tensors))
	got := prefillAll(t, newBackend(t, mha, expanded))
	for i := range want {
		if d := maxDiff(got[i], want[i]); d > sameMathTol {
			t.Fatalf("position %d differs by %g", i, d)
		}
	}
}

// llama.cpp's converter permutes llama q/k rows and llama.cpp then rotates
// adjacent pairs; unpermuted weights with half-split (NEOX) rotation, as
// qwen2 uses, must give the same logits. This pins both rope modes to HF.
func TestPermutedNormRopeEqualsNeox(t *testing.T) {
	neoxCfg := modeltest.Small("qwen2") // no biases: same graph as llama
	neoxCfg.Seed = 7
	tensors := modeltest.Tensors(neoxCfg)
	normCfg := neoxCfg
	normCfg.Arch = "llama"
	permuted := slices.Clone(tensors)
	for i, tt := range permuted {
		switch {
		case hasSuffix(tt.Name, "attn_q.weight"):
			permuted[i].Values = modeltest.PermuteQK(tt.Values, 32, 32, 4)
		case hasSuffix(tt.Name, "attn_k.weight"):
			permuted[i].Values = modeltest.PermuteQK(tt.Values, 16, 32, 2)
		}
	}
	want := prefillAll(t, newBackend(t, neoxCfg, tensors))
	got := prefillAll(t, newBackend(t, normCfg, permuted))
	for i := range want {
		if d := maxDiff(got[i], want[i]); d > sameMathTol {
			t.Fatalf("position %d differs by %g", i, d)
		}
	}
}

func TestTiedOutputUsesTokenEmbedding(t *testing.T) {
	tied := modeltest.Small("gpt2")
	tied.HeadsKV, tied.TiedOutput = 0, true
	tensors := modeltest.Tensors(tied)
	untied := tied
	untied.TiedOutput = false
	explicit := append(slices.Clone(tensors), modeltest.Tensor{Name: "output.weight", Dims: tensors[0].Dims, Values: tensors[0].Values})
	want := prefillAll(t, newBackend(t, untied, explicit))
	got := prefillAll(t, newBackend(t, tied, tensors))
	if d := maxDiff(got[len(got)-1], want[len(want)-1]); d != 0 {
		t.Fatalf("tied output differs by %g", d)
	}
}

func prefillAll(t *testing.T, b Backend) [][]float32 {
	t.Helper()
	s, err := b.NewSequence(0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.FreeSequence(s)
	out, err := b.Prefill(s, prompt, true)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

func TestBackendErrors(t *testing.T) {
	b := newBackend(t, modeltest.Small("llama"), nil)
	if _, err := b.Prefill(99, prompt, false); !errors.Is(err, ErrUnknownSequence) {
		t.Fatalf("unknown sequence: %v", err)
	}
	s, _ := b.NewSequence(4)
	if _, err := b.Prefill(s, prompt, false); !errors.Is(err, ErrSequenceFull) {
		t.Fatalf("over capacity: %v", err)
	}
	if _, err := b.Prefill(s, []int{40}, false); err == nil {
		t.Fatal("token 40 accepted with a 40-token vocabulary")
	}
	b.Prefill(s, []int{1}, false)
	if _, err := b.Decode([]DecodeInput{{s, 1}, {s, 2}}); err == nil {
		t.Fatal("same sequence twice in a batch accepted")
	}
	b.FreeSequence(s)
	if _, err := b.Decode([]DecodeInput{{s, 1}}); !errors.Is(err, ErrUnknownSequence) {
		t.Fatalf("freed sequence: %v", err)
	}
	b.Close()
	if _, err := b.NewSequence(0); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

// fakeText decodes token i as the i-th character after '!', like modeltest's vocabulary.
type fakeText struct{ eog int }

func (f fakeText) Decode(ids []int) string {
	r := make([]rune, len(ids))
	for i, id := range ids {
		r[i] = rune('!' + id)
	}
	return string(r)
}

func (f fakeText) IsEOG(id int) bool { return id == f.eog }

func TestGenerateEndToEnd(t *testing.T) {
	for name, cfg := range variants() {
		t.Run(name, func(t *testing.T) {
			b := newBackend(t, cfg, nil)
			req := Request{Prompt: prompt[:5], MaxTokens: 12, Sampling: SamplingParams{Temperature: 0.9, TopK: 20, Seed: 42}}
			var streamed string
			r1, err := Generate(context.Background(), b, fakeText{eog: -1}, req, func(e Event) error {
				streamed += e.Text
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(r1.Tokens) != 12 || r1.DecodeTime <= 0 || r1.Finish != FinishLength || streamed != r1.Text || r1.Text != (fakeText{}).Decode(r1.Tokens) {
				t.Fatalf("result %+v, streamed %q", r1, streamed)
			}
			r2, _ := Generate(context.Background(), b, fakeText{eog: -1}, req, nil)
			if !slices.Equal(r1.Tokens, r2.Tokens) {
				t.Fatalf("same seed, different tokens: %v vs %v", r1.Tokens, r2.Tokens)
			}
			// Greedy generation equals argmax of a manual prefill+decode loop.
			greedy, _ := Generate(context.Background(), b, fakeText{eog: -1}, Request{Prompt: prompt[:5], MaxTokens: 6}, nil)
			s, _ := b.NewSequence(0)
			logits, _ := b.Prefill(s, prompt[:5], false)
			for i, tok := range greedy.Tokens {
				if want := argmax(logits[0]); tok != want {
					t.Fatalf("greedy token %d = %d, want %d", i, tok, want)
				}
				logits, _ = b.Decode([]DecodeInput{{s, tok}})
			}
		})
	}
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

func TestGenerateStopsAtEOG(t *testing.T) {
	b := newBackend(t, modeltest.Small("llama"), nil)
	greedy, _ := Generate(context.Background(), b, fakeText{eog: -1}, Request{Prompt: prompt[:5], MaxTokens: 6}, nil)
	eog := greedy.Tokens[2]
	first := slices.Index(greedy.Tokens, eog)
	r, err := Generate(context.Background(), b, fakeText{eog: eog}, Request{Prompt: prompt[:5], MaxTokens: 6}, nil)
	if err != nil || r.Finish != FinishStop || !slices.Equal(r.Tokens, greedy.Tokens[:first]) {
		t.Fatalf("eog %d: %+v, %v (greedy %v)", eog, r, err, greedy.Tokens)
	}
	r, _ = Generate(context.Background(), b, fakeText{eog: eog}, Request{Prompt: prompt[:5], MaxTokens: 6, IgnoreEOS: true}, nil)
	if !slices.Equal(r.Tokens, greedy.Tokens) {
		t.Fatalf("IgnoreEOS: %v", r.Tokens)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, b, fakeText{eog: -1}, Request{Prompt: prompt[:5]}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
