//go:build cgo && linux

package cudabackend

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
	"github.com/kubeinfer/kubeinfer/worker/shard"
)

// These tests need the real library and a GPU; they skip, saying why, when
// Available fails. hack/cuda-device-test.sh runs them on a GPU machine.

const (
	fidelityDir = "../testdata/fidelity"
	// quantDir holds the models llama-quantize wrote (every type the worker supports, both families).
	quantDir = "../testdata/quant"
)

func needGPU(t *testing.T) {
	t.Helper()
	if err := Available(""); err != nil {
		t.Skipf("CUDA backend unavailable: %v", err)
	}
}

// tolerance is the largest |CUDA - CPU| logit difference allowed, relative
// to max(1, |CPU logit|): 2e-2 for bf16 weights, 5e-3 for fp16 and fp32.
// Forcing cuBLAS rounds activations to the weight type, so 16-bit weights
// then get the bf16 bound.
func tolerance(dtype string, forcedGemm bool) float64 {
	if dtype == "bf16" || (forcedGemm && dtype != "f32") {
		return 2e-2
	}
	return 5e-3
}

// int8Tol bounds the quantized fixtures while the library's matvec takes its int8 path (the default for passes
// of a few tokens, so for these short prompts prefill too): the activations are rounded to int8 blocks of 32 as
// llama.cpp's kernels round them, which the CPU engine, in float32, does not. The measure is llama.cpp's
// (modeltest.DiffOverStd, in units of the CPU logits' spread): the fixtures' logits are tens, and an error
// relative to each logit judges those near zero by their absolute error. llama.cpp's own rounding stays within
// modeltest.QuantTol of float64 at the last prompt position; here every position of every prompt and 32 decode
// steps are compared, so the bound is twice that. TestQuantizedAgainstReferences holds the int8 path to
// QuantTol itself at llama.cpp's point of comparison; the "float" variant holds these fixtures to tolerance with
// the int8 path off.
const int8Tol = 2 * modeltest.QuantTol

// bound is how compare measures a logit difference and what it allows.
type bound struct {
	tol    float64
	perStd bool // in units of the reference logits' spread (int8Tol), not relative to each logit (tolerance)
}

func (b bound) diff(got, want []float32) float64 {
	if b.perStd {
		return modeltest.DiffOverStd(got, want)
	}
	return maxRelDiff(got, want)
}

// near reports whether ref scores alt within the bound of its best: a near-tie the GPU may break the other way.
func (b bound) near(ref []float32, best, alt int) bool {
	window := b.tol * max(1, math.Abs(float64(ref[best])))
	if b.perStd {
		window = b.tol * modeltest.Std(ref)
	}
	return float64(ref[best]-ref[alt]) <= window
}

// envMatvecInt8 turns the library's int8 matvec path off when "0" (read when a model is created).
const envMatvecInt8 = "KUBEINFER_CUDA_MATVEC_INT8"

type fixture struct {
	DType   string `json:"dtype"`
	Arch    string `json:"arch"`
	Prompts []struct {
		IDs []int `json:"ids"`
	} `json:"prompts"`
	IDs []int `json:"ids"` // quant fixtures: one prompt
}

// prompts are the fixture's prompts, in either layout.
func (f fixture) prompts() [][]int {
	var out [][]int
	for _, p := range f.Prompts {
		out = append(out, p.IDs)
	}
	if len(f.IDs) > 0 {
		out = append(out, f.IDs)
	}
	return out
}

// persistentFixtures are fidelity fixtures the persistent decode path must take: llama-family sequential blocks
// of fp32 or bf16 weights, whole heads rotated (normal and NeoX), GQA and MHA, a qkv bias (qwen2), scaled
// frequencies (llama3_rope_scaling); GPT-2's layer norms, biases and learned positions in fp32 and fp16; and
// llama.cpp's quantized files whose projections are all of the block formats it reads (Q4_K_M's Q4_K and Q6_K,
// Q5_K_M's Q5_K and Q6_K, Q6_K, Q4_0, Q4_1, IQ4_XS with Q5_K, IQ4_NL; the Q8_0 ones stay on the per-kernel path).
var persistentFixtures = []string{"llama_gqa", "llama_gqa_bf16", "llama_mha", "qwen2", "llama3_rope_scaling", "gpt2", "gpt2_f16",
	"llama_q4_k_m", "llama_q5_k_m", "llama_q6_k", "llama_q4_0", "llama_iq4_xs", "llama_small_q4_1", "llama_small_iq4_xs",
	"gpt2_q4_k_m", "gpt2_q5_k_m", "gpt2_q6_k", "gpt2_q4_0", "gpt2_iq4_xs"}

// TestFidelityAgainstCPU runs every fixture on both engines: logits of every
// prompt position within tolerance, and identical 32-token greedy
// continuations, with and without CUDA graphs, and with cuBLAS forced. The
// quantized fixtures run the block-format kernels on the same bits the CPU
// engine decodes (its own decoding is checked against llama.cpp's).
func TestFidelityAgainstCPU(t *testing.T) {
	needGPU(t)
	paths, _ := filepath.Glob(filepath.Join(fidelityDir, "*.json"))
	quant, _ := filepath.Glob(filepath.Join(quantDir, "*.json"))
	if len(paths) == 0 || len(quant) == 0 {
		t.Fatal("no fixtures")
	}
	paths = append(paths, quant...)
	// The KV cache in float32, as the CPU engine keeps it by default (TestKVTypesAgainstCPU covers the others);
	// the pool sized by the GPU's memory.
	f32 := memplan.Options{KVType: kvcache.F32}
	variants := []struct {
		name string
		opts Options
	}{
		{"graphs", Options{Memory: f32}},
		{"nographs", Options{Memory: f32, DisableGraphs: true}},
		{"cublas", Options{Memory: memplan.Options{KVType: kvcache.F32, GemmMinTokens: 1}}},
		// cuBLAS's two-read form (KUBEINFER_CUDA_GEMM_ONE_READ=0): W times hi, then W times lo; by default a
		// call of up to 64 tokens is one product of W by [hi; lo].
		{"tworeads", Options{Memory: memplan.Options{KVType: kvcache.F32, GemmMinTokens: 1}}},
		{"chunked", Options{Memory: memplan.Options{KVType: kvcache.F32, MaxBatch: 3}, DisableGraphs: true}},
		// Every cuBLAS product on the activations' hi half alone (KUBEINFER_CUDA_GEMM_HI_FROM=1): held to the
		// int8 path's bound, the rounding of activations to 8-11 bits it shares.
		{"hionly", Options{Memory: memplan.Options{KVType: kvcache.F32, GemmMinTokens: 1}}},
		{"float", Options{Memory: f32}}, // the int8 matvec path off
		// One-token decode steps' layers in one persistent launch (KUBEINFER_CUDA_PERSISTENT=1) where the model
		// allows it; persistentFixtures must take it.
		{"persistent", Options{Memory: f32}},
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		fx := readFixture(t, path)
		for _, v := range variants {
			if v.name == "float" && fx.DType != "" {
				continue // only the quantized fixtures have an int8 path to turn off
			}
			t.Run(name+"/"+v.name, func(t *testing.T) {
				int8 := v.name != "float" && fx.DType == "" // the quantized fixtures name no dtype
				if !int8 {
					t.Setenv(envMatvecInt8, "0")
				}
				if v.name == "tworeads" {
					t.Setenv("KUBEINFER_CUDA_GEMM_ONE_READ", "0")
				}
				if v.name == "hionly" {
					t.Setenv("KUBEINFER_CUDA_GEMM_HI_FROM", "1")
				}
				if v.name == "persistent" {
					t.Setenv("KUBEINFER_CUDA_PERSISTENT", "1")
				}
				m, cpu, gpu := openFixture(t, path, fx, v.opts)
				if gpu == nil {
					return
				}
				b := bound{tol: tolerance(fx.DType, v.opts.Memory.GemmMinTokens == 1)}
				if int8 || v.name == "hionly" {
					b = bound{tol: int8Tol, perStd: true}
				}
				for pi, ids := range fx.prompts() {
					// 32 tokens, or as many as the (small) fixture's context holds.
					compare(t, cpu, gpu, ids, min(32, m.Hyper.ContextLength-len(ids)), b, pi, int8 || v.name == "hionly")
				}
				if v.name == "persistent" {
					on, err := gpu.PersistentDecode()
					if err != nil || (slices.Contains(persistentFixtures, name) && !on) {
						t.Errorf("persistent decode path %v (%v); the fixtures that must take it: %v", on, err, persistentFixtures)
					}
					t.Logf("persistent decode path: %v", on)
				}
			})
		}
	}
}

