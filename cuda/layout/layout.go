//go:build cgo

// Package layout compiles the CUDA library's plain-C descriptions, which the
// library's own build includes, with the host compiler: its scratch layout
// (layout.h), which worker/memplan's test compares with its Go figures without a
// GPU, and its table of weight types (types.h), which the CUDA backend uploads by
// and worker/gguf's test compares with its own. The headers live in this
// directory so that Go's build cache sees them change.
package layout

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include "layout.h"
#include "types.h"

static const kic_type_traits *kic_type_at(int i) { return &kic_types[i]; }
*/
import "C"

// Available reports whether this build can compile the C layout (it needs cgo).
const Available = true

// Config is the part of kic_model_config the layout depends on.
type Config struct {
	RopeMode, RopeDim                             int
	Layers, KVBlocks, KVBlockTokens               int
	KVSlots, KVGroups                             int // 0: every layer in one group
	Heads, HeadsKV, HeadDim                       int
	MaxBatch, MaxSeqBlocks, Embedding, FFN, Vocab int
	KVType                                        int // a kic_dtype
	Rank, Ranks, VocabFull                        int // tensor parallelism
}

// Type is a row of types.h: a weight type the library takes, as ggml stores it.
type Type struct {
	DType             int // ggml's number
	Name              string
	Block, BlockBytes int
}

// Types is types.h's table.
func Types() []Type {
	out := make([]Type, int(C.KIC_TYPE_COUNT))
	for i := range out {
		t := C.kic_type_at(C.int(i))
		out[i] = Type{DType: int(t.dtype), Name: C.GoString(t.name), Block: int(t.block), BlockBytes: int(t.block_bytes)}
	}
	return out
}

// KVRowBytes is kic_kv_row_bytes: one token's keys (or values) of one layer, kvDim elements of kvType.
func KVRowBytes(kvType, kvDim int) uint64 {
	return uint64(C.kic_kv_row_bytes(C.int32_t(kvType), C.int64_t(kvDim)))
}

// Scratch returns kic_scratch_layout_of's slab size and KV pool bytes.
func Scratch(c Config) (size, kv uint64) {
	cfg := C.kic_model_config{
		rope_mode: C.int32_t(c.RopeMode), rope_dim: C.int32_t(c.RopeDim),
		layers: C.int32_t(c.Layers), kv_blocks: C.int32_t(c.KVBlocks), kv_block_tokens: C.int32_t(c.KVBlockTokens),
		kv_slots: C.int32_t(c.KVSlots), kv_groups: C.int32_t(c.KVGroups),
		heads: C.int32_t(c.Heads), heads_kv: C.int32_t(c.HeadsKV), head_dim: C.int32_t(c.HeadDim),
		max_batch: C.int32_t(c.MaxBatch), max_seq_blocks: C.int32_t(c.MaxSeqBlocks), embd: C.int32_t(c.Embedding),
		ffn: C.int32_t(c.FFN), vocab: C.int32_t(c.Vocab), kv_type: C.int32_t(c.KVType),
		tp_rank: C.int32_t(c.Rank), tp_ranks: C.int32_t(c.Ranks), vocab_full: C.int32_t(c.VocabFull),
	}
	l := C.kic_scratch_layout_of(&cfg)
	return uint64(l.size), uint64(l.kv_bytes)
}
