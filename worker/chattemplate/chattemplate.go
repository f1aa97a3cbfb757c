// Package chattemplate turns chat messages into a prompt with the Jinja
// template a model ships in its GGUF metadata (tokenizer.chat_template),
// rendered the way Hugging Face's apply_chat_template does: Jinja with
// trim_blocks and lstrip_blocks, bos_token/eos_token, add_generation_prompt
// and raise_exception.
package chattemplate

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
)

// MetadataKey is the GGUF key holding the template.
const MetadataKey = "tokenizer.chat_template"

// Message is one chat turn.
type Message struct {
	Role    string
	Content string
}

// Template renders prompts. It is safe for concurrent use.
type Template struct {
	source   string
	bos, eos string
	tpl      *exec.Template // nil for the plain fallback
	// protected are the texts RenderPrompt keeps apart in message content,
	// longest first, indexed by their first byte.
	protected map[byte][]string
}

// ErrTemplate wraps errors the template raised for the given messages
// (raise_exception, a failed expression): the request is at fault, so the
// server answers 400.
var ErrTemplate = errors.New("chat template")

// New parses source. bos and eos are the texts of the model's BOS and EOS
// tokens. An empty source gives the plain fallback (see Plain).
func New(source, bos, eos string) (t *Template, err error) {
	// The source comes from a model file; a parser panic must be an error.
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("parse chat template: %v", r)
		}
	}()
	t = &Template{source: source, bos: bos, eos: eos}
	if source == "" {
		return t, nil
	}
	cfg := config.New()
	// Hugging Face renders chat templates with trim_blocks and lstrip_blocks.
	cfg.TrimBlocks = true
	cfg.LeftStripBlocks = true
	loader, err := loaders.NewMemoryLoader(map[string]string{"/chat_template": source})
	if err != nil {
		return nil, err
	}
	env := &exec.Environment{
		Context:           exec.EmptyContext().Update(builtins.GlobalFunctions).Update(builtins.GlobalVariables),
		Filters:           builtins.Filters,
		Tests:             builtins.Tests,
		ControlStructures: builtins.ControlStructures,
		Methods:           builtins.Methods,
	}
	if t.tpl, err = exec.NewTemplate("/chat_template", cfg, loader, env); err != nil {
		return nil, fmt.Errorf("parse chat template: %w", err)
	}
	return t, nil
}

// Plain reports whether t is the fallback "role: content" format used when
// the model has no template.
func (t *Template) Plain() bool { return t.tpl == nil }

// Render returns the prompt for messages; addGenerationPrompt appends the
// header that starts the assistant's turn.
func (t *Template) Render(messages []Message, addGenerationPrompt bool) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("%w: %v", ErrTemplate, r)
		}
	}()
	if t.tpl == nil {
		return renderPlain(messages, addGenerationPrompt), nil
	}
	msgs := make([]map[string]any, len(messages))
	for i, m := range messages {
		msgs[i] = map[string]any{"role": m.Role, "content": m.Content}
	}
	var raised error
	ctx := exec.NewContext(map[string]any{
		"messages":              msgs,
		"bos_token":             t.bos,
		"eos_token":             t.eos,
		"add_generation_prompt": addGenerationPrompt,
		"raise_exception": func(msg string) (string, error) {
			raised = fmt.Errorf("%w: %s", ErrTemplate, msg)
			return "", raised
		},
	})
	out, err = t.tpl.ExecuteToString(ctx)
	if raised != nil {
		return "", raised
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrTemplate, err)
	}
	return out, nil
}

// renderPlain is the fallback: one "role: content" line per message, and
// "assistant:" to start the reply.
func renderPlain(messages []Message, addGenerationPrompt bool) string {
	var b strings.Builder
	for _, m := range messages {
		fmt.Fprintf(&b, "%s: %s\n", m.Role, m.Content)
	}
	if addGenerationPrompt {
		b.WriteString("assistant:")
	}
	return b.String()
}