// compare checks gpu's logits against cpu's over a prompt and gen teacher-forced decode steps, and their greedy
// tokens. With ties, a step may pick another token than cpu's when cpu scores it within tol of its best: the
// int8 matvec path's rounding moves logits by up to tol, so near-ties of the fixtures' random weights may flip.
func compare(t *testing.T, cpu, gpu engine.Backend, ids []int, gen int, b bound, prompt int, ties bool) {
	t.Helper()
	cs, err := cpu.NewSequence(len(ids) + gen)
	if err != nil {
		t.Fatal(err)
	}
	gs, err := gpu.NewSequence(len(ids) + gen)
	if err != nil {
		t.Fatal(err)
	}
	defer cpu.FreeSequence(cs)
	defer gpu.FreeSequence(gs)
	want, err := cpu.Prefill(cs, ids, true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := gpu.Prefill(gs, ids, true)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for pos := range want {
		worst = max(worst, b.diff(got[pos], want[pos]))
	}
	if worst > b.tol {
		t.Errorf("prompt %d prefill: max logit diff %.3g > %g", prompt, worst, b.tol)
	}
	cl, gl := want[len(want)-1], got[len(got)-1]
	var cg, gg []int
	flips := 0
	for i := range gen {
		ct, gt := argmax(cl), argmax(gl)
		if ties && gt != ct && b.near(cl, ct, gt) {
			flips++
			gt = ct // a near-tie: counted, not a difference
		}
		cg, gg = append(cg, ct), append(gg, gt)
		if i == gen-1 {
			break
		}
		co, err := cpu.Decode([]engine.DecodeInput{{Seq: cs, Token: ct}})
		if err != nil {
			t.Fatal(err)
		}
		// Feed the GPU the CPU's token so one early flip does not hide later differences.
		gout, err := gpu.Decode([]engine.DecodeInput{{Seq: gs, Token: ct}})
		if err != nil {
			t.Fatal(err)
		}
		cl, gl = co[0], gout[0]
		worst = max(worst, b.diff(gl, cl))
	}
	if worst > b.tol {
		t.Errorf("prompt %d decode: max logit diff %.3g > %g", prompt, worst, b.tol)
	}
	if !slices.Equal(cg, gg) {
		t.Errorf("prompt %d greedy continuation\n gpu %v\n cpu %v", prompt, gg, cg)
	}
	unit := "relative"
	if b.perStd {
		unit = "/ std"
	}
	t.Logf("prompt %d: max logit diff %s %.3g (tol %g), %d near-tie flips", prompt, unit, worst, b.tol, flips)
}

func maxRelDiff(a, b []float32) float64 {
	var worst float64
	for i := range b {
		d := math.Abs(float64(a[i]-b[i])) / max(1, math.Abs(float64(b[i])))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = max(worst, d)
	}
	return worst
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

// TestQuantizedAgainstReferences holds the GPU to the quantized fixtures' independent references, as the CPU
// engine's TestQuantizedFidelity does: the last prompt position's logits within modeltest.QuantTol of the
// float64 forward over ggml's dequantization, and its greedy continuation, with the int8 matvec path (which
// rounds activations as llama.cpp does) and without it. A greedy step may differ only where the GPU's own logits
// hold the reference's token within the bound of their best (a near-tie, counted); the reference's token is fed
// on either way.
func TestQuantizedAgainstReferences(t *testing.T) {
	needGPU(t)
	paths, _ := filepath.Glob(filepath.Join(quantDir, "*.json"))
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	for _, path := range paths {
		fx, err := modeltest.ReadQuantFixture(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, path8 := range []string{"int8", "float"} {
			t.Run(strings.TrimSuffix(filepath.Base(path), ".json")+"/"+path8, func(t *testing.T) {
				if path8 == "float" {
					t.Setenv(envMatvecInt8, "0")
				}
				m, err := model.Load(strings.TrimSuffix(path, ".json")+".gguf", model.Family(fx.Arch))
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				gpu := openOrRefused(t, m, Options{Memory: memplan.Options{KVType: kvcache.F32}})
				if gpu == nil {
					return
				}
				defer gpu.Close()
				seq, err := gpu.NewSequence(len(fx.IDs) + len(fx.Float64.Greedy))
				if err != nil {
					t.Fatal(err)
				}
				defer gpu.FreeSequence(seq)
				out, err := gpu.Prefill(seq, fx.IDs, false)
				if err != nil {
					t.Fatal(err)
				}
				logits := out[0]
				vsF64 := modeltest.DiffOverStd(logits, fx.Float64.LastLogits)
				vsCpp := modeltest.DiffOverStd(logits, fx.LlamaCpp.LastLogits)
				if vsF64 > modeltest.QuantTol {
					t.Errorf("last logits vs float64: max |diff| / std = %.4g > %g", vsF64, modeltest.QuantTol)
				}
				flips := modeltest.FollowGreedy(t, logits, fx.Float64.Greedy, func(tok int) []float32 {
					out, err := gpu.Decode([]engine.DecodeInput{{Seq: seq, Token: tok}})
					if err != nil {
						t.Fatal(err)
					}
					return out[0]
				})
				t.Logf("%s %s: last logits max |diff| / std vs float64 %.3f, vs llama.cpp %.3f (llama.cpp vs float64 %.3f); "+
					"greedy %d steps, %d near-tie flips", fx.FileType, path8, vsF64, vsCpp, fx.LlamaCpp.DiffOverStd,
					len(fx.Float64.Greedy), flips)
			})
		}
	}
}

// openGQA opens the llama_gqa fixture on the GPU with opts; both close when the test ends.
func openGQA(t *testing.T, opts Options) *Backend {
	t.Helper()
	m, err := model.Load(filepath.Join(fidelityDir, "llama_gqa.gguf"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	gpu, err := Open(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gpu.Close() })
	return gpu
}

// TestPrefillBatchMatchesSeparate prefills three sequences' chunks in one call (a fresh 70-token prompt, whose run
// spans two of the attention kernel's 64-row blocks; a 20-token chunk after 5 tokens; one token) and checks each
// part's logits, and the next decode step's, against the same chunks prefilled one call each. With
// Options.SeparatePrefill the call answers engine.ErrNoBatchPrefill.
func TestPrefillBatchMatchesSeparate(t *testing.T) {
	needGPU(t)
	off := openGQA(t, Options{Memory: memplan.Options{KVCacheTokens: 64}, SeparatePrefill: true})
	if _, err := off.PrefillBatch([]engine.PrefillPart{{Seq: 1, Tokens: []int{1}}}); !errors.Is(err, engine.ErrNoBatchPrefill) {
		t.Errorf("batched prefill without the option: %v, want engine.ErrNoBatchPrefill", err)
	}
	off.Close()
	gpu := openGQA(t, Options{Memory: memplan.Options{KVCacheTokens: 1024}})
	long := make([]int, 70)
	for i := range long {
		long[i] = 1 + (i*13)%60
	}
	heads := [][]int{nil, {1, 4, 9, 16, 25}, nil}
	chunks := [][]int{long, {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4}, {7}}
	start := func() []engine.SeqID {
		var seqs []engine.SeqID
		for i := range chunks {
			s, err := gpu.NewSequence(128)
			if err != nil {
				t.Fatal(err)
			}
			if heads[i] != nil {
				if _, err := gpu.Prefill(s, heads[i], false); err != nil {
					t.Fatal(err)
				}
			}
			seqs = append(seqs, s)
		}
		return seqs
	}
	next := func(seqs []engine.SeqID) [][]float32 {
		batch := make([]engine.DecodeInput, len(seqs))
		for i, s := range seqs {
			batch[i] = engine.DecodeInput{Seq: s, Token: 11}
		}
		out, err := gpu.Decode(batch)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	alone := start()
	var want [][]float32
	for i, s := range alone {
		out, err := gpu.Prefill(s, chunks[i], false)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, out[0])
	}
	wantNext := next(alone)
	together := start()
	parts := make([]engine.PrefillPart, len(chunks))
	for i, s := range together {
		parts[i] = engine.PrefillPart{Seq: s, Tokens: chunks[i]}
	}
	got, err := gpu.PrefillBatch(parts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(chunks) {
		t.Fatalf("%d logit rows for %d parts", len(got), len(chunks))
	}
	gotNext := next(together)
	for i := range chunks {
		if d := maxRelDiff(got[i], want[i]); d > 1e-3 {
			t.Errorf("part %d: batched vs alone prefill logits differ by %.3g", i, d)
		}
		if d := maxRelDiff(gotNext[i], wantNext[i]); d > 1e-3 {
			t.Errorf("part %d: the decode step after differs by %.3g", i, d)
		}
	}
}

// TestStepMixedMatchesSeparate: a decode step of three sequences (greedy and sampled rows) carrying two prompts'
// chunks (70 tokens after nothing, 20 after a cached head) and a one-token prompt picks the tokens the decode step
// alone picks, gives the prompts the logits their batched prefill gives, and leaves every sequence's KV as the
// separate calls do (the decode step after matches); a step past the backend's limits fails and changes nothing.
func TestStepMixedMatchesSeparate(t *testing.T) {
	needGPU(t)
	off := openGQA(t, Options{Memory: memplan.Options{KVCacheTokens: 64}})
	if _, _, err := off.StepMixed(nil, nil, nil); !errors.Is(err, engine.ErrNoMixedStep) {
		t.Errorf("mixed step without the option: %v, want engine.ErrNoMixedStep", err)
	}
	off.Close()
	gpu := openGQA(t, Options{Memory: memplan.Options{KVCacheTokens: 2048}, MixedSteps: true})
	long := make([]int, 70)
	for i := range long {
		long[i] = 1 + (i*13)%60
	}
	streams := [][]int{{1, 5, 9}, {1, 17, 33, 44, 50, 60, 70}, {2, 4}}
	heads := [][]int{nil, {1, 4, 9, 16, 25}, nil}
	chunks := [][]int{long, {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4}, {7}}
	rows := []engine.RowSampling{{}, {Temperature: 0.8, TopK: 20, Seed: 7, Step: 3}, {Temperature: 1.1, TopP: 0.9, Seed: 9, Step: 1}}
	start := func() (dec []engine.DecodeInput, parts []engine.PrefillPart) {
		for _, p := range streams {
			s, err := gpu.NewSequence(256)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := gpu.Prefill(s, p, false); err != nil {
				t.Fatal(err)
			}
			dec = append(dec, engine.DecodeInput{Seq: s, Token: 11})
		}
		for i := range chunks {
			s, err := gpu.NewSequence(256)
			if err != nil {
				t.Fatal(err)
			}
			if heads[i] != nil {
				if _, err := gpu.Prefill(s, heads[i], false); err != nil {
					t.Fatal(err)
				}
			}
			parts = append(parts, engine.PrefillPart{Seq: s, Tokens: chunks[i]})
		}
		return dec, parts
	}
	next := func(dec []engine.DecodeInput, parts []engine.PrefillPart) [][]float32 {
		var batch []engine.DecodeInput
		for _, d := range dec {
			batch = append(batch, engine.DecodeInput{Seq: d.Seq, Token: 12})
		}
		for _, p := range parts {
			batch = append(batch, engine.DecodeInput{Seq: p.Seq, Token: 13})
		}
		out, err := gpu.Decode(batch)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	dec, parts := start()
	wantPicked, err := gpu.DecodeSampled(dec, rows)
	if err != nil {
		t.Fatal(err)
	}
	want, err := gpu.PrefillBatch(parts)
	if err != nil {
		t.Fatal(err)
	}
	wantNext := next(dec, parts)

	dec, parts = start()
	free := gpu.KV().FreeBlocks()
	most, _ := gpu.MixedStepLimits()
	tooMany := append(slices.Clone(parts), engine.PrefillPart{Seq: parts[0].Seq + 1000, Tokens: make([]int, most)})
	if _, _, err := gpu.StepMixed(dec, rows, tooMany); err == nil {
		t.Fatal("a mixed step past the backend's tokens ran")
	}
	bad := slices.Clone(parts)
	bad[1] = engine.PrefillPart{Seq: bad[1].Seq, Tokens: []int{1, 1 << 30}}
	if _, _, err := gpu.StepMixed(dec, rows, bad); err == nil {
		t.Fatal("a mixed step with a token outside the vocabulary ran")
	}
	if got := gpu.KV().FreeBlocks(); got != free {
		t.Fatalf("failed mixed steps left %d free blocks, %d before", got, free)
	}
	picked, got, err := gpu.StepMixed(dec, rows, parts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(picked, wantPicked) {
		t.Errorf("mixed step picked %v, the decode step alone %v", picked, wantPicked)
	}
	if len(got) != len(parts) {
		t.Fatalf("%d logit rows for %d parts", len(got), len(parts))
	}
	gotNext := next(dec, parts)
	for i := range parts {
		if d := maxRelDiff(got[i], want[i]); d > 1e-3 {
			t.Errorf("part %d: mixed vs batched prefill logits differ by %.3g", i, d)
		}
	}
	for i := range gotNext {
		if d := maxRelDiff(gotNext[i], wantNext[i]); d > 1e-3 {
			t.Errorf("sequence %d: the decode step after differs by %.3g", i, d)
		}
	}
}

// TestPersistentDecodeMatchesPerKernel: with KUBEINFER_CUDA_PERSISTENT=1 one-token decode steps run their layers
// in one persistent launch (from a CUDA graph and without), over the fp16 KV cache the GPU uses by default; every
// step's logits match the per-kernel path's, and sequences decoded in turn keep their own KV. Three models: the
// bf16 fixture (two short prompts, 100 steps each), a bf16 Qwen2-shaped model (q/k/v biases, NeoX rotation) after
// a 1500-token prompt, where each head's keys are cut into dozens of chunks and merged, and llama.cpp's Q4_K_M
// fixture (Q4_K and Q6_K matrices, v apart from q and k) against the per-kernel matvec on both of its paths: the
// int8 path (the token rounded to int8 blocks as the matvec rounds it) and, with it off, the float one.
func TestPersistentDecodeMatchesPerKernel(t *testing.T) {
	needGPU(t)
	long := filepath.Join(t.TempDir(), "long.gguf")
	cfg := modeltest.Small("qwen2")
	cfg.Embedding, cfg.Heads, cfg.HeadsKV, cfg.FeedForward, cfg.Vocab, cfg.Context = 256, 4, 2, 512, 300, 2048
	cfg.QKVBias, cfg.Type = true, gguf.TypeBF16
	if err := modeltest.WriteFile(long, cfg); err != nil {
		t.Fatal(err)
	}
	longPrompt := make([]int, 1500)
	for i := range longPrompt {
		longPrompt[i] = 1 + (i*37)%290
	}
	for _, c := range []struct {
		name    string
		path    string
		prompts [][]int
		steps   int
		float   bool // the int8 matvec path off, on both
	}{
		{"fixture", filepath.Join(fidelityDir, "llama_gqa_bf16.gguf"), [][]int{{1, 17, 33, 5, 9, 60, 2}, {1, 40, 41, 42}}, 100, false},
		{"long context", long, [][]int{longPrompt}, 40, false},
		{"q4_k_m float", filepath.Join(quantDir, "llama_q4_k_m.gguf"), [][]int{{1, 17, 33, 5, 9, 60, 2}, {1, 40, 41, 42}}, 50, true},
		{"q4_k_m int8", filepath.Join(quantDir, "llama_q4_k_m.gguf"), [][]int{{1, 17, 33, 5, 9, 60, 2}, {1, 40, 41, 42}}, 50, false},
	} {
		for _, graphs := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/graphs=%v", c.name, graphs), func(t *testing.T) {
				if c.float {
					t.Setenv(envMatvecInt8, "0")
				}
				open := func(persistent bool) *Backend {
					t.Helper()
					t.Setenv("KUBEINFER_CUDA_PERSISTENT", map[bool]string{true: "1", false: "0"}[persistent])
					m, err := model.Load(c.path, "")
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { m.Close() })
					gpu, err := Open(m, Options{Memory: memplan.Options{KVType: kvcache.F16, KVCacheTokens: 4096}, DisableGraphs: !graphs})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { gpu.Close() })
					return gpu
				}
				per, ref := open(true), open(false)
				type state struct{ per, ref engine.SeqID }
				var seqs []state
				var last [][]float32
				for _, p := range c.prompts {
					var st state
					for i, b := range []*Backend{per, ref} {
						s, err := b.NewSequence(len(p) + c.steps + 1)
						if err != nil {
							t.Fatal(err)
						}
						r, err := b.Prefill(s, p, false)
						if err != nil {
							t.Fatal(err)
						}
						if i == 0 {
							st.per = s
						} else {
							st.ref, last = s, append(last, r[0])
						}
					}
					seqs = append(seqs, st)
				}
				// The sequences in turn, each step fed the per-kernel path's argmax.
				for step := range c.steps {
					for i, st := range seqs {
						tok := argmax(last[i])
						got, err := per.Decode([]engine.DecodeInput{{Seq: st.per, Token: tok}})
						if err != nil {
							t.Fatal(err)
						}
						want, err := ref.Decode([]engine.DecodeInput{{Seq: st.ref, Token: tok}})
						if err != nil {
							t.Fatal(err)
						}
						if d := maxRelDiff(got[0], want[0]); d > 1e-3 {
							t.Fatalf("sequence %d step %d: persistent vs per-kernel logits differ by %.3g", i, step, d)
						}
						last[i] = want[0]
					}
				}
				if on, err := per.PersistentDecode(); err != nil || !on {
					t.Errorf("persistent path on: %v (%v), want true", on, err)
				}
				if on, err := ref.PersistentDecode(); err != nil || on {
					t.Errorf("per-kernel backend on the persistent path: %v (%v)", on, err)
				}
			})
		}
	}
}

// TestPrefillGraphsMatchPlainPasses: a prefill pass of a shape seen before runs from a captured graph (the
// default; KUBEINFER_CUDA_PREFILL_GRAPHS=0 turns it off); passes of one shape at other positions, sequences and tokens (a 20-token chunk after
// heads of 3-9 tokens, two prompts prefilled together, a decode step carrying a chunk) give the logits the plain
// passes give, and leave the KV they leave (the decode step after matches).
func TestPrefillGraphsMatchPlainPasses(t *testing.T) {
	needGPU(t)
	t.Setenv("KUBEINFER_CUDA_PREFILL_GRAPHS", "1")
	gpu := openGQA(t, Options{Memory: memplan.Options{KVCacheTokens: 4096}, MixedSteps: true})
	chunk := func(salt, n int) []int {
		c := make([]int, n)
		for i := range c {
			c[i] = 1 + (i*7+salt*13)%60
		}
		return c
	}
	// passes runs the same calls on fresh sequences and returns every logits row they give, in order.
	passes := func() [][]float32 {
		var out [][]float32
		keep := func(rows [][]float32, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, rows...)
		}
		newSeq := func(head []int) engine.SeqID {
			s, err := gpu.NewSequence(256)
			if err != nil {
				t.Fatal(err)
			}
			if head != nil {
				keep(gpu.Prefill(s, head, false))
			}
			return s
		}
		var seqs []engine.SeqID
		for i := range 4 { // one shape four times: plain, captured, replayed twice
			s := newSeq(chunk(100+i, 3+2*i))
			keep(gpu.Prefill(s, chunk(i, 20), false))
			seqs = append(seqs, s)
		}
		for i := range 3 { // two runs of 12 and 30 tokens
			a, b := newSeq(chunk(200+i, 11+i)), newSeq(nil) // heads of lengths no other pass has: no graph
			keep(gpu.PrefillBatch([]engine.PrefillPart{{Seq: a, Tokens: chunk(10+i, 12)}, {Seq: b, Tokens: chunk(20+i, 30)}}))
			seqs = append(seqs, a, b)
		}
		for i := range 3 { // two decode rows carrying a 16-token chunk
			p := newSeq(chunk(300+i, 17+i))
			dec := []engine.DecodeInput{{Seq: seqs[0], Token: 5 + i}, {Seq: seqs[1], Token: 9 + i}}
			picked, rows, err := gpu.StepMixed(dec, make([]engine.RowSampling, 2), []engine.PrefillPart{{Seq: p, Tokens: chunk(30+i, 16)}})
			keep(rows, err)
			out = append(out, []float32{float32(picked[0]), float32(picked[1])})
			seqs = append(seqs, p)
		}
		batch := make([]engine.DecodeInput, len(seqs))
		for i, s := range seqs {
			batch[i] = engine.DecodeInput{Seq: s, Token: 11}
		}
		keep(gpu.Decode(batch))
		for _, s := range seqs {
			gpu.FreeSequence(s)
		}
		return out
	}
	got := passes()
	// One graph a repeated shape: the 20-token chunk, the two-prompt pass, the mixed step.
	if _, prefill, err := gpu.GraphCounts(); err != nil || prefill != 3 {
		t.Errorf("%d prefill graphs (%v), want 3", prefill, err)
	}
	if err := gpu.SetGraphs(false); err != nil {
		t.Fatal(err)
	}
	want := passes()
	if len(got) != len(want) {
		t.Fatalf("%d rows with prefill graphs, %d without", len(got), len(want))
	}
	for i := range got {
		if d := maxRelDiff(got[i], want[i]); d > 1e-5 {
			t.Errorf("row %d: with prefill graphs vs plain passes differ by %.3g", i, d)
		}
	}
}

// TestDecodeBatchMatchesSingle checks that a batch of sequences at different
// lengths decodes as each would alone, and that KV blocks are reused.
func TestDecodeBatchMatchesSingle(t *testing.T) {
	needGPU(t)
	gpu := openGQA(t, Options{Memory: memplan.Options{KVCacheTokens: 256}})
	prompts := [][]int{{1, 5, 9}, {1, 17, 33, 44, 50, 60, 70}, {1}}
	var seqs []engine.SeqID
	var single [][]float32
	for _, p := range prompts {
		s, err := gpu.NewSequence(32)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gpu.Prefill(s, p, false); err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, s)
	}
	for i, s := range seqs { // each alone, on a copy of the sequence
		c, _ := gpu.NewSequence(32)
		if _, err := gpu.Prefill(c, prompts[i], false); err != nil {
			t.Fatal(err)
		}
		out, err := gpu.Decode([]engine.DecodeInput{{Seq: c, Token: 7}})
		if err != nil {
			t.Fatal(err)
		}
		single = append(single, out[0])
		gpu.FreeSequence(c)
		_ = s
	}
	batch := make([]engine.DecodeInput, len(seqs))
	for i, s := range seqs {
		batch[i] = engine.DecodeInput{Seq: s, Token: 7}
	}
	out, err := gpu.Decode(batch)
	if err != nil {
		t.Fatal(err)
	}
	for i := range out {
		if d := maxRelDiff(out[i], single[i]); d > 1e-4 {
			t.Errorf("sequence %d: batched vs alone differ by %.3g", i, d)
		}
	}
	if _, err := gpu.SampleLast(len(out), Sampling{}); err != nil {
		t.Errorf("greedy sampling on the GPU: %v", err)
	} else if toks, _ := gpu.SampleLast(len(out), Sampling{}); toks[0] != argmax(out[0]) {
		t.Errorf("GPU greedy %d, argmax %d", toks[0], argmax(out[0]))
	}
	// Growing sequences must run out of KV blocks with kvcache.ErrFull, not overcommit, and a
	// failed prefill takes no blocks.
	var held []engine.SeqID
	prompt := make([]int, 32)
	for len(held) < 1<<16 {
		id, err := gpu.NewSequence(0)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, id)
		free := gpu.KV().FreeBlocks()
		if _, err := gpu.Prefill(id, prompt, false); err != nil {
			if !errors.Is(err, kvcache.ErrFull) {
				t.Errorf("KV pool exhausted with %v, want kvcache.ErrFull", err)
			}
			if gpu.KV().FreeBlocks() != free {
				t.Errorf("a failed prefill changed the free blocks from %d to %d", free, gpu.KV().FreeBlocks())
			}
			break
		}
	}
	if len(held) == 1<<16 {
		t.Error("65536 sequences of 32 tokens were prefilled: the KV pool never ran out")
	}
	for _, id := range held {
		gpu.FreeSequence(id)
	}
}

