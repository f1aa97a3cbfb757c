package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/kubeinfer/kubeinfer/worker/chattemplate"
	"github.com/kubeinfer/kubeinfer/worker/grammar"
)

var (
	toolFields       = map[string]field{"type": impl, "function": impl}
	functionFields   = map[string]field{"name": impl, "description": impl, "parameters": impl, "strict": ignore}
	toolCallFields   = map[string]field{"id": impl, "type": impl, "function": impl}
	callFuncFields   = map[string]field{"name": impl, "arguments": impl}
	toolChoiceFields = map[string]field{"type": impl, "function": impl}
	choiceFuncFields = map[string]field{"name": impl}
	// OpenAI's rule for function names.
	functionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

type toolDef struct {
	Type     string          `json:"type"`
	Function json.RawMessage `json:"function"`
}

type functionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// tool is a validated tool of a request.
type tool struct {
	name   string
	raw    []byte // as the client sent it, for the template
	params []byte // the JSON Schema of its arguments, or nil
}

// toolMode is what tool_choice asks for.
type toolMode int

const (
	toolsNone     toolMode = iota // no tools, or tool_choice none: plain content
	toolsAuto                     // the model decides; its output is parsed for calls
	toolsRequired                 // one or more calls, constrained to the schemas
	toolsNamed                    // one call of the named function, constrained
)

// toolRequest is what a chat request asks of tools.
type toolRequest struct {
	tools    []tool
	mode     toolMode
	named    string
	parallel bool
}

func parseTools(raws []json.RawMessage) ([]tool, *apiError) {
	tools := make([]tool, 0, len(raws))
	seen := map[string]bool{}
	for i, raw := range raws {
		prefix := fmt.Sprintf("tools[%d].", i)
		var t toolDef
		if e := decodeObject(raw, toolFields, prefix, &t); e != nil {
			return nil, e
		}
		if t.Type != "function" {
			return nil, invalid(prefix+"type", "%stype is %q; only function tools are supported.", prefix, t.Type)
		}
		var f functionDef
		if e := decodeObject(t.Function, functionFields, prefix+"function.", &f); e != nil {
			return nil, e
		}
		if !functionName.MatchString(f.Name) {
			return nil, invalid(prefix+"function.name", "%sfunction.name %q must be 1 to 64 letters, digits, underscores or dashes.", prefix, f.Name)
		}
		if seen[f.Name] {
			return nil, invalid(prefix+"function.name", "two tools are called %q; names must be unique.", f.Name)
		}
		seen[f.Name] = true
		var params []byte
		if len(f.Parameters) > 0 && string(f.Parameters) != "null" {
			if strings.TrimSpace(string(f.Parameters))[0] != '{' {
				return nil, invalid(prefix+"function.parameters", "%sfunction.parameters must be a JSON Schema object.", prefix)
			}
			params = f.Parameters
		}
		tools = append(tools, tool{name: f.Name, raw: raw, params: params})
	}
	return tools, nil
}

func parseToolChoice(raw json.RawMessage, tools []tool, parallel *bool) (toolRequest, *apiError) {
	tr := toolRequest{tools: tools, parallel: parallel == nil || *parallel}
	if len(raw) == 0 || string(raw) == "null" {
		if len(tools) > 0 {
			tr.mode = toolsAuto
		}
		return tr, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "none":
			tr.mode = toolsNone
		case "auto":
			tr.mode = toolsAuto
		case "required":
			tr.mode = toolsRequired
		default:
			return tr, invalid("tool_choice", "tool_choice %q is not one of none, auto, required, or {\"type\": \"function\", \"function\": {\"name\": ...}}.", s)
		}
		if tr.mode != toolsNone && len(tools) == 0 {
			return tr, invalid("tool_choice", "tool_choice %q needs tools.", s)
		}
		return tr, nil
	}
	var c struct {
		Type     string          `json:"type"`
		Function json.RawMessage `json:"function"`
	}
	if e := decodeObject(raw, toolChoiceFields, "tool_choice.", &c); e != nil {
		return tr, e
	}
	if c.Type != "function" {
		return tr, invalid("tool_choice.type", "tool_choice.type is %q; only function is supported.", c.Type)
	}
	var f struct {
		Name string `json:"name"`
	}
	if e := decodeObject(c.Function, choiceFuncFields, "tool_choice.function.", &f); e != nil {
		return tr, e
	}
	for _, t := range tools {
		if t.name == f.Name {
			tr.mode, tr.named = toolsNamed, f.Name
			return tr, nil
		}
	}
	return tr, invalid("tool_choice.function.name", "tool_choice names %q, which is not one of the tools.", f.Name)
}

