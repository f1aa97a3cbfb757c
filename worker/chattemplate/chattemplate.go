// Package chattemplate turns chat messages into a prompt with the Jinja
// template a model ships in its GGUF metadata (tokenizer.chat_template),
// rendered the way Hugging Face's apply_chat_template does: Jinja with
// trim_blocks and lstrip_blocks, bos_token/eos_token, add_generation_prompt
// and raise_exception.
package chattemplate

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
)

// MetadataKey is the GGUF key holding the template.
const MetadataKey = "tokenizer.chat_template"

// Message is one chat turn. An assistant turn may call tools (ToolCalls);
// a tool turn answers the call ToolCallID.
type Message struct {
	Role       string
	Content    string
	ToolCalls  []ToolCall
	ToolCallID string
}

// ToolCall is a function call of an assistant turn; Arguments is JSON text.
type ToolCall struct {
	ID, Name, Arguments string
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
	// gonja's strip methods take no default cutset; Python's strip whitespace.
	src := stripCall.ReplaceAllString(rewriteInlineIfs(source), `.${1}strip(" \t\n\r")`)
	loader, err := loaders.NewMemoryLoader(map[string]string{"/chat_template": src})
	if err != nil {
		return nil, err
	}
	// Hugging Face's tojson is Python's json.dumps, not gonja's.
	filters := exec.NewFilterSet(map[string]exec.FilterFunction{}).Update(builtins.Filters)
	if err := errors.Join(filters.Replace("tojson", toJSON), filters.Replace("items", items), filters.Register("py_index", pyIndex)); err != nil {
		return nil, err
	}
	env := &exec.Environment{
		Context:           exec.EmptyContext().Update(builtins.GlobalFunctions).Update(builtins.GlobalVariables),
		Filters:           filters,
		Tests:             builtins.Tests,
		ControlStructures: builtins.ControlStructures,
		Methods: exec.Methods{Bool: builtins.Methods.Bool, Int: builtins.Methods.Int, Float: builtins.Methods.Float,
			Str: builtins.Methods.Str, List: builtins.Methods.List, Dict: dictMethods},
	}
	if t.tpl, err = exec.NewTemplate("/chat_template", cfg, loader, env); err != nil {
		return nil, fmt.Errorf("parse chat template: %w", err)
	}
	rewriteNegativeIndex(t.tpl.Root())
	return t, nil
}

var stripCall = regexp.MustCompile(`\.(l|r|)strip\(\)`)

// Plain reports whether t is the fallback "role: content" format used when
// the model has no template.
func (t *Template) Plain() bool { return t.tpl == nil }

// Render returns the prompt for messages; addGenerationPrompt appends the
// header that starts the assistant's turn.
func (t *Template) Render(messages []Message, addGenerationPrompt bool) (string, error) {
	return t.RenderTools(messages, nil, addGenerationPrompt)
}

// RenderTools is Render with the tools the model may call (each one as the
// client sent it, {"type": "function", "function": {...}}), passed to the
// template as its tools variable. A template that knows nothing of tools gets
// them described in the system message, and tool calls as JSON content (see
// polyfill).
func (t *Template) RenderTools(messages []Message, tools [][]byte, addGenerationPrompt bool) (string, error) {
	messages, err := t.polyfill(messages, tools)
	if err != nil {
		return "", err
	}
	return t.render(messages, tools, addGenerationPrompt, func(s string) string { return s })
}