// Each row of a sampled batch is drawn by its own parameters: the same sequences decoded for 8 steps in two
// batch orders draw the same tokens each (a draw depends on the row's seed and step, not its place), and a
// greedy row among sampled ones keeps the argmax of Decode's logits. (That seeds reach their rows is the kernel
// check "per-row sampling".)
func TestDecodeSampledRowsAreTheirOwn(t *testing.T) {
	needGPU(t)
	gpu := openGQA(t, Options{Memory: memplan.Options{KVCacheTokens: 512}})
	prompts := [][]int{{1, 5, 9}, {1, 17, 33, 44, 50, 60, 70}, {1, 2}}
	params := []Sampling{{Temperature: 1.5, Seed: 3}, {Temperature: 1.5, Seed: 4}, {}}
	run := func(order []int) [][]int {
		t.Helper()
		seqs := make([]engine.SeqID, len(prompts))
		for i, p := range prompts {
			s, err := gpu.NewSequence(32)
			if err != nil {
				t.Fatal(err)
			}
			seqs[i] = s
			if _, err := gpu.Prefill(seqs[i], p, false); err != nil {
				t.Fatal(err)
			}
		}
		defer func() {
			for _, s := range seqs {
				gpu.FreeSequence(s)
			}
		}()
		toks := make([][]int, len(prompts))
		next := []int{7, 7, 7}
		for step := 1; step <= 8; step++ {
			batch, rows := make([]engine.DecodeInput, len(order)), make([]engine.RowSampling, len(order))
			for j, i := range order {
				batch[j] = engine.DecodeInput{Seq: seqs[i], Token: next[i]}
				rows[j] = params[i]
				rows[j].Step = uint64(step)
			}
			got, err := gpu.DecodeSampled(batch, rows)
			if err != nil {
				t.Fatal(err)
			}
			for j, i := range order {
				if got[j] < 0 || got[j] >= gpu.Model().Hyper.VocabSize {
					t.Fatalf("sequence %d step %d drew %d", i, step, got[j])
				}
				next[i] = got[j]
				toks[i] = append(toks[i], got[j])
			}
		}
		return toks
	}
	a, b := run([]int{0, 1, 2}), run([]int{2, 0, 1})
	for i := range a {
		if fmt.Sprint(a[i]) != fmt.Sprint(b[i]) {
			t.Errorf("sequence %d (%+v): %v in one order, %v in another", i, params[i], a[i], b[i])
		}
	}
	// The greedy row against Decode's logits, step by step on a fresh sequence.
	s, _ := gpu.NewSequence(32)
	defer gpu.FreeSequence(s)
	if _, err := gpu.Prefill(s, prompts[2], false); err != nil {
		t.Fatal(err)
	}
	tok := 7
	for step, want := range a[2] {
		out, err := gpu.Decode([]engine.DecodeInput{{Seq: s, Token: tok}})
		if err != nil {
			t.Fatal(err)
		}
		if got := argmax(out[0]); got != want {
			t.Fatalf("greedy row step %d: %d among sampled rows, argmax of Decode %d", step+1, want, got)
		}
		tok = want
	}
}

