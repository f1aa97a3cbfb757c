package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"

	"github.com/kubeinfer/kubeinfer/worker/grammar"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

// grammarSizeBytes bounds one compiled grammar's own memory (its elements).
const grammarSizeBytes = grammar.MaxElements * 16

// grammarCache turns response formats and tool schemas into grammar machines
// bound to the model's vocabulary, and keeps the most recently used ones: a
// schema sent again costs no compile, and its parse states and token masks
// are already there.
type grammarCache struct {
	tok       *tokenizer.Tokenizer
	vocabOnce sync.Once
	vocab     *grammar.Vocab
	entries   int
	bytes     int64

	mu  sync.Mutex
	lru []grammarEntry // most recent last
}

type grammarEntry struct {
	key string
	m   *grammar.Machine
}

func newGrammarCache(tok *tokenizer.Tokenizer, lim Limits) *grammarCache {
	return &grammarCache{tok: tok, entries: lim.GrammarCacheEntries, bytes: lim.GrammarCacheBytes}
}

// vocabulary builds the trie of the model's tokens on first use: control
// tokens are markup the model does not write inside structured output, and
// the end-of-generation tokens end it.
func (c *grammarCache) vocabulary() *grammar.Vocab {
	c.vocabOnce.Do(func() {
		pieces := make([][]byte, c.tok.VocabSize())
		for id := range pieces {
			pieces[id] = c.tok.Piece(id)
		}
		c.vocab = grammar.NewVocab(pieces, c.tok.IsEOG, c.tok.IsControl)
	})
	return c.vocab
}

// machine returns the machine of key, compiling it on a miss.
func (c *grammarCache) machine(key string, compile func() (*grammar.Grammar, error)) (*grammar.Machine, error) {
	c.mu.Lock()
	for i, e := range c.lru {
		if e.key == key {
			c.lru = append(append(c.lru[:i:i], c.lru[i+1:]...), e)
			c.mu.Unlock()
			return e.m, nil
		}
	}
	c.mu.Unlock()
	g, err := compile()
	if err != nil {
		return nil, err
	}
	m, err := grammar.NewMachine(g, c.vocabulary(), c.bytes)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru = append(c.lru, grammarEntry{key, m})
	if len(c.lru) > c.entries {
		c.lru = c.lru[len(c.lru)-c.entries:]
	}
	return m, nil
}

// responseFormat is OpenAI's response_format.
type responseFormat struct {
	Type       string          `json:"type"`
	JSONSchema json.RawMessage `json:"json_schema"`
}

type jsonSchemaFormat struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Strict      *bool           `json:"strict"`
}

var (
	responseFormatFields = map[string]field{"type": impl, "json_schema": impl}
	// The output always follows the schema, strict or not.
	jsonSchemaFields = map[string]field{"name": impl, "description": ignore, "schema": impl, "strict": impl}
)

// schemaError turns a compiler's refusal into a 400 naming the field and
// the schema keyword.
func schemaError(param string, err error) *apiError {
	var se *grammar.SchemaError
	if errors.As(err, &se) {
		e := invalid(param, "%s: the JSON Schema keyword '%s' at %s: %s.", param, se.Keyword, se.Path, se.Msg)
		e.Code = strp("unsupported_schema")
		return e
	}
	return invalid(param, "%s cannot be used to constrain the output: %v.", param, err)
}

// responseConstraint compiles response_format into a machine, or returns nil
// for plain text.
func (sv serving) responseConstraint(raw json.RawMessage) (*grammar.Machine, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var rf responseFormat
	if e := decodeObject(raw, responseFormatFields, "response_format.", &rf); e != nil {
		return nil, e
	}
	switch rf.Type {
	case "text":
		if len(rf.JSONSchema) > 0 && string(rf.JSONSchema) != "null" {
			return nil, invalid("response_format.json_schema", "response_format.json_schema needs type json_schema.")
		}
		return nil, nil
	case "json_object":
		if len(rf.JSONSchema) > 0 && string(rf.JSONSchema) != "null" {
			return nil, invalid("response_format.json_schema", "response_format.json_schema needs type json_schema.")
		}
		m, err := sv.grammars.machine("json_object", grammar.JSONObject)
		if err != nil {
			return nil, &apiError{Status: 500, Type: "server_error", Message: err.Error()}
		}
		return m, nil
	case "json_schema":
		if len(rf.JSONSchema) == 0 || string(rf.JSONSchema) == "null" {
			return nil, invalid("response_format.json_schema", "response_format.json_schema is required with type json_schema: {\"name\": ..., \"schema\": {...}}.")
		}
		var js jsonSchemaFormat
		if e := decodeObject(rf.JSONSchema, jsonSchemaFields, "response_format.json_schema.", &js); e != nil {
			return nil, e
		}
		if js.Name == "" {
			return nil, invalid("response_format.json_schema.name", "response_format.json_schema.name is required.")
		}
		schema := js.Schema
		if len(schema) == 0 || string(schema) == "null" {
			schema = json.RawMessage(`{"type":"object"}`)
		}
		m, err := sv.grammars.machine("schema:"+compactJSON(schema), func() (*grammar.Grammar, error) {
			return grammar.FromJSONSchema(schema)
		})
		if err != nil {
			return nil, schemaError("response_format.json_schema.schema", err)
		}
		return m, nil
	case "":
		return nil, invalid("response_format.type", "response_format.type is required: text, json_object or json_schema.")
	}
	return nil, invalid("response_format.type", "response_format.type %q is not one of text, json_object, json_schema.", rf.Type)
}

// compactJSON is raw without insignificant whitespace, so that the same
// schema sent with other spacing finds its cached grammar.
func compactJSON(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// constraintOf is a fresh matcher of m per choice (nil m: none).
func constraintOf(m *grammar.Machine) func() *grammar.Matcher {
	if m == nil {
		return nil
	}
	return m.NewMatcher
}
