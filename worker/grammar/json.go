package grammar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// Limits of the JSON grammars, so that every number and every run of
// whitespace ends: a model cannot fill its context with digits or newlines.
const (
	maxIntDigits      = 16 // float64 holds integers exactly to 2^53, 16 digits
	maxFractionDigits = 16
	maxExponentDigits = 2 // keeps every number finite in float64
	maxIndent         = 20
)

// jsonRules are the shared pieces of JSON grammars, defined once per builder.
type jsonRules struct {
	b                                           *Builder
	ws, char, str, integer, number, value, utf8 *Rule
	boolean, null                               *Rule
}

func newJSONRules(b *Builder) *jsonRules {
	j := &jsonRules{b: b}
	// Whitespace: nothing, a space, or one or two newlines and an indent.
	j.ws = b.Rule("ws").Define(Opt(Alt(Lit(" "), Seq(Rep(Lit("\n"), 1, 2), Rep(Bytes(' ', '\t'), 0, maxIndent)))))
	j.utf8 = b.Rule("utf8-multibyte").Define(utf8Multibyte())
	var plain byteSet
	plain.addRange(0x20, 0x7f)
	plain[0x22>>6] &^= 1 << (0x22 & 63) // "
	plain[0x5c>>6] &^= 1 << (0x5c & 63) // backslash
	hex := Alt(Range('0', '9'), Range('a', 'f'), Range('A', 'F'))
	j.char = b.Rule("char").Define(Alt(setExpr(plain), j.utf8,
		Seq(Lit(`\`), Alt(Bytes('"', '\\', '/', 'b', 'f', 'n', 'r', 't'), Seq(Lit("u"), hex, hex, hex, hex)))))
	j.str = b.Rule("string").Define(Seq(Lit(`"`), Star(j.char), Lit(`"`)))
	intPart := Alt(Lit("0"), Seq(Range('1', '9'), Rep(Range('0', '9'), 0, maxIntDigits-1)))
	j.integer = b.Rule("integer").Define(Seq(Opt(Lit("-")), intPart))
	j.number = b.Rule("number").Define(Seq(Opt(Lit("-")), intPart,
		Opt(Seq(Lit("."), Rep(Range('0', '9'), 1, maxFractionDigits))),
		Opt(Seq(Bytes('e', 'E'), Opt(Bytes('-', '+')), Rep(Range('0', '9'), 1, maxExponentDigits)))))
	j.boolean = b.Rule("boolean").Define(Alt(Lit("true"), Lit("false")))
	j.null = b.Rule("null").Define(Lit("null"))
	j.value = b.Rule("value")
	obj := b.Rule("object").Define(Seq(Lit("{"), j.ws, Opt(Seq(j.str, j.ws, Lit(":"), j.ws, j.value,
		Star(Seq(j.ws, Lit(","), j.ws, j.str, j.ws, Lit(":"), j.ws, j.value)), j.ws)), Lit("}")))
	arr := b.Rule("array").Define(Seq(Lit("["), j.ws, Opt(Seq(j.value, Star(Seq(j.ws, Lit(","), j.ws, j.value)), j.ws)), Lit("]")))
	j.value.Define(Alt(obj, arr, j.str, j.number, j.boolean, j.null))
	return j
}

// utf8Multibyte matches one well-formed UTF-8 sequence of 2 to 4 bytes
// (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
func utf8Multibyte() Expr {
	cont := Range(0x80, 0xbf)
	return Alt(
		Seq(Range(0xc2, 0xdf), cont),
		Seq(Lit("\xe0"), Range(0xa0, 0xbf), cont),
		Seq(Alt(Range(0xe1, 0xec), Range(0xee, 0xef)), cont, cont),
		Seq(Lit("\xed"), Range(0x80, 0x9f), cont),
		Seq(Lit("\xf0"), Range(0x90, 0xbf), cont, cont),
		Seq(Range(0xf1, 0xf3), cont, cont, cont),
		Seq(Lit("\xf4"), Range(0x80, 0x8f), cont, cont),
	)
}

// JSONObject is the grammar of json_object mode: any JSON object, with
// whitespace around it.
func JSONObject() (*Grammar, error) {
	b := NewBuilder()
	j := newJSONRules(b)
	root := b.Rule("root").Define(Seq(b.Rule("object"), j.ws))
	return b.Compile(root)
}

// jv is a JSON value that keeps its object keys in document order (a
// schema's properties are generated in the order the client wrote them).
type jv struct {
	kind byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	keys []string
	vals []*jv
	arr  []*jv
	str  string
	num  json.Number
	b    bool
}

func (v *jv) get(key string) (*jv, bool) {
	for i, k := range v.keys {
		if k == key {
			return v.vals[i], true
		}
	}
	return nil, false
}

func parseJSON(data []byte) (*jv, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := decodeJV(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}

func decodeJV(d *json.Decoder) (*jv, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &jv{kind: 'o'}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				val, err := decodeJV(d)
				if err != nil {
					return nil, err
				}
				v.keys, v.vals = append(v.keys, k), append(v.vals, val)
			}
			_, err := d.Token()
			return v, err
		case '[':
			v := &jv{kind: 'a'}
			for d.More() {
				e, err := decodeJV(d)
				if err != nil {
					return nil, err
				}
				v.arr = append(v.arr, e)
			}
			_, err := d.Token()
			return v, err
		}
	case string:
		return &jv{kind: 's', str: t}, nil
	case json.Number:
		return &jv{kind: 'n', num: t}, nil
	case bool:
		return &jv{kind: 'b', b: t}, nil
	case nil:
		return &jv{kind: 'z'}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", t)
}

// compact is v's JSON text without whitespace, keys in their order.
func (v *jv) compact() string {
	var b bytes.Buffer
	v.write(&b)
	return b.String()
}

func (v *jv) write(b *bytes.Buffer) {
	switch v.kind {
	case 'o':
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			v.vals[i].write(b)
		}
		b.WriteByte('}')
	case 'a':
		b.WriteByte('[')
		for i, e := range v.arr {
			if i > 0 {
				b.WriteByte(',')
			}
			e.write(b)
		}
		b.WriteByte(']')
	case 's':
		writeJSONString(b, v.str)
	case 'n':
		b.WriteString(v.num.String())
	case 'b':
		b.WriteString(strconv.FormatBool(v.b))
	case 'z':
		b.WriteString("null")
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	e := json.NewEncoder(b)
	e.SetEscapeHTML(false)
	_ = e.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}
