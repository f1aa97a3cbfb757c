package grammar

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// SchemaError is a schema the compiler refuses: Keyword names what it does
// not support (or what is wrong), Path where it is (a JSON pointer, "#/...").
type SchemaError struct {
	Keyword, Path, Msg string
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("JSON Schema keyword '%s' at %s: %s", e.Keyword, e.Path, e.Msg)
}

// annotations are keywords that describe a value without constraining it.
var annotations = map[string]bool{
	"title": true, "description": true, "default": true, "examples": true, "$schema": true, "$id": true,
	"$comment": true, "deprecated": true, "readOnly": true, "writeOnly": true, "$defs": true, "definitions": true,
	// Only the properties a schema declares are generated, which every
	// value of additionalProperties allows.
	"additionalProperties": true,
}

// supported lists the keywords the compiler turns into grammar, for errors.
const supported = "type, properties, required, additionalProperties, items, minItems, maxItems, enum, const, " +
	"anyOf, oneOf, allOf (of one schema), $ref (to #, #/$defs/... or #/definitions/...), minLength, maxLength, " +
	"pattern, format (date, time, date-time, uuid), and minimum, maximum, exclusiveMinimum, exclusiveMaximum of integers"

// maxSchemaRepeat bounds minItems, maxItems, minLength and maxLength: each
// unit is grammar the matcher walks.
const maxSchemaRepeat = 4096

// FromJSONSchema compiles a JSON Schema (the common subset that structured
// output uses) into the grammar of the JSON texts that validate against it,
// with bounded whitespace around and inside them. Keywords it cannot enforce
// are refused with a *SchemaError naming them.
func FromJSONSchema(schema []byte) (*Grammar, error) {
	b := NewBuilder()
	c := &schemaCompiler{b: b, j: newJSONRules(b)}
	body, err := c.compile(schema, "")
	if err != nil {
		return nil, err
	}
	return c.finish(Seq(body, c.j.ws))
}

// compile adds the grammar of one schema to the builder; prefix keeps its
// $ref rules apart from other schemas'.
func (c *schemaCompiler) compile(schema []byte, prefix string) (Expr, error) {
	root, err := parseJSON(schema)
	if err != nil {
		return nil, &SchemaError{Keyword: "schema", Path: "#", Msg: "not valid JSON: " + err.Error()}
	}
	c.root, c.refs, c.prefix = root, map[string]*Rule{}, prefix
	return c.schema(root, "#")
}

func (c *schemaCompiler) finish(body Expr) (*Grammar, error) {
	g, err := c.b.Compile(c.b.Rule("root").Define(body))
	if errors.Is(err, ErrTooLarge) {
		return nil, &SchemaError{Keyword: "schema", Path: "#", Msg: fmt.Sprintf("the schema's grammar is over %d elements; use smaller minLength/maxLength/minItems/maxItems", MaxElements)}
	}
	return g, err
}

type schemaCompiler struct {
	b      *Builder
	j      *jsonRules
	root   *jv
	refs   map[string]*Rule
	prefix string
	n      int
}

func refuse(keyword, path string, format string, args ...any) error {
	return &SchemaError{Keyword: keyword, Path: path, Msg: fmt.Sprintf(format, args...)}
}

