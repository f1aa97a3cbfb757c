//go:build cgo

// Package layout compiles the CUDA library's scratch layout (layout.h, plain C,
// which the library's own build includes) with the host compiler, so
// worker/memplan's test compares its Go figures with the library's without a
// GPU. The header lives in this directory so that Go's build cache sees it change.
package layout

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include "layout.h"
*/
import "C"

// Available reports whether this build can compile the C layout (it needs cgo).
const Available = true

// Config is the part of kic_model_config the layout depends on.
type Config struct {
	GPT                                           bool
	RopeMode, RopeDim                             int
	Layers, KVBlocks, KVBlockTokens               int
	Heads, HeadsKV, HeadDim                       int
	MaxBatch, MaxSeqBlocks, Embedding, FFN, Vocab int
}

// Scratch returns kic_scratch_layout_of's slab size and KV pool bytes.
func Scratch(c Config) (size, kv uint64) {
	cfg := C.kic_model_config{
		family: C.KIC_FAMILY_LLAMA, rope_mode: C.int32_t(c.RopeMode), rope_dim: C.int32_t(c.RopeDim),
		layers: C.int32_t(c.Layers), kv_blocks: C.int32_t(c.KVBlocks), kv_block_tokens: C.int32_t(c.KVBlockTokens),
		heads: C.int32_t(c.Heads), heads_kv: C.int32_t(c.HeadsKV), head_dim: C.int32_t(c.HeadDim),
		max_batch: C.int32_t(c.MaxBatch), max_seq_blocks: C.int32_t(c.MaxSeqBlocks), embd: C.int32_t(c.Embedding),
		ffn: C.int32_t(c.FFN), vocab: C.int32_t(c.Vocab),
	}
	if c.GPT {
		cfg.family = C.KIC_FAMILY_GPT
	}
	l := C.kic_scratch_layout_of(&cfg)
	return uint64(l.size), uint64(l.kv_bytes)
}
