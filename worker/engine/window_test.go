package engine

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// The pool takes back a sequence's blocks of windowed layers as they fall out of the window and hands them to
// whoever grows next: every layer's (Mistral's window) or the window layers' own blocks (Gemma's local layers,
// whose global layers keep everything). Two sequences decoding in turn in a pool of a few blocks, so that each
// reuses blocks the other (or itself) gave back, must see exactly the logits each sees alone in a pool that
// never reuses anything: a read of a position outside the window would find the other sequence's keys.
func TestWindowedKVReusesBlocksWithoutChangingLogits(t *testing.T) {
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
	if w <= 0 || w+40 > m.Hyper.ContextLength {
		t.Fatalf("fixture: window %d, context %d", w, m.Hyper.ContextLength)
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
	// Each sequence holds its global layers' blocks and at most WindowBlocks of each window group at once
	// (prefill adds its prompt in one step); the pool is sized in tokens of every group.
	bt := kvcache.DefaultBlockTokens
	layout := kvcache.LayoutFor(m.Hyper)
	per := layout.SeqBlocks(len(prompts[1])+steps, len(prompts[1]), bt)
	small := (2*per + len(layout.Groups) - 1) / len(layout.Groups) * bt
	if layout.TokenBlocks(small, bt) >= 2*layout.TokenBlocks(len(prompts[1])+steps, bt) {
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

// A prompt that starts with an earlier one's tokens, longer than the window, reuses the global layers' blocks
// and the window layers' last ones, and gives the logits a cold engine gives.
func TestMixedWindowPrefixReuseMatchesCold(t *testing.T) {
	m, err := model.Load(filepath.Join(fidelityDir, "gemma3.gguf"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(kvcache.LayoutFor(m.Hyper).Groups) < 2 {
		t.Fatal("fixture: gemma3 should mix window and global layers")
	}
	first := make([]int, 40)
	for i := range first {
		first[i] = 3 + (i*7)%200
	}
	second := append(slices.Clone(first), 17, 4, 9, 12, 30)
	start := func(c *CPU, prompt []int) ([]float32, int) {
		seq, cached, err := c.StartSequence(len(prompt)+4, prompt)
		if err != nil {
			t.Fatal(err)
		}
		defer c.FreeSequence(seq)
		l, err := c.Prefill(seq, prompt[cached:], false)
		if err != nil {
			t.Fatal(err)
		}
		return l[0], cached
	}
	warm, err := NewCPU(m, CPUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer warm.Close()
	start(warm, first)
	got, cached := start(warm, second)
	if bt := kvcache.DefaultBlockTokens; cached != (len(first)/bt)*bt || cached <= m.Hyper.SlidingWindow {
		t.Fatalf("cached %d tokens of the %d-token prefix (window %d)", cached, len(first), m.Hyper.SlidingWindow)
	}
	cold, err := NewCPU(m, CPUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cold.Close()
	want, _ := start(cold, second)
	if d := maxDiff(got, want); d != 0 {
		t.Fatalf("logits after a cached prefix differ from a cold run by %g", d)
	}
}
