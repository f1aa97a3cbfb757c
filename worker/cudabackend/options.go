package cudabackend

import (
	"errors"

	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// ErrKVCacheFull means the KV block pool cannot hold another sequence of the
// requested length; free sequences or open with a larger KVCacheTokens.
var ErrKVCacheFull = errors.New("KV cache is full")

// Options configure Open.
type Options struct {
	// LibPath is the --cuda-lib value: the library to load instead of
	// searching ($KUBEINFER_CUDA_LIB, next to the executable, system paths).
	LibPath string
	// Device is the CUDA device ordinal.
	Device int
	// KVCacheTokens is the KV cache size in tokens, over all sequences;
	// 0 means the model's context length, at most 32768.
	KVCacheTokens int
	// KVBlockTokens is the KV block size in tokens; 0 means 16.
	KVBlockTokens int
	// MaxBatch is the most tokens one forward call runs (a prefill chunk);
	// 0 means 1024. Decode batches and the chunks of a prefill that returns
	// every position's logits take at most min(MaxBatch, 256).
	MaxBatch int
	// GemmMinTokens is the token count from which linear layers use cuBLAS
	// instead of the matvec kernel; 0 means 16.
	GemmMinTokens int
	// DisableGraphs runs decode steps without CUDA graph capture.
	DisableGraphs bool
}

// plan is the part of the options the memory plan depends on.
func (o Options) plan() memplan.Options {
	return memplan.Options{KVCacheTokens: o.KVCacheTokens, KVBlockTokens: o.KVBlockTokens,
		MaxBatch: o.MaxBatch, GemmMinTokens: o.GemmMinTokens}
}

func (o Options) withDefaults(h model.Hyper) Options {
	d := o.plan().WithDefaults(h)
	o.KVCacheTokens, o.KVBlockTokens, o.MaxBatch, o.GemmMinTokens = d.KVCacheTokens, d.KVBlockTokens, d.MaxBatch, d.GemmMinTokens
	return o
}

func (o Options) sizing(h model.Hyper) sizing {
	s := o.plan().Sizing(h)
	return sizing{blockTokens: s.BlockTokens, blocks: s.Blocks, maxSeqBlocks: s.MaxSeqBlocks,
		maxBatch: s.MaxBatch, gemmMinTokens: s.GemmMinTokens}
}

// Sampling chooses how SampleLast picks tokens on the GPU.
type Sampling struct {
	Temperature float32 // <= 0: greedy
	TopK        int
	TopP        float32
	Seed, Step  uint64
}
