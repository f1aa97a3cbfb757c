package engine

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
)

// tpTol bounds |sharded - unsharded| of every logit, relative to the largest
// |logit| of the row (at least 1): the ranks compute exactly the unsharded
// products on their rows and columns, and only the order of the all-reduce's
// additions differs from one dot product's (a few float32 ulps per layer).
const tpTol = 1e-5

// tpRanks are the rank counts the sharding is checked at.
var tpRanks = []int{2, 4}

// tpRefusedFrom lists the committed fixtures whose shapes a plan must refuse
// from some rank count on: their attention output's columns are one or two
// k-quant blocks of 256 (or a few legacy blocks of 32), which that many
// ranks cannot split on block boundaries. TestTensorParallelExactTypes covers
// every type at shapes that split.
var tpRefusedFrom = map[string]int{
	"llama_iq4_xs": 2, "llama_q4_k_m": 2, "llama_q5_k_m": 2, "llama_q6_k": 2,
	"gpt2_iq4_xs": 2, "gpt2_q4_k_m": 2, "gpt2_q5_k_m": 2, "gpt2_q6_k": 2,
	"llama_small_iq4_xs": 4, "llama_small_q2_k": 4, "llama_small_q4_1": 4, "llama_small_q4_k_m": 4,
	"llama_small_q5_k_m": 4,
}

// TestTensorParallelExact runs every committed model (every architecture of
// worker/model/arch.go among them: windows, soft-caps, post-norms, per-head
// q/k norms, fused qkv and gate/up, parallel residuals, logit biases) as N
// simulated tensor-parallel ranks, each computing with its shard of the weights as a
// GPU would hold it and meeting the others in an all-reduce and gather, and
// checks its logits against the unsharded engine's, prefill and decode.
func TestTensorParallelExact(t *testing.T) {
	var paths []string
	for _, dir := range []string{fidelityDir, quantDir, modelsDir} {
		p, err := filepath.Glob(filepath.Join(dir, "*.gguf"))
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 {
			t.Fatalf("no models in %s", dir)
		}
		paths = append(paths, p...)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".gguf")
		t.Run(name, func(t *testing.T) {
			m, err := model.Load(path, "")
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			checkTensorParallel(t, m, tpRefusedFrom[name])
		})
	}
}

// TestTensorParallelExactTypes checks the sharding on every weight type the
// engine supports, at shapes whose row-parallel columns split into whole
// blocks over 4 ranks (four blocks of the type): grouped-query
// attention with KV heads split across ranks, with KV heads replicated (2
// KV heads over 4 ranks), q/k/v biases, tied embeddings, an uneven
// feed-forward split, and GPT-2's fused qkv and biases.
func TestTensorParallelExactTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("quantizes a dozen models")
	}
	for _, typ := range gguf.SupportedTypes() {
		if !typ.Quantizable() {
			continue
		}
		for _, arch := range []string{"llama", "qwen2", "gpt2"} {
			// Four blocks of the type in the attention output's and down's columns.
			e := 4 * max(32, int(typ.BlockSize()))
			cfg := modeltest.Config{Arch: arch, Embedding: e, Heads: 16, HeadsKV: 4, FeedForward: e + e/4, Blocks: 1,
				Vocab: 50, Context: 32, Type: typ, Seed: 7, QKVBias: arch == "qwen2", TiedOutput: arch == "qwen2"}
			if arch == "llama" {
				cfg.HeadsKV = 2 // fewer KV heads than ranks at N = 4: replicated
			}
			t.Run(fmt.Sprintf("%s/%s", arch, typ), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "m.gguf")
				if err := modeltest.WriteFile(path, cfg); err != nil {
					t.Fatal(err)
				}
				m, err := model.Load(path, "")
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				checkTensorParallel(t, m, 0)
			})
		}
	}
}

// checkTensorParallel compares the sharded engine with the plain one at each
// of tpRanks. From refusedFrom ranks on (0: never) the plan must refuse the
// shapes, saying which blocks they do not split on.
func checkTensorParallel(t *testing.T, m *model.Model, refusedFrom int) {
	t.Helper()
	ref, err := NewCPU(m, CPUOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	prompt := make([]int, 7)
	for i := range prompt {
		prompt[i] = (i*37 + 3) % m.Hyper.VocabSize
	}
	want, wantDecode := runPrompt(t, ref, prompt)
	for _, n := range tpRanks {
		tp, err := NewCPU(m, CPUOptions{Workers: 2, TensorParallel: n})
		if refusedFrom > 0 && n >= refusedFrom {
			if err == nil || !strings.Contains(err.Error(), "on blocks of") {
				t.Errorf("N=%d: want a refusal naming the blocks, got %v", n, err)
			}
			if err == nil {
				tp.Close()
			}
			continue
		}
		if err != nil {
			t.Fatalf("N=%d: %v", n, err)
		}
		got, gotDecode := runPrompt(t, tp, prompt)
		tp.Close()
		if d := worstRelDiff(got, want); d > tpTol {
			t.Errorf("N=%d prefill: max |logit diff| / max |logit| = %.3g > %g", n, d, tpTol)
		}
		if d := worstRelDiff(gotDecode, wantDecode); d > tpTol {
			t.Errorf("N=%d decode: max |logit diff| / max |logit| = %.3g > %g", n, d, tpTol)
		}
	}
}

// runPrompt prefills prompt with every position's logits, then decodes four
// greedy tokens; it returns both sets of logits.
func runPrompt(t *testing.T, b Backend, prompt []int) (prefill, decode [][]float32) {
	t.Helper()
	seq, err := b.NewSequence(len(prompt) + 4)
	if err != nil {
		t.Fatal(err)
	}
	defer b.FreeSequence(seq)
	prefill, err = b.Prefill(seq, prompt, true)
	if err != nil {
		t.Fatal(err)
	}
	last := prefill[len(prefill)-1]
	for range 4 {
		out, err := b.Decode([]DecodeInput{{Seq: seq, Token: argmax(last)}})
		if err != nil {
			t.Fatal(err)
		}
		last = out[0]
		decode = append(decode, last)
	}
	return prefill, decode
}

// worstRelDiff is the largest over rows of max |a - b| / max(1, max |b|).
func worstRelDiff(a, b [][]float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var worst float64
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return math.Inf(1)
		}
		scale := 1.0
		for _, v := range b[i] {
			scale = max(scale, math.Abs(float64(v)))
		}
		worst = max(worst, maxDiff(a[i], b[i])/scale)
	}
	return worst
}