// DecodeMixed copies back only the host rows' logits, and they are what Decode gives for the same sequences;
// the other rows get DecodeSampled's tokens.
func TestDecodeMixedCopiesTheHostRows(t *testing.T) {
	needGPU(t)
	gpu := openGQA(t, Options{Memory: memplan.Options{KVCacheTokens: 512}})
	prompts := [][]int{{1, 5, 9}, {1, 17, 33, 44}, {1, 2}}
	open := func() []engine.DecodeInput { return prefilled(t, gpu, prompts) }
	rows := []engine.RowSampling{{Temperature: 1, Seed: 9, Step: 1}, {}, {}}
	want, err := gpu.Decode(open())
	if err != nil {
		t.Fatal(err)
	}
	wantPicks, err := gpu.DecodeSampled(open(), rows)
	if err != nil {
		t.Fatal(err)
	}
	picked, logits, err := gpu.DecodeMixed(open(), rows, []bool{false, true, false})
	if err != nil {
		t.Fatal(err)
	}
	if logits[0] != nil || logits[2] != nil || logits[1] == nil {
		t.Fatalf("host rows [false true false]: got logits rows %v %v %v", logits[0] != nil, logits[1] != nil, logits[2] != nil)
	}
	if d := maxRelDiff(logits[1], want[1]); d > 1e-4 {
		t.Errorf("the host row's logits differ from Decode's by %.3g", d)
	}
	if picked[0] != wantPicks[0] || picked[2] != wantPicks[2] {
		t.Errorf("device rows picked %d, %d; DecodeSampled %d, %d", picked[0], picked[2], wantPicks[0], wantPicks[2])
	}
}

