package cudabackend

import (
	"fmt"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

const mib = memplan.MiB

// sizing is what the library is asked to allocate besides the weights.
type sizing struct {
	blockTokens   int // tokens per KV block
	blocks        int // KV blocks in the pool
	maxSeqBlocks  int // block-table width
	maxBatch      int // tokens per forward call
	gemmMinTokens int
}

// logitRows is how many tokens of a call may want logits: the chunk of a
// prefill that returns every position's logits, and a decode batch.
func (s sizing) logitRows() int { return s.plan().LogitRows() }

func (s sizing) plan() memplan.Sizing {
	return memplan.Sizing{BlockTokens: s.blockTokens, Blocks: s.blocks, MaxSeqBlocks: s.maxSeqBlocks,
		MaxBatch: s.maxBatch, GemmMinTokens: s.gemmMinTokens}
}

// MemoryPlan is the device memory a model needs, in bytes. It is memplan's, the
// pure function that inspect and the operator use too, so they cannot disagree
// with what Open allocates.
type MemoryPlan = memplan.Plan

// PlanMemory is the plan Open checks and allocates by, without a device.
func PlanMemory(m *model.Model, opts Options) MemoryPlan { return memplan.ForModel(m, opts.plan()) }

// weightBytes is what the tensors take on the device.
func weightBytes(m *model.Model) uint64 { return memplan.WeightBytes(m) }

// planMemory mirrors the allocations of kic_model_create (cuda/src/model.cu).
func planMemory(h model.Hyper, weights uint64, s sizing) MemoryPlan {
	return memplan.Compute(h, weights, s.plan())
}

// kvBytesPerToken is the KV cache cost of one token over all layers.
func kvBytesPerToken(h model.Hyper) uint64 { return memplan.KVBytesPerToken(h) }

// deviceType maps a tensor's GGUF type to what the library accepts as stored.
func deviceType(t gguf.GGMLType) (int32, error) {
	switch t {
	case gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ8_0:
		return int32(t), nil
	}
	return 0, fmt.Errorf("tensor type %s is not supported on the GPU (F32, F16, BF16, Q8_0)", t)
}