// WithProtected returns a copy of t whose RenderPrompt marks where message
// content spells one of texts (the tokenizer's control tokens), so that the
// tokenizer reads them as plain text and only the template's own markup
// becomes special tokens.
func (t *Template) WithProtected(texts []string) *Template {
	c := *t
	sorted := append([]string(nil), texts...)
	sort.SliceStable(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	c.protected = map[byte][]string{}
	for _, s := range sorted {
		if s != "" {
			c.protected[s[0]] = append(c.protected[s[0]], s)
		}
	}
	return &c
}

// Prompt is a rendered chat prompt.
type Prompt struct {
	Text string
	// Literal are the byte ranges of Text, in order, where message content
	// spells a protected text: they must be tokenized as plain text.
	Literal [][2]int
}

// Placeholders stand for protected texts in content while the template runs,
// so that the template treats them as the ordinary characters they are (strip,
// trim and slicing see one non-space character) and they can be found again
// in its output. They come from Supplementary Private Use Area-A, skipping
// any rune the input already holds.
const (
	placeholderFirst = rune(0xF0000)
	placeholderLast  = rune(0xFFFFD)
)

// RenderPrompt is Render for a prompt to tokenize: it also returns where
// message content spelled a protected text (see WithProtected).
func (t *Template) RenderPrompt(messages []Message, addGenerationPrompt bool) (Prompt, error) {
	if len(t.protected) == 0 {
		text, err := t.Render(messages, addGenerationPrompt)
		return Prompt{Text: text}, err
	}
	taken := map[rune]bool{}
	markTaken := func(s string) {
		for _, r := range s {
			if r >= placeholderFirst && r <= placeholderLast {
				taken[r] = true
			}
		}
	}
	markTaken(t.source)
	markTaken(t.bos)
	markTaken(t.eos)
	for _, m := range messages {
		markTaken(m.Role)
		markTaken(m.Content)
	}
	byText := map[string]rune{}
	byRune := map[rune]string{}
	next := placeholderFirst
	placeholder := func(text string) (rune, error) {
		if r, ok := byText[text]; ok {
			return r, nil
		}
		for taken[next] {
			next++
		}
		if next > placeholderLast {
			return 0, fmt.Errorf("%w: the messages use every private-use character the renderer needs", ErrTemplate)
		}
		byText[text], byRune[next] = next, text
		next++
		return byText[text], nil
	}
	msgs := make([]Message, len(messages))
	for i, m := range messages {
		msgs[i] = m
		var b strings.Builder
		last := 0
		for j := 0; j < len(m.Content); {
			p := t.protectedAt(m.Content, j)
			if p == "" {
				j++
				continue
			}
			r, err := placeholder(p)
			if err != nil {
				return Prompt{}, err
			}
			b.WriteString(m.Content[last:j])
			b.WriteRune(r)
			j += len(p)
			last = j
		}
		if last > 0 {
			b.WriteString(m.Content[last:])
			msgs[i].Content = b.String()
		}
	}
	text, err := t.Render(msgs, addGenerationPrompt)
	if err != nil || len(byRune) == 0 {
		return Prompt{Text: text}, err
	}
	// Put the texts back, byte by byte so that nothing else changes.
	var p Prompt
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		if r, size := utf8.DecodeRuneInString(text[i:]); size == 4 {
			if orig, ok := byRune[r]; ok {
				start := b.Len()
				b.WriteString(orig)
				p.Literal = append(p.Literal, [2]int{start, b.Len()})
				i += size
				continue
			}
		}
		b.WriteByte(text[i])
		i++
	}
	p.Text = b.String()
	return p, nil
}

// protectedAt returns the longest protected text at s[i:], or "".
func (t *Template) protectedAt(s string, i int) string {
	for _, p := range t.protected[s[i]] {
		if strings.HasPrefix(s[i:], p) {
			return p
		}
	}
	return ""
}
