package grammar

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/grammar/grammartest"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

// trainedVocab is the 4096-token byte-level BPE vocabulary of the project's
// trained llama, as a generating model sees it.
func trainedVocab(t testing.TB) (*Vocab, *tokenizer.Tokenizer) {
	t.Helper()
	f, err := gguf.Open("../testdata/models/llama-go.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	return VocabOf(tok), tok
}

// VocabOf is how the server builds a Vocab from a tokenizer.
func VocabOf(tok *tokenizer.Tokenizer) *Vocab {
	pieces := make([][]byte, tok.VocabSize())
	for id := range pieces {
		pieces[id] = tok.Piece(id)
	}
	return NewVocab(pieces, tok.IsEOG, tok.IsControl)
}

// walk generates one sentence of m: random allowed tokens, ending with an
// end-of-generation token or when the grammar is done. It checks that every
// token the mask allows is accepted.
func walk(t *testing.T, m *Machine, rng *rand.Rand, maxSteps int) (string, bool) {
	t.Helper()
	mt := m.NewMatcher()
	var out bytes.Buffer
	v := m.Vocab()
	for step := 0; step < maxSteps; step++ {
		if mt.Done() {
			return out.String(), true
		}
		mask, err := mt.Allowed()
		if err != nil {
			t.Fatal(err)
		}
		var allowed []int
		eogAllowed := false
		for id := range v.Size() {
			if mask[id>>6]&(1<<(id&63)) != 0 {
				if isEOG(v, id) {
					eogAllowed = true
				} else {
					allowed = append(allowed, id)
				}
			}
		}
		if eogAllowed != mt.CanEnd() {
			t.Fatalf("after %q: end allowed %v, but CanEnd %v", out.String(), eogAllowed, mt.CanEnd())
		}
		if eogAllowed && (len(allowed) == 0 || rng.IntN(4) == 0) {
			return out.String(), true
		}
		if len(allowed) == 0 {
			t.Fatalf("after %q: no token allowed and the sentence cannot end", out.String())
		}
		// Prefer tokens that close something half the time, so sentences end.
		tok := allowed[rng.IntN(len(allowed))]
		if rng.IntN(2) == 0 {
			var closing []int
			for _, id := range allowed {
				if p := v.pieces[id]; len(p) == 1 && strings.ContainsAny(string(p), "\"]}0123456789el") {
					closing = append(closing, id)
				}
			}
			if len(closing) > 0 {
				tok = closing[rng.IntN(len(closing))]
			}
		}
		if err := mt.Accept(tok); err != nil {
			t.Fatalf("after %q: the mask allowed token %d (%q) but Accept says %v", out.String(), tok, v.pieces[tok], err)
		}
		out.Write(v.pieces[tok])
	}
	return out.String(), false
}

func isEOG(v *Vocab, id int) bool {
	for _, e := range v.eog {
		if int(e) == id {
			return true
		}
	}
	return false
}

// The schemas cover every keyword the compiler supports; the walks take
// random tokens of a real vocabulary wherever the mask allows, and every
// sentence must validate.
var schemas = []struct{ name, schema string }{
	{"person", `{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":150},
		"email":{"type":"string","pattern":"^[a-z]{1,8}@[a-z]{1,8}\\.(com|org)$"},"tags":{"type":"array","items":{"type":"string","enum":["a","b c","d\"e"]},"maxItems":3},
		"admin":{"type":"boolean"},"score":{"type":"number"},"nothing":{"type":"null"}},"required":["name","age"],"additionalProperties":false}`},
	{"nested", `{"type":"object","properties":{"address":{"type":"object","properties":{"city":{"type":"string","minLength":2,"maxLength":5},
		"zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["city","zip"]},"when":{"type":"string","format":"date-time"},
		"day":{"type":"string","format":"date"},"id":{"type":"string","format":"uuid"}},"required":["address","when","day","id"]}`},
	{"union", `{"anyOf":[{"type":"integer","exclusiveMinimum":-50,"exclusiveMaximum":1000},{"type":"string","maxLength":3},{"const":{"k":[1,2]}}]}`},
	{"refs", `{"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer","minimum":-3,"maximum":3},"kids":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["v"]}},
		"$ref":"#/$defs/node"}`},
	{"array bounds", `{"type":"array","items":{"type":["integer","null"]},"minItems":2,"maxItems":4}`},
	{"optional only", `{"type":"object","properties":{"a":{"type":"integer","minimum":10,"maximum":12345},"b":{"type":"boolean"},"c":{"oneOf":[{"type":"null"},{"type":"string","maxLength":2}]}}}`},
	{"unicode pattern", `{"type":"string","pattern":"^(é|ü|ß)[^a-z\"]{0,3}.$"}`},
	{"allOf one", `{"allOf":[{"type":"object","properties":{"x":{"type":"string","maxLength":4}},"required":["x"]}],"description":"d"}`},
}

func TestSchemaWalksValidate(t *testing.T) {
	v, _ := trainedVocab(t)
	for _, tc := range schemas {
		t.Run(tc.name, func(t *testing.T) {
			g, err := FromJSONSchema([]byte(tc.schema))
			if err != nil {
				t.Fatal(err)
			}
			m, err := NewMachine(g, v, 64<<20)
			if err != nil {
				t.Fatal(err)
			}
			validator := grammartest.Validator(t, tc.schema)
			rng := rand.New(rand.NewPCG(1, 2))
			ended := 0
			for i := range 60 {
				text, ok := walk(t, m, rng, 3000)
				if !ok {
					continue
				}
				ended++
				inst, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
				if err != nil {
					t.Fatalf("walk %d: %q does not parse: %v", i, text, err)
				}
				if err := validator.Validate(inst); err != nil {
					t.Fatalf("walk %d: %q does not validate: %v", i, text, err)
				}
			}
			if ended < 50 {
				t.Errorf("only %d of 60 walks ended within 3000 tokens", ended)
			}
			t.Logf("%d walks validated; %d parse states cached", ended, m.CachedStates())
		})
	}
}

// byteWalk checks text against a grammar byte by byte.
func accepts(t *testing.T, m *Machine, text string) bool {
	t.Helper()
	mt := m.NewMatcher()
	return mt.AcceptBytes([]byte(text)) && mt.CanEnd()
}

func TestSchemaAcceptsAndRejects(t *testing.T) {
	v, _ := trainedVocab(t)
	tests := []struct {
		schema string
		yes    []string
		no     []string
	}{
		{`{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["b"]}`,
			[]string{`{"b":""}`, `{"a":-12,"b":"x"}`, `{ "a": 0, "b": "\u00e9\n" }`, "{\n  \"b\": \"é\"\n}"},
			[]string{`{}`, `{"a":1}`, `{"b":"x","a":1}`, `{"a":01,"b":""}`, `{"b":"x"`, `{"b":"` + "\x01" + `"}`, `{"b":"` + "\xff" + `"}`, `{"b":"` + "\xc3" + `"}`, `{"a":1.5,"b":""}`}},
		{`{"type":"integer","minimum":7,"maximum":123}`,
			[]string{"7", "9", "10", "99", "100", "123"},
			[]string{"6", "0", "-7", "124", "200", "1000", "007"}},
		{`{"type":"integer","minimum":-20,"maximum":-3}`, []string{"-3", "-20", "-15"}, []string{"-2", "-21", "0", "3"}},
		{`{"type":"string","format":"date"}`, []string{`"2024-01-31"`, `"2023-04-30"`, `"2023-02-28"`, `"0001-01-01"`, `"1000-12-31"`}, []string{`"2024-02-30"`, `"2024-04-31"`, `"2024-13-01"`, `"24-01-01"`, `"0000-01-01"`}},
		{`{"enum":["x",1,null,{"a":true}]}`, []string{`"x"`, `1`, `null`, `{"a":true}`}, []string{`"y"`, `2`, `{"a":false}`}},
		{`{"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":2}`, []string{`[true]`, `[ true , false ]`}, []string{`[]`, `[true,true,true]`, `[1]`}},
		{`{"type":"string","pattern":"ab+c"}`, []string{`"abc"`, `"xxabbbcyy"`}, []string{`"ac"`, `"abx"`}},
		{`{"type":"number"}`, []string{"0", "-1.5", "3e10", "2.25E-3"}, []string{"1.", ".5", "01", "1e", "NaN", "1e100"}},
	}
	for _, tc := range tests {
		g, err := FromJSONSchema([]byte(tc.schema))
		if err != nil {
			t.Fatalf("%s: %v", tc.schema, err)
		}
		m, err := NewMachine(g, v, 8<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range tc.yes {
			if !accepts(t, m, s) {
				t.Errorf("%s: refuses %q", tc.schema, s)
			}
		}
		for _, s := range tc.no {
			if accepts(t, m, s) {
				t.Errorf("%s: accepts %q", tc.schema, s)
			}
		}
	}
}

func TestSchemaRefusesWhatItCannotEnforce(t *testing.T) {
	tests := []struct{ schema, keyword, path string }{
		{`{"type":"object","properties":{"n":{"type":"number","minimum":0}}}`, "minimum", "#/properties/n"},
		{`{"type":"array","uniqueItems":true}`, "uniqueItems", "#"},
		{`{"type":"string","format":"email"}`, "format", "#"},
		{`{"type":"string","pattern":"(?=a)b"}`, "pattern", "#"},
		{`{"type":"string","pattern":"a","maxLength":3}`, "pattern", "#"},
		{`{"type":"object","patternProperties":{"a":{}}}`, "patternProperties", "#"},
		{`{"$ref":"https://example.com/s.json"}`, "$ref", "#"},
		{`{"type":"object","properties":{"a":{"$ref":"#/$defs/missing"}}}`, "$ref", "#/properties/a"},
		{`{"type":"string","maxLength":100000}`, "maxLength", "#"},
		{`{"type":"wat"}`, "type", "#"},
		{`{"type":"object","required":["x"],"properties":{}}`, "required", "#"},
		{`{"allOf":[{"type":"string"},{"maxLength":2}]}`, "allOf", "#"},
		{`not json`, "schema", "#"},
	}
	for _, tc := range tests {
		_, err := FromJSONSchema([]byte(tc.schema))
		var se *SchemaError
		if !errors.As(err, &se) || se.Keyword != tc.keyword || se.Path != tc.path {
			t.Errorf("%s: %v, want a SchemaError for %q at %s", tc.schema, err, tc.keyword, tc.path)
		}
	}
}

func TestJSONObjectWalks(t *testing.T) {
	v, _ := trainedVocab(t)
	g, err := JSONObject()
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMachine(g, v, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	ended := 0
	for range 40 {
		text, ok := walk(t, m, rng, 2000)
		if !ok {
			continue
		}
		ended++
		var obj map[string]any
		if err := json.Unmarshal([]byte(text), &obj); err != nil {
			t.Fatalf("%q is not a JSON object: %v", text, err)
		}
	}
	if ended < 20 {
		t.Errorf("only %d of 40 walks ended", ended)
	}
}

func TestStateCacheIsBounded(t *testing.T) {
	v, _ := trainedVocab(t)
	g, err := JSONObject()
	if err != nil {
		t.Fatal(err)
	}
	// Room for few states: the matcher still works, computing the rest each time.
	m, err := NewMachine(g, v, 1)
	if err != nil {
		t.Fatal(err)
	}
	mt := m.NewMatcher()
	text := `{"a": [1, 2, {"b": "ccc"}], "d": null}`
	if !mt.AcceptBytes([]byte(text)) || !mt.CanEnd() {
		t.Fatalf("refuses %s", text)
	}
	if n := m.CachedStates(); n > 16 {
		t.Errorf("%d states cached, want at most 16", n)
	}
}

func TestPatternCompiler(t *testing.T) {
	v, _ := trainedVocab(t)
	patterns := []string{`^\d{3}-\d{4}$`, `^[A-Z][a-z]+( [A-Z][a-z]+)?$`, `^(foo|bar)+\.txt$`, `^[^\s"]{2,4}$`, `^\w+@\w+\.com$`, `^a.c$`, `^[\\"/]x?$`}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, p := range patterns {
		schema := `{"type":"string","pattern":` + mustJSON(p) + `}`
		g, err := FromJSONSchema([]byte(schema))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		m, err := NewMachine(g, v, 8<<20)
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(p)
		for range 30 {
			text, ok := walk(t, m, rng, 500)
			if !ok {
				continue
			}
			var s string
			if err := json.Unmarshal([]byte(text), &s); err != nil {
				t.Fatalf("%s: %q is not a JSON string: %v", p, text, err)
			}
			if !re.MatchString(s) {
				t.Fatalf("%s: %q does not match", p, s)
			}
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestToolCallWalks(t *testing.T) {
	v, _ := trainedVocab(t)
	weather := `{"type":"object","properties":{"city":{"type":"string","maxLength":8},"unit":{"enum":["c","f"]}},"required":["city","unit"]}`
	add := `{"type":"object","properties":{"a":{"type":"integer","minimum":0,"maximum":99},"b":{"type":"integer","minimum":0,"maximum":99}},"required":["a","b"]}`
	syntax := ToolSyntax{CallBegin: "<tool_call>\n", CallEnd: "\n</tool_call>", Sep: "\n", ArgsKey: "arguments", Parallel: true, MaxCalls: 3}
	g, err := ToolCalls(syntax, []Function{{"get_weather", []byte(weather)}, {"add", []byte(add)}, {"noop", nil}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMachine(g, v, 32<<20)
	if err != nil {
		t.Fatal(err)
	}
	validators := map[string]*jsonschema.Schema{"get_weather": grammartest.Validator(t, weather), "add": grammartest.Validator(t, add), "noop": grammartest.Validator(t, `{"type":"object"}`)}
	call := regexp.MustCompile(`(?s)<tool_call>\n(.*?)\n</tool_call>`)
	rng := rand.New(rand.NewPCG(7, 8))
	seen := map[string]bool{}
	for range 40 {
		text, ok := walk(t, m, rng, 3000)
		if !ok {
			continue
		}
		found := call.FindAllStringSubmatch(text, -1)
		if len(found) > 3 {
			t.Fatalf("%d calls, at most 3 allowed", len(found))
		}
		if len(found) == 0 || strings.Join(call.Split(strings.TrimSpace(text), -1), "") != strings.Repeat("\n", len(found)-1) {
			t.Fatalf("%q is not a list of tool calls", text)
		}
		for _, f := range found {
			var c struct {
				Name      string
				Arguments json.RawMessage
			}
			if err := json.Unmarshal([]byte(f[1]), &c); err != nil {
				t.Fatalf("%q: %v", f[1], err)
			}
			val, ok := validators[c.Name]
			if !ok {
				t.Fatalf("call of unknown function %q", c.Name)
			}
			inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(c.Arguments))
			if err := val.Validate(inst); err != nil {
				t.Fatalf("%s arguments %s: %v", c.Name, c.Arguments, err)
			}
			seen[c.Name] = true
		}
	}
	if len(seen) != 3 {
		t.Errorf("functions called: %v, want all three", seen)
	}

	// A schema the compiler refuses names its function.
	_, err = ToolCalls(syntax, []Function{{"ok", nil}, {"bad", []byte(`{"type":"object","properties":{"x":{"type":"number","maximum":3}}}`)}})
	var fe *FunctionError
	var se *SchemaError
	if !errors.As(err, &fe) || fe.Index != 1 || !errors.As(err, &se) || se.Keyword != "maximum" {
		t.Errorf("refused schema: %v", err)
	}
}
