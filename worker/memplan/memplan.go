// Package memplan is the GPU memory plan of a model: the bytes the CUDA loader
// allocates for weights, KV cache and buffers. It is pure (no cgo, no device),
// so the CUDA backend allocates by it, `kubeinfer-worker inspect` prints it and
// the operator schedules by it, and the three cannot disagree.
package memplan

import (
	"fmt"
	"math"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/shard"
)

// MiB is a mebibyte.
const MiB = 1 << 20

// Options are the sizing knobs of the CUDA loader; zero values take the defaults.
type Options struct {
	// MaxContext and Concurrency are what the worker serves (serve's
	// --max-context and --max-concurrent): through kvcache.Layout.PoolBlocks they give the
	// least KV cache the worker needs, which ForModel plans (and the operator
	// schedules by); on the GPU, ForDevice gives the pool whatever
	// GPUMemoryUtilization leaves beyond that. MaxContext 0 means the model's.
	MaxContext, Concurrency int
	// KVCacheTokens, when set, is the KV cache size in tokens over all
	// sequences, on any GPU: positions every layer can keep
	// (kvcache.Layout.TokenBlocks).
	KVCacheTokens int
	// KVType is how the pool stores keys and values; Auto means F16.
	KVType kvcache.Type
	// GPUMemoryUtilization is the share of the GPU's memory the worker may
	// take: weights, buffers and the KV pool; 0 means DefaultGPUMemoryUtilization.
	GPUMemoryUtilization float64
	// KVBlockTokens is the KV block size in tokens; 0 means kvcache.DefaultBlockTokens.
	KVBlockTokens int
	// PrefillChunk is the most prompt tokens the scheduler adds to a sequence in
	// one step (serve's --prefill-chunk); 0 means kvcache.DefaultStepTokens. With
	// a model whose every layer is windowed it bounds what one sequence holds
	// (kvcache.WindowBlocks), so the least KV cache is a window per sequence, not a
	// context.
	PrefillChunk int
	// MaxBatch is the most tokens one forward call runs (a prefill chunk);
	// 0 means 1024. Of them, at most LogitRows want logits.
	MaxBatch int
	// GemmMinTokens is the token count from which linear layers use cuBLAS (1:
	// every call); 0 leaves it to the library, which picks per weight type.
	GemmMinTokens int
	// GPUs is how many GPUs the model is split over by tensor parallelism
	// (worker/shard); 0 means 1. The plan is then each GPU's.
	GPUs int
}

// DefaultGPUMemoryUtilization leaves a tenth of the GPU to the driver, other
// processes and fragmentation, as vLLM's default does.
const DefaultGPUMemoryUtilization = 0.9

// MaxLogitRows is the library's KIC_MAX_LOGIT_ROWS: logits and decode
// attention scratch hold this many rows, so long prefill chunks stay cheap.
const MaxLogitRows = 256

// LogitRows is how many tokens of one forward call may want logits, and the
// largest decode batch of one call.
func (s Sizing) LogitRows() int { return min(s.MaxBatch, MaxLogitRows) }

// WithDefaults fills the zero knobs for the model's hyperparameters.
func (o Options) WithDefaults(h model.Hyper) Options {
	if o.KVBlockTokens <= 0 {
		o.KVBlockTokens = kvcache.DefaultBlockTokens
	}
	o.KVType = o.KVType.Or(kvcache.F16)
	if o.GPUMemoryUtilization <= 0 {
		o.GPUMemoryUtilization = DefaultGPUMemoryUtilization
	}
	if o.PrefillChunk <= 0 {
		o.PrefillChunk = kvcache.DefaultStepTokens
	}
	if o.KVCacheTokens <= 0 {
		// Every sequence at its longest, in tokens of every layer group (rounded up to whole blocks of each).
		l := kvcache.LayoutFor(h)
		blocks := l.PoolBlocks(h.ContextLength, o.MaxContext, o.Concurrency, o.PrefillChunk, o.KVBlockTokens)
		o.KVCacheTokens = (blocks + len(l.Groups) - 1) / len(l.Groups) * o.KVBlockTokens
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1024
	}
	o.GPUs = max(1, o.GPUs)
	return o
}