// prefilled is a decode step's inputs (token 7) for new sequences of 16 tokens prefilled with prompts.
func prefilled(t *testing.T, gpu *Backend, prompts [][]int) []engine.DecodeInput {
	t.Helper()
	in := make([]engine.DecodeInput, len(prompts))
	for i, p := range prompts {
		s, err := gpu.NewSequence(16)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gpu.Prefill(s, p, false); err != nil {
			t.Fatal(err)
		}
		in[i] = engine.DecodeInput{Seq: s, Token: 7}
	}
	return in
}

// TestMinPDrawsOnTheGPU: 32 sequences of one prompt draw their next token at temperature 2 with min-p 0.2, each
// from its own seed: every pick's probability is at least 0.2 of the best's (by the logits the same step gives on
// the host), the picks vary, and min-p 1 leaves the best alone.
func TestMinPDrawsOnTheGPU(t *testing.T) {
	needGPU(t)
	gpu := openGQA(t, Options{Memory: memplan.Options{KVCacheTokens: 2048}})
	prompts := make([][]int, 33)
	for i := range prompts {
		prompts[i] = []int{1, 5, 9, 14}
	}
	in := prefilled(t, gpu, prompts)
	ref, err := gpu.Decode(in[:1])
	if err != nil {
		t.Fatal(err)
	}
	l := ref[0]
	best := argmax(l)
	const temp, floor = 2, 0.2
	rel := func(j int) float64 { return math.Exp((float64(l[j]) - float64(l[best])) / temp) }
	above := 0
	for j := range l {
		if rel(j) >= floor {
			above++
		}
	}
	if above < 2 {
		t.Fatalf("only %d tokens above the floor: the fixture's logits leave nothing to vary", above)
	}
	rows := make([]engine.RowSampling, 32)
	for i := range rows {
		rows[i] = engine.RowSampling{Temperature: temp, MinP: floor, Seed: uint64(100 + i)}
	}
	rows[31].MinP = 1 // the best alone
	picked, err := gpu.DecodeSampled(in[1:], rows)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for i, tok := range picked[:31] {
		seen[tok] = true
		if rel(tok) < floor-1e-3 {
			t.Errorf("row %d picked %d at %.3f of the best's probability, under min-p %g", i, tok, rel(tok), floor)
		}
	}
	if len(seen) < 2 {
		t.Errorf("31 seeds drew only %v of the %d tokens above the floor", seen, above)
	}
	if picked[31] != best {
		t.Errorf("min-p 1 picked %d, the best is %d", picked[31], best)
	}
}

