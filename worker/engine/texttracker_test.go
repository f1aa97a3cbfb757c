package engine

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

// redecodeTracker is the tracker's meaning written the slow way: every step decodes the whole generation after
// the last prompt token. TextTracker must hand out exactly what it does, piece by piece.
type redecodeTracker struct {
	d       Detokenizer
	context []int
	prefix  string
	gen     []int
	emitted int
	text    string
	stops   []string
}

func (t *redecodeTracker) add(tok int) (string, string) {
	t.gen = append(t.gen, tok)
	full := t.d.Decode(append(append([]int(nil), t.context...), t.gen...))
	if strings.HasPrefix(full, t.prefix) {
		full = full[len(t.prefix):]
	} else {
		full = t.d.Decode(t.gen)
	}
	t.text = full
	for _, s := range t.stops {
		if i := strings.Index(full[t.emitted:], s); i >= 0 {
			t.text = full[:t.emitted+i]
			return t.take(len(t.text)), s
		}
	}
	safe := len(full)
	for back := 1; back < utf8.UTFMax && back <= safe-t.emitted; back++ {
		if utf8.RuneStart(full[safe-back]) {
			if !utf8.FullRuneInString(full[safe-back : safe]) {
				safe -= back
			}
			break
		}
	}
	for _, s := range t.stops {
		for k := min(len(s)-1, safe-t.emitted); k > 0; k-- {
			if strings.HasSuffix(full[:safe], s[:k]) {
				safe -= k
				break
			}
		}
	}
	return t.take(safe), ""
}

func (t *redecodeTracker) take(upTo int) string {
	if upTo <= t.emitted {
		return ""
	}
	s := t.text[t.emitted:upTo]
	t.emitted = upTo
	return s
}

// TestTextTrackerMatchesRedecoding runs the windowed tracker and the whole-text one side by side over random
// generations in the fixtures' real vocabularies: byte-level BPE (GPT-2, Qwen), SentencePiece with its leading
// space and byte pieces (Llama, Gemma), with stop sequences taken from the text itself and multi-byte
// characters cut across tokens. Every piece, every stop and the final text must be identical.
func TestTextTrackerMatchesRedecoding(t *testing.T) {
	for _, name := range []string{"gpt2", "qwen3", "llama_gqa", "gemma3"} {
		t.Run(name, func(t *testing.T) {
			m, tok := loadServable(t, filepath.Join("..", "testdata", "fidelity", name+".gguf"), "")
			vocab := m.Hyper.VocabSize
			rng := rand.New(rand.NewPCG(7, uint64(len(name))))
			text := tok.Encode("naïve café — 東京 🙂 ok, done. ", false) // multi-byte characters in the vocabulary's own pieces
			folds, stopped := 0, 0
			for trial := range 60 {
				gen := make([]int, 40+rng.IntN(200))
				for i := range gen {
					if rng.IntN(3) == 0 && len(text) > 0 {
						gen[i] = text[rng.IntN(len(text))]
					} else {
						gen[i] = rng.IntN(vocab)
					}
				}
				var stops []string
				if trial%2 == 1 { // a stop from the middle of the whole text, so it is found
					if whole := tok.Decode(gen); len(whole) > 8 {
						at := len(whole)/2 + rng.IntN(len(whole)/2-4)
						stops = append(stops, whole[at:at+1+rng.IntN(3)])
					}
				}
				prompt := []int{rng.IntN(vocab)}
				got := NewTextTracker(tok, prompt, stops)
				ref := &redecodeTracker{d: tok, context: prompt, prefix: tok.Decode(prompt), stops: stops}
				for i, id := range gen {
					gp, gs := got.Add(id)
					rp, rs := ref.add(id)
					if gp != rp || gs != rs {
						t.Fatalf("trial %d, token %d of %d: got (%q, %q), re-decoding gives (%q, %q)", trial, i, len(gen), gp, gs, rp, rs)
					}
					if gs != "" {
						stopped++
						break
					}
				}
				if got.base > 0 {
					folds++
				}
				if g, r := got.Flush(), ref.take(len(ref.text)); g != r {
					t.Fatalf("trial %d: flush %q, re-decoding %q", trial, g, r)
				}
				if got.EmittedText() != ref.text[:ref.emitted] {
					t.Fatalf("trial %d: text %q, re-decoding %q", trial, got.EmittedText(), ref.text[:ref.emitted])
				}
			}
			// The comparison means something only if the window really moved and stops really cut.
			if folds < 30 || stopped < 10 {
				t.Fatalf("%d of 60 generations folded their window, %d stopped: the test did not exercise the tracker", folds, stopped)
			}
		})
	}
}

// loadServable loads the model at path with its tokenizer, as a worker serves it; the model closes with the test.
func loadServable(t *testing.T, path string, family model.Family) (*model.Model, *tokenizer.Tokenizer) {
	t.Helper()
	m, err := model.Load(path, family)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	tok, err := tokenizer.FromGGUF(m.File)
	if err != nil {
		t.Fatalf("tokenizer from %s: %v", path, err)
	}
	return m, tok
}
