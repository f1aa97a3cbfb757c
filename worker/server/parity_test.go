package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kubeinfer/kubeinfer/worker/chattemplate"
	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/grammar/grammartest"
	"github.com/kubeinfer/kubeinfer/worker/load"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// The project's trained llama: a model that writes Go, so every parameter
// has a visible effect on real text.
const trainedModel = "../testdata/models/llama-go.gguf"

type trained struct {
	s      *Server
	url    string
	client openai.Client
	ref    *load.Model
}

func startTrained(t *testing.T, cfg Config) *trained {
	t.Helper()
	log := testr.NewWithOptions(t, testr.Options{Verbosity: 0})
	m, err := load.Load(load.Options{Path: trainedModel, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := load.Load(load.Options{Path: trainedModel, Log: log, Backend: func(m *model.Model) (engine.Backend, error) {
		return engine.NewCPU(m, engine.CPUOptions{KVCacheTokens: 1 << 14})
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.ServedName, cfg.Log = "llama-go", log
	s := New(cfg)
	if err := s.Start(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		hs.Close()
		ref.Close()
	})
	return &trained{s: s, url: hs.URL, ref: ref,
		client: openai.NewClient(option.WithBaseURL(hs.URL+"/v1"), option.WithAPIKey("unused"), option.WithMaxRetries(0))}
}

const goPrompt = "// Package stack implements a stack of ints.\npackage stack\n\n// Stack is a LIFO.\ntype Stack struct {\n\titems []int\n}\n\n// Push adds v.\nfunc (s *Stack) Push(v int) {\n"

// reference is engine.Generate's output on the reference model.
func (tr *trained) reference(t *testing.T, prompt []int, maxTokens int, p engine.SamplingParams, stop ...string) engine.Result {
	t.Helper()
	res, err := engine.Generate(context.Background(), tr.ref.Backend, tr.ref.Tokenizer,
		engine.Request{Prompt: prompt, MaxTokens: maxTokens, Sampling: p, Stop: stop}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (tr *trained) complete(t *testing.T, p openai.CompletionNewParams) *openai.Completion {
	t.Helper()
	p.Model = "llama-go"
	p.Prompt = openai.CompletionNewParamsPromptUnion{OfString: openai.String(goPrompt)}
	c, err := tr.client.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every sampling parameter reaches the sampler (the server's text equals
// engine.Generate's with the same parameters) and changes what the trained
// model writes.
func TestParitySamplingParameters(t *testing.T) {
	tr := startTrained(t, Config{MaxConcurrent: 4, MaxQueue: 16})
	prompt := tr.ref.TextPrompt(goPrompt)
	const maxTok = 40
	greedy := tr.reference(t, prompt, maxTok, engine.SamplingParams{})
	if len(greedy.Tokens) < 10 {
		t.Fatalf("greedy output %q is too short to test with", greedy.Text)
	}
	t.Logf("greedy: %q", greedy.Text)
	first := greedy.Tokens[0]

	tests := []struct {
		name   string
		params openai.CompletionNewParams
		want   engine.SamplingParams
		differ bool // from greedy
	}{
		{"seed at temperature 1", openai.CompletionNewParams{Temperature: openai.Float(1), Seed: openai.Int(7)},
			engine.SamplingParams{Temperature: 1, TopP: 1, Seed: 7}, true},
		{"top_k 1 is greedy", openai.CompletionNewParams{Temperature: openai.Float(1), Seed: openai.Int(7)},
			engine.SamplingParams{Temperature: 1, TopP: 1, TopK: 1, Seed: 7}, false},
		{"logit_bias bans the greedy first token", openai.CompletionNewParams{Temperature: openai.Float(0), LogitBias: map[string]int64{fmt.Sprint(first): -100}},
			engine.SamplingParams{LogitBias: map[int]float32{first: -100}}, true},
		{"frequency_penalty", openai.CompletionNewParams{Temperature: openai.Float(0), FrequencyPenalty: openai.Float(2)},
			engine.SamplingParams{FrequencyPenalty: 2}, true},
		{"presence_penalty", openai.CompletionNewParams{Temperature: openai.Float(0), PresencePenalty: openai.Float(2)},
			engine.SamplingParams{PresencePenalty: 2}, true},
		{"repetition_penalty", openai.CompletionNewParams{Temperature: openai.Float(0)},
			engine.SamplingParams{RepetitionPenalty: 1.8}, true},
		{"min_p at temperature 1.5", openai.CompletionNewParams{Temperature: openai.Float(1.5), Seed: openai.Int(3)},
			engine.SamplingParams{Temperature: 1.5, TopP: 1, MinP: 0.3, Seed: 3}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.params
			p.MaxTokens = openai.Int(maxTok)
			var opts []option.RequestOption
			if tc.want.TopK > 0 {
				opts = append(opts, option.WithJSONSet("top_k", tc.want.TopK))
			}
			if tc.want.RepetitionPenalty > 0 {
				opts = append(opts, option.WithJSONSet("repetition_penalty", tc.want.RepetitionPenalty))
			}
			if tc.want.MinP > 0 {
				opts = append(opts, option.WithJSONSet("min_p", tc.want.MinP))
			}
			p.Model = "llama-go"
			p.Prompt = openai.CompletionNewParamsPromptUnion{OfString: openai.String(goPrompt)}
			got, err := tr.client.Completions.New(context.Background(), p, opts...)
			if err != nil {
				t.Fatal(err)
			}
			want := tr.reference(t, prompt, maxTok, tc.want)
			if got.Choices[0].Text != wire(want.Text) {
				t.Errorf("server %q\nengine %q", got.Choices[0].Text, want.Text)
			}
			if differs := want.Text != greedy.Text; differs != tc.differ {
				t.Errorf("differs from greedy: %v, want %v (%q)", differs, tc.differ, want.Text)
			}
		})
	}

	t.Run("seed reproduces, another seed does not", func(t *testing.T) {
		p := openai.CompletionNewParams{Temperature: openai.Float(1), Seed: openai.Int(11), MaxTokens: openai.Int(maxTok)}
		a, b := tr.complete(t, p), tr.complete(t, p)
		p.Seed = openai.Int(12)
		c := tr.complete(t, p)
		if a.Choices[0].Text != b.Choices[0].Text || a.Choices[0].Text == c.Choices[0].Text {
			t.Errorf("seed 11 twice: %q, %q; seed 12: %q", a.Choices[0].Text, b.Choices[0].Text, c.Choices[0].Text)
		}
	})

	t.Run("logit_bias 100 forces a token", func(t *testing.T) {
		forced := tr.ref.Tokenizer.Encode(" x", false)[0]
		c := tr.complete(t, openai.CompletionNewParams{Temperature: openai.Float(0), MaxTokens: openai.Int(6), LogitBias: map[string]int64{fmt.Sprint(forced): 100}})
		piece := tr.ref.Tokenizer.Decode([]int{forced})
		if c.Choices[0].Text != strings.Repeat(piece, 6) {
			t.Errorf("got %q, want %q six times", c.Choices[0].Text, piece)
		}
	})

	t.Run("min_p keeps only likely tokens", func(t *testing.T) {
		// With logprobs (of the model's own distribution), a kept token's
		// probability after temperature is at least min_p of the best one's.
		const temp, minP = 1.5, 0.3
		violations := func(minp float64) int {
			n := 0
			for seed := range int64(6) {
				c, err := tr.client.Completions.New(context.Background(), openai.CompletionNewParams{Model: "llama-go",
					Prompt:      openai.CompletionNewParamsPromptUnion{OfString: openai.String(goPrompt)},
					Temperature: openai.Float(temp), Seed: openai.Int(seed), MaxTokens: openai.Int(maxTok), Logprobs: openai.Int(1)},
					option.WithJSONSet("min_p", minp))
				if err != nil {
					t.Fatal(err)
				}
				lp := c.Choices[0].Logprobs
				for i, chosen := range lp.TokenLogprobs {
					best := chosen
					for _, v := range lp.TopLogprobs[i] {
						best = math.Max(best, v)
					}
					if (chosen-best)/temp < math.Log(minP)-1e-4 {
						n++
					}
				}
			}
			return n
		}
		if v := violations(minP); v != 0 {
			t.Errorf("min_p %g: %d tokens below it", minP, v)
		}
		if v := violations(0); v == 0 {
			t.Errorf("without min_p no token falls below %g of the best: the test shows nothing", minP)
		}
	})

	t.Run("stop strings across token boundaries", func(t *testing.T) {
		// A stop string made of the end of one greedy token and the start of
		// the next.
		var stop string
		text := ""
		for i := 0; i+1 < len(greedy.Tokens) && stop == ""; i++ {
			a := tr.ref.Tokenizer.Decode(greedy.Tokens[i : i+1])
			b := tr.ref.Tokenizer.Decode(greedy.Tokens[i+1 : i+2])
			text += a
			if len(a) >= 2 && len(b) >= 2 && i > 2 {
				stop = a[len(a)-2:] + b[:2]
			}
		}
		if stop == "" || !strings.Contains(greedy.Text, stop) {
			t.Fatalf("no stop string spanning two tokens in %q", greedy.Text)
		}
		want := greedy.Text[:strings.Index(greedy.Text, stop)]
		c := tr.complete(t, openai.CompletionNewParams{Temperature: openai.Float(0), MaxTokens: openai.Int(maxTok),
			Stop: openai.CompletionNewParamsStopUnion{OfStringArray: []string{"never here", stop, "nor here"}}})
		if c.Choices[0].Text != want || c.Choices[0].FinishReason != "stop" {
			t.Errorf("stop %q: %q (%s), want %q", stop, c.Choices[0].Text, c.Choices[0].FinishReason, want)
		}
		stream := tr.client.Completions.NewStreaming(context.Background(), openai.CompletionNewParams{Model: "llama-go",
			Prompt:      openai.CompletionNewParamsPromptUnion{OfString: openai.String(goPrompt)},
			Temperature: openai.Float(0), MaxTokens: openai.Int(maxTok), Stop: openai.CompletionNewParamsStopUnion{OfStringArray: []string{stop, "zz"}}})
		var got string
		for stream.Next() {
			for _, ch := range stream.Current().Choices {
				got += ch.Text
			}
		}
		if stream.Err() != nil || got != want {
			t.Errorf("streamed with stop %q: %q %v, want %q", stop, got, stream.Err(), want)
		}
	})
}

// n choices: each is the generation of its own seed (seed + index), and the
// prompt's KV is computed once.
func TestParityChoices(t *testing.T) {
	tr := startTrained(t, Config{MaxConcurrent: 4, MaxQueue: 16})
	prompt := tr.ref.TextPrompt(goPrompt)
	before := tr.s.Stats()
	c := tr.complete(t, openai.CompletionNewParams{Temperature: openai.Float(1), Seed: openai.Int(100), N: openai.Int(3), MaxTokens: openai.Int(24)})
	after := tr.s.Stats()
	if len(c.Choices) != 3 {
		t.Fatalf("%d choices", len(c.Choices))
	}
	distinct := map[string]bool{}
	total := 0
	for i, ch := range c.Choices {
		want := tr.reference(t, prompt, 24, engine.SamplingParams{Temperature: 1, TopP: 1, Seed: uint64(100 + i)})
		if int(ch.Index) != i || ch.Text != wire(want.Text) {
			t.Errorf("choice %d (index %d): %q, want %q", i, ch.Index, ch.Text, want.Text)
		}
		distinct[ch.Text] = true
		total += len(want.Tokens)
	}
	if len(distinct) < 2 {
		t.Errorf("three choices, %d distinct texts", len(distinct))
	}
	if c.Usage.PromptTokens != int64(len(prompt)) || c.Usage.CompletionTokens != int64(total) {
		t.Errorf("usage %+v, want %d prompt tokens (once) and %d completion tokens", c.Usage, len(prompt), total)
	}
	// The second and third choice found the prompt's full blocks in the pool.
	block := after.KVBlockTokens
	if hits := after.PrefixHitTokens - before.PrefixHitTokens; hits < uint64(2*((len(prompt)-1)/block*block)) {
		t.Errorf("prefix hits %d tokens; two choices should reuse the %d-token prompt's full blocks", hits, len(prompt))
	}

	// Streamed: chunks carry each choice's index, and each choice ends.
	stream := tr.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "llama-go",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("func main() {")}, N: openai.Int(2), Seed: openai.Int(5),
		Temperature: openai.Float(1), MaxTokens: openai.Int(12)})
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if stream.Err() != nil || len(acc.Choices) != 2 || acc.Choices[0].FinishReason == "" || acc.Choices[1].FinishReason == "" {
		t.Errorf("streamed n=2: %v %+v", stream.Err(), acc.Choices)
	}
}

// Chat logprobs are complete: one entry per generated token, their texts
// spell the content, top_logprobs are the model's best, in order.
func TestParityChatLogprobs(t *testing.T) {
	tr := startTrained(t, Config{MaxConcurrent: 2, MaxQueue: 8})
	params := openai.ChatCompletionNewParams{Model: "llama-go", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("func add(a, b int) int {")},
		Temperature: openai.Float(0), MaxTokens: openai.Int(20), Logprobs: openai.Bool(true), TopLogprobs: openai.Int(5)}
	got, err := tr.client.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what, content string, lps []openai.ChatCompletionTokenLogprob, tokens int64) {
		if int64(len(lps)) != tokens {
			t.Errorf("%s: %d logprobs for %d tokens", what, len(lps), tokens)
		}
		var text strings.Builder
		for i, lp := range lps {
			text.WriteString(lp.Token)
			if len(lp.TopLogprobs) != 5 || lp.Logprob > 0 {
				t.Errorf("%s: token %d: %+v", what, i, lp)
				continue
			}
			for j := 1; j < 5; j++ {
				if lp.TopLogprobs[j].Logprob > lp.TopLogprobs[j-1].Logprob {
					t.Errorf("%s: token %d: top_logprobs out of order", what, i)
				}
			}
			// Greedy: the chosen token is the best one.
			if lp.TopLogprobs[0].Token != lp.Token || lp.TopLogprobs[0].Logprob != lp.Logprob {
				t.Errorf("%s: token %d %q is not the best %q", what, i, lp.Token, lp.TopLogprobs[0].Token)
			}
			b := make([]byte, len(lp.Bytes))
			for k, v := range lp.Bytes {
				b[k] = byte(v)
			}
			if string(b) != lp.Token && wire(string(b)) != lp.Token {
				t.Errorf("%s: token %d bytes %v are not %q", what, i, lp.Bytes, lp.Token)
			}
		}
		if wire(text.String()) != content {
			t.Errorf("%s: logprob tokens spell %q, content is %q", what, text.String(), content)
		}
	}
	check("response", got.Choices[0].Message.Content, got.Choices[0].Logprobs.Content, got.Usage.CompletionTokens)

	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := tr.client.Chat.Completions.NewStreaming(context.Background(), params)
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if stream.Err() != nil {
		t.Fatal(stream.Err())
	}
	check("stream", acc.Choices[0].Message.Content, acc.Choices[0].Logprobs.Content, acc.Usage.CompletionTokens)
}

const personSchema = `{"type":"object","properties":{
	"name":{"type":"string","maxLength":10},
	"age":{"type":"integer","minimum":0,"maximum":120},
	"kind":{"enum":["func","type","var"]},
	"tags":{"type":"array","items":{"type":"string","maxLength":5},"maxItems":2},
	"born":{"type":"string","format":"date"}},
	"required":["name","age","kind"],"additionalProperties":false}`

// json_schema outputs validate for every seed: sampling at temperature 1
// from a model that writes Go, constrained to the schema (the Node SDK test
// runs 100 seeds of a smaller schema).
func TestParityJSONSchemaOutputs(t *testing.T) {
	tr := startTrained(t, Config{MaxConcurrent: 16, MaxQueue: 200})
	var schema map[string]any
	if err := json.Unmarshal([]byte(personSchema), &schema); err != nil {
		t.Fatal(err)
	}
	val := grammartest.Validator(t, personSchema)
	format := openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
		JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "person", Schema: schema, Strict: openai.Bool(true)}}}
	const seeds = 30
	type result struct {
		seed int
		text string
		fin  string
		err  error
	}
	results := make(chan result, seeds)
	for seed := range seeds {
		go func() {
			c, err := tr.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "llama-go",
				Messages:       []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Describe a Go identifier as JSON.")},
				ResponseFormat: format, Temperature: openai.Float(1), Seed: openai.Int(int64(seed)), MaxCompletionTokens: openai.Int(300)})
			if err != nil {
				results <- result{seed: seed, err: err}
				return
			}
			results <- result{seed, c.Choices[0].Message.Content, string(c.Choices[0].FinishReason), nil}
		}()
	}
	failures, distinct, tokens := 0, map[string]bool{}, 0
	for range seeds {
		r := <-results
		tokens += len(tr.ref.Tokenizer.Encode(r.text, false))
		if r.err != nil {
			t.Fatalf("seed %d: %v", r.seed, r.err)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(r.text))
		if err == nil {
			err = val.Validate(inst)
		}
		if err != nil || r.fin != "stop" {
			failures++
			t.Errorf("seed %d: %q (finish %s): %v", r.seed, r.text, r.fin, err)
		}
		distinct[r.text] = true
	}
	t.Logf("%d seeds, %d failures, %d distinct outputs, %d tokens", seeds, failures, len(distinct), tokens)
	if len(distinct) < seeds/2 {
		t.Errorf("only %d distinct outputs of %d seeds", len(distinct), seeds)
	}

	// json_object on the completions endpoint: any JSON object.
	for seed := range int64(5) {
		resp := postJSON(t, tr.url+"/v1/completions", fmt.Sprintf(`{"model":"llama-go","prompt":%q,"temperature":1,"seed":%d,"max_tokens":150,"response_format":{"type":"json_object"}}`, goPrompt, seed))
		var out struct {
			Choices []struct {
				Text         string `json:"text"`
				FinishReason string `json:"finish_reason"`
			}
		}
		if err := json.Unmarshal(resp, &out); err != nil || len(out.Choices) != 1 {
			t.Fatalf("%s: %v", resp, err)
		}
		var obj map[string]any
		if out.Choices[0].FinishReason == "stop" && json.Unmarshal([]byte(out.Choices[0].Text), &obj) != nil {
			t.Errorf("json_object seed %d: %q is not a JSON object", seed, out.Choices[0].Text)
		}
	}
}

