// Package chattemplate turns chat messages into a prompt with the Jinja
// template a model ships in its GGUF metadata (tokenizer.chat_template),
// rendered the way Hugging Face's apply_chat_template does: Jinja with
// trim_blocks and lstrip_blocks, bos_token/eos_token, add_generation_prompt
// and raise_exception.
package chattemplate

import (
	"errors"
	"fmt"
	"strings"

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
}

// ErrTemplate wraps errors the template raised for the given messages
// (raise_exception, a failed expression): the request is at fault, so the
// server answers 400.
var ErrTemplate = errors.New("chat template")

// New parses source. bos and eos are the texts of the model's BOS and EOS
// tokens. An empty source gives the plain fallback (see Plain).
func New(source, bos, eos string) (*Template, error) {
	t := &Template{source: source, bos: bos, eos: eos}
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
func (t *Template) Render(messages []Message, addGenerationPrompt bool) (string, error) {
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
	out, err := t.tpl.ExecuteToString(ctx)
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
