package chattemplate

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ToolSyntax is how the model of a template writes tool calls: Begin, then
// the calls (each CallBegin, a JSON object {"name": ..., ArgsKey: {...}},
// CallEnd) separated by Sep, then End. Known templates (Qwen's and Hermes'
// <tool_call> tags, Mistral's [TOOL_CALLS] list, Llama 3.x's bare JSON object)
// keep their model's own syntax; any other template gets the generic one,
// which the system message describes (see polyfill).
type ToolSyntax struct {
	Name                                string
	Begin, End, CallBegin, CallEnd, Sep string
	ArgsKey                             string
	// Parallel says whether the model may make several calls in one turn.
	Parallel bool
	// Marker starts a tool call in the model's output; AtStart says a call can
	// only be the whole output (the JSON syntaxes), not follow some text.
	Marker  string
	AtStart bool
	// IDLength is the length of the call ids the template insists on (Mistral
	// v0.3 raises on anything but 9 characters); 0 is OpenAI's call_ form.
	IDLength int
}

// The generic syntax: a JSON object with a list of calls.
var genericTools = ToolSyntax{Name: "generic", Begin: `{"tool_calls": [`, End: `]}`, Sep: ", ", ArgsKey: "arguments",
	Parallel: true, Marker: "{", AtStart: true}

// ToolSyntax is how this template's model writes tool calls.
func (t *Template) ToolSyntax() ToolSyntax {
	src := t.source
	switch {
	case strings.Contains(src, "<tool_call>"):
		return ToolSyntax{Name: "hermes", CallBegin: "<tool_call>\n", CallEnd: "\n</tool_call>", Sep: "\n", ArgsKey: "arguments",
			Parallel: true, Marker: "<tool_call>"}
	case strings.Contains(src, "[TOOL_CALLS]"):
		s := ToolSyntax{Name: "mistral", Begin: "[TOOL_CALLS][", End: "]", Sep: ", ", ArgsKey: "arguments", Parallel: true,
			Marker: "[TOOL_CALLS]"}
		if strings.Contains(src, "[TOOL_CALLS] [") { // v0.3 writes a space after the tag
			s.Begin = "[TOOL_CALLS] ["
		}
		if strings.Contains(src, "% 9") || strings.Contains(src, "length == 9") || strings.Contains(src, "!= 9") {
			s.IDLength = 9
		}
		return s
	case strings.Contains(src, "<|start_header_id|>") && strings.Contains(src, "ipython"):
		// Llama 3.x: {"name": ..., "parameters": {...}}, one call at a time.
		return ToolSyntax{Name: "llama3", ArgsKey: "parameters", Marker: "{", AtStart: true}
	}
	return genericTools
}

// NewCallID returns an id for a call the model made, in the form the
// template accepts.
func (s ToolSyntax) NewCallID() string {
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	n := s.IDLength
	prefix := ""
	if n == 0 {
		n, prefix = 24, "call_"
	}
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return prefix + string(b)
}

// Parse finds the tool calls in a model's output: the text around them is
// the content; ok says whether there were any. Calls that do not parse as
// JSON with a name are left in the content.
func (s ToolSyntax) Parse(text string) (content string, calls []ToolCall, ok bool) {
	switch s.Name {
	case "hermes":
		var rest strings.Builder
		for {
			i := strings.Index(text, "<tool_call>")
			if i < 0 {
				rest.WriteString(text)
				break
			}
			body, after, closed := strings.Cut(text[i+len("<tool_call>"):], "</tool_call>")
			c, good := parseCall(body, s.ArgsKey)
			if !good {
				rest.WriteString(text)
				break
			}
			rest.WriteString(text[:i])
			calls = append(calls, c)
			if !closed {
				break
			}
			text = after
		}
		return strings.TrimSpace(rest.String()), calls, len(calls) > 0
	case "mistral":
		i := strings.Index(text, "[TOOL_CALLS]")
		if i < 0 {
			return text, nil, false
		}
		var list []json.RawMessage
		if json.Unmarshal([]byte(strings.TrimSpace(text[i+len("[TOOL_CALLS]"):])), &list) != nil {
			return text, nil, false
		}
		for _, raw := range list {
			c, good := parseCall(string(raw), s.ArgsKey)
			if !good {
				return text, nil, false
			}
			calls = append(calls, c)
		}
		return strings.TrimSpace(text[:i]), calls, len(calls) > 0
	case "llama3":
		body := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), "<|python_tag|>"))
		c, good := parseCall(body, s.ArgsKey)
		if !good {
			return text, nil, false
		}
		return "", []ToolCall{c}, true
	}
	var v struct {
		ToolCalls []json.RawMessage `json:"tool_calls"`
	}
	if json.Unmarshal([]byte(strings.TrimSpace(text)), &v) != nil || len(v.ToolCalls) == 0 {
		return text, nil, false
	}
	for _, raw := range v.ToolCalls {
		c, good := parseCall(string(raw), s.ArgsKey)
		if !good {
			return text, nil, false
		}
		calls = append(calls, c)
	}
	return "", calls, true
}

