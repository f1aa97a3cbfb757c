package engine

import (
	"bytes"
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

// TextTracker turns the generated tokens into final text. Tokenizers decode
// differently at the start of text (SentencePiece drops a leading space) and
// bytes of one character can span tokens, so it decodes a window of the last
// tokens after the token before them, and folds the window's head into the
// final text once it decodes to whole characters the same alone as in the
// window: a step decodes a few tokens, however long the generation (decoding
// all of it each step cost a 64-stream batch's host more with every token).
type TextTracker struct {
	d       Detokenizer
	last    int // the last prompt token: the context of the first window
	gen     []int
	base    int    // gen[:base] is decoded for good, into text[:done]
	done    int    // bytes of text that no later token changes
	text    []byte // the generation's text: text[:done], then the window's
	emitted int    // bytes of text already handed out
	stops   []string
	// pre is the text of the token preCtx alone, which decode strips from the window's text: the window's
	// context changes only when its head is folded, so most steps decode one call, not two.
	preCtx  int
	pre     string
	scratch []int // decode's ids: the context, then the window
}

// trackerWindow is how many tokens the window keeps when its head is folded
// into the final text; it is folded once it holds twice that.
const trackerWindow = 4

func NewTextTracker(d Detokenizer, prompt []int, stops []string) *TextTracker {
	t := &TextTracker{d: d, last: prompt[len(prompt)-1], preCtx: -1}
	for _, s := range stops {
		if s != "" {
			t.stops = append(t.stops, s)
		}
	}
	return t
}

// decode is the text of gen[from:to] as it reads after the token before it.
func (t *TextTracker) decode(from, to int) string {
	ctx := t.last
	if from > 0 {
		ctx = t.gen[from-1]
	}
	if ctx != t.preCtx {
		t.preCtx, t.pre = ctx, t.d.Decode([]int{ctx})
	}
	t.scratch = append(append(t.scratch[:0], ctx), t.gen[from:to]...)
	if full := t.d.Decode(t.scratch); strings.HasPrefix(full, t.pre) {
		return full[len(t.pre):]
	}
	return t.d.Decode(t.gen[from:to])
}

// Add appends tok and returns the text that became final, and the stop
// sequence if one now appears.
func (t *TextTracker) Add(tok int) (string, string) {
	t.gen = append(t.gen, tok)
	window := t.decode(t.base, len(t.gen))
	t.text = append(t.text[:t.done], window...)
	defer t.fold(window)
	// Search only where a new match can start: after what was emitted.
	for _, s := range t.stops {
		if i := bytes.Index(t.text[t.emitted:], []byte(s)); i >= 0 {
			t.text = t.text[:t.emitted+i]
			return t.take(len(t.text)), s
		}
	}
	safe := len(t.text)
	// Hold back an incomplete UTF-8 character at the end: find the last
	// rune's first byte and check that the whole rune has arrived.
	for back := 1; back < utf8.UTFMax && back <= safe-t.emitted; back++ {
		if utf8.RuneStart(t.text[safe-back]) {
			if !utf8.FullRune(t.text[safe-back : safe]) {
				safe -= back
			}
			break
		}
	}
	// Hold back a suffix that could be the start of a stop sequence.
	for _, s := range t.stops {
		for k := min(len(s)-1, safe-t.emitted); k > 0; k-- {
			if bytes.HasSuffix(t.text[:safe], []byte(s[:k])) {
				safe -= k
				break
			}
		}
	}
	return t.take(safe), ""
}

// fold moves the window's head into the final text when the window has grown
// to twice trackerWindow tokens and the head decodes alone to a prefix of
// window that ends where a character of window starts (bytes that are no
// UTF-8 stay as they are either way). A stop that cut the text leaves it.
func (t *TextTracker) fold(window string) {
	if len(t.text) != t.done+len(window) || len(t.gen)-t.base < 2*trackerWindow {
		return
	}
	to := len(t.gen) - trackerWindow
	head := t.decode(t.base, to)
	if !strings.HasPrefix(window, head) || strings.HasSuffix(head, string(utf8.RuneError)) ||
		(len(head) < len(window) && !utf8.RuneStart(window[len(head)])) {
		return
	}
	t.base, t.done = to, t.done+len(head)
}

func (t *TextTracker) take(upTo int) string {
	if upTo <= t.emitted {
		return ""
	}
	s := string(t.text[t.emitted:upTo])
	t.emitted = upTo
	return s
}

func (t *TextTracker) Flush() string { return t.take(len(t.text)) }

func (t *TextTracker) EmittedText() string { return string(t.text[:t.emitted]) }
