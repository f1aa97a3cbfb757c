package memplan

import (
	"math/rand/v2"
	"testing"

	"github.com/kubeinfer/kubeinfer/cuda/layout"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// The bytes of a KV row are one fact on both sides: kvcache's (gguf's table) and layout.h's
// (types.h), for every storage type and width.
func TestKVRowBytesMatchTheLibrary(t *testing.T) {
	if !layout.Available {
		t.Fatal("this test compiles cuda/layout/layout.h: run it with cgo (CGO_ENABLED=1 and a C compiler)")
	}
	for _, kt := range kvcache.Types[1:] {
		for _, heads := range []int{1, 2, 8} {
			for _, dim := range []int{16, 32, 64, 80, 128, 256} {
				h := model.Hyper{HeadsKV: heads, HeadDim: dim}
				if kt.Check(h) != nil {
					continue
				}
				if got, want := kt.RowBytes(h), layout.KVRowBytes(int(kt.GGML()), heads*dim); got != want || got == 0 {
					t.Errorf("%s, %d x %d: kvcache %d bytes, layout.h %d", kt, heads, dim, got, want)
				}
			}
		}
	}
}

// Scratch is the library's layout (cuda/layout/layout.h, compiled here by cgo) on random
// shapes and sizings: when one side changes without the other, this fails.
func TestScratchMatchesTheLibraryLayout(t *testing.T) {
	if !layout.Available {
		t.Fatal("this test compiles cuda/layout/layout.h: run it with cgo (CGO_ENABLED=1 and a C compiler)")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(vs ...int) int { return vs[rng.IntN(len(vs))] }
	for i := range 2000 {
		kvHeads := pick(1, 2, 4, 8)
		h := model.Hyper{Family: model.FamilyLlama, Embedding: pick(64, 768, 2048, 4096, 8192), Blocks: 1 + rng.IntN(80),
			FeedForward: pick(128, 3072, 8192, 14336, 28672), HeadsKV: kvHeads, Heads: kvHeads * pick(1, 2, 4, 7, 8),
			HeadDim: pick(16, 64, 80, 128, 256), VocabSize: 1 + rng.IntN(200000), ContextLength: 1 + rng.IntN(131072),
			RopeMode: model.RopeMode(rng.IntN(3)), RopeDim: 2 * (1 + rng.IntN(64))}
		if rng.IntN(3) == 0 { // GPT-2 without RoPE, GPT-NeoX and the others with it
			h.Family = model.FamilyGPT
		}
		if rng.IntN(2) == 0 { // window layers among global ones (Gemma): several KV layer groups
			h.SlidingWindow, h.SWALayers = pick(4, 512, 4096), make([]bool, h.Blocks)
			for l := range h.SWALayers {
				h.SWALayers[l] = rng.IntN(3) > 0
			}
		}
		o := Options{KVCacheTokens: 1 + rng.IntN(1<<20), KVBlockTokens: pick(0, 8, 16, 32), MaxBatch: pick(0, 1, 3, 256, 512, 4096),
			KVType: kvcache.Types[rng.IntN(len(kvcache.Types))]}
		if o.KVType == kvcache.Q8_0 && o.KVType.Check(h) != nil {
			o.KVType = kvcache.BF16
		}
		s := o.WithDefaults(h).Sizing(h)
		if rng.IntN(2) == 0 { // a rank of a tensor-parallel split
			s.Ranks = pick(2, 4, 8)
			s.Rank, s.VocabFull = rng.IntN(s.Ranks), h.VocabSize*s.Ranks-rng.IntN(s.Ranks)
		}
		size, kv := Scratch(h, s)
		csize, ckv := layout.Scratch(layout.Config{RopeMode: int(h.RopeMode),
			RopeDim: h.RopeDim, Layers: h.Blocks, KVBlocks: s.Blocks, KVBlockTokens: s.BlockTokens, Heads: h.Heads,
			KVSlots: s.KVSlots, KVGroups: s.KVGroups,
			HeadsKV: h.HeadsKV, HeadDim: h.HeadDim, MaxBatch: s.MaxBatch, MaxSeqBlocks: s.MaxSeqBlocks,
			Embedding: h.Embedding, FFN: h.FeedForward, Vocab: h.VocabSize, KVType: int(s.KVType.GGML()),
			Rank: s.Rank, Ranks: s.Ranks, VocabFull: s.VocabFull})
		if size != csize || kv != ckv {
			t.Fatalf("case %d %+v %+v: memplan scratch %d (KV %d), cuda/layout/layout.h %d (KV %d)", i, h, s, size, kv, csize, ckv)
		}
	}
}
