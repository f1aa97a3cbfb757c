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
)

// MiB is a mebibyte.
const MiB = 1 << 20

// Options are the sizing knobs of the CUDA loader; zero values take the defaults.
type Options struct {
	// MaxContext and Concurrency are what the worker serves (serve's
	// --max-context and --max-concurrent): through kvcache.Tokens they give the
	// least KV cache the worker needs, which ForModel plans (and the operator
	// schedules by); on the GPU, ForDevice gives the pool whatever
	// GPUMemoryUtilization leaves beyond that. MaxContext 0 means the model's.
	MaxContext, Concurrency int
	// KVCacheTokens, when set, is the KV cache size in tokens over all
	// sequences, on any GPU.
	KVCacheTokens int
	// KVType is how the pool stores keys and values; Auto means F16.
	KVType kvcache.Type
	// GPUMemoryUtilization is the share of the GPU's memory the worker may
	// take: weights, buffers and the KV pool; 0 means DefaultGPUMemoryUtilization.
	GPUMemoryUtilization float64
	// KVBlockTokens is the KV block size in tokens; 0 means kvcache.DefaultBlockTokens.
	KVBlockTokens int
	// MaxBatch is the most tokens one forward call runs (a prefill chunk);
	// 0 means 1024. Of them, at most LogitRows want logits.
	MaxBatch int
	// GemmMinTokens is the token count from which linear layers use cuBLAS; 0 means 16.
	GemmMinTokens int
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
	if o.KVCacheTokens <= 0 {
		o.KVCacheTokens = kvcache.Tokens(h.ContextLength, o.MaxContext, o.Concurrency)
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1024
	}
	if o.GemmMinTokens <= 0 {
		o.GemmMinTokens = 16
	}
	return o
}

// Sizing is what the library is asked to allocate besides the weights.
type Sizing struct {
	KVType        kvcache.Type
	BlockTokens   int // tokens per KV block
	Blocks        int // KV blocks in the pool
	MaxSeqBlocks  int // block-table width
	MaxBatch      int // tokens per forward call
	GemmMinTokens int
}

// Sizing derives the allocation sizes from options that WithDefaults filled.
func (o Options) Sizing(h model.Hyper) Sizing {
	return Sizing{
		KVType:        o.KVType,
		BlockTokens:   o.KVBlockTokens,
		Blocks:        kvcache.BlocksFor(o.KVCacheTokens, o.KVBlockTokens),
		MaxSeqBlocks:  kvcache.BlocksFor(h.ContextLength, o.KVBlockTokens),
		MaxBatch:      o.MaxBatch,
		GemmMinTokens: o.GemmMinTokens,
	}
}

// Plan is the device memory a model needs, in bytes.
type Plan struct {
	Weights uint64
	KVCache uint64
	Buffers uint64 // activations, logits, cuBLAS workspace, staging, a reserve for the CUDA libraries
	// Utilization is the share of a GPU's memory the plan may take; 0 means all of it.
	Utilization float64
}

// Total is the sum of the parts.
func (p Plan) Total() uint64 { return p.Weights + p.KVCache + p.Buffers }

// RequiredMiB is the GPU memory the plan needs, in whole MiB (the unit of the
// nvidia.com/gpu.memory label): Total is at most Utilization of it.
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
	return fmt.Errorf("model needs %d MiB (weights %d + KV cache %d + buffers %d) but %s has only %d MiB free",
		CeilMiB(p.Total()), CeilMiB(p.Weights), CeilMiB(p.KVCache), CeilMiB(p.Buffers), device, free/MiB)
}

// String is the plan in MiB, as inspect and the operator show it: what a GPU
// needs, then the parts.
func (p Plan) String() string {
	within := ""
	if p.Utilization > 0 && p.Utilization < 1 {
		within = fmt.Sprintf(", within gpuMemoryUtilization %g", p.Utilization)
	}
	return fmt.Sprintf("%d MiB (weights %d + KV cache %d + buffers %d%s)",
		p.RequiredMiB(), CeilMiB(p.Weights), CeilMiB(p.KVCache), CeilMiB(p.Buffers), within)
}

// CeilMiB rounds bytes up to MiB.
func CeilMiB(b uint64) uint64 { return (b + MiB - 1) / MiB }

// ForModel is the least the CUDA loader allocates for m with o: the weights,
// the buffers and the KV pool o asks for (see Options). m may come from a
// header-only file (model.FromHeader): only tensor shapes and types are read.
func ForModel(m *model.Model, o Options) Plan {
	o = o.WithDefaults(m.Hyper)
	p := Compute(m.Hyper, WeightBytes(m), o.Sizing(m.Hyper))
	p.Utilization = o.GPUMemoryUtilization
	return p
}

// maxPoolBlocks bounds a pool sized by memory: the host keeps a few dozen bytes
// of bookkeeping per block, and 2^20 blocks (16M tokens of 16) are more than
// any GPU of today holds for a real model's KV rows, while a tiny test model on
// a large GPU would otherwise get hundreds of millions.
const maxPoolBlocks = 1 << 20