// TestLogprobsOnTheGPUMatchTheHost decodes the same step through DecodeSampledLogprobs and through Decode (the
// logits to the host, engine.Logprobs there): the same picks as DecodeSampled, and the same logprobs, the
// alternatives' ids exactly (the same logits) and their values to fp32 summation.
func TestLogprobsOnTheGPUMatchTheHost(t *testing.T) {
	needGPU(t)
	gpu := openGQA(t, Options{Memory: memplan.Options{KVCacheTokens: 512}})
	prompts := [][]int{{1, 5, 9}, {1, 17, 33, 44}, {1, 2}}
	open := func() []engine.DecodeInput { return prefilled(t, gpu, prompts) }
	rows := []engine.RowSampling{{Temperature: 1, Seed: 9, Step: 1}, {}, {Temperature: 0.5, TopK: 3, Seed: 4, Step: 2}}
	logits, err := gpu.Decode(open())
	if err != nil {
		t.Fatal(err)
	}
	wantPicks, err := gpu.DecodeSampled(open(), rows)
	if err != nil {
		t.Fatal(err)
	}
	const top = engine.MaxTopLogprobs
	picked, lps, err := gpu.DecodeSampledLogprobs(open(), rows, top)
	if err != nil {
		t.Fatal(err)
	}
	if len(picked) != len(rows) || len(lps) != len(rows) {
		t.Fatalf("%d picks, %d logprob rows for %d rows", len(picked), len(lps), len(rows))
	}
	for i := range rows {
		if picked[i] != wantPicks[i] {
			t.Errorf("row %d picked %d, DecodeSampled %d", i, picked[i], wantPicks[i])
		}
		want := engine.Logprobs(logits[i], picked[i], top)
		if d := math.Abs(float64(lps[i].Chosen - want.Chosen)); d > 1e-4 {
			t.Errorf("row %d: the pick's logprob %v, host %v", i, lps[i].Chosen, want.Chosen)
		}
		if len(lps[i].Top) != top {
			t.Fatalf("row %d: %d alternatives, want %d", i, len(lps[i].Top), top)
		}
		for k, alt := range lps[i].Top {
			if alt.ID != want.Top[k].ID || math.Abs(float64(alt.Logprob-want.Top[k].Logprob)) > 1e-4 {
				t.Errorf("row %d alternative %d: %+v, host %+v", i, k, alt, want.Top[k])
			}
		}
	}
	if _, _, err := gpu.DecodeSampledLogprobs(open(), rows, top+1); err == nil {
		t.Errorf("%d alternatives: no error", top+1)
	}
}