func postJSON(t *testing.T, url, body string) []byte {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

var parityTools = []openai.ChatCompletionToolUnionParam{
	openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "get_weather", Description: openai.String("The weather in a city."),
		Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{
			"city": map[string]any{"type": "string", "maxLength": 12},
			"unit": map[string]any{"type": "string", "enum": []string{"c", "f"}}}, "required": []string{"city", "unit"}}}),
	openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "add", Description: openai.String("Adds two numbers."),
		Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{
			"a": map[string]any{"type": "integer", "minimum": 0, "maximum": 99},
			"b": map[string]any{"type": "integer", "minimum": 0, "maximum": 99}}, "required": []string{"a", "b"}}}),
}

// A tool-calling round trip through the OpenAI Go SDK: the model must call
// (tool_choice required), the calls' arguments validate, the tool results
// go back in tool messages, and the model answers in text.
func TestParityToolRoundTrip(t *testing.T) {
	tr := startTrained(t, Config{MaxConcurrent: 2, MaxQueue: 8})
	ctx := context.Background()
	vals := map[string]*jsonschema.Schema{
		"get_weather": grammartest.Validator(t, `{"type":"object","properties":{"city":{"type":"string","maxLength":12},"unit":{"type":"string","enum":["c","f"]}},"required":["city","unit"]}`),
		"add":         grammartest.Validator(t, `{"type":"object","properties":{"a":{"type":"integer","minimum":0,"maximum":99},"b":{"type":"integer","minimum":0,"maximum":99}},"required":["a","b"]}`),
	}
	checkCalls := func(what string, calls []openai.ChatCompletionMessageToolCallUnion, only string) {
		if len(calls) == 0 {
			t.Fatalf("%s: no tool calls", what)
		}
		for _, c := range calls {
			if c.ID == "" || c.Type != "function" {
				t.Errorf("%s: call %+v lacks an id or type", what, c)
			}
			v, ok := vals[c.Function.Name]
			if !ok || (only != "" && c.Function.Name != only) {
				t.Fatalf("%s: call of %q", what, c.Function.Name)
			}
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(c.Function.Arguments))
			if err == nil {
				err = v.Validate(inst)
			}
			if err != nil {
				t.Errorf("%s: %s(%s): %v", what, c.Function.Name, c.Function.Arguments, err)
			}
		}
	}
	msgs := []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("You call tools."), openai.UserMessage("What is 2 + 3, and the weather in Oslo?")}
	// One call per turn: this model, asked for another call, always makes one,
	// and the context is 512 tokens (the grammar test covers several calls).
	params := openai.ChatCompletionNewParams{Model: "llama-go", Messages: msgs, Tools: parityTools, Seed: openai.Int(1), Temperature: openai.Float(0.7),
		ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}, MaxTokens: openai.Int(200),
		ParallelToolCalls: openai.Bool(false)}
	first, err := tr.client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	ch := first.Choices[0]
	if ch.FinishReason != "tool_calls" {
		t.Fatalf("finish %q, message %+v", ch.FinishReason, ch.Message)
	}
	checkCalls("required", ch.Message.ToolCalls, "")

	// Streamed, the same calls arrive as tool_calls deltas.
	stream := tr.client.Chat.Completions.NewStreaming(ctx, params)
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if stream.Err() != nil || acc.Choices[0].FinishReason != "tool_calls" || len(acc.Choices[0].Message.ToolCalls) != len(ch.Message.ToolCalls) {
		t.Fatalf("stream: %v %+v", stream.Err(), acc.Choices)
	}
	for i, c := range acc.Choices[0].Message.ToolCalls {
		if c.Function.Name != ch.Message.ToolCalls[i].Function.Name || c.Function.Arguments != ch.Message.ToolCalls[i].Function.Arguments {
			t.Errorf("streamed call %d %+v, want %+v", i, c.Function, ch.Message.ToolCalls[i].Function)
		}
	}

	// A named function: exactly one call of it.
	params.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfFunctionToolChoice: &openai.ChatCompletionNamedToolChoiceParam{
		Function: openai.ChatCompletionNamedToolChoiceFunctionParam{Name: "add"}}}
	named, err := tr.client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if len(named.Choices[0].Message.ToolCalls) != 1 {
		t.Errorf("named: %d calls", len(named.Choices[0].Message.ToolCalls))
	}
	checkCalls("named", named.Choices[0].Message.ToolCalls, "add")

	// The results go back; with tool_choice none the model answers in text.
	msgs = append(msgs, ch.Message.ToParam())
	for _, c := range ch.Message.ToolCalls {
		msgs = append(msgs, openai.ToolMessage(`{"result": "5 and snow"}`, c.ID))
	}
	params.Messages, params.ToolChoice = msgs, openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("none")}
	final, err := tr.client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if fc := final.Choices[0]; len(fc.Message.ToolCalls) != 0 || fc.Message.Content == "" || fc.FinishReason == "tool_calls" {
		t.Errorf("answer after the tool results: %+v", fc)
	}
	// The conversation the model saw holds the call and its result (its
	// template writes other turns as Go comments).
	p, err := tr.ref.Template.RenderTools([]chattemplate.Message{{Role: "assistant", ToolCalls: []chattemplate.ToolCall{{ID: "x", Name: "add", Arguments: `{"a":1}`}}},
		{Role: "tool", ToolCallID: "x", Content: "5"}}, nil, true)
	if err != nil || !strings.Contains(p, `{"tool_calls": [{"name": "add", "arguments": {"a":1}}]}`) || !strings.Contains(p, "// 5\n") {
		t.Errorf("plain rendering of a tool round trip: %q %v", p, err)
	}
	if final.Usage.PromptTokens <= first.Usage.PromptTokens {
		t.Errorf("the round trip's prompt (%d tokens) is not longer than the first (%d)", final.Usage.PromptTokens, first.Usage.PromptTokens)
	}
}