// Sizing is what the library is asked to allocate besides the weights.
type Sizing struct {
	KVType        kvcache.Type
	BlockTokens   int // tokens per KV block
	Blocks        int // KV blocks in the pool
	KVSlots       int // layers a block holds (kvcache.Layout.Slots)
	KVGroups      int // block tables per sequence (kvcache.Layout.Groups)
	MaxSeqBlocks  int // one group's block-table width
	MaxBatch      int // tokens per forward call
	GemmMinTokens int
	// Tensor parallelism: the rank this sizing is for, of Ranks (0 of 1
	// without), and the whole vocabulary, whose logits rank 0 gathers.
	Rank, Ranks, VocabFull int
}

// Sizing derives the allocation sizes from options that WithDefaults filled.
func (o Options) Sizing(h model.Hyper) Sizing {
	l := kvcache.LayoutFor(h)
	return Sizing{
		KVType:        o.KVType,
		BlockTokens:   o.KVBlockTokens,
		Blocks:        l.TokenBlocks(o.KVCacheTokens, o.KVBlockTokens),
		KVSlots:       l.Slots,
		KVGroups:      len(l.Groups),
		MaxSeqBlocks:  kvcache.BlocksFor(h.ContextLength, o.KVBlockTokens),
		MaxBatch:      o.MaxBatch,
		GemmMinTokens: o.GemmMinTokens,
		Ranks:         1,
		VocabFull:     h.VocabSize,
	}
}

// Plan is the device memory a model needs, in bytes: on each of GPUs GPUs
// when it is split over several (the figures of the GPU that needs most).
type Plan struct {
	Weights uint64
	KVCache uint64
	Buffers uint64 // activations, logits, cuBLAS workspace, staging, a reserve for the CUDA libraries
	GPUs    int    // 0 or 1: one GPU
	// Utilization is the share of a GPU's memory the plan may take; 0 means all of it.
	Utilization float64
}

// Total is the sum of the parts: what one GPU needs.
func (p Plan) Total() uint64 { return p.Weights + p.KVCache + p.Buffers }

// Count is the number of GPUs the plan is for.
func (p Plan) Count() int { return max(1, p.GPUs) }

// RequiredMiB is the GPU memory the plan needs on each of its GPUs, in whole
// MiB (the unit of the nvidia.com/gpu.memory label): Total is at most
// Utilization of it.
func (p Plan) RequiredMiB() int64 {
	if p.Utilization <= 0 || p.Utilization >= 1 {
		return int64(CeilMiB(p.Total()))
	}
	return int64(math.Ceil(float64(p.Total()) / p.Utilization / MiB))
}

// Check refuses a plan larger than free bytes on device (e.g. "GPU0").
func (p Plan) Check(device string, free uint64) error {
	if p.Total() <= free {
		return nil
	}
	each := ""
	if p.Count() > 1 {
		each = fmt.Sprintf(" on one of its %d GPUs", p.Count())
	}
	return fmt.Errorf("model needs %d MiB (weights %d + KV cache %d + buffers %d)%s but %s has only %d MiB free",
		CeilMiB(p.Total()), CeilMiB(p.Weights), CeilMiB(p.KVCache), CeilMiB(p.Buffers), each, device, free/MiB)
}

// String is the plan in MiB, as inspect and the operator show it: what a GPU
// needs, then the parts; per GPU and how many when the model is split
// ("2 × 40212 MiB per GPU (...)").
func (p Plan) String() string {
	per, each := "", ""
	if p.Count() > 1 {
		per, each = fmt.Sprintf("%d × ", p.Count()), " per GPU"
	}
	within := ""
	if p.Utilization > 0 && p.Utilization < 1 {
		within = fmt.Sprintf(", within gpuMemoryUtilization %g", p.Utilization)
	}
	return fmt.Sprintf("%s%d MiB%s (weights %d + KV cache %d + buffers %d%s)",
		per, p.RequiredMiB(), each, CeilMiB(p.Weights), CeilMiB(p.KVCache), CeilMiB(p.Buffers), within)
}

