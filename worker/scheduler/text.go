package scheduler

import (
	"strings"
	"unicode/utf8"

	"github.com/kubeinfer/kubeinfer/worker/engine"
)

// textTracker turns generated tokens into final text exactly as
// engine.Generate does (its tracker is unexported): it re-decodes the
// generated tokens after the last prompt token, holds back an incomplete
// UTF-8 character and any suffix that could start a stop sequence, and cuts
// the text at the first stop sequence. Keep the two in step; the scheduler
// tests compare the outputs token for token and byte for byte.
type textTracker struct {
	d       engine.Detokenizer
	context []int
	prefix  string
	gen     []int
	emitted int
	text    string
	stops   []string
}

func newTextTracker(d engine.Detokenizer, prompt []int, stops []string) *textTracker {
	t := &textTracker{d: d, context: prompt[len(prompt)-1:]}
	t.prefix = d.Decode(t.context)
	for _, s := range stops {
		if s != "" {
			t.stops = append(t.stops, s)
		}
	}
	return t
}

// add appends tok and returns the text that became final, and the stop
// sequence if one now appears.
func (t *textTracker) add(tok int) (string, string) {
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

func (t *textTracker) take(upTo int) string {
	if upTo <= t.emitted {
		return ""
	}
	s := t.text[t.emitted:upTo]
	t.emitted = upTo
	return s
}

func (t *textTracker) flush() string { return t.take(len(t.text)) }

func (t *textTracker) emittedText() string { return t.text[:t.emitted] }

// tokenText is the text one token adds after prev, for logprobs: decoding
// the pair keeps a SentencePiece token's leading space.
func tokenText(d engine.Detokenizer, prev, tok int) string {
	p := d.Decode([]int{prev})
	if both := d.Decode([]int{prev, tok}); strings.HasPrefix(both, p) {
		return both[len(p):]
	}
	return d.Decode([]int{tok})
}
