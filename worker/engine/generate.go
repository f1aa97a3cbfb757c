package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Detokenizer is what Generate needs from a tokenizer; *tokenizer.Tokenizer
// satisfies it.
type Detokenizer interface {
	Decode(ids []int) string
	IsEOG(id int) bool
}

// Request is one generation.
type Request struct {
	Prompt []int
	// MaxTokens caps generated tokens; <= 0 means until the context is full.
	MaxTokens int
	Sampling  SamplingParams
	// Stop ends generation when the decoded text contains one of these; the
	// stop sequence itself is not part of the output.
	Stop []string
	// IgnoreEOS keeps generating past end-of-generation tokens.
	IgnoreEOS bool
	// Constraint, when set, limits every token to those it allows, and
	// generation ends when it is done.
	Constraint Constraint
}

// FinishReason says why generation ended, in OpenAI's vocabulary.
type FinishReason string

const (
	FinishStop   FinishReason = "stop"   // end-of-generation token or stop sequence
	FinishLength FinishReason = "length" // MaxTokens or context exhausted
)

// Event is delivered once per generated token. Text is the newly final text,
// which may be empty while an incomplete UTF-8 character or a possible stop
// sequence prefix is held back; concatenating all Texts gives Result.Text.
type Event struct {
	Token int
	Text  string
}

// Result is the outcome of Generate.
type Result struct {
	Tokens       []int // generated tokens, excluding a final EOG token
	Text         string
	Finish       FinishReason
	StopSequence string // the stop sequence that matched, if any
	PromptTokens int
	PrefillTime  time.Duration
	DecodeTime   time.Duration // all decode steps after the prefill
}

// Generate runs prefill, then samples and decodes one token at a time until
// an end-of-generation token, a stop sequence, MaxTokens, the context limit,
// or ctx ends. onToken (may be nil) streams the text; an error from it
// aborts generation and is returned.
func Generate(ctx context.Context, b Backend, d Detokenizer, req Request, onToken func(Event) error) (res Result, err error) {
	res.PromptTokens = len(req.Prompt)
	if len(req.Prompt) == 0 {
		return res, errors.New("generate: empty prompt")
	}
	ctxLen := b.Model().Hyper.ContextLength
	if len(req.Prompt) >= ctxLen {
		return res, fmt.Errorf("generate: prompt of %d tokens leaves no room in the %d-token context", len(req.Prompt), ctxLen)
	}
	maxNew := ctxLen - len(req.Prompt)
	if req.MaxTokens > 0 {
		maxNew = min(maxNew, req.MaxTokens)
	}
	seq, err := b.NewSequence(len(req.Prompt) + maxNew)
	if err != nil {
		return res, fmt.Errorf("generate: %w", err)
	}
	defer b.FreeSequence(seq)

	start := time.Now()
	logits, err := b.Prefill(seq, req.Prompt, false)
	if err != nil {
		return res, fmt.Errorf("generate: %w", err)
	}
	res.PrefillTime = time.Since(start)

	sampler := NewSampler(req.Sampling)
	history := append([]int(nil), req.Prompt...)
	text := NewTextTracker(d, req.Prompt, req.Stop)
	start = time.Now()
	defer func() { res.DecodeTime = time.Since(start) }()
	res.Finish = FinishLength
	for step := 0; step < maxNew; step++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var mask []uint64
		if req.Constraint != nil {
			if mask, err = req.Constraint.Allowed(); err != nil {
				return res, fmt.Errorf("generate: %w", err)
			}
		}
		tok := sampler.SampleMasked(logits[0], history, mask)
		if tok < 0 {
			return res, errors.New("generate: the constraint allows no token")
		}
		if !req.IgnoreEOS && d.IsEOG(tok) {
			res.Finish = FinishStop
			break
		}
		if req.Constraint != nil {
			if err := req.Constraint.Accept(tok); err != nil {
				return res, fmt.Errorf("generate: %w", err)
			}
		}
		history = append(history, tok)
		res.Tokens = append(res.Tokens, tok)
		piece, stop := text.Add(tok)
		if onToken != nil {
			if err := onToken(Event{Token: tok, Text: piece}); err != nil {
				return res, err
			}
		}
		if stop != "" {
			res.Finish, res.StopSequence = FinishStop, stop
			break
		}
		if req.Constraint != nil && req.Constraint.Done() {
			res.Finish = FinishStop
			break
		}
		if step == maxNew-1 {
			break // the last token needs no logits after it
		}
		if logits, err = b.Decode([]DecodeInput{{Seq: seq, Token: tok}}); err != nil {
			return res, fmt.Errorf("generate: %w", err)
		}
	}
	if res.StopSequence == "" {
		// Release text held back for a stop-sequence prefix that never completed.
		if rest := text.Flush(); rest != "" && onToken != nil {
			if err := onToken(Event{Token: -1, Text: rest}); err != nil {
				return res, err
			}
		}
	}
	res.Text = text.EmittedText()
	return res, nil
}

// TextTracker turns the generated tokens into final text. It re-decodes the
// generated tokens after the last prompt token each step, because
// tokenizers decode differently at the start of text (SentencePiece drops a
// leading space) and bytes of one character can span tokens.
type TextTracker struct {
	d       Detokenizer
	context []int // the last prompt token, so the first piece keeps its space
	prefix  string
	gen     []int
	emitted int // bytes of the decoded text already handed out
	text    string
	stops   []string
}

func NewTextTracker(d Detokenizer, prompt []int, stops []string) *TextTracker {
	t := &TextTracker{d: d, context: prompt[len(prompt)-1:]}
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
func (t *TextTracker) Add(tok int) (string, string) {
	t.gen = append(t.gen, tok)
	full := t.d.Decode(append(append([]int(nil), t.context...), t.gen...))
	if strings.HasPrefix(full, t.prefix) {
		full = full[len(t.prefix):]
	} else {
		full = t.d.Decode(t.gen)
	}
	t.text = full
	// Search only where a new match can start: after what was emitted.
	for _, s := range t.stops {
		if i := strings.Index(full[t.emitted:], s); i >= 0 {
			t.text = full[:t.emitted+i]
			return t.take(len(t.text)), s
		}
	}
	safe := len(full)
	// Hold back an incomplete UTF-8 character at the end: find the last
	// rune's first byte and check that the whole rune has arrived.
	for back := 1; back < utf8.UTFMax && back <= safe-t.emitted; back++ {
		if utf8.RuneStart(full[safe-back]) {
			if !utf8.FullRuneInString(full[safe-back : safe]) {
				safe -= back
			}
			break
		}
	}
	// Hold back a suffix that could be the start of a stop sequence.
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

func (t *TextTracker) take(upTo int) string {
	if upTo <= t.emitted {
		return ""
	}
	s := t.text[t.emitted:upTo]
	t.emitted = upTo
	return s
}

func (t *TextTracker) Flush() string { return t.take(len(t.text)) }

func (t *TextTracker) EmittedText() string { return t.text[:t.emitted] }