// CeilMiB rounds bytes up to MiB.
func CeilMiB(b uint64) uint64 { return (b + MiB - 1) / MiB }

// ForModel is the least the CUDA loader allocates for m with o: the weights,
// the buffers and the KV pool o asks for (see Options). m may come from a
// header-only file (model.FromHeader): only tensor shapes and types are read.
// Over several GPUs (o.GPUs) it is the plan of the GPU whose shard needs most,
// and it fails when the model does not split over that many (worker/shard
// says why).
func ForModel(m *model.Model, o Options) (Plan, error) {
	o = o.WithDefaults(m.Hyper)
	sp, err := shard.ForModel(m, o.GPUs)
	if err != nil {
		return Plan{}, err
	}
	var worst Plan
	for r := range sp.N() {
		if p := ForRank(m, o, sp, r); r == 0 || p.Total() > worst.Total() {
			worst = p
		}
	}
	return worst, nil
}

// ForRank is the plan of rank r of sp's split of m, with o already through
// WithDefaults: what the CUDA loader allocates on that rank's GPU.
func ForRank(m *model.Model, o Options, sp shard.Plan, r int) Plan {
	h, s := RankSizing(m.Hyper, o, sp, r)
	p := Compute(h, WeightBytes(m, sp, r), s)
	p.GPUs, p.Utilization = sp.N(), o.GPUMemoryUtilization
	return p
}

// RankSizing is rank r's share of the hyperparameters (shard.Plan.Hyper) and
// its allocation sizes, from o already through WithDefaults.
func RankSizing(h model.Hyper, o Options, sp shard.Plan, r int) (model.Hyper, Sizing) {
	rh := sp.Hyper(h, r)
	s := o.Sizing(rh)
	s.Rank, s.Ranks, s.VocabFull = r, sp.N(), h.VocabSize
	return rh, s
}

// maxPoolBlocks bounds a pool sized by memory: the host keeps a few dozen bytes
// of bookkeeping per block, and 2^20 blocks (16M tokens of 16) are more than
// any GPU of today holds for a real model's KV rows, while a tiny test model on
// a large GPU would otherwise get hundreds of millions.
const maxPoolBlocks = 1 << 20

// ForDevice is what the CUDA loader allocates for m with o on GPUs of total
// bytes each (the smallest of them, when the model is split over several),
// and the options that give it: unless o sets KVCacheTokens, the KV pool
// takes, in whole blocks, what GPUMemoryUtilization × total leaves after the
// weights and buffers (at most maxPoolBlocks) on the GPU where that is least:
// the ranks share the pool's block ids, each storing its KV heads of every
// block. It fails, saying what to change, when that is less than ForModel's
// pool.
func ForDevice(m *model.Model, o Options, total uint64, device string) (Plan, Options, error) {
	fixed := o.KVCacheTokens > 0
	o = o.WithDefaults(m.Hyper)
	least, err := ForModel(m, o)
	if err != nil {
		return Plan{}, o, err
	}
	budget := uint64(o.GPUMemoryUtilization * float64(total))
	if least.Total() > budget {
		raise := ""
		if o.GPUs > 1 {
			raise = "raise spec.gpu.count (--gpus), "
		}
		return Plan{}, o, fmt.Errorf("model needs %s, more than gpuMemoryUtilization %.2f of %s's %d MiB (%d MiB): %sraise spec.serving.gpuMemoryUtilization (--gpu-memory-utilization), lower maxContextLength or maxConcurrentRequests, store the KV cache as q8_0, or use a GPU with at least %d MiB",
			least, o.GPUMemoryUtilization, device, total/MiB, budget/MiB, raise, least.RequiredMiB())
	}
	if fixed {
		return least, o, nil
	}
	sp, err := shard.ForModel(m, o.GPUs)
	if err != nil {
		return Plan{}, o, err
	}
	type rank struct {
		h       model.Hyper
		s       Sizing
		weights uint64
	}
	ranks := make([]rank, sp.N())
	leastBlocks := uint64(0)
	blocks := uint64(maxPoolBlocks)
	for r := range ranks {
		h, s := RankSizing(m.Hyper, o, sp, r)
		ranks[r] = rank{h: h, s: s, weights: WeightBytes(m, sp, r)}
		leastBlocks = uint64(s.Blocks)
		perBlock := kvcache.LayoutFor(h).BlockBytes(h, s.KVType, s.BlockTokens)
		none := s
		none.Blocks = 0
		est := uint64(0)
		if base := Compute(h, ranks[r].weights, none).Total(); budget > base {
			est = (budget - base) / perBlock
		}
		blocks = min(blocks, est)
	}
	blocks = max(blocks, leastBlocks)
	// Alignment and the driver's granule make the estimate off by a granule's worth at most, either way.
	fits := func(n uint64) bool {
		for _, rk := range ranks {
			s := rk.s
			s.Blocks = int(n)
			if Compute(rk.h, rk.weights, s).Total() > budget {
				return false
			}
		}
		return true
	}
	for blocks < maxPoolBlocks && fits(blocks+1) {
		blocks++
	}
	for blocks > leastBlocks && !fits(blocks) {
		blocks--
	}
	// In tokens of every layer group: whole blocks of each (leastBlocks is).
	o.KVCacheTokens = int(blocks) / max(ranks[0].s.KVGroups, 1) * o.KVBlockTokens
	p, err := ForModel(m, o)
	return p, o, err
}