func TestParityEmbeddings(t *testing.T) {
	tr := startTrained(t, Config{MaxConcurrent: 2, MaxQueue: 8})
	ctx := context.Background()
	inputs := []string{"func main() {}", "package stack", "func main() {}"}
	got, err := tr.client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "llama-go", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: inputs}})
	if err != nil {
		t.Fatal(err)
	}
	dim := tr.ref.Backend.Model().Hyper.Embedding
	if len(got.Data) != 3 {
		t.Fatalf("%d embeddings", len(got.Data))
	}
	tokens := 0
	for i, d := range got.Data {
		if int(d.Index) != i || len(d.Embedding) != dim {
			t.Fatalf("embedding %d: index %d, %d dimensions, want %d", i, d.Index, len(d.Embedding), dim)
		}
		var ss float64
		for _, v := range d.Embedding {
			ss += v * v
		}
		if math.Abs(ss-1) > 1e-5 {
			t.Errorf("embedding %d has norm² %g", i, ss)
		}
		// The engine's own embedding of the same tokens.
		prompt := tr.ref.TextPrompt(inputs[i])
		tokens += len(prompt)
		seq, err := tr.ref.Backend.NewSequence(len(prompt))
		if err != nil {
			t.Fatal(err)
		}
		want, err := tr.ref.Backend.(engine.Embedder).Embed(seq, prompt, engine.PoolingLast)
		tr.ref.Backend.FreeSequence(seq)
		if err != nil {
			t.Fatal(err)
		}
		for j := range want {
			if math.Abs(float64(want[j])-d.Embedding[j]) > 1e-6 {
				t.Fatalf("embedding %d differs from the engine's at %d: %g vs %g", i, j, d.Embedding[j], want[j])
			}
		}
	}
	if got.Usage.PromptTokens != int64(tokens) {
		t.Errorf("usage %d prompt tokens, want %d", got.Usage.PromptTokens, tokens)
	}
	var dot float64
	for j := range dim {
		dot += got.Data[0].Embedding[j] * got.Data[1].Embedding[j]
	}
	if dot > 0.9999 || !equalF(got.Data[0].Embedding, got.Data[2].Embedding) {
		t.Errorf("different inputs give cosine %g; equal ones equal vectors: %v", dot, equalF(got.Data[0].Embedding, got.Data[2].Embedding))
	}

	// base64 is the same vector as little-endian float32s.
	raw := postJSON(t, tr.url+"/v1/embeddings", `{"model":"llama-go","input":"package stack","encoding_format":"base64"}`)
	var b64 struct {
		Data []struct {
			Embedding string `json:"embedding"`
		}
	}
	if err := json.Unmarshal(raw, &b64); err != nil {
		t.Fatal(err)
	}
	bs, err := base64.StdEncoding.DecodeString(b64.Data[0].Embedding)
	if err != nil || len(bs) != 4*dim {
		t.Fatalf("base64 embedding: %v, %d bytes", err, len(bs))
	}
	for j := range dim {
		if f := math.Float32frombits(binary.LittleEndian.Uint32(bs[4*j:])); f != float32(got.Data[1].Embedding[j]) {
			t.Fatalf("base64 float %d = %g, want %g", j, f, got.Data[1].Embedding[j])
		}
	}
	// Token ids embed as the text they spell.
	ids := tr.ref.TextPrompt("package stack")
	toks := make([]int64, len(ids))
	for i, id := range ids {
		toks[i] = int64(id)
	}
	byID, err := tr.client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "llama-go", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfTokens: toks}})
	if err != nil || !equalF(byID.Data[0].Embedding, got.Data[1].Embedding) {
		t.Errorf("token-id input: %v", err)
	}
}