func (c *schemaCompiler) schema(s *jv, path string) (Expr, error) {
	switch s.kind {
	case 'b':
		if s.b {
			return c.j.value, nil
		}
		return nil, refuse("false", path, "the schema false allows no value")
	case 'o':
	default:
		return nil, refuse("schema", path, "a schema must be an object or a boolean")
	}
	for _, k := range s.keys {
		if annotations[k] {
			continue
		}
		switch k {
		case "type", "properties", "required", "items", "minItems", "maxItems", "enum", "const", "anyOf", "oneOf",
			"allOf", "$ref", "minLength", "maxLength", "pattern", "format",
			"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		default:
			return nil, refuse(k, path, "not supported; supported keywords: %s", supported)
		}
	}
	if ref, ok := s.get("$ref"); ok {
		if len(s.keys) > 1 {
			for _, k := range s.keys {
				if k != "$ref" && !annotations[k] {
					return nil, refuse(k, path, "not supported beside $ref")
				}
			}
		}
		return c.ref(ref, path)
	}
	if v, ok := s.get("const"); ok {
		return Lit(v.compact()), nil
	}
	if v, ok := s.get("enum"); ok {
		if v.kind != 'a' || len(v.arr) == 0 {
			return nil, refuse("enum", path, "enum must be a non-empty array")
		}
		alts := make([]Expr, len(v.arr))
		for i, e := range v.arr {
			alts[i] = Lit(e.compact())
		}
		return Alt(alts...), nil
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if v, ok := s.get(k); ok {
			if v.kind != 'a' || len(v.arr) == 0 {
				return nil, refuse(k, path, "%s must be a non-empty array", k)
			}
			if _, typed := s.get("type"); typed {
				return nil, refuse(k, path, "%s beside type is not supported; put the type in each choice", k)
			}
			alts := make([]Expr, len(v.arr))
			for i, e := range v.arr {
				var err error
				if alts[i], err = c.schema(e, fmt.Sprintf("%s/%s/%d", path, k, i)); err != nil {
					return nil, err
				}
			}
			return Alt(alts...), nil
		}
	}
	if v, ok := s.get("allOf"); ok {
		if v.kind != 'a' || len(v.arr) != 1 {
			return nil, refuse("allOf", path, "only allOf of exactly one schema is supported")
		}
		return c.schema(v.arr[0], path+"/allOf/0")
	}
	types, err := schemaTypes(s, path)
	if err != nil {
		return nil, err
	}
	alts := make([]Expr, 0, len(types))
	for _, t := range types {
		e, err := c.typed(s, t, path)
		if err != nil {
			return nil, err
		}
		alts = append(alts, e)
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return Alt(alts...), nil
}

// schemaTypes is the schema's type list; without "type" it is inferred from
// the keywords, or any value.
func schemaTypes(s *jv, path string) ([]string, error) {
	t, ok := s.get("type")
	if !ok {
		switch {
		case has(s, "properties"):
			return []string{"object"}, nil
		case has(s, "items", "minItems", "maxItems"):
			return []string{"array"}, nil
		case has(s, "minLength", "maxLength", "pattern", "format"):
			return []string{"string"}, nil
		case has(s, "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
			return []string{"number"}, nil
		}
		return []string{"any"}, nil
	}
	var out []string
	switch t.kind {
	case 's':
		out = []string{t.str}
	case 'a':
		for _, e := range t.arr {
			if e.kind != 's' {
				return nil, refuse("type", path, "type must be a string or an array of strings")
			}
			out = append(out, e.str)
		}
	default:
		return nil, refuse("type", path, "type must be a string or an array of strings")
	}
	for _, name := range out {
		switch name {
		case "object", "array", "string", "number", "integer", "boolean", "null":
		default:
			return nil, refuse("type", path, "unknown type %q", name)
		}
	}
	if len(out) == 0 {
		return nil, refuse("type", path, "type is an empty array")
	}
	return out, nil
}

func has(s *jv, keys ...string) bool {
	for _, k := range keys {
		if _, ok := s.get(k); ok {
			return true
		}
	}
	return false
}

// only refuses the keywords of s that belong to other types than t (unless
// s allows several types, each taking its own).
func only(s *jv, path, t string) error {
	byType := map[string]string{
		"properties": "object", "required": "object",
		"items": "array", "minItems": "array", "maxItems": "array",
		"minLength": "string", "maxLength": "string", "pattern": "string", "format": "string",
		"minimum": "integer", "maximum": "integer", "exclusiveMinimum": "integer", "exclusiveMaximum": "integer",
	}
	for _, k := range s.keys {
		owner, ok := byType[k]
		if !ok || owner == t {
			continue
		}
		if owner == "integer" && t == "number" {
			return refuse(k, path, "bounds are supported on integers only, not on numbers")
		}
		if !isMultiType(s) {
			return refuse(k, path, "%s does not apply to type %s", k, t)
		}
	}
	return nil
}

func isMultiType(s *jv) bool {
	t, ok := s.get("type")
	return ok && t.kind == 'a' && len(t.arr) > 1
}

func (c *schemaCompiler) typed(s *jv, t, path string) (Expr, error) {
	if err := only(s, path, t); err != nil {
		return nil, err
	}
	switch t {
	case "any":
		return c.j.value, nil
	case "null":
		return c.j.null, nil
	case "boolean":
		return c.j.boolean, nil
	case "number":
		return c.j.number, nil
	case "integer":
		return c.integer(s, path)
	case "string":
		return c.str(s, path)
	case "array":
		return c.array(s, path)
	case "object":
		return c.object(s, path)
	}
	return nil, refuse("type", path, "unknown type %q", t)
}

func (c *schemaCompiler) count(s *jv, key, path string) (int, bool, error) {
	v, ok := s.get(key)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v.num.String())
	if v.kind != 'n' || err != nil || n < 0 {
		return 0, false, refuse(key, path, "%s must be a non-negative integer", key)
	}
	if n > maxSchemaRepeat {
		return 0, false, refuse(key, path, "%s is %d; at most %d is supported", key, n, maxSchemaRepeat)
	}
	return n, true, nil
}

func (c *schemaCompiler) bounds(s *jv, minKey, maxKey, path string) (int, int, error) {
	lo, _, err := c.count(s, minKey, path)
	if err != nil {
		return 0, 0, err
	}
	hi, ok, err := c.count(s, maxKey, path)
	if err != nil {
		return 0, 0, err
	}
	if !ok {
		hi = -1
	} else if hi < lo {
		return 0, 0, refuse(maxKey, path, "%s %d is less than %s %d", maxKey, hi, minKey, lo)
	}
	return lo, hi, nil
}

// formats are the string formats compiled to patterns. Dates never name a
// day a month lacks (and skip February 29th, which needs the year), nor the
// year 0000: RFC 3339 allows it, but Python's datetime, and so its JSON Schema
// validators and pydantic, cannot hold it.
var formats = map[string]string{
	"date":      `^` + datePattern + `$`,
	"time":      `^` + timePattern + `$`,
	"date-time": `^` + datePattern + `T` + timePattern + `$`,
	"uuid":      `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`,
}

const (
	datePattern = `([0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)`
	timePattern = `([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])`
)

func (c *schemaCompiler) str(s *jv, path string) (Expr, error) {
	lo, hi, err := c.bounds(s, "minLength", "maxLength", path)
	if err != nil {
		return nil, err
	}
	pattern, hasPattern := s.get("pattern")
	format, hasFormat := s.get("format")
	switch {
	case hasPattern && hasFormat:
		return nil, refuse("format", path, "format beside pattern is not supported")
	case (hasPattern || hasFormat) && (has(s, "minLength", "maxLength")):
		key := "pattern"
		if hasFormat {
			key = "format"
		}
		return nil, refuse(key, path, "%s beside minLength or maxLength is not supported", key)
	case hasFormat:
		if format.kind != 's' {
			return nil, refuse("format", path, "format must be a string")
		}
		p, ok := formats[format.str]
		if !ok {
			return nil, refuse("format", path, "format %q is not supported; supported: date, time, date-time, uuid", format.str)
		}
		e, err := patternExpr(p, c.j)
		if err != nil {
			return nil, err
		}
		return Seq(Lit(`"`), e, Lit(`"`)), nil
	case hasPattern:
		if pattern.kind != 's' {
			return nil, refuse("pattern", path, "pattern must be a string")
		}
		e, err := patternExpr(pattern.str, c.j)
		if err != nil {
			return nil, refuse("pattern", path, "%v", err)
		}
		return Seq(Lit(`"`), e, Lit(`"`)), nil
	}
	if lo == 0 && hi < 0 {
		return c.j.str, nil
	}
	return Seq(Lit(`"`), Rep(c.j.char, lo, hi), Lit(`"`)), nil
}

func (c *schemaCompiler) array(s *jv, path string) (Expr, error) {
	item := Expr(c.j.value)
	if it, ok := s.get("items"); ok {
		if it.kind == 'a' {
			return nil, refuse("items", path, "tuple items (an array) are not supported; use one schema")
		}
		var err error
		if item, err = c.schema(it, path+"/items"); err != nil {
			return nil, err
		}
	}
	lo, hi, err := c.bounds(s, "minItems", "maxItems", path)
	if err != nil {
		return nil, err
	}
	ws := c.j.ws
	next := Seq(ws, Lit(","), ws, item)
	var body Expr
	switch {
	case hi == 0:
		body = Seq()
	case lo == 0:
		rest := -1
		if hi > 0 {
			rest = hi - 1
		}
		body = Opt(Seq(item, Rep(next, 0, rest), ws))
	default:
		rest := -1
		if hi > 0 {
			rest = hi - 1
		}
		body = Seq(item, Rep(next, lo-1, rest), ws)
	}
	return Seq(Lit("["), ws, body, Lit("]")), nil
}

func (c *schemaCompiler) object(s *jv, path string) (Expr, error) {
	props, ok := s.get("properties")
	if !ok {
		return c.b.Rule("object"), nil
	}
	if props.kind != 'o' {
		return nil, refuse("properties", path, "properties must be an object")
	}
	required := map[string]bool{}
	if r, ok := s.get("required"); ok {
		if r.kind != 'a' {
			return nil, refuse("required", path, "required must be an array of strings")
		}
		for _, e := range r.arr {
			if e.kind != 's' {
				return nil, refuse("required", path, "required must be an array of strings")
			}
			if _, ok := props.get(e.str); !ok {
				return nil, refuse("required", path, "required names %q, which properties does not define", e.str)
			}
			required[e.str] = true
		}
	}
	ws := c.j.ws
	kvs := make([]Expr, len(props.keys))
	for i, k := range props.keys {
		val, err := c.schema(props.vals[i], path+"/properties/"+escapePointer(k))
		if err != nil {
			return nil, err
		}
		var key strings.Builder
		writeJSONStringTo(&key, k)
		kvs[i] = Seq(Lit(key.String()), ws, Lit(":"), ws, val)
	}
	// rest(i, first) generates properties i.. in order, each optional one
	// present or not, with a comma before all but the first one written.
	c.n++
	id := c.n
	var rest func(i int, first bool) Expr
	memo := map[[2]int]*Rule{}
	rest = func(i int, first bool) Expr {
		if i == len(kvs) {
			return Seq()
		}
		f := 0
		if first {
			f = 1
		}
		if r, ok := memo[[2]int{i, f}]; ok {
			return r
		}
		r := c.b.Rule(fmt.Sprintf("obj%d-%d-%d", id, i, f))
		memo[[2]int{i, f}] = r
		sep := Expr(Seq(ws, Lit(","), ws))
		if first {
			sep = Seq()
		}
		present := Seq(sep, kvs[i], rest(i+1, false))
		if required[props.keys[i]] {
			r.Define(present)
		} else {
			r.Define(Alt(present, rest(i+1, first)))
		}
		return r
	}
	return Seq(Lit("{"), ws, rest(0, true), ws, Lit("}")), nil
}

func escapePointer(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

func writeJSONStringTo(b *strings.Builder, s string) {
	v := &jv{kind: 's', str: s}
	b.WriteString(v.compact())
}

// ref resolves a local reference; each target becomes one rule, so
// recursive schemas give recursive grammars.
func (c *schemaCompiler) ref(ref *jv, path string) (Expr, error) {
	if ref.kind != 's' {
		return nil, refuse("$ref", path, "$ref must be a string")
	}
	if r, ok := c.refs[ref.str]; ok {
		return r, nil
	}
	target := c.root
	if ref.str != "#" {
		rest, ok := strings.CutPrefix(ref.str, "#/")
		if !ok {
			return nil, refuse("$ref", path, "only local references (#/...) are supported, not %q", ref.str)
		}
		for _, part := range strings.Split(rest, "/") {
			part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
			next, ok := target.get(part)
			if !ok || target.kind != 'o' {
				return nil, refuse("$ref", path, "%q does not resolve", ref.str)
			}
			target = next
		}
	}
	r := c.b.Rule("ref:" + c.prefix + ref.str)
	c.refs[ref.str] = r
	body, err := c.schema(target, ref.str)
	if err != nil {
		return nil, err
	}
	r.Define(body)
	return r, nil
}

// integer compiles an integer type with optional bounds into the decimal
// texts of exactly the integers in range.
func (c *schemaCompiler) integer(s *jv, path string) (Expr, error) {
	const limit = 1e16 - 1 // maxIntDigits nines
	lo, hi := -int64(limit), int64(limit)
	for _, k := range []string{"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"} {
		v, ok := s.get(k)
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(v.num.String(), 64)
		if v.kind != 'n' || err != nil {
			return nil, refuse(k, path, "%s must be a number", k)
		}
		switch k {
		case "minimum":
			lo = max(lo, int64(math.Ceil(f)))
		case "exclusiveMinimum":
			lo = max(lo, int64(math.Floor(f))+1)
		case "maximum":
			hi = min(hi, int64(math.Floor(f)))
		case "exclusiveMaximum":
			hi = min(hi, int64(math.Ceil(f))-1)
		}
		if math.Abs(f) > limit {
			return nil, refuse(k, path, "%s must be within ±%d", k, int64(limit))
		}
	}
	if lo > hi {
		return nil, refuse("minimum", path, "no integer lies between the bounds")
	}
	if lo == -int64(limit) && hi == int64(limit) {
		return c.j.integer, nil
	}
	var alts []Expr
	if lo < 0 {
		// -x for x in [max(1, -hi), -lo]
		alts = append(alts, Seq(Lit("-"), uintRange(uint64(max(1, -hi)), uint64(-lo))))
	}
	if hi >= 0 {
		alts = append(alts, uintRange(uint64(max(0, lo)), uint64(hi)))
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return Alt(alts...), nil
}

// uintRange matches the decimal texts (no leading zeros) of lo..hi.
func uintRange(lo, hi uint64) Expr {
	var alts []Expr
	for d := len(strconv.FormatUint(lo, 10)); d <= len(strconv.FormatUint(hi, 10)); d++ {
		first := uint64(0)
		if d > 1 {
			first = pow10(d - 1)
		}
		last := pow10(d) - 1
		a, b := max(lo, first), min(hi, last)
		if a > b {
			continue
		}
		alts = append(alts, sameLength(strconv.FormatUint(a, 10), strconv.FormatUint(b, 10)))
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return Alt(alts...)
}

func pow10(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

// sameLength matches the digit strings of a's length from a to b.
func sameLength(a, b string) Expr {
	if a == "" {
		return Seq()
	}
	if a[0] == b[0] {
		return Seq(Lit(a[:1]), sameLength(a[1:], b[1:]))
	}
	n := len(a) - 1
	anyDigits := Rep(Range('0', '9'), n, n)
	if strings.Trim(a[1:], "0") == "" && strings.Trim(b[1:], "9") == "" {
		return Seq(Range(a[0], b[0]), anyDigits)
	}
	alts := []Expr{Seq(Lit(a[:1]), sameLength(a[1:], strings.Repeat("9", n)))}
	if b[0]-a[0] > 1 {
		alts = append(alts, Seq(Range(a[0]+1, b[0]-1), anyDigits))
	}
	alts = append(alts, Seq(Lit(b[:1]), sameLength(strings.Repeat("0", n), b[1:])))
	return Alt(alts...)
}