// TestWarmupLeavesThePoolAsItFoundIt: Warmup runs a decode step of every batch size up to what it was asked (the
// pool holds them), frees its sequences, and the steps after it give what a backend that never warmed up gives.
func TestWarmupLeavesThePoolAsItFoundIt(t *testing.T) {
	needGPU(t)
	gpu := openGQA(t, Options{Memory: memplan.Options{KVCacheTokens: 2048, PrefillChunk: 40}})
	cold := openGQA(t, Options{Memory: memplan.Options{KVCacheTokens: 2048}})
	free := gpu.KV().FreeBlocks()
	n, err := gpu.Warmup(12)
	if err != nil || n != 12 {
		t.Fatalf("Warmup(12): %d batch sizes, %v", n, err)
	}
	if got := gpu.KV().FreeBlocks(); got != free {
		t.Errorf("%d blocks free after the warm-up (cached ones count), %d before", got, free)
	}
	if decode, _, err := gpu.GraphCounts(); err != nil || decode != 12 {
		t.Errorf("%d decode graphs after warming 12 batch sizes (%v)", decode, err)
	}
	// The warm-up's prefill of one 40-token chunk (0, 1, 2, ...) left its whole blocks in the prefix cache.
	ramp := make([]int, 48)
	for i := range ramp {
		ramp[i] = i
	}
	wantCached := 40 / gpu.KV().BlockTokens() * gpu.KV().BlockTokens()
	if s, cached, err := gpu.StartSequence(64, ramp); err != nil || cached != wantCached || cached == 0 {
		t.Errorf("a prompt of the warm-up's tokens found %d cached (%v), want the prefill's %d", cached, err, wantCached)
	} else {
		gpu.FreeSequence(s)
	}
	prompts := [][]int{{1, 5, 9}, {1, 17, 33, 44}, {1, 2}}
	want, err := cold.Decode(prefilled(t, cold, prompts))
	if err != nil {
		t.Fatal(err)
	}
	got, err := gpu.Decode(prefilled(t, gpu, prompts))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if d := maxRelDiff(got[i], want[i]); d != 0 {
			t.Errorf("row %d: logits after the warm-up differ from a cold backend's by %.3g", i, d)
		}
	}
}

// TestPrefixReuseMatchesCold: a sequence started on a prompt whose first blocks an earlier
// sequence filled takes them, computes only the rest, and gives the logits a cold
// engine gives: to 1e-4 with float32 KV; with f16 KV (the default) within what the
// f16 storage costs, since a cold prefill's matmuls cut the tokens differently.
func TestPrefixReuseMatchesCold(t *testing.T) {
	needGPU(t)
	for kt, tol := range map[kvcache.Type]float64{kvcache.F32: 1e-4, kvcache.F16: kvMatchTol[kvcache.F16]} {
		t.Run(string(kt), func(t *testing.T) { prefixReuseMatchesCold(t, kt, tol) })
	}
}