func equalF(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParityModels(t *testing.T) {
	tr := startTrained(t, Config{MaxConcurrent: 3, MaxQueue: 5})
	raw := postGet(t, tr.url+"/v1/models")
	var list struct {
		Data []struct {
			ID            string
			MaxModelLen   int `json:"max_model_len"`
			ContextLength int `json:"context_length"`
			Limits        struct {
				MaxRequestBytes int64 `json:"max_request_bytes"`
				MaxConcurrent   int   `json:"max_concurrent_requests"`
				MaxQueued       int   `json:"max_queued_requests"`
				MaxChoices      int   `json:"max_choices"`
				Embeddings      bool  `json:"embeddings"`
			}
		}
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	m := list.Data[0]
	lim := tr.s.Limits()
	if m.ID != "llama-go" || m.MaxModelLen != lim.ContextLength || m.ContextLength != 512 || m.Limits.MaxRequestBytes != lim.MaxRequestBytes ||
		m.Limits.MaxConcurrent != 3 || m.Limits.MaxQueued != 5 || m.Limits.MaxChoices != lim.MaxChoices || !m.Limits.Embeddings {
		t.Errorf("models: %s", raw)
	}
	// The SDK reads it.
	models, err := tr.client.Models.List(context.Background())
	if err != nil || models.Data[0].ID != "llama-go" {
		t.Errorf("SDK models: %v", err)
	}
}

func postGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}
