package engine

import (
	"path/filepath"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// With every layer windowed, the pool takes back a sequence's blocks as they fall out of the window and hands
// them to whoever grows next. Two sequences decoding in turn in a pool of a few blocks, so that each reuses
// blocks the other (or itself) gave back, must see exactly the logits each sees alone in a pool that never
// reuses anything: a read of a position outside the window would find the other sequence's keys.
func TestWindowedKVReusesBlocksWithoutChangingLogits(t *testing.T) {
	m, err := model.Load(filepath.Join(fidelityDir, "mistral_swa.gguf"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	w := m.Hyper.KVWindow()
	if w <= 0 || w+40 > m.Hyper.ContextLength {
		t.Fatalf("fixture: KV window %d, context %d", w, m.Hyper.ContextLength)
	}
	const steps = 60
	prompts := [][]int{{5, 9, 3, 17, 2, 11, 4}, {8, 1, 12, 6, 15, 10, 7, 13, 14}}
	run := func(poolTokens int, together bool) [][][]float32 {
		c, err := NewCPU(m, CPUOptions{KVCacheTokens: poolTokens})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		out := make([][][]float32, len(prompts))
		seqs := make([]SeqID, len(prompts))
		next := make([]int, len(prompts))
		start := func(i int) {
			if seqs[i], err = c.NewSequence(len(prompts[i]) + steps); err != nil {
				t.Fatal(err)
			}
			l, err := c.Prefill(seqs[i], prompts[i], false)
			if err != nil {
				t.Fatal(err)
			}
			out[i], next[i] = append(out[i], l[0]), argmax(l[0])
		}
		decode := func(i int) {
			l, err := c.Decode([]DecodeInput{{Seq: seqs[i], Token: next[i]}})
			if err != nil {
				t.Fatalf("sequence %d at %d tokens in a pool of %d: %v", i, len(prompts[i])+len(out[i]), poolTokens, err)
			}
			out[i], next[i] = append(out[i], l[0]), argmax(l[0])
		}
		if together {
			for i := range prompts {
				start(i)
			}
			for range steps {
				for i := range prompts {
					decode(i)
				}
			}
		} else {
			for i := range prompts {
				start(i)
				for range steps {
					decode(i)
				}
				c.FreeSequence(seqs[i])
			}
		}
		return out
	}
	alone := run(4096, false)
	// Each sequence holds at most WindowBlocks at once (prefill adds its prompt in one step).
	bt := kvcache.DefaultBlockTokens
	small := 2 * kvcache.WindowBlocks(w, len(prompts[1]), bt) * bt
	if small >= 2*(len(prompts[1])+steps) {
		t.Fatalf("a pool of %d tokens holds both sequences whole: nothing is reused", small)
	}
	shared := run(small, true)
	for i := range prompts {
		for j := range alone[i] {
			if d := maxDiff(shared[i][j], alone[i][j]); d != 0 {
				t.Fatalf("sequence %d step %d: logits differ by %g with blocks reused", i, j, d)
			}
		}
	}
}