// slabAlign is the alignment of every piece of the library's two slabs
// (KIC_SLAB_ALIGN in cuda/layout/layout.h), and allocGranule the granule the
// driver rounds each allocation up to.
const (
	slabAlign    = 256
	allocGranule = 2 * MiB
)

// ContextReserve is device memory the process uses besides its allocations:
// the CUDA context, cuBLAS and the library's kernels. Measured with go-nvml on
// an H100 (driver 580, CUDA 13, the library built for sm_90 by
// hack/realshape/run.sh): 584-586 MiB over the two slabs, for the seven
// fidelity fixtures and three real-shape models alike; 600 leaves a margin.
const ContextReserve = 600 * MiB

func align(b, to uint64) uint64 { return (b + to - 1) / to * to }

// WeightBytes is the weights slab the CUDA loader allocates on rank r of sp
// (with one rank, the whole model): every tensor's piece as stored, at its
// encoded size from gguf's type table (Q8_0's 34-byte blocks become 32
// quants and a 2-byte scale, two pieces), vectors and the position table as
// float32, each piece aligned to 256 bytes. The loader's grouped [q; k; v]
// and [gate; up] pieces need no more than their members' pieces.
func WeightBytes(m *model.Model, sp shard.Plan, r int) uint64 {
	var total uint64
	add := func(t *model.Tensor, asF32 bool) {
		if t == nil {
			return
		}
		pc, err := sp.Piece(t, r)
		if err != nil || pc.Empty() {
			return // a plan ForModel made has a rule for every tensor the model binds
		}
		rows, cols := pc.Shape()
		n := uint64(rows) * uint64(cols)
		switch {
		case asF32:
			total += align(n*4, slabAlign)
		case t.Info.Type == gguf.TypeQ8_0: // int8 quants, then one fp16 scale per block
			total += align(n, slabAlign) + align(n/gguf.TypeQ8_0.BlockSize()*2, slabAlign)
		default:
			rb, _ := t.Info.Type.RowBytes(uint64(cols))
			total += align(rb*uint64(rows), slabAlign)
		}
	}
	w := &m.Weights
	add(w.TokenEmbedding, false)
	add(w.PositionEmbedding, true)
	add(w.OutputNorm, true)
	add(w.OutputNormBias, true)
	add(w.Output, false)
	add(w.OutputBias, true)
	for _, l := range w.Layers {
		for _, t := range []*model.Tensor{l.Q, l.K, l.V, l.QKV, l.Output, l.Gate, l.GateUp, l.Up, l.Down} {
			add(t, false)
		}
		for _, t := range []*model.Tensor{l.AttnNorm, l.AttnNormBias, l.QBias, l.KBias, l.VBias, l.QKVBias, l.QNorm, l.KNorm,
			l.OutputBias, l.PostAttnNorm, l.FFNNorm, l.FFNNormBias, l.UpBias, l.DownBias, l.PostFFNNorm} {
			add(t, true)
		}
	}
	return total
}