func prefixReuseMatchesCold(t *testing.T, kt kvcache.Type, tol float64) {
	m, err := model.Load(filepath.Join(fidelityDir, "llama_gqa.gguf"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	open := func() *Backend {
		g, err := Open(m, Options{Memory: memplan.Options{KVCacheTokens: 256, KVType: kt}})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	warm, cold := open(), open()
	defer warm.Close()
	defer cold.Close()
	prompt := make([]int, 40) // two full blocks and 8 tokens
	for i := range prompt {
		prompt[i] = 1 + (i*13)%50
	}
	first, _, err := warm.StartSequence(64, prompt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := warm.Prefill(first, prompt, false); err != nil {
		t.Fatal(err)
	}
	other := append(slices.Clone(prompt[:35]), 7, 8, 9)
	seq, cached, err := warm.StartSequence(64, other)
	if err != nil || cached != 32 {
		t.Fatalf("cached %d tokens (%v), want the two full blocks", cached, err)
	}
	got, err := warm.Prefill(seq, other[cached:], false)
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := cold.NewSequence(64)
	want, err := cold.Prefill(cs, other, false)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxRelDiff(got[0], want[0]); d > tol {
		t.Errorf("KV %s: with a cached prefix the logits differ from a cold run by %.3g > %g", kt, d, tol)
	}
}

// openOrRefused opens m on the GPU, or checks that Open refuses it when the
// library has no kernels for its architecture (nil then): an architecture
// without kernels must be refused, never run wrong.
// readFixture reads the fixture description at path (its model is the .gguf beside it).
func readFixture(t *testing.T, path string) fixture {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fx fixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	return fx
}

// openFixture loads the fixture's model and opens it on the CPU engine and, with opts, on the GPU (nil when the
// CUDA engine refuses the architecture, as openOrRefused checks); all are closed when t ends.
func openFixture(t *testing.T, path string, fx fixture, opts Options) (*model.Model, *engine.CPU, *Backend) {
	t.Helper()
	m, err := model.Load(strings.TrimSuffix(path, ".json")+".gguf", model.Family(fx.Arch))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	cpu, err := engine.NewCPU(m, engine.CPUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cpu.Close() })
	gpu := openOrRefused(t, m, opts)
	if gpu != nil {
		t.Cleanup(func() { gpu.Close() })
	}
	return m, cpu, gpu
}

func openOrRefused(t *testing.T, m *model.Model, opts Options) *Backend {
	t.Helper()
	gpu, err := Open(m, opts)
	if rerr := Runs(m.Hyper); rerr != nil {
		if err == nil || err.Error() != rerr.Error() {
			t.Fatalf("Open of a %s model: %v, want %q", m.Hyper.Arch, err, rerr)
		}
		t.Logf("refused as it should be: %v", err)
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return gpu
}

// TestTensorParallelAgainstOneGPU runs every fixture split over 2 (and 4)
// GPUs against the same model on one: logits within the one-GPU tolerance and
// identical greedy continuations, with and without CUDA graphs and with
// cuBLAS forced. Fixtures whose shapes a split refuses (worker/shard; the CPU
// engine's exactness test checks each refusal) are skipped, saying so.
func TestTensorParallelAgainstOneGPU(t *testing.T) {
	needGPU(t)
	paths, _ := filepath.Glob(filepath.Join(fidelityDir, "*.json"))
	quant, _ := filepath.Glob(filepath.Join(quantDir, "*.json"))
	paths = append(paths, quant...)
	for _, n := range []int{2, 4} {
		if _, _, err := Device("", n-1); err != nil {
			t.Logf("N=%d: %v", n, err)
			continue
		}
		for _, path := range paths {
			name := strings.TrimSuffix(filepath.Base(path), ".json")
			fx := readFixture(t, path)
			for _, v := range []struct {
				name string
				opts Options
			}{
				{"graphs", Options{}},
				{"nographs", Options{DisableGraphs: true}},
				{"cublas", Options{Memory: memplan.Options{GemmMinTokens: 1}}},
			} {
				t.Run(fmt.Sprintf("N%d/%s/%s", n, name, v.name), func(t *testing.T) {
					m, err := model.Load(strings.TrimSuffix(path, ".json")+".gguf", model.Family(fx.Arch))
					if err != nil {
						t.Fatal(err)
					}
					defer m.Close()
					if err := Runs(m.Hyper); err != nil {
						t.Skip(err)
					}
					if _, err := shard.ForModel(m, n); err != nil {
						t.Skip(err)
					}
					one, err := Open(m, v.opts)
					if err != nil {
						t.Fatal(err)
					}
					defer one.Close()
					tp := v.opts
					tp.GPUs = n
					split, err := Open(m, tp)
					if err != nil {
						t.Fatal(err)
					}
					defer split.Close()
					if split.Device() != strings.Join([]string{"GPU0", "GPU1", "GPU2", "GPU3"}[:n], ",") {
						t.Errorf("device %q", split.Device())
					}
					b := bound{tol: tolerance(fx.DType, v.opts.Memory.GemmMinTokens == 1)}
					for pi, ids := range fx.prompts() {
						compare(t, one, split, ids, min(32, m.Hyper.ContextLength-len(ids)), b, pi, false)
					}
				})
			}
		}
	}
}

// kvMatchTol is the largest logit difference, relative to max(1, |CPU logit|), between the CUDA engine
// and the CPU engine storing keys and values as the same type: both round each stored value the same way
// (the kernel tests check the bits), so what differs is the GPU's arithmetic, plus the few values whose
// rounding a last-bit difference in a key or value moves to the neighbouring step of the type. Measured
// on the H200 over the fixtures: f16 3.1e-3, bf16 4.3e-2, q8_0 3.6e-2 (the random-weight fixtures' large
// logits amplify a flipped step); the bounds are about twice that.
var kvMatchTol = map[kvcache.Type]float64{kvcache.F16: 1e-2, kvcache.BF16: 8e-2, kvcache.Q8_0: 8e-2}

// kvFidelityTol bounds the CUDA engine at each type against the CPU engine in float32 on the fixtures:
// worker/engine's TestKVTypeFidelity bounds the type's own cost on the CPU (0.05, 0.55, 1.5, about twice
// what was measured: the fixtures' random weights give large logits), and kvMatchTol the GPU's part.
var kvFidelityTol = map[kvcache.Type]float64{kvcache.F16: 0.06, kvcache.BF16: 0.58, kvcache.Q8_0: 1.55}

// TestKVTypesAgainstCPU runs every fidelity fixture with the KV cache stored as f16, bf16 and q8_0: the
// CUDA engine against the CPU engine rounding to the same type, and against the CPU engine in float32,
// over every prompt position and 16 decode steps fed the CPU's greedy tokens (prefill on the tensor-core
// kernel, decode through CUDA graphs).
func TestKVTypesAgainstCPU(t *testing.T) {
	needGPU(t)
	paths, _ := filepath.Glob(filepath.Join(fidelityDir, "*.json"))
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	for _, path := range paths {
		fx := readFixture(t, path)
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		for _, kt := range []kvcache.Type{kvcache.F16, kvcache.BF16, kvcache.Q8_0} {
			t.Run(name+"/"+string(kt), func(t *testing.T) {
				m, err := model.Load(strings.TrimSuffix(path, ".json")+".gguf", model.Family(fx.Arch))
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				ref, err := engine.NewCPU(m, engine.CPUOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer ref.Close()
				cpu, err := engine.NewCPU(m, engine.CPUOptions{KVType: kt})
				if err != nil {
					t.Fatal(err)
				}
				defer cpu.Close()
				gpu := openOrRefused(t, m, Options{Memory: memplan.Options{KVType: kt, KVCacheTokens: 4096}})
				if gpu == nil {
					return
				}
				defer gpu.Close()
				var same, f32 float64
				for _, ids := range fx.prompts() {
					gen := min(16, m.Hyper.ContextLength-len(ids))
					d, agree := teacherForced(t, cpu, gpu, ids, gen)
					same = max(same, d)
					if !agree {
						t.Logf("prompt of %d tokens: the greedy tokens of the GPU and the CPU at %s differ somewhere", len(ids), kt)
					}
					d, _ = teacherForced(t, ref, gpu, ids, gen)
					f32 = max(f32, d)
				}
				t.Logf("KV as %s: max relative logit diff %.3g against the CPU at %s (tol %g), %.3g against float32 (tol %g)",
					kt, same, kt, kvMatchTol[kt], f32, kvFidelityTol[kt])
				if same > kvMatchTol[kt] {
					t.Errorf("KV as %s: %.3g from the CPU engine at the same type > %g", kt, same, kvMatchTol[kt])
				}
				if f32 > kvFidelityTol[kt] {
					t.Errorf("KV as %s: %.3g from float32 > %g", kt, f32, kvFidelityTol[kt])
				}
			})
		}
	}
}

// TestTensorParallelRealShapes compares the models named by $KUBEINFER_TP_MODELS
// (comma-separated GGUF paths, e.g. the synthetic Llama-3.1-8B and 70B shapes
// hack/tp-device-test.sh writes) split over $KUBEINFER_TP_GPUS GPUs (default 2)
// with the same model on one GPU: a 64-token prompt's logits within the bf16
// tolerance and identical greedy continuations. A model too large for one GPU
// is only loaded and run split, its greedy tokens logged.
func TestTensorParallelRealShapes(t *testing.T) {
	needGPU(t)
	list := os.Getenv("KUBEINFER_TP_MODELS")
	if list == "" {
		t.Skip("KUBEINFER_TP_MODELS names no models")
	}
	n := 2
	if v := os.Getenv("KUBEINFER_TP_GPUS"); v != "" {
		fmt.Sscan(v, &n)
	}
	for _, path := range strings.Split(list, ",") {
		t.Run(fmt.Sprintf("%s/N%d", filepath.Base(path), n), func(t *testing.T) {
			m, err := model.Load(path, "")
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			opts := Options{Memory: memplan.Options{KVCacheTokens: 1024, MaxContext: 1024}}
			split := opts
			split.GPUs = n
			tp, err := Open(m, split)
			if err != nil {
				t.Fatal(err)
			}
			defer tp.Close()
			t.Logf("%s over %s: plan %s, %d MiB used on the fullest GPU", filepath.Base(path), tp.Device(), tp.Plan(), tp.UsedBytes()>>20)
			ids := make([]int, 64)
			for i := range ids {
				ids[i] = (i*7919 + 1) % m.Hyper.VocabSize
			}
			one, err := Open(m, opts)
			if err != nil {
				t.Logf("one GPU: %v; the split model alone:", err)
				seq, err := tp.NewSequence(len(ids) + 32)
				if err != nil {
					t.Fatal(err)
				}
				out, err := tp.Prefill(seq, ids, false)
				if err != nil {
					t.Fatal(err)
				}
				toks := []int{argmax(out[0])}
				for range 31 {
					next, err := tp.DecodeGreedy([]engine.DecodeInput{{Seq: seq, Token: toks[len(toks)-1]}})
					if err != nil {
						t.Fatal(err)
					}
					toks = append(toks, next[0])
				}
				t.Logf("greedy over %d GPUs: %v", n, toks)
				return
			}
			defer one.Close()
			compare(t, one, tp, ids, 32, bound{tol: 2e-2}, 0, false)
		})
	}
}

// teacherForced is the largest relative logit difference of gpu from cpu over ids' positions and gen decode
// steps fed cpu's greedy tokens, and whether the two engines' greedy tokens agreed at every step.
func teacherForced(t *testing.T, cpu, gpu engine.Backend, ids []int, gen int) (float64, bool) {
	t.Helper()
	cs, err := cpu.NewSequence(len(ids) + gen)
	if err != nil {
		t.Fatal(err)
	}
	defer cpu.FreeSequence(cs)
	gs, err := gpu.NewSequence(len(ids) + gen)
	if err != nil {
		t.Fatal(err)
	}
	defer gpu.FreeSequence(gs)
	want, err := cpu.Prefill(cs, ids, true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := gpu.Prefill(gs, ids, true)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i := range want {
		worst = max(worst, maxRelDiff(got[i], want[i]))
	}
	cl, gl := want[len(want)-1], got[len(got)-1]
	agree := true
	for range gen {
		tok := argmax(cl)
		agree = agree && argmax(gl) == tok
		co, err := cpu.Decode([]engine.DecodeInput{{Seq: cs, Token: tok}})
		if err != nil {
			t.Fatal(err)
		}
		gout, err := gpu.Decode([]engine.DecodeInput{{Seq: gs, Token: tok}})
		if err != nil {
			t.Fatal(err)
		}
		cl, gl = co[0], gout[0]
		worst = max(worst, maxRelDiff(gl, cl))
	}
	return worst, agree
}