// parseCall reads {"name": ..., argsKey: {...}} (also under "arguments" or
// "parameters", whichever the model used); the arguments come back as
// compact JSON text, as OpenAI sends them.
func parseCall(body, argsKey string) (ToolCall, bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(strings.TrimSpace(body)), &obj) != nil {
		return ToolCall{}, false
	}
	var name string
	if json.Unmarshal(obj["name"], &name) != nil || name == "" {
		return ToolCall{}, false
	}
	args, ok := obj[argsKey]
	for _, k := range []string{"arguments", "parameters"} {
		if !ok {
			args, ok = obj[k]
		}
	}
	if !ok {
		args = json.RawMessage("{}")
	}
	var b bytes.Buffer
	if json.Compact(&b, args) != nil {
		return ToolCall{}, false
	}
	var id string
	_ = json.Unmarshal(obj["id"], &id)
	return ToolCall{ID: id, Name: name, Arguments: b.String()}, true
}

// polyfill adapts a conversation to a template that does not know tools
// (the plain format included), as llama.cpp does: the tools are described in
// the system message with the generic syntax, an assistant's calls become
// its content in that syntax. Templates that know them get the messages as
// they are.
func (t *Template) polyfill(messages []Message, tools [][]byte) ([]Message, error) {
	knowsTools := t.tpl != nil && strings.Contains(t.source, "tools")
	knowsCalls := t.tpl != nil && strings.Contains(t.source, "tool_calls")
	needs := len(tools) > 0 && !knowsTools
	for _, m := range messages {
		needs = needs || (len(m.ToolCalls) > 0 && !knowsCalls)
	}
	if !needs {
		return messages, nil
	}
	out := make([]Message, 0, len(messages)+1)
	if len(tools) > 0 && !knowsTools {
		var b strings.Builder
		b.WriteString("You can call these functions. To call functions, answer only with JSON: " +
			`{"tool_calls": [{"name": <function name>, "arguments": <arguments object>}]}` + "\nFunctions:")
		for _, raw := range tools {
			var c bytes.Buffer
			if err := json.Compact(&c, raw); err != nil {
				return nil, fmt.Errorf("%w: a tool is not JSON: %v", ErrTemplate, err)
			}
			b.WriteString("\n")
			b.Write(c.Bytes())
		}
		if len(messages) > 0 && messages[0].Role == "system" {
			first := messages[0]
			first.Content += "\n\n" + b.String()
			out = append(out, first)
			messages = messages[1:]
		} else {
			out = append(out, Message{Role: "system", Content: b.String()})
		}
	}
	for _, m := range messages {
		if len(m.ToolCalls) > 0 && !knowsCalls {
			var b strings.Builder
			b.WriteString(genericTools.Begin)
			for i, c := range m.ToolCalls {
				if i > 0 {
					b.WriteString(genericTools.Sep)
				}
				name, _ := json.Marshal(c.Name)
				fmt.Fprintf(&b, `{"name": %s, "arguments": %s}`, name, c.Arguments)
			}
			b.WriteString(genericTools.End)
			content := b.String()
			if m.Content != "" {
				content = m.Content + "\n" + content
			}
			m = Message{Role: m.Role, Content: content}
		}
		out = append(out, m)
	}
	return out, nil
}

// strftime formats t with the C directives chat templates use.
func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 == len(format) {
			b.WriteByte(format[i])
			continue
		}
		i++
		switch format[i] {
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'b':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'Y':
			fmt.Fprintf(&b, "%d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}
