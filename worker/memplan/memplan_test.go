package memplan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
	"github.com/kubeinfer/kubeinfer/worker/shard"
)

// llama32_1b has Llama-3.2-1B's shape.
var llama32_1b = model.Hyper{Family: model.FamilyLlama, ContextLength: 131072, Embedding: 2048, Blocks: 16,
	FeedForward: 8192, Heads: 32, HeadsKV: 8, HeadDim: 64, VocabSize: 128256}

func TestMemoryPlan(t *testing.T) {
	o := Options{KVCacheTokens: 8192, KVType: kvcache.F32}.WithDefaults(llama32_1b)
	sz := o.Sizing(llama32_1b)
	if sz.Blocks != 512 || sz.MaxSeqBlocks != 8192 || sz.MaxBatch != 1024 || sz.LogitRows() != 256 || sz.BlockTokens != 16 {
		t.Fatalf("sizing = %+v", sz)
	}
	const weights = 2471 << 20 // bf16 Llama-3.2-1B with tied embeddings
	p := Compute(llama32_1b, weights, sz)
	// KV: 2 (K, V) x 16 layers x 8192 tokens x 512 (8 heads x 64) x 4 bytes = 512 MiB.
	if p.KVCache != 512<<20 {
		t.Errorf("KV cache = %d MiB, want 512", p.KVCache>>20)
	}
	if got := kvcache.BytesPerToken(llama32_1b, kvcache.F32) * 8192; got != p.KVCache {
		t.Errorf("kvcache.BytesPerToken x tokens = %d, plan %d", got, p.KVCache)
	}
	// Logits dominate the buffers: 256 rows x 128256 x 4 bytes = 125 MiB.
	if p.Buffers < 125<<20 || p.Buffers > 1<<30 {
		t.Errorf("buffers = %d MiB, want between 125 MiB and 1 GiB", p.Buffers>>20)
	}
	if p.Total() != p.Weights+p.KVCache+p.Buffers {
		t.Error("Total is not the sum of the parts")
	}
	if err := p.Check("GPU0", 80<<30); err != nil {
		t.Errorf("fits in 80 GiB: %v", err)
	}
	err := p.Check("GPU0", 2<<30)
	if err == nil {
		t.Fatal("fits in 2 GiB?")
	}
	want := "model needs " // then X MiB (weights Y + KV cache Z + buffers S) but GPU0 has only 2048 MiB free
	msg := err.Error()
	if !strings.HasPrefix(msg, want) || !strings.Contains(msg, "(weights 2471 + KV cache 512 + buffers ") ||
		!strings.HasSuffix(msg, "but GPU0 has only 2048 MiB free") {
		t.Errorf("message %q", msg)
	}
}

func TestMemoryPlanGPTQKV(t *testing.T) {
	h := model.Hyper{Family: model.FamilyGPT, ContextLength: 1024, Embedding: 768, Blocks: 12, FeedForward: 3072,
		Heads: 12, HeadsKV: 12, HeadDim: 64, VocabSize: 50257}
	l := model.Hyper(h)
	l.Family, l.HeadsKV = model.FamilyLlama, 4
	sz := Options{}.WithDefaults(h).Sizing(h)
	// GPT-2's fused QKV output row is 3 x n_embd wide; llama's fused [q; k; v] row is n_embd + 2 x kv dim, and
	// its KV scratch rows are kv dim wide instead of n_embd; decode attention keeps a counter per KV head.
	kvDim := uint64(4 * 64)
	// The slab is rounded up to the driver's 2 MiB granule, so the difference is known to within one granule.
	// Token rows are max batch (1024) long; the counters, like the logits, have 256 rows.
	B, L := uint64(sz.MaxBatch), uint64(sz.LogitRows())
	want := B*4*4*(768-kvDim) + L*4*(12-4)
	if d := Compute(h, 0, sz).Buffers - Compute(l, 0, sz).Buffers; d+2<<20 <= want || d >= want+2<<20 {
		t.Errorf("gpt - llama buffers = %d, want %d (within 2 MiB) for %d tokens", d, want, B)
	}
	if sz.Blocks != 64 { // min(context 1024, 32768) / 16
		t.Errorf("blocks = %d", sz.Blocks)
	}
}