// messageToolCalls decodes an assistant message's tool_calls.
func messageToolCalls(raws []json.RawMessage, prefix string) ([]chattemplate.ToolCall, *apiError) {
	calls := make([]chattemplate.ToolCall, 0, len(raws))
	for i, raw := range raws {
		p := fmt.Sprintf("%stool_calls[%d].", prefix, i)
		var c struct {
			ID       string          `json:"id"`
			Type     string          `json:"type"`
			Function json.RawMessage `json:"function"`
		}
		if e := decodeObject(raw, toolCallFields, p, &c); e != nil {
			return nil, e
		}
		if c.Type != "" && c.Type != "function" {
			return nil, invalid(p+"type", "%stype is %q; only function calls are supported.", p, c.Type)
		}
		var f functionCall
		if e := decodeObject(c.Function, callFuncFields, p+"function.", &f); e != nil {
			return nil, e
		}
		if f.Name == "" {
			return nil, invalid(p+"function.name", "%sfunction.name is required.", p)
		}
		calls = append(calls, chattemplate.ToolCall{ID: c.ID, Name: f.Name, Arguments: f.Arguments})
	}
	return calls, nil
}

// toolConstraint is the grammar of the calls tool_choice requires (nil for
// none and auto).
func (sv serving) toolConstraint(tr toolRequest) (*grammar.Machine, *apiError) {
	if tr.mode != toolsRequired && tr.mode != toolsNamed {
		return nil, nil
	}
	syn := sv.m.Template.ToolSyntax()
	gs := grammar.ToolSyntax{Begin: syn.Begin, End: syn.End, CallBegin: syn.CallBegin, CallEnd: syn.CallEnd, Sep: syn.Sep,
		ArgsKey: syn.ArgsKey, Parallel: syn.Parallel && tr.parallel && tr.mode == toolsRequired, MaxCalls: maxParallelToolCalls}
	var fns []grammar.Function
	var index []int
	var key strings.Builder
	fmt.Fprintf(&key, "tools:%s:%v", syn.Name, gs.Parallel)
	for i, t := range tr.tools {
		if tr.mode == toolsNamed && t.name != tr.named {
			continue
		}
		fns = append(fns, grammar.Function{Name: t.name, Parameters: t.params})
		index = append(index, i)
		fmt.Fprintf(&key, "\x00%s\x00%s", t.name, compactJSON(t.params))
	}
	m, err := sv.grammars.machine(key.String(), func() (*grammar.Grammar, error) { return grammar.ToolCalls(gs, fns) })
	if err != nil {
		param := "tools"
		var fe *grammar.FunctionError
		if errors.As(err, &fe) {
			param = fmt.Sprintf("tools[%d].function.parameters", index[fe.Index])
		}
		return nil, schemaError(param, err)
	}
	return m, nil
}

// toolOutput follows one choice's text when tools may be called: what can be
// streamed as content now, and at the end the calls it made.
type toolOutput struct {
	syn  chattemplate.ToolSyntax
	mode toolMode
	text strings.Builder
	sent int  // bytes of text streamed as content
	held bool // a call started: the rest waits for the end
	open bool // the output may still turn out to be a call at its start
}

func newToolOutput(syn chattemplate.ToolSyntax, mode toolMode) *toolOutput {
	return &toolOutput{syn: syn, mode: mode, open: true}
}

// add takes the next piece of text and returns the content that may be
// streamed now: all of it without tools; with them, everything that cannot
// be (the start of) a call.
func (o *toolOutput) add(piece string) string {
	o.text.WriteString(piece)
	if o.mode == toolsNone {
		o.sent = o.text.Len()
		return piece
	}
	if o.held || o.mode == toolsRequired || o.mode == toolsNamed {
		return ""
	}
	full := o.text.String()
	if o.syn.AtStart {
		if !o.open {
			return o.take(len(full))
		}
		start := strings.TrimLeftFunc(full, unicode.IsSpace)
		switch {
		case start == "" || strings.HasPrefix(o.syn.Marker, start):
			return ""
		case strings.HasPrefix(start, o.syn.Marker):
			o.held = true
			return ""
		}
		o.open = false
		return o.take(len(full))
	}
	rest := full[o.sent:]
	if i := strings.Index(rest, o.syn.Marker); i >= 0 {
		o.held = true
		return o.take(o.sent + i)
	}
	for k := min(len(o.syn.Marker)-1, len(rest)); k > 0; k-- {
		if strings.HasSuffix(rest, o.syn.Marker[:k]) {
			return o.take(len(full) - k)
		}
	}
	return o.take(len(full))
}

func (o *toolOutput) take(upTo int) string {
	s := o.text.String()[o.sent:upTo]
	o.sent = upTo
	return s
}

// finish parses the whole output: the calls, the content (all of it, for a
// response), and the content not streamed yet.
func (o *toolOutput) finish() (content string, calls []toolCallOut, unsent string) {
	full := o.text.String()
	if o.mode != toolsNone {
		if c, parsed, ok := o.syn.Parse(full); ok {
			for _, p := range parsed {
				id := p.ID
				if id == "" {
					id = o.syn.NewCallID()
				}
				calls = append(calls, toolCallOut{ID: id, Type: "function", Function: functionCall{Name: p.Name, Arguments: p.Arguments}})
			}
			return c, calls, ""
		}
	}
	return full, nil, full[o.sent:]
}