// ForDevice is what the CUDA loader allocates for m with o on a GPU of total
// bytes, and the options that give it: unless o sets KVCacheTokens, the KV pool
// takes, in whole blocks, what GPUMemoryUtilization × total leaves after the
// weights and buffers (at most maxPoolBlocks). It fails, saying what to change,
// when that is less than ForModel's pool.
func ForDevice(m *model.Model, o Options, total uint64, device string) (Plan, Options, error) {
	fixed := o.KVCacheTokens > 0
	o = o.WithDefaults(m.Hyper)
	least := ForModel(m, o)
	budget := uint64(o.GPUMemoryUtilization * float64(total))
	if least.Total() > budget {
		return Plan{}, o, fmt.Errorf("model needs %s, more than gpuMemoryUtilization %.2f of %s's %d MiB (%d MiB): raise spec.serving.gpuMemoryUtilization (--gpu-memory-utilization), lower maxContextLength or maxConcurrentRequests, store the KV cache as q8_0, or use a GPU with at least %d MiB",
			least, o.GPUMemoryUtilization, device, total/MiB, budget/MiB, least.RequiredMiB())
	}
	if fixed {
		return least, o, nil
	}
	h, weights := m.Hyper, WeightBytes(m)
	s := o.Sizing(h)
	perBlock := uint64(s.BlockTokens) * kvcache.BytesPerToken(h, s.KVType)
	none := s
	none.Blocks = 0
	leastBlocks := uint64(s.Blocks)
	blocks := leastBlocks
	if base := Compute(h, weights, none).Total(); budget > base {
		blocks = max(blocks, min((budget-base)/perBlock, maxPoolBlocks))
	}
	// Alignment and the driver's granule make the estimate off by a granule's worth at most, either way.
	fits := func(n uint64) bool {
		s.Blocks = int(n)
		return Compute(h, weights, s).Total() <= budget
	}
	for blocks < maxPoolBlocks && fits(blocks+1) {
		blocks++
	}
	for blocks > leastBlocks && !fits(blocks) {
		blocks--
	}
	o.KVCacheTokens = int(blocks) * s.BlockTokens
	return ForModel(m, o), o, nil
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

// WeightBytes is the weights slab the CUDA loader allocates: every tensor as
// stored, at its encoded size from gguf's type table (Q8_0's 34-byte blocks
// become 32 quants and a 2-byte scale, two pieces), vectors and the position table as float32, each piece aligned to
// 256 bytes. The loader's grouped [q; k; v] and [gate; up] pieces need no more
// than their members' pieces.
func WeightBytes(m *model.Model) uint64 {
	var total uint64
	add := func(t *model.Tensor, asF32 bool) {
		if t == nil {
			return
		}
		n := uint64(t.Rows) * uint64(t.Cols)
		switch {
		case asF32:
			total += align(n*4, slabAlign)
		case t.Info.Type == gguf.TypeQ8_0: // int8 quants, then one fp16 scale per block
			total += align(n, slabAlign) + align(n/gguf.TypeQ8_0.BlockSize()*2, slabAlign)
		default:
			total += align(t.Info.Size, slabAlign)
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
	B, E, F, V := uint64(s.MaxBatch), uint64(h.Embedding), uint64(h.FeedForward), uint64(h.VocabSize)
	nq, nkv := uint64(h.Heads*h.HeadDim), uint64(h.HeadsKV*h.HeadDim)
	qw := nq + 2*nkv // room for a fused [q; k; v] row
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
	pool := uint64(s.Blocks) * uint64(s.BlockTokens) * kvcache.BytesPerToken(h, s.KVType) / 2
	kStart := take(pool) // K
	take(pool)           // V
	kv = used - kStart
	for _, n := range []uint64{B * E, B * max(E, nq), B * qw, B * nkv, B * nkv, B * nq, B * F, B * F, L * V,
		L * uint64(h.Heads) * attnSplits * (uint64(h.HeadDim) + 2), // decode attention partials
	} {
		take(n * f32)
	}
	take(L * uint64(h.HeadsKV) * i32)            // and their merge counters
	take(B * max(E, F, nq) * 2 * 2)              // 16-bit GEMM activations, hi and lo
	take(w16Elems * 2)                           // Q8_0 rows dequantized to fp16
	take((4*B + B*uint64(s.MaxSeqBlocks)) * i32) // inputs and block tables
	take(B * i32)                                // sampled tokens
	take((stageBytes / 34) * 34)                 // Q8_0 landing zone: whole blocks of one staging buffer
	return used, kv
}

// The constants of cuda/layout/layout.h.
const (
	cublasWorkspace = 32 * MiB
	attnSplits      = 16
	w16Elems        = 8 * MiB
	stageBytes      = 16 * MiB
)
