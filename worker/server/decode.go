package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strings"
)

// A request field is implemented, accepted without effect by design (an
// identifier for the client's own bookkeeping), or defined by OpenAI but not
// implemented: refused unless its value asks for nothing (noop), so that a
// client never believes it got what it asked for.
type field struct {
	support support
	// noop reports whether an unsupported field's value asks for nothing
	// (its default); nil means only null, "", false, [] and {} do.
	noop func(raw json.RawMessage) bool
}

type support int

const (
	implemented support = iota
	accepted
	unsupported
)

var (
	impl   = field{support: implemented}
	ignore = field{support: accepted}
	refuse = field{support: unsupported}
)

// refuseUnless refuses the field unless its value is one of the JSON texts
// given (or empty).
func refuseUnless(values ...string) field {
	return field{support: unsupported, noop: func(raw json.RawMessage) bool {
		var v any
		if json.Unmarshal(raw, &v) != nil {
			return false
		}
		for _, ok := range values {
			var want any
			_ = json.Unmarshal([]byte(ok), &want)
			if reflect.DeepEqual(v, want) {
				return true
			}
		}
		return isEmpty(raw)
	}}
}

// The fields of OpenAI's requests (the API reference, and what the official
// SDKs send) and what this server does with them.
var (
	sharedFields = map[string]field{
		"model": impl, "max_tokens": impl, "temperature": impl, "top_p": impl, "n": impl,
		"stream": impl, "stream_options": impl, "stop": impl, "seed": impl,
		"presence_penalty": impl, "frequency_penalty": impl, "logit_bias": impl,
		// Structured output; vLLM and llama.cpp's server take it on completions too.
		"response_format": impl,
		// ignore_eos is vLLM's and llama.cpp's server's extension, which benchmarks use to fix output lengths;
		// top_k, min_p and repetition_penalty are their sampling extensions.
		"ignore_eos": impl, "top_k": impl, "min_p": impl, "repetition_penalty": impl,
		// priority is vLLM's, for its priority scheduling (Config.Priority).
		"priority": impl,
		"user":     ignore,
	}
	completionFields = withShared(map[string]field{
		"prompt": impl, "logprobs": impl,
		// echo is checked with the request: false is accepted, true refused.
		"echo":    impl,
		"best_of": refuseUnless("1"),
		"suffix":  refuse,
	})
	chatFields = withShared(map[string]field{
		"messages": impl, "max_completion_tokens": impl, "logprobs": impl, "top_logprobs": impl,
		"safety_identifier": ignore, "prompt_cache_key": ignore, "metadata": ignore,
		"store":        refuseUnless("false"),
		"service_tier": refuseUnless(`"auto"`, `"default"`),
		"modalities":   refuseUnless(`["text"]`),
		"tools":        impl, "tool_choice": impl, "parallel_tool_calls": impl,
		"functions": refuse, "function_call": refuseUnless(`"none"`, `"auto"`), // the deprecated form of tools
		"reasoning_effort": refuse, "verbosity": refuse, "prediction": refuse,
		"audio": refuse, "web_search_options": refuse,
	})
	messageFields = map[string]field{
		"role": impl, "content": impl, "tool_calls": impl, "tool_call_id": impl,
		"name": refuse, "function_call": refuse, "refusal": refuse, "audio": refuse,
	}
	contentPartFields = map[string]field{"type": impl, "text": impl}
	// stream_options.include_obfuscation pads chunks against side channels;
	// without it the stream is the same, so it is accepted.
	streamOptionsFields = map[string]field{"include_usage": impl, "include_obfuscation": ignore}
)

func withShared(m map[string]field) map[string]field {
	for k, v := range sharedFields {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return m
}

func isEmpty(raw json.RawMessage) bool {
	switch string(bytes.TrimSpace(raw)) {
	case "null", `""`, "false", "[]", "{}":
		return true
	}
	return false
}

// checkFields refuses unknown and unsupported fields of obj; prefix locates
// obj in the request ("messages[2].") for the error's param.
func checkFields(obj map[string]json.RawMessage, fields map[string]field, prefix string) *apiError {
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	sort.Strings(names) // the first bad field in name order, so errors do not vary
	for _, name := range names {
		f, ok := fields[name]
		switch {
		case !ok:
			e := invalid(prefix+name, "Unknown parameter: '%s%s'. Remove it; this server takes the fields of OpenAI's API for this endpoint.", prefix, name)
			e.Code = strp("unknown_parameter")
			return e
		case f.support != unsupported:
		case f.noop != nil && f.noop(obj[name]), f.noop == nil && isEmpty(obj[name]):
		default:
			e := invalid(prefix+name, "'%s%s' is not supported by this server; remove it or set it to null.", prefix, name)
			e.Code = strp("unsupported_parameter")
			return e
		}
	}
	return nil
}

// fieldError is a value error found while decoding, with the field it is in.
type fieldError struct {
	param, msg string
}

func (e *fieldError) Error() string { return e.msg }

// decodeObject decodes one JSON object of a request into v after checking
// its fields; prefix locates it in the request for errors.
func decodeObject(raw []byte, fields map[string]field, prefix string, v any) *apiError {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		what := "the request body"
		if prefix != "" {
			what = strings.TrimSuffix(prefix, ".")
		}
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return invalid("", "The request body is not valid JSON: %v (at byte %d). Send a JSON object.", syntax, syntax.Offset)
		}
		return invalid(strings.TrimSuffix(prefix, "."), "%s must be a JSON object, not %s.", what, jsonKind(raw))
	}
	if e := checkFields(obj, fields, prefix); e != nil {
		return e
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return decodeError(err, prefix)
	}
	return nil
}

// decodeError says what is wrong with a field's value in JSON's terms, not Go's.
func decodeError(err error, prefix string) *apiError {
	var fe *fieldError
	if errors.As(err, &fe) {
		return invalid(prefix+fe.param, "%s", fe.msg)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// Field is the Go path ("samplingFields.max_tokens"); the JSON name is its last part.
		name := te.Field
		if i := strings.LastIndex(name, "."); i >= 0 {
			name = name[i+1:]
		}
		got := te.Value
		if strings.HasPrefix(got, "number ") {
			got = "the number " + strings.TrimPrefix(got, "number ")
		} else {
			got = article(got)
		}
		return invalid(prefix+name, "%s%s must be %s, not %s.", prefix, name, jsonType(te.Type), got)
	}
	return invalid(strings.TrimSuffix(prefix, "."), "The request body could not be read as JSON: %v.", err)
}

// jsonType names what JSON value a Go type takes.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

func article(kind string) string {
	switch kind {
	case "array", "object":
		return "an " + kind
	case "bool":
		return "a boolean"
	}
	return "a " + kind
}

// jsonKind names the JSON value raw holds.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "an empty body"
	}
	switch raw[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// checkContentType accepts JSON bodies. OpenAI's SDKs always send
// application/json; a request without a Content-Type is read as JSON too,
// as curl and hand-written clients often omit it.
func checkContentType(r *http.Request) *apiError {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && mt == "application/json" {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return nil
		}
	}
	return &apiError{Status: http.StatusUnsupportedMediaType, Type: "invalid_request_error", Code: strp("unsupported_media_type"),
		Message: fmt.Sprintf("The request's Content-Type is %q; send the body as JSON with Content-Type: application/json.", ct)}
}