// Compute is the plan of kic_model_create's allocations: one slab for the
// cuBLAS workspace, KV pool and buffers (Scratch), one for the weights, each
// rounded up to the driver's granule, plus the context reserve.
func Compute(h model.Hyper, weights uint64, s Sizing) Plan {
	used, kv := Scratch(h, s)
	scratch := align(used, allocGranule)
	buf := scratch - kv + (align(weights, allocGranule) - weights) + ContextReserve
	return Plan{Weights: weights, KVCache: kv, Buffers: buf}
}

// Scratch is the size of the library's scratch slab and of the KV pool in it:
// cuda/layout/layout.h's kic_scratch_layout_of, piece by piece in the same order
// (a test compiles that file and compares the two on random shapes, and the
// CUDA loader checks the library's own figure against this one at load).
func Scratch(h model.Hyper, s Sizing) (size, kv uint64) {
	const f32, i32 = 4, 4
	B, E, F := uint64(s.MaxBatch), uint64(h.Embedding), uint64(h.FeedForward)
	nq, nkv := uint64(h.Heads*h.HeadDim), uint64(h.HeadsKV*h.HeadDim)
	qw := nq + 2*nkv // room for a fused [q; k; v] row (GPT-2's own, or llama's grouped one)
	// Logits: rank 0 holds the whole vocabulary's, gathered from every rank's
	// piece (rank r computes its rows in its slot of the gather buffer).
	V, gather := uint64(h.VocabSize), uint64(0)
	if s.Ranks > 1 {
		chunk := uint64((s.VocabFull + s.Ranks - 1) / s.Ranks)
		V, gather = uint64(s.VocabFull), chunk*uint64(s.Ranks)
		if s.Rank > 0 {
			V, gather = 0, chunk
		}
	}
	L := uint64(s.LogitRows())
	var used uint64
	take := func(bytes uint64) uint64 {
		off := align(used, slabAlign)
		used = off + bytes
		return off
	}
	take(cublasWorkspace)
	if h.RopeMode != model.RopeNone { // each layer's rotation frequencies
		take(uint64(h.Blocks) * uint64(h.RopeDim/2) * f32)
	}
	slots := uint64(s.KVSlots)
	if slots == 0 { // every layer in one group, as layout.h takes 0
		slots = uint64(h.Blocks)
	}
	pool := uint64(s.Blocks) * uint64(s.BlockTokens) * slots * s.KVType.RowBytes(h)
	kStart := take(pool) // K
	take(pool)           // V
	kv = used - kStart
	for _, n := range []uint64{B * E, B * max(E, nq), B * qw, B * nkv, B * nkv, B * nq, B * F, B * F, L * V,
		max(L*attnSplits, attnMaxSplits) * uint64(h.Heads) * (uint64(h.HeadDim) + 2), // attention partials (kic_attn_partial_slots)
		L * gather, // tensor parallelism: every rank's logits, for rank 0 to put in order
	} {
		take(n * f32)
	}
	take(L * uint64(h.HeadsKV) * i32)                               // and their merge counters
	take(B * max(E, F, nq) * 2 * 2)                                 // 16-bit GEMM activations, hi and lo
	take(w16Elems * 2)                                              // Q8_0 rows dequantized to fp16
	take((4*B + B*uint64(max(s.KVGroups, 1)*s.MaxSeqBlocks)) * i32) // inputs and block tables, a row of every group's
	take(B * i32)                                                   // sampled tokens
	take(L * ((V + 63) / 64) * 8)                                   // allowed-token masks of the logit rows, 64 tokens a word
	take((stageBytes / 34) * 34)                                    // Q8_0 landing zone: whole blocks of one staging buffer
	return used, kv
}

// The constants of cuda/layout/layout.h.
const (
	cublasWorkspace = 32 * MiB
	attnSplits      = 16
	attnMaxSplits   = 128
	w16Elems        = 8 * MiB
	stageBytes      = 16 * MiB
)
