package chattemplate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
)

// JSON from the request becomes template values that keep object keys in
// the client's order (Python dicts do, and tojson of a tool's schema must
// print the keys as Hugging Face would): objects are *exec.Dict, arrays
// []any, numbers int or float64.

// jsonValue decodes one JSON text into template values; str rewrites every
// string (keys included) on the way in.
func jsonValue(data []byte, str func(string) string) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := decodeValue(d, str)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}

func decodeValue(d *json.Decoder, str func(string) string) (any, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		if t == '{' {
			dict := exec.NewDict()
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(d, str)
				if err != nil {
					return nil, err
				}
				dict.Pairs = append(dict.Pairs, &exec.Pair{Key: exec.AsValue(str(k.(string))), Value: exec.AsValue(v)})
			}
			_, err := d.Token()
			return dict, err
		}
		list := []any{}
		for d.More() {
			v, err := decodeValue(d, str)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := d.Token()
		return list, err
	case string:
		return str(t), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return int(i), nil
		}
		f, err := t.Float64()
		return f, err
	}
	return t, nil // bool, nil
}

// dict builds an ordered template object from key, value pairs.
func dict(kv ...any) *exec.Dict {
	d := exec.NewDict()
	for i := 0; i+1 < len(kv); i += 2 {
		d.Pairs = append(d.Pairs, &exec.Pair{Key: exec.AsValue(kv[i]), Value: exec.AsValue(kv[i+1])})
	}
	return d
}

// toJSON is Hugging Face's tojson filter: Python's json.dumps with
// ensure_ascii=False, so ", " and ": " between items unless indented.
func toJSON(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	indent := -1
	if v, ok := params.KwArgs["indent"]; ok && !v.IsNil() {
		indent = v.Integer()
	} else if len(params.Args) > 0 && !params.Args[0].IsNil() {
		indent = params.Args[0].Integer()
	}
	var b strings.Builder
	if err := writePyJSON(&b, in.Interface(), indent, 0); err != nil {
		return exec.AsValue(err)
	}
	return exec.AsSafeValue(b.String())
}

func writePyJSON(b *strings.Builder, v any, indent, depth int) error {
	newline := func(d int) {
		if indent >= 0 {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat(" ", indent*d))
		}
	}
	itemSep := ", "
	if indent >= 0 {
		itemSep = ","
	}
	switch v := v.(type) {
	case *exec.Value:
		return writePyJSON(b, v.Interface(), indent, depth)
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(map[bool]string{true: "true", false: "false"}[v])
	case string:
		writePyString(b, v)
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case float64:
		b.WriteString(pyFloat(v))
	case exec.Dict:
		return writePyJSON(b, &v, indent, depth)
	case *exec.Dict:
		if len(v.Pairs) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i, p := range v.Pairs {
			if i > 0 {
				b.WriteString(itemSep)
			}
			newline(depth + 1)
			writePyString(b, p.Key.String())
			b.WriteString(": ")
			if err := writePyJSON(b, p.Value, indent, depth+1); err != nil {
				return err
			}
		}
		newline(depth)
		b.WriteByte('}')
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(itemSep)
			}
			newline(depth + 1)
			if err := writePyJSON(b, e, indent, depth+1); err != nil {
				return err
			}
		}
		newline(depth)
		b.WriteByte(']')
	case map[string]any:
		// Maps the template built itself: sorted, as gonja iterates them.
		d := exec.NewDict()
		for _, k := range exec.AsValue(v).Keys() {
			d.Pairs = append(d.Pairs, &exec.Pair{Key: k, Value: exec.AsValue(v[k.String()])})
		}
		return writePyJSON(b, d, indent, depth)
	default:
		return fmt.Errorf("tojson: cannot encode %T", v)
	}
	return nil
}

// writePyString writes s as Python's json.dumps(ensure_ascii=False) does.
func writePyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// pyFloat is Python's repr of a float: the shortest digits, fixed notation
// from 1e-4 up to 1e16 (always with a fraction), exponent notation outside.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// pyIndex is X[i] with Python's negative indices (gonja has none): the
// template's X[-n] are rewritten to X|py_index(-n) after parsing.
func pyIndex(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if len(params.Args) != 1 || !params.Args[0].IsInteger() {
		return exec.AsValue(fmt.Errorf("py_index takes one integer"))
	}
	i := params.Args[0].Integer()
	n := in.Len()
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n || !(in.IsList() || in.IsString()) {
		return exec.AsValue(fmt.Errorf("index %d out of range", params.Args[0].Integer()))
	}
	return in.Index(i)
}

