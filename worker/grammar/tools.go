package grammar

import (
	"fmt"
	"strings"
)

// ToolSyntax is how a model writes tool calls: Begin, the calls (each
// CallBegin, a JSON object with the function's name and its arguments under
// ArgsKey, CallEnd) separated by Sep, then End.
type ToolSyntax struct {
	Begin, End, CallBegin, CallEnd, Sep string
	ArgsKey                             string
	// Parallel allows more than one call, up to MaxCalls (0: no limit).
	Parallel bool
	MaxCalls int
}

// Function is a tool the model may call: its name and the JSON Schema of its
// arguments (empty: any JSON object).
type Function struct {
	Name       string
	Parameters []byte
}

// FunctionError is a function whose parameters the schema compiler refused.
type FunctionError struct {
	Index int
	Err   error
}

func (e *FunctionError) Error() string { return fmt.Sprintf("function %d: %v", e.Index, e.Err) }
func (e *FunctionError) Unwrap() error { return e.Err }

// ToolCalls is the grammar of one or more calls (one unless the syntax is
// parallel) of the functions in syntax s, each call's arguments valid for
// its function's schema.
func ToolCalls(s ToolSyntax, fns []Function) (*Grammar, error) {
	b := NewBuilder()
	c := &schemaCompiler{b: b, j: newJSONRules(b)}
	ws := c.j.ws
	var calls []Expr
	for i, f := range fns {
		args := Expr(b.Rule("object"))
		if len(strings.TrimSpace(string(f.Parameters))) > 0 {
			var err error
			if args, err = c.compile(f.Parameters, fmt.Sprintf("fn%d", i)); err != nil {
				return nil, &FunctionError{Index: i, Err: err}
			}
		}
		name := (&jv{kind: 's', str: f.Name}).compact()
		argsKey := (&jv{kind: 's', str: s.ArgsKey}).compact()
		calls = append(calls, Seq(Lit(s.CallBegin), Lit("{"), ws, Lit(`"name"`), ws, Lit(":"), ws, Lit(name), ws, Lit(","), ws,
			Lit(argsKey), ws, Lit(":"), ws, args, ws, Lit("}"), Lit(s.CallEnd)))
	}
	if len(calls) == 0 {
		return nil, fmt.Errorf("grammar: no functions to call")
	}
	call := b.Rule("call").Define(Alt(calls...))
	body := Expr(call)
	if s.Parallel {
		more := -1
		if s.MaxCalls > 0 {
			more = s.MaxCalls - 1
		}
		body = Seq(call, Rep(Seq(Lit(s.Sep), call), 0, more))
	}
	return c.finish(Seq(Lit(s.Begin), body, Lit(s.End), ws))
}
