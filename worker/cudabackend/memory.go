package cudabackend

import (
	"fmt"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

const mib = 1 << 20

// sizing is what the library is asked to allocate besides the weights.
type sizing struct {
	blockTokens   int // tokens per KV block
	blocks        int // KV blocks in the pool
	maxSeqBlocks  int // block-table width
	maxBatch      int // tokens per forward call
	gemmMinTokens int
}

// MemoryPlan is the device memory a model needs, in bytes.
type MemoryPlan struct {
	Weights uint64
	KVCache uint64
	Buffers uint64 // activations, logits, cuBLAS workspace, staging, a reserve for the CUDA libraries
}

// Total is the sum of the parts.
func (p MemoryPlan) Total() uint64 { return p.Weights + p.KVCache + p.Buffers }

// Check refuses a plan larger than free bytes on device (e.g. "GPU0").
func (p MemoryPlan) Check(device string, free uint64) error {
	if p.Total() <= free {
		return nil
	}
	return fmt.Errorf("model needs %d MiB (weights %d + KV cache %d + buffers %d) but %s has only %d MiB free",
		ceilMiB(p.Total()), ceilMiB(p.Weights), ceilMiB(p.KVCache), ceilMiB(p.Buffers), device, free/mib)
}

func ceilMiB(b uint64) uint64 { return (b + mib - 1) / mib }

// weightBytes is what the tensors take on the device: matrices as stored
// (Q8_0's 34-byte blocks become 32 quants and a 2-byte scale, the same
// size), vectors and the position table as float32.
func weightBytes(m *model.Model) uint64 {
	var total uint64
	add := func(t *model.Tensor, asF32 bool) {
		if t == nil {
			return
		}
		if asF32 {
			total += uint64(t.Rows) * uint64(t.Cols) * 4
			return
		}
		total += t.Info.Size
	}
	w := &m.Weights
	add(w.TokenEmbedding, false)
	add(w.PositionEmbedding, true)
	add(w.OutputNorm, true)
	add(w.OutputNormBias, true)
	add(w.Output, false)
	for _, l := range w.Layers {
		for _, t := range []*model.Tensor{l.Q, l.K, l.V, l.QKV, l.Output, l.Gate, l.Up, l.Down} {
			add(t, false)
		}
		for _, t := range []*model.Tensor{l.AttnNorm, l.AttnNormBias, l.QBias, l.KBias, l.VBias, l.QKVBias,
			l.OutputBias, l.FFNNorm, l.FFNNormBias, l.UpBias, l.DownBias} {
			add(t, true)
		}
	}
	return total
}

// planMemory mirrors the allocations of kic_model_create (cuda/src/model.cu).
func planMemory(h model.Hyper, weights uint64, s sizing) MemoryPlan {
	const f32 = 4
	B, E, F, V := uint64(s.maxBatch), uint64(h.Embedding), uint64(h.FeedForward), uint64(h.VocabSize)
	nq, nkv := uint64(h.Heads*h.HeadDim), uint64(h.HeadsKV*h.HeadDim)
	qw := nq
	if h.Family == model.FamilyGPT {
		qw = 3 * E
	}
	kv := 2 * uint64(h.Blocks) * uint64(s.blocks) * uint64(s.blockTokens) * nkv * f32
	widest := max(E, F, nq)
	buf := B * (E + max(E, nq) + qw + 2*nkv + nq + 2*F + V) * f32   // activations and logits
	buf += B * uint64(h.Heads) * 16 * (uint64(h.HeadDim) + 2) * f32 // attention split partials
	buf += B*widest*2 + 8*mib*2                                     // 16-bit GEMM operands
	buf += 32*mib + 16*mib                                          // cuBLAS workspace, Q8_0 landing zone
	buf += (4*B + B*uint64(s.maxSeqBlocks) + B) * 4                 // inputs and block tables
	buf += 256 * mib                                                // cuBLAS handles, graphs, fragmentation
	return MemoryPlan{Weights: weights, KVCache: kv, Buffers: buf}
}

// kvBytesPerToken is the KV cache cost of one token over all layers.
func kvBytesPerToken(h model.Hyper) uint64 {
	return 2 * uint64(h.Blocks) * uint64(h.HeadsKV*h.HeadDim) * 4
}

// deviceType maps a tensor's GGUF type to what the library accepts as stored.
func deviceType(t gguf.GGMLType) (int32, error) {
	switch t {
	case gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ8_0:
		return int32(t), nil
	}
	return 0, fmt.Errorf("tensor type %s is not supported on the GPU (F32, F16, BF16, Q8_0)", t)
}