// items is dict.items() in the dict's own order for the ordered objects of
// the request (gonja's filter knows only Go maps, which it sorts).
func items(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	out := []any{}
	switch d := in.Interface().(type) {
	case *exec.Dict:
		for _, p := range d.Pairs {
			out = append(out, []any{p.Key.Interface(), p.Value.Interface()})
		}
	default:
		for _, k := range in.Keys() {
			v, _ := in.GetItem(k.Interface())
			out = append(out, []any{k.Interface(), v.Interface()})
		}
	}
	return exec.AsValue(out)
}

// rewriteNegativeIndex replaces every X[-n] in the parsed template with
// X|py_index(-n). It walks the node tree by reflection, as gonja offers no
// visitor that can replace nodes.
func rewriteNegativeIndex(root *nodes.Template) {
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
			walk(v.Elem())
		case reflect.Interface:
			if v.IsNil() {
				return
			}
			if g, ok := v.Interface().(*nodes.GetItem); ok && v.CanSet() {
				if n, ok := negativeLiteral(g.Arg); ok {
					walk(reflect.ValueOf(g.Node))
					v.Set(reflect.ValueOf(&nodes.FilteredExpression{Expression: g.Node.(nodes.Expression),
						Filters: []*nodes.FilterCall{{Token: g.Location, Name: "py_index", Args: []nodes.Expression{&nodes.Integer{Location: g.Location, Val: n}}}}}))
					return
				}
			}
			walk(v.Elem())
		case reflect.Struct:
			for i := range v.NumField() {
				if f := v.Field(i); f.CanSet() {
					walk(f)
				}
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				e := v.MapIndex(k)
				if e.Kind() == reflect.Interface || e.Kind() == reflect.Pointer {
					// Map values cannot be set in place: copy, rewrite, store.
					c := reflect.New(e.Type()).Elem()
					c.Set(e)
					walk(c)
					v.SetMapIndex(k, c)
				}
			}
		}
	}
	walk(reflect.ValueOf(root))
}

// negativeLiteral reports whether n is a negative integer literal.
func negativeLiteral(n nodes.Node) (int, bool) {
	switch n := n.(type) {
	case *nodes.Integer:
		return n.Val, n.Val < 0
	case *nodes.UnaryExpression:
		if i, ok := n.Term.(*nodes.Integer); ok && n.Negative {
			return -i.Val, i.Val > 0
		}
	}
	return 0, false
}

// dictMethods are keys(), values(), items() and get() in the dict's own
// order: gonja hands dict methods a Go map, so they read the ordered object
// from the value itself.
var dictMethods = exec.NewMethodSet(map[string]exec.Method[map[string]any]{
	"keys": func(self map[string]any, sv *exec.Value, args *exec.VarArgs) (any, error) {
		var out []any
		for _, kv := range orderedPairs(self, sv) {
			out = append(out, kv[0])
		}
		return out, args.Take()
	},
	"values": func(self map[string]any, sv *exec.Value, args *exec.VarArgs) (any, error) {
		var out []any
		for _, kv := range orderedPairs(self, sv) {
			out = append(out, kv[1])
		}
		return out, args.Take()
	},
	"items": func(self map[string]any, sv *exec.Value, args *exec.VarArgs) (any, error) {
		var out []any
		for _, kv := range orderedPairs(self, sv) {
			out = append(out, []any{kv[0], kv[1]})
		}
		return out, args.Take()
	},
	"get": func(self map[string]any, sv *exec.Value, args *exec.VarArgs) (any, error) {
		var key string
		var def *exec.Value
		if err := args.Take(exec.PositionalArgument("key", nil, exec.StringArgument(&key)),
			exec.PositionalArgument("default", exec.AsValue(nil), func(v *exec.Value) error { def = v; return nil })); err != nil {
			return nil, exec.ErrInvalidCall(err)
		}
		for _, kv := range orderedPairs(self, sv) {
			if kv[0] == key {
				return kv[1], nil
			}
		}
		return def.Interface(), nil
	},
})

func orderedPairs(self map[string]any, sv *exec.Value) [][2]any {
	var out [][2]any
	if d, ok := sv.Interface().(*exec.Dict); ok {
		for _, p := range d.Pairs {
			out = append(out, [2]any{p.Key.String(), p.Value.Interface()})
		}
		return out
	}
	for _, k := range exec.AsValue(self).Keys() {
		out = append(out, [2]any{k.String(), self[k.String()]})
	}
	return out
}
