//go:build cgo && linux

package cudabackend

import (
	"path/filepath"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// TestWindowedKVReusesBlocks is the engine package's TestWindowedKVReusesBlocksWithoutChangingLogits on the
// GPU: the pool hands blocks that fell out of one sequence's window (every layer's, Mistral; the window
// layers' own, Gemma, whose block tables are one per layer group) to the next that grows, and two sequences
// decoding in turn in a pool of a few blocks must see the logits each sees alone in a pool that never reuses
// a block. A kernel that read a key outside its window, or a layer that read another group's table, would
// find the other sequence's.
func TestWindowedKVReusesBlocks(t *testing.T) {
	needGPU(t)
	for _, name := range []string{"mistral_swa", "gemma2", "gemma3"} {
		t.Run(name, func(t *testing.T) { testWindowedKVReuse(t, name) })
	}
}

func testWindowedKVReuse(t *testing.T, name string) {
	m, err := model.Load(filepath.Join(fidelityDir, name+".gguf"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	w := m.Hyper.SlidingWindow
	if w <= 0 {
		t.Fatal("fixture has no window")
	}
	const steps = 60
	prompts := [][]int{{5, 9, 3, 17, 2, 11, 4}, {8, 1, 12, 6, 15, 10, 7, 13, 14}}
	run := func(poolTokens int, together bool) [][][]float32 {
		g, err := Open(m, Options{Memory: memplan.Options{KVCacheTokens: poolTokens, KVType: kvcache.F32}})
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		out := make([][][]float32, len(prompts))
		seqs := make([]engine.SeqID, len(prompts))
		next := make([]int, len(prompts))
		start := func(i int) {
			if seqs[i], err = g.NewSequence(len(prompts[i]) + steps); err != nil {
				t.Fatal(err)
			}
			l, err := g.Prefill(seqs[i], prompts[i], false)
			if err != nil {
				t.Fatal(err)
			}
			out[i], next[i] = append(out[i], l[0]), argmax(l[0])
		}
		decode := func(i int) {
			l, err := g.Decode([]engine.DecodeInput{{Seq: seqs[i], Token: next[i]}})
			if err != nil {
				t.Fatalf("sequence %d in a pool of %d tokens: %v", i, poolTokens, err)
			}
			out[i], next[i] = append(out[i], l[0]), argmax(l[0])
		}
		for i := range prompts {
			start(i)
			if !together {
				for range steps {
					decode(i)
				}
				g.FreeSequence(seqs[i])
			}
		}
		if together {
			for range steps {
				for i := range prompts {
					decode(i)
				}
			}
		}
		return out
	}
	alone := run(4096, false)
	// Each sequence's global blocks and a window's of each window group; the pool is sized in tokens of every
	// group.
	bt, layout := kvcache.DefaultBlockTokens, kvcache.LayoutFor(m.Hyper)
	per := layout.SeqBlocks(len(prompts[1])+steps, len(prompts[1]), bt)
	small := (2*per + len(layout.Groups) - 1) / len(layout.Groups) * bt
	if layout.TokenBlocks(small, bt) >= 2*layout.TokenBlocks(len(prompts[1])+steps, bt) {
		t.Fatalf("a pool of %d tokens holds both sequences whole: nothing is reused", small)
	}
	shared := run(small, true)
	for i := range prompts {
		for j := range alone[i] {
			if d := maxRelDiff(shared[i][j], alone[i][j]); d > 1e-5 {
				t.Fatalf("sequence %d step %d: logits differ by %.3g with blocks reused (pool of %d tokens)", i, j, d, small)
			}
		}
	}
}