// The serving options size the KV cache with kvcache.Layout.PoolBlocks: the model's context
// (at most 32768) by default, every slot's context when --max-context is set.
func TestServingOptionsSizeTheKVCache(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want int
	}{
		{Options{Concurrency: 8}, 32768},
		{Options{MaxContext: 4096, Concurrency: 8}, 32768},
		{Options{MaxContext: 1024, Concurrency: 3}, 3072},
		{Options{MaxContext: 1024, Concurrency: 3, KVCacheTokens: 100}, 100},
	} {
		if got := c.o.WithDefaults(llama32_1b).KVCacheTokens; got != c.want {
			t.Errorf("%+v: %d KV tokens, want %d", c.o, got, c.want)
		}
	}
	// Mistral-7B-v0.1's shape: every layer in a 4096-token window, so each slot needs a window's blocks
	// (and the prefill chunk's), not its 32k context; Gemma 3's global layers need everything.
	mistral := llama32_1b
	mistral.ContextLength, mistral.Blocks, mistral.SlidingWindow = 32768, 32, 4096
	per := kvcache.WindowBlocks(4096, 512, kvcache.DefaultBlockTokens) * kvcache.DefaultBlockTokens
	if got := (Options{MaxContext: 32768, Concurrency: 8}).WithDefaults(mistral).KVCacheTokens; got != 8*per || per > 4096+512+32 {
		t.Errorf("windowed model, 8 slots of 32768: %d KV tokens, want 8 x %d", got, per)
	}
	if got := (Options{MaxContext: 32768, Concurrency: 8, PrefillChunk: 64}).WithDefaults(mistral).KVCacheTokens; got != 8*kvcache.WindowBlocks(4096, 64, 16)*16 {
		t.Errorf("windowed model, chunks of 64: %d KV tokens", got)
	}
	gemma := mistral
	gemma.SWALayers = make([]bool, gemma.Blocks)
	for l := range gemma.SWALayers {
		gemma.SWALayers[l] = l%6 != 5
	}
	// Gemma's window layers keep blocks of their own (kvcache.LayoutFor): every slot holds its context in the
	// global layers' blocks and a window in the others'.
	l := kvcache.LayoutFor(gemma)
	o := (Options{MaxContext: 32768, Concurrency: 8}).WithDefaults(gemma)
	s := o.Sizing(gemma)
	need := 8 * l.SeqBlocks(32768, 512, kvcache.DefaultBlockTokens)
	if s.Blocks < need || s.Blocks >= need+len(l.Groups) || s.KVGroups != len(l.Groups) || s.KVSlots != l.Slots {
		t.Errorf("mixed global and window layers: %+v, want %d blocks (8 slots' worth) or a few more", s, need)
	}
	kv, all := Compute(gemma, 0, s).KVCache, 8*32768*kvcache.BytesPerToken(gemma, o.KVType)
	if kv*3 > all {
		t.Errorf("mixed global and window layers: KV cache %d MiB, keeping every position would take %d MiB", kv>>20, all>>20)
	}
}

// The pool's bytes follow its storage type: 16-bit types half of float32, Q8_0 34 bytes per 32
// elements; Auto is F16 on the GPU.
func TestKVTypeSizes(t *testing.T) {
	for _, c := range []struct {
		t   kvcache.Type
		mib uint64
	}{{kvcache.F32, 512}, {kvcache.F16, 256}, {kvcache.BF16, 256}, {kvcache.Q8_0, 136}, {kvcache.Auto, 256}, {"", 256}} {
		o := Options{KVCacheTokens: 8192, KVType: c.t}.WithDefaults(llama32_1b)
		if p := Compute(llama32_1b, 0, o.Sizing(llama32_1b)); p.KVCache != c.mib<<20 {
			t.Errorf("%q: KV cache of 8192 tokens = %d bytes, want %d MiB", c.t, p.KVCache, c.mib)
		}
	}
	odd := llama32_1b
	odd.HeadsKV, odd.HeadDim = 1, 80
	if err := kvcache.Q8_0.Check(odd); err == nil || !strings.Contains(err.Error(), "use f16 or bf16") {
		t.Errorf("q8_0 rows of 80: %v", err)
	}
	if err := kvcache.Q8_0.Check(llama32_1b); err != nil {
		t.Error(err)
	}
}

