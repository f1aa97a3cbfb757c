package server

import (
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/chattemplate"
)

// What a stream with tools sends as content while the model writes, and what
// it holds back because it may be (or is) a tool call.
func TestToolOutputStreaming(t *testing.T) {
	hermes, _ := chattemplate.New("{{ '<tool_call>' }}", "", "")
	llama, _ := chattemplate.New("<|start_header_id|>ipython", "", "")
	tests := []struct {
		name    string
		syn     chattemplate.ToolSyntax
		mode    toolMode
		pieces  []string
		streams string // content sent while generating
		content string // the response's content
		calls   []string
		unsent  string
	}{
		{"hermes call after text", hermes.ToolSyntax(), toolsAuto,
			[]string{"Let me ", "check.\n<tool", "_call>\n{\"name\": \"f\", ", "\"arguments\": {\"x\": 1}}\n</tool_call>"},
			"Let me check.\n", "Let me check.", []string{`f{"x":1}`}, ""},
		{"hermes text that only looks like a call", hermes.ToolSyntax(), toolsAuto,
			[]string{"a <tool", "box> b"}, "a <toolbox> b", "a <toolbox> b", nil, ""},
		{"hermes broken call", hermes.ToolSyntax(), toolsAuto,
			[]string{"x <tool_call>{oops"}, "x ", "x <tool_call>{oops", nil, "<tool_call>{oops"},
		{"llama3 JSON at the start", llama.ToolSyntax(), toolsAuto,
			[]string{" {\"name\"", ": \"f\", \"parameters\": {}}"}, "", "", []string{"f{}"}, ""},
		{"llama3 text", llama.ToolSyntax(), toolsAuto,
			[]string{" The", " answer {is} 4"}, " The answer {is} 4", " The answer {is} 4", nil, ""},
		{"required holds everything", hermes.ToolSyntax(), toolsRequired,
			[]string{"<tool_call>\n{\"name\": \"g\", \"arguments\": {}}\n</tool_call>"}, "", "", []string{"g{}"}, ""},
		{"none streams everything", hermes.ToolSyntax(), toolsNone,
			[]string{"<tool_call>", "{}"}, "<tool_call>{}", "<tool_call>{}", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newToolOutput(tc.syn, tc.mode)
			var streamed strings.Builder
			for _, p := range tc.pieces {
				streamed.WriteString(o.add(p))
			}
			content, calls, unsent := o.finish()
			var got []string
			for _, c := range calls {
				if c.ID == "" || c.Type != "function" {
					t.Errorf("call %+v lacks an id or type", c)
				}
				got = append(got, c.Function.Name+c.Function.Arguments)
			}
			if streamed.String() != tc.streams || content != tc.content || unsent != tc.unsent || strings.Join(got, "|") != strings.Join(tc.calls, "|") {
				t.Errorf("streamed %q, content %q, unsent %q, calls %v; want %q, %q, %q, %v", streamed.String(), content, unsent, got,
					tc.streams, tc.content, tc.unsent, tc.calls)
			}
		})
	}
}