// render runs the template; str rewrites every string of the messages and
// tools on the way in.
func (t *Template) render(messages []Message, tools [][]byte, addGenerationPrompt bool, str func(string) string) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("%w: %v", ErrTemplate, r)
		}
	}()
	if t.tpl == nil {
		msgs := make([]Message, len(messages))
		for i, m := range messages {
			msgs[i] = Message{Role: str(m.Role), Content: str(m.Content)}
		}
		return renderPlain(msgs, addGenerationPrompt), nil
	}
	msgs := make([]any, len(messages))
	for i, m := range messages {
		d := dict("role", str(m.Role), "content", str(m.Content))
		if len(m.ToolCalls) > 0 {
			calls := make([]any, len(m.ToolCalls))
			for j, c := range m.ToolCalls {
				// Templates print the arguments with tojson: an object, as
				// Hugging Face's examples pass them; other text stays a string.
				args := any(str(c.Arguments))
				if v, err := jsonValue([]byte(c.Arguments), str); err == nil {
					if _, ok := v.(*exec.Dict); ok {
						args = v
					}
				}
				calls[j] = dict("id", str(c.ID), "type", "function", "function", dict("name", str(c.Name), "arguments", args))
			}
			d.Pairs = append(d.Pairs, &exec.Pair{Key: exec.AsValue("tool_calls"), Value: exec.AsValue(calls)})
		}
		if m.ToolCallID != "" {
			d.Pairs = append(d.Pairs, &exec.Pair{Key: exec.AsValue("tool_call_id"), Value: exec.AsValue(str(m.ToolCallID))})
		}
		msgs[i] = d
	}
	var toolList any // None without tools, as apply_chat_template passes it
	if tools != nil {
		list := make([]any, len(tools))
		for i, raw := range tools {
			if list[i], err = jsonValue(raw, str); err != nil {
				return "", fmt.Errorf("%w: tool %d is not JSON: %v", ErrTemplate, i, err)
			}
		}
		toolList = list
	}
	var raised error
	ctx := exec.NewContext(map[string]any{
		"messages":              msgs,
		"tools":                 toolList,
		"bos_token":             t.bos,
		"eos_token":             t.eos,
		"add_generation_prompt": addGenerationPrompt,
		"raise_exception": func(msg string) (string, error) {
			raised = fmt.Errorf("%w: %s", ErrTemplate, msg)
			return "", raised
		},
		"strftime_now": func(format string) string { return strftime(time.Now(), format) },
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
	return t.RenderToolsPrompt(messages, nil, addGenerationPrompt)
}

// RenderToolsPrompt is RenderTools for a prompt to tokenize: every text of
// the client's (content, tool definitions, tool calls and their ids) is kept
// apart where it spells a protected text, so only the template's own markup
// becomes special tokens.
func (t *Template) RenderToolsPrompt(messages []Message, tools [][]byte, addGenerationPrompt bool) (Prompt, error) {
	messages, err := t.polyfill(messages, tools)
	if err != nil {
		return Prompt{}, err
	}
	if len(t.protected) == 0 {
		text, err := t.render(messages, tools, addGenerationPrompt, func(s string) string { return s })
		return Prompt{Text: text}, err
	}
	taken := map[rune]bool{}
	markTaken := func(s string) string {
		for _, r := range s {
			if r >= placeholderFirst && r <= placeholderLast {
				taken[r] = true
			}
		}
		return s
	}
	markTaken(t.source)
	markTaken(t.bos)
	markTaken(t.eos)
	visitStrings(messages, tools, markTaken)
	byText := map[string]rune{}
	byRune := map[rune]string{}
	next := placeholderFirst
	var failed error
	placeholder := func(text string) rune {
		if r, ok := byText[text]; ok {
			return r
		}
		for taken[next] {
			next++
		}
		if next > placeholderLast {
			failed = fmt.Errorf("%w: the messages use every private-use character the renderer needs", ErrTemplate)
			return utf8.RuneError
		}
		byText[text], byRune[next] = next, text
		next++
		return byText[text]
	}
	protect := func(s string) string {
		var b strings.Builder
		last := 0
		for j := 0; j < len(s); {
			p := t.protectedAt(s, j)
			if p == "" {
				j++
				continue
			}
			b.WriteString(s[last:j])
			b.WriteRune(placeholder(p))
			j += len(p)
			last = j
		}
		if last == 0 {
			return s
		}
		b.WriteString(s[last:])
		return b.String()
	}
	text, err := t.render(messages, tools, addGenerationPrompt, protect)
	if failed != nil {
		return Prompt{}, failed
	}
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

// visitStrings calls f on every string render would pass to the template.
func visitStrings(messages []Message, tools [][]byte, f func(string) string) {
	for _, m := range messages {
		f(m.Role)
		f(m.Content)
		f(m.ToolCallID)
		for _, c := range m.ToolCalls {
			f(c.ID)
			f(c.Name)
			f(c.Arguments)
			_, _ = jsonValue([]byte(c.Arguments), f)
		}
	}
	for _, raw := range tools {
		_, _ = jsonValue(raw, f)
	}
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