// headerModel is a small llama as the operator reads it: shapes and types, no data.
func headerModel(t *testing.T) *model.Model {
	t.Helper()
	cfg := modeltest.Config{Arch: "llama", Embedding: 256, Heads: 8, HeadsKV: 2, FeedForward: 512, Blocks: 2,
		Vocab: 300, Context: 4096, Seed: 1}
	w, err := modeltest.Writer(cfg, modeltest.Tensors(cfg))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modeltest.Parse(w)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.FromFile(f, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// plan is ForModel, which must not fail.
func plan(t *testing.T, m *model.Model, o Options) Plan {
	t.Helper()
	p, err := ForModel(m, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// On a GPU the pool takes what the utilization leaves after weights and buffers, in whole
// blocks: one block more would not fit. The plan the operator schedules by is the least
// pool, which a GPU must hold within its utilization. Over several GPUs the pool's blocks
// are every GPU's (each holds its KV heads of them): they fill the GPU that has least room.
func TestForDeviceFillsTheUtilization(t *testing.T) {
	m := headerModel(t)
	const total = 3 << 30
	for _, gpus := range []int{1, 2} {
		sp, err := shard.ForModel(m, gpus)
		if err != nil {
			t.Fatal(err)
		}
		for _, util := range []float64{0, 0.5, 0.9, 1} {
			for _, kt := range []kvcache.Type{kvcache.Auto, kvcache.BF16, kvcache.Q8_0, kvcache.F32} {
				o := Options{Concurrency: 4, GPUMemoryUtilization: util, KVType: kt, GPUs: gpus}
				p, got, err := ForDevice(m, o, total, "GPU0")
				if err != nil {
					t.Fatal(err)
				}
				u := util
				if u == 0 {
					u = DefaultGPUMemoryUtilization
				}
				budget := uint64(u * total)
				if p.Total() > budget || got.Sizing(m.Hyper).Blocks <= o.WithDefaults(m.Hyper).Sizing(m.Hyper).Blocks {
					t.Fatalf("%d GPUs, utilization %g %s: plan %s of a budget of %d MiB, %d blocks", gpus, util, kt, p, budget>>20,
						got.Sizing(m.Hyper).Blocks)
				}
				oneMore := false
				for r := range sp.N() {
					h, s := RankSizing(m.Hyper, got, sp, r)
					if Compute(h, WeightBytes(m, sp, r), s).Total() > budget {
						t.Errorf("%d GPUs, utilization %g %s: rank %d exceeds the budget", gpus, util, kt, r)
					}
					s.Blocks++
					oneMore = oneMore || Compute(h, WeightBytes(m, sp, r), s).Total() > budget
				}
				if !oneMore && got.Sizing(m.Hyper).Blocks < maxPoolBlocks {
					t.Errorf("%d GPUs, utilization %g %s: %d blocks leave room for one more", gpus, util, kt, got.Sizing(m.Hyper).Blocks)
				}
				if p != plan(t, m, got) || p.Count() != gpus {
					t.Errorf("the device's options do not plan the device's plan")
				}
			}
		}
	}
	// A KV cache size that is asked for is kept.
	if p, _, err := ForDevice(m, Options{KVCacheTokens: 4096}, total, "GPU0"); err != nil || p != plan(t, m, Options{KVCacheTokens: 4096}) {
		t.Errorf("fixed pool: %v %s", err, p)
	}
	// Too small a GPU says what to change.
	least := plan(t, m, Options{Concurrency: 4})
	small := uint64(float64(least.Total()) / DefaultGPUMemoryUtilization * 0.99)
	_, _, err := ForDevice(m, Options{Concurrency: 4}, small, "GPU0")
	if err == nil || !strings.Contains(err.Error(), "raise spec.serving.gpuMemoryUtilization") ||
		!strings.Contains(err.Error(), fmt.Sprintf("at least %d MiB", least.RequiredMiB())) {
		t.Errorf("GPU of %d bytes for a plan of %s: %v", small, least, err)
	}
	if int64(float64(least.Total())/DefaultGPUMemoryUtilization/MiB) >= least.RequiredMiB() ||
		float64(least.RequiredMiB()*MiB)*DefaultGPUMemoryUtilization < float64(least.Total()) {
		t.Errorf("required %d MiB for %s at %g", least.RequiredMiB(), least, DefaultGPUMemoryUtilization)
	}
	// Split, it also says to raise the GPU count.
	two := plan(t, m, Options{Concurrency: 4, GPUs: 2})
	small = uint64(float64(two.Total()) / DefaultGPUMemoryUtilization * 0.99)
	if _, _, err := ForDevice(m, Options{Concurrency: 4, GPUs: 2}, small, "GPU0,GPU1"); err == nil ||
		!strings.Contains(err.Error(), "raise spec.gpu.count") || !strings.Contains(err.Error(), "2 × ") {
		t.Errorf("2 GPUs of %d bytes for a plan of %s: %v", small, two, err)
	}
	// A huge GPU: the pool stops at maxPoolBlocks.
	_, o, err := ForDevice(m, Options{}, 1<<50, "GPU0")
	if err != nil || o.Sizing(m.Hyper).Blocks != maxPoolBlocks {
		t.Errorf("on a huge GPU: %v, %d blocks", err, o.Sizing(m.Hyper).Blocks)
	}
}

// A quantized model's weights are planned at their encoded sizes from gguf's
// type table (each piece aligned to 256 bytes), Q8_0 as quants and scales.
func TestWeightBytesQuantized(t *testing.T) {
	cfg := modeltest.Config{Arch: "llama", Embedding: 256, Heads: 8, HeadsKV: 2, FeedForward: 512, Blocks: 2,
		Vocab: 300, Context: 64, Recipe: "Q4_K_M", Seed: 1}
	w, err := modeltest.Writer(cfg, modeltest.Tensors(cfg))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modeltest.Parse(w)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.FromFile(f, "")
	if err != nil {
		t.Fatal(err)
	}
	var want uint64
	seen := map[gguf.GGMLType]bool{}
	for _, tt := range m.Tensors() {
		info := tt.Info
		seen[info.Type] = true
		switch {
		case len(info.Dims) == 1:
			want += align(4*info.Elements(), slabAlign)
		case info.Type == gguf.TypeQ8_0:
			want += align(info.Elements(), slabAlign) + align(info.Elements()/32*2, slabAlign)
		default:
			rb, err := info.Type.RowBytes(info.Dims[0])
			if err != nil {
				t.Fatal(err)
			}
			want += align(rb*info.Elements()/info.Dims[0], slabAlign)
		}
	}
	if !seen[gguf.TypeQ4_K] || !seen[gguf.TypeQ6_K] {
		t.Fatalf("the Q4_K_M model has types %v", seen)
	}
	one, err := shard.ForModel(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := WeightBytes(m, one, 0); got != want {
		t.Errorf("WeightBytes = %d, want %d", got, want)
	}
}

// Over N GPUs the plan is each GPU's: its shard of the weights, its KV heads'
// cache (a replicated KV head is on every GPU that reads it), and its buffers,
// rank 0's holding the whole vocabulary's logits for sampling.
func TestMemoryPlanPerGPU(t *testing.T) {
	cfg := modeltest.Config{Arch: "llama", Embedding: 512, Heads: 8, HeadsKV: 4, FeedForward: 1024, Blocks: 2,
		Vocab: 4000, Context: 4096, Type: gguf.TypeQ4_0, Seed: 1}
	w, err := modeltest.Writer(cfg, modeltest.Tensors(cfg))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modeltest.Parse(w)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.FromFile(f, "")
	if err != nil {
		t.Fatal(err)
	}
	o := Options{KVCacheTokens: 4096}
	one, err := ForModel(m, o)
	if err != nil {
		t.Fatal(err)
	}
	if one.Count() != 1 || strings.Contains(one.String(), "×") {
		t.Errorf("one GPU: %d, %q", one.Count(), one)
	}
	var norms uint64 = 2*(2*align(512*4, slabAlign)) + align(512*4, slabAlign) // replicated on every GPU
	for _, n := range []int{2, 4} {
		o.GPUs = n
		p, err := ForModel(m, o)
		if err != nil {
			t.Fatal(err)
		}
		if p.Count() != n || !strings.HasPrefix(p.String(), fmt.Sprintf("%d × ", n)) || !strings.Contains(p.String(), " per GPU (") {
			t.Errorf("N=%d: %d GPUs, %q", n, p.Count(), p)
		}
		// Q4_0's 18-byte blocks split into whole blocks: each GPU holds its share of the
		// matrices plus every norm.
		if lo, hi := (one.Weights-norms)/uint64(n), (one.Weights-norms)/uint64(n)+norms+16*slabAlign; p.Weights < lo || p.Weights > hi {
			t.Errorf("N=%d: %d weight bytes per GPU, want %d to %d", n, p.Weights, lo, hi)
		}
		if want := one.KVCache / uint64(n); p.KVCache != want {
			t.Errorf("N=%d: KV cache %d per GPU, want %d", n, p.KVCache, want)
		}
		sp, _ := shard.ForModel(m, n)
		oo := o.WithDefaults(m.Hyper)
		s0, _ := Scratch(RankSizing(m.Hyper, oo, sp, 0))
		s1, _ := Scratch(RankSizing(m.Hyper, oo, sp, 1))
		// Rank 0 holds the gathered logits (256 rows x 4000) and every rank's slot for them.
		if d := s0 - s1; d < 256*4000*4 {
			t.Errorf("N=%d: rank 0's scratch is only %d bytes larger than rank 1's", n, d)
		}
	}
	o.GPUs = 16
	if _, err := ForModel(m, o); err == nil || !strings.Contains(err.Error(), "over 16 GPUs") {
		t.Errorf("16 GPUs for 8 heads: %v", err)
	}
}
