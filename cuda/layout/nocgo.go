//go:build !cgo

package layout

// Available reports whether this build can compile the C layout (it needs cgo).
const Available = false

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

// Types needs cgo.
func Types() []Type { panic("cuda/layout: built without cgo") }

// Scratch needs cgo.
func Scratch(Config) (size, kv uint64) { panic("cuda/layout: built without cgo") }

// KVRowBytes needs cgo.
func KVRowBytes(kvType, kvDim int) uint64 { panic("cuda/layout: built without cgo") }
