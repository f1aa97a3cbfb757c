package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/kubeinfer/kubeinfer/worker/chattemplate"
	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/load"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
	"github.com/kubeinfer/kubeinfer/worker/report"
	"github.com/kubeinfer/kubeinfer/worker/scheduler"
)

const (
	servedName = "tiny"
	chatML     = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

// writeModel writes a tiny byte-level model (every byte encodes) with a
// ChatML template.
func writeModel(path string) error {
	cfg := modeltest.Small("gpt2")
	cfg.Vocab, cfg.Context = 320, 256
	w, err := modeltest.Writer(cfg, modeltest.Tensors(cfg))
	if err != nil {
		return err
	}
	w.Set(chattemplate.MetadataKey, gguf.String(chatML))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := w.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

var modelPath string

func TestMain(m *testing.M) {
	if cfg := os.Getenv(abuseChildEnv); cfg != "" {
		os.Exit(abuseChild(cfg)) // a server for TestAbuseMemoryBound to measure
	}
	dir, err := os.MkdirTemp("", "servertest")
	if err != nil {
		panic(err)
	}
	modelPath = filepath.Join(dir, "tiny.gguf")
	if err := writeModel(modelPath); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// wire is what s looks like after a JSON round trip: the random test model
// generates arbitrary bytes, and JSON encoding turns each invalid UTF-8
// byte into U+FFFD.
func wire(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}

// harness is a started server on a loopback listener and a second copy of
// the model for reference outputs.
type harness struct {
	s      *Server
	http   *httptest.Server
	client openai.Client
	ref    *load.Model
	narr   *recorder
	gate   *gate
	// ended counts requests whose context ended: the handler returned or
	// the client went away.
	ended atomic.Int32
}

type recorder struct {
	mu       sync.Mutex
	records  []report.Completion
	loaded   []report.ModelLoaded
	failures []report.InferenceFailure
}

func (r *recorder) OnModelLoaded(m report.ModelLoaded) {
	r.mu.Lock()
	r.loaded = append(r.loaded, m)
	r.mu.Unlock()
}
func (r *recorder) OnModelLoadFailed(error) {}
func (r *recorder) OnComplete(c report.Completion) {
	r.mu.Lock()
	r.records = append(r.records, c)
	r.mu.Unlock()
}
func (r *recorder) OnInferenceFailed(f report.InferenceFailure) {
	r.mu.Lock()
	r.failures = append(r.failures, f)
	r.mu.Unlock()
}

// gate wraps a backend so that a test can hold Decode calls, keeping
// sequences running for as long as it needs.
type gate struct {
	engine.Backend
	mu   sync.Mutex
	open chan struct{}
}

func newGate(b engine.Backend) *gate {
	g := &gate{Backend: b, open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gate) hold() { g.mu.Lock(); g.open = make(chan struct{}); g.mu.Unlock() }

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// Embed passes through, so the gated CPU engine still computes embeddings.
func (g *gate) Embed(seq engine.SeqID, tokens []int, pool engine.Pooling) ([]float32, error) {
	return g.Backend.(engine.Embedder).Embed(seq, tokens, pool)
}

func (g *gate) Decode(batch []engine.DecodeInput) ([][]float32, error) {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	<-open
	return g.Backend.Decode(batch)
}

func start(t *testing.T, cfg Config) *harness {
	t.Helper()
	log := testr.NewWithOptions(t, testr.Options{Verbosity: 0})
	m, err := load.Load(load.Options{Path: modelPath, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	g := newGate(m.Backend)
	m.Backend = g
	// The reference runs many sequences at once outside any scheduler: room for all of them.
	ref, err := load.Load(load.Options{Path: modelPath, Log: log, Backend: func(m *model.Model) (engine.Backend, error) {
		return engine.NewCPU(m, engine.CPUOptions{KVCacheTokens: 1 << 16})
	}})
	if err != nil {
		t.Fatal(err)
	}
	narr := &recorder{}
	cfg.ServedName, cfg.Log, cfg.Narrator = servedName, log, narr
	s := New(cfg)
	if err := s.Start(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	h := &harness{s: s, ref: ref, narr: narr, gate: g}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		go func() { <-r.Context().Done(); h.ended.Add(1) }()
		s.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		g.release()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		hs.Close()
		ref.Close()
	})
	h.http = hs
	h.client = openai.NewClient(option.WithBaseURL(hs.URL+"/v1"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	return h
}

// direct is engine.Generate's greedy output for prompt.
func (h *harness) direct(t *testing.T, prompt []int, maxTokens int, stop ...string) engine.Result {
	t.Helper()
	res, err := engine.Generate(context.Background(), h.ref.Backend, h.ref.Tokenizer, engine.Request{Prompt: prompt, MaxTokens: maxTokens, Stop: stop}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Text = wire(res.Text)
	return res
}

func (h *harness) chatPrompt(t *testing.T, user string) []int {
	t.Helper()
	p, err := h.ref.Template.Render([]chattemplate.Message{{Role: "user", Content: user}}, true)
	if err != nil {
		t.Fatal(err)
	}
	return h.ref.Tokenizer.Encode(p, false)
}

func TestCompletionsGreedyMatchesEngine(t *testing.T) {
	h := start(t, Config{MaxConcurrent: 2, MaxQueue: 8})
	ctx := context.Background()
	const prompt = "The quick brown fox"
	want := h.direct(t, h.ref.Tokenizer.Encode(prompt, true), 12)
	got, err := h.client.Completions.New(ctx, openai.CompletionNewParams{
		Model: servedName, Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String(prompt)},
		MaxTokens: openai.Int(12), Temperature: openai.Float(0), Logprobs: openai.Int(2),
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(got)
	t.Logf("completion response: %s", raw)
	c := got.Choices[0]
	if c.Text != want.Text || string(c.FinishReason) != string(want.Finish) {
		t.Errorf("text %q finish %s, want %q %s", c.Text, c.FinishReason, want.Text, want.Finish)
	}
	if got.Usage.PromptTokens != int64(want.PromptTokens) || got.Usage.CompletionTokens != int64(len(want.Tokens)) ||
		got.Usage.TotalTokens != int64(want.PromptTokens+len(want.Tokens)) {
		t.Errorf("usage %+v, want %d prompt and %d completion tokens", got.Usage, want.PromptTokens, len(want.Tokens))
	}
	if len(c.Logprobs.Tokens) != len(want.Tokens) || len(c.Logprobs.TopLogprobs) != len(want.Tokens) || len(c.Logprobs.TopLogprobs[0]) == 0 {
		t.Errorf("logprobs %+v, want one entry per token with alternatives", c.Logprobs)
	}

	// A stop sequence taken from the greedy output cuts it there.
	raw0, err := engine.Generate(ctx, h.ref.Backend, h.ref.Tokenizer, engine.Request{Prompt: h.ref.Tokenizer.Encode(prompt, true), MaxTokens: 12}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := ""
	for i := 1; i < len(raw0.Text); i++ {
		if c := raw0.Text[i]; c > ' ' && c < 0x7f {
			stop = string(c)
			break
		}
	}
	if stop == "" {
		t.Fatalf("greedy output %q has no ASCII character to stop at", raw0.Text)
	}
	wantStop := h.direct(t, h.ref.Tokenizer.Encode(prompt, true), 12, stop)
	gotStop, err := h.client.Completions.New(ctx, openai.CompletionNewParams{
		Model: servedName, Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String(prompt)},
		MaxTokens: openai.Int(12), Temperature: openai.Float(0), Stop: openai.CompletionNewParamsStopUnion{OfStringArray: []string{stop, "never"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c := gotStop.Choices[0]; c.Text != wantStop.Text || c.FinishReason != "stop" || strings.Contains(c.Text, stop) || len(c.Text) >= len(want.Text) {
		t.Errorf("with stop %q: %q (%s), want %q", stop, c.Text, c.FinishReason, wantStop.Text)
	}

	// Streamed, with usage.
	stream := h.client.Completions.NewStreaming(ctx, openai.CompletionNewParams{
		Model: servedName, Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String(prompt)},
		MaxTokens: openai.Int(12), Temperature: openai.Float(0), StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var text, finish string
	var usage openai.CompletionUsage
	for stream.Next() {
		ch := stream.Current()
		for _, c := range ch.Choices {
			text += c.Text
			if c.FinishReason != "" {
				finish = string(c.FinishReason)
			}
		}
		if ch.Usage.TotalTokens > 0 {
			usage = ch.Usage
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text != want.Text || finish != string(want.Finish) || usage.CompletionTokens != int64(len(want.Tokens)) {
		t.Errorf("stream: %q %s %+v, want %q %s", text, finish, usage, want.Text, want.Finish)
	}
}

func TestChatGreedyMatchesEngine(t *testing.T) {
	h := start(t, Config{MaxConcurrent: 2, MaxQueue: 8})
	ctx := context.Background()
	want := h.direct(t, h.chatPrompt(t, "Hello there"), 10)
	params := openai.ChatCompletionNewParams{
		Model: servedName, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello there")},
		MaxCompletionTokens: openai.Int(10), Temperature: openai.Float(0), Logprobs: openai.Bool(true), TopLogprobs: openai.Int(3),
	}
	got, err := h.client.Chat.Completions.New(ctx, params, option.WithHeader(HeaderCorrelationID, "corr-123"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(got)
	t.Logf("chat completion response: %s", raw)
	c := got.Choices[0]
	if c.Message.Content != want.Text || string(c.FinishReason) != string(want.Finish) || c.Message.Role != "assistant" {
		t.Errorf("got %q %s, want %q %s", c.Message.Content, c.FinishReason, want.Text, want.Finish)
	}
	if got.Usage.PromptTokens != int64(want.PromptTokens) || got.Usage.CompletionTokens != int64(len(want.Tokens)) {
		t.Errorf("usage %+v", got.Usage)
	}
	if len(c.Logprobs.Content) != len(want.Tokens) || len(c.Logprobs.Content[0].TopLogprobs) != 3 {
		t.Errorf("logprobs %+v", c.Logprobs)
	}
	h.narr.mu.Lock()
	var found bool
	for _, r := range h.narr.records {
		found = found || (r.CorrelationID == "corr-123" && r.CompletionTokens == len(want.Tokens) && r.Endpoint == "/v1/chat/completions")
	}
	h.narr.mu.Unlock()
	if !found {
		t.Errorf("no completion record with the correlation id: %+v", h.narr.records)
	}

	// Streamed: role first, content deltas, finish, usage, [DONE].
	params.Logprobs, params.TopLogprobs = openai.Bool(false), openai.Int(0)
	params.TopLogprobs = openai.ChatCompletionNewParams{}.TopLogprobs
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := h.client.Chat.Completions.NewStreaming(ctx, params)
	var acc openai.ChatCompletionAccumulator
	var chunks int
	for stream.Next() {
		chunks++
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Choices[0].Message.Content != want.Text || string(acc.Choices[0].FinishReason) != string(want.Finish) ||
		acc.Usage.CompletionTokens != int64(len(want.Tokens)) || acc.Object != "chat.completion" {
		t.Errorf("stream accumulated %+v after %d chunks, want %q", acc.ChatCompletion, chunks, want.Text)
	}
}

func TestConcurrentStreams(t *testing.T) {
	h := start(t, Config{MaxConcurrent: 4, MaxQueue: 64})
	const clients = 32
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Go(func() {
			user := fmt.Sprintf("client %d says %s", i, strings.Repeat("hi ", i%5))
			maxTok := 4 + i%9
			want := h.direct(t, h.chatPrompt(t, user), maxTok)
			stream := h.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
				Model: servedName, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(user)},
				MaxTokens: openai.Int(int64(maxTok)), Temperature: openai.Float(0),
			})
			var text, finish string
			for stream.Next() {
				for _, c := range stream.Current().Choices {
					text += c.Delta.Content
					if c.FinishReason != "" {
						finish = string(c.FinishReason)
					}
				}
			}
			if err := stream.Err(); err != nil {
				errs <- err
				return
			}
			if text != want.Text || finish != string(want.Finish) {
				errs <- fmt.Errorf("client %d: %q %s, want %q %s", i, text, finish, want.Text, want.Finish)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := h.s.Stats(); st.Running != 0 || st.Queued != 0 || st.KVUsedTokens != 0 {
		t.Errorf("stats after all clients finished: %+v", st)
	}
}

// waitFor polls cond; it fails the test only if cond never holds, so it
// does not depend on timing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 2000 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func metricValue(t *testing.T, h *harness, name string) string {
	t.Helper()
	resp, err := http.Get(h.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

func TestCancelledClientsFreeSlots(t *testing.T) {
	h := start(t, Config{MaxConcurrent: 2, MaxQueue: 8})
	for i := range 4 {
		h.gate.hold() // the sequence cannot finish before the client leaves
		ctx, cancel := context.WithCancel(context.Background())
		stream := h.client.Completions.NewStreaming(ctx, openai.CompletionNewParams{
			Model: servedName, Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String(fmt.Sprintf("cancel me %d", i))},
			Temperature: openai.Float(0), // no max_tokens: runs until the context is full
		})
		// NewStreaming returns with the response headers, sent once the
		// request is queued.
		ended := h.ended.Load()
		cancel()
		stream.Close()
		waitFor(t, "the server to see the disconnect", func() bool { return h.ended.Load() > ended })
		h.gate.release()
		waitFor(t, "the completion record", func() bool {
			h.narr.mu.Lock()
			defer h.narr.mu.Unlock()
			return len(h.narr.records) == i+1
		})
		if r := h.narr.records[i]; r.Finish != "cancelled" {
			t.Errorf("request %d finished %q, want cancelled", i, r.Finish)
		}
	}
	waitFor(t, "running sequences to drop to 0", func() bool { return h.s.Stats().Running == 0 && h.s.Stats().KVUsedTokens == 0 })
	if v := metricValue(t, h, `kubeinfer_worker_running_sequences{model_name="tiny"}`); v != "0" {
		t.Errorf("running_sequences metric = %q, want 0", v)
	}
	got, err := h.client.Completions.New(context.Background(), openai.CompletionNewParams{
		Model: servedName, Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("after")}, MaxTokens: openai.Int(3), Temperature: openai.Float(0),
	})
	if err != nil || got.Usage.CompletionTokens == 0 {
		t.Fatalf("request after cancellations: %v %+v", err, got)
	}
}

func TestQueueFull(t *testing.T) {
	h := start(t, Config{MaxConcurrent: 1, MaxQueue: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	long := openai.CompletionNewParams{Model: servedName, Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("long")}, Temperature: openai.Float(0)}
	h.gate.hold() // the first request keeps its slot until released
	running := h.client.Completions.NewStreaming(ctx, long)
	waitFor(t, "the first request to run", func() bool { return h.s.Stats().Running == 1 })
	go h.client.Completions.New(ctx, long) // waits in the queue
	waitFor(t, "a queued request", func() bool { return h.s.Stats().Queued == 1 })
	resp := post(t, h, "/v1/completions", `{"model":"tiny","prompt":"x","max_tokens":2}`)
	if resp.code != http.StatusTooManyRequests || resp.header.Get("Retry-After") == "" || resp.errCode != "queue_full" {
		t.Errorf("got %d Retry-After=%q %s, want 429 with Retry-After", resp.code, resp.header.Get("Retry-After"), resp.body)
	}
	cancel()
	running.Close()
	h.gate.release()
	waitFor(t, "the queue to empty", func() bool { st := h.s.Stats(); return st.Running == 0 && st.Queued == 0 })
}

type response struct {
	code    int
	header  http.Header
	body    string
	errType string
	errCode string
	param   string
}

func post(t *testing.T, h *harness, path, body string) response {
	t.Helper()
	resp, err := http.Post(h.http.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct {
		Error struct {
			Message, Type string
			Param, Code   *string
		}
	}
	_ = json.Unmarshal(b, &e)
	r := response{code: resp.StatusCode, header: resp.Header, body: string(b), errType: e.Error.Type}
	if e.Error.Code != nil {
		r.errCode = *e.Error.Code
	}
	if e.Error.Param != nil {
		r.param = *e.Error.Param
	}
	return r
}

func TestErrors(t *testing.T) {
	h := start(t, Config{MaxConcurrent: 1, MaxQueue: 1, MaxContext: 64})
	long := strings.Repeat("abcd ", 40)
	tests := []struct {
		name, path, body string
		code             int
		errType, param   string
		errCode          string
	}{
		{"malformed json", "/v1/completions", `{"model":`, 400, "invalid_request_error", "", ""},
		{"unknown model", "/v1/completions", `{"model":"gpt-5","prompt":"x"}`, 404, "invalid_request_error", "model", "model_not_found"},
		{"unknown model chat", "/v1/chat/completions", `{"model":"gpt-5","messages":[{"role":"user","content":"x"}]}`, 404, "invalid_request_error", "model", "model_not_found"},
		{"temperature too high", "/v1/completions", `{"model":"tiny","prompt":"x","temperature":2.5}`, 400, "invalid_request_error", "temperature", ""},
		{"negative temperature", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"x"}],"temperature":-1}`, 400, "invalid_request_error", "temperature", ""},
		{"top_p zero", "/v1/completions", `{"model":"tiny","prompt":"x","top_p":0}`, 400, "invalid_request_error", "top_p", ""},
		{"top_p above one", "/v1/completions", `{"model":"tiny","prompt":"x","top_p":1.5}`, 400, "invalid_request_error", "top_p", ""},
		{"negative max_tokens", "/v1/completions", `{"model":"tiny","prompt":"x","max_tokens":-1}`, 400, "invalid_request_error", "max_tokens", ""},
		{"zero max_completion_tokens", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"x"}],"max_completion_tokens":0}`, 400, "invalid_request_error", "max_completion_tokens", ""},
		{"n above the limit", "/v1/completions", `{"model":"tiny","prompt":"x","n":17}`, 400, "invalid_request_error", "n", ""},
		{"n zero", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"x"}],"n":0}`, 400, "invalid_request_error", "n", ""},
		{"presence penalty", "/v1/completions", `{"model":"tiny","prompt":"x","presence_penalty":3}`, 400, "invalid_request_error", "presence_penalty", ""},
		{"logprobs above 5", "/v1/completions", `{"model":"tiny","prompt":"x","logprobs":6}`, 400, "invalid_request_error", "logprobs", ""},
		{"top_logprobs without logprobs", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"x"}],"top_logprobs":2}`, 400, "invalid_request_error", "top_logprobs", ""},
		{"too many stops", "/v1/completions", `{"model":"tiny","prompt":"x","stop":["a","b","c","d","e"]}`, 400, "invalid_request_error", "stop", ""},
		{"bad stop type", "/v1/completions", `{"model":"tiny","prompt":"x","stop":5}`, 400, "invalid_request_error", "stop", ""},
		{"empty prompt", "/v1/completions", `{"model":"tiny","prompt":""}`, 400, "invalid_request_error", "prompt", ""},
		{"two prompts", "/v1/completions", `{"model":"tiny","prompt":["a","b"]}`, 400, "invalid_request_error", "prompt", ""},
		{"token out of vocabulary", "/v1/completions", `{"model":"tiny","prompt":[1,99999]}`, 400, "invalid_request_error", "prompt", ""},
		{"prompt too long", "/v1/completions", `{"model":"tiny","prompt":"` + long + `"}`, 400, "invalid_request_error", "prompt", "context_length_exceeded"},
		{"chat too long", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"` + long + `"}]}`, 400, "invalid_request_error", "messages", "context_length_exceeded"},
		{"no messages", "/v1/chat/completions", `{"model":"tiny","messages":[]}`, 400, "invalid_request_error", "messages", ""},
		{"bad role", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":"wizard","content":"x"}]}`, 400, "invalid_request_error", "messages[0].role", ""},
		{"unknown endpoint", "/v1/audio/speech", `{}`, 404, "invalid_request_error", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, h, tc.path, tc.body)
			if r.code != tc.code || r.errType != tc.errType || r.param != tc.param || r.errCode != tc.errCode {
				t.Errorf("got %d type=%q param=%q code=%q body %s; want %d %q %q %q", r.code, r.errType, r.param, r.errCode, r.body, tc.code, tc.errType, tc.param, tc.errCode)
			}
			if !strings.Contains(r.body, `"message":"`) {
				t.Errorf("body %s lacks a message", r.body)
			}
		})
	}
	// The SDK surfaces the same errors.
	_, err := h.client.Completions.New(context.Background(), openai.CompletionNewParams{Model: "nope", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("x")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" {
		t.Errorf("SDK error = %v", err)
	}
}

func TestProbesModelsAndCorrelation(t *testing.T) {
	s := New(Config{ServedName: servedName, MaxConcurrent: 1, Log: testr.New(t)})
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503} {
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("before load: %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
	resp, _ := http.Post(hs.URL+"/v1/completions", "application/json", strings.NewReader(`{"model":"tiny","prompt":"x"}`))
	if resp.StatusCode != 503 {
		t.Errorf("completion before load = %d, want 503", resp.StatusCode)
	}
	resp.Body.Close()

	h := start(t, Config{MaxConcurrent: 1})
	req, _ := http.NewRequest("GET", h.http.URL+"/readyz", nil)
	req.Header.Set("X-Request-ID", "req-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get(HeaderCorrelationID) != "req-42" {
		t.Errorf("readyz = %d, correlation id %q", resp.StatusCode, resp.Header.Get(HeaderCorrelationID))
	}
	resp, _ = http.Get(h.http.URL + "/healthz")
	resp.Body.Close()
	if resp.Header.Get(HeaderCorrelationID) == "" {
		t.Error("no generated correlation id")
	}
	models, err := h.client.Models.List(context.Background())
	if err != nil || len(models.Data) != 1 || models.Data[0].ID != servedName {
		t.Errorf("models = %+v, %v", models, err)
	}
	if v := metricValue(t, h, `kubeinfer_worker_kv_cache_capacity_tokens{model_name="tiny"}`); v != "256" {
		t.Errorf("kv capacity metric = %q", v)
	}
	if v := metricValue(t, h, `kubeinfer_worker_requests_total{code="200",endpoint="/readyz",model_name="tiny"}`); v != "1" {
		t.Errorf("readyz request counter = %q", v)
	}
	if len(h.narr.loaded) != 1 || h.narr.loaded[0].Backend != "cpu" {
		t.Errorf("model loaded records = %+v", h.narr.loaded)
	}
}

func TestShutdown(t *testing.T) {
	h := start(t, Config{MaxConcurrent: 2, MaxQueue: 4})
	ctx := context.Background()
	want := h.direct(t, h.ref.Tokenizer.Encode("finish me", true), 40)
	stream := h.client.Completions.NewStreaming(ctx, openai.CompletionNewParams{
		Model: servedName, Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("finish me")}, MaxTokens: openai.Int(40), Temperature: openai.Float(0),
	})
	if !stream.Next() {
		t.Fatal(stream.Err())
	}
	text := stream.Current().Choices[0].Text
	done := make(chan error)
	go func() { done <- h.s.Shutdown(ctx) }()
	waitFor(t, "draining", func() bool { return h.s.draining.Load() })
	if r := post(t, h, "/v1/completions", `{"model":"tiny","prompt":"x"}`); r.code != 503 || r.errCode != "shutting_down" {
		t.Errorf("new request while draining: %d %s", r.code, r.body)
	}
	resp, _ := http.Get(h.http.URL + "/readyz")
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("readyz while draining = %d", resp.StatusCode)
	}
	for stream.Next() {
		for _, c := range stream.Current().Choices {
			text += c.Text
		}
	}
	if err := stream.Err(); err != nil || text != want.Text {
		t.Errorf("stream during shutdown: %q %v, want %q", text, err, want.Text)
	}
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestShutdownCutsAfterGrace(t *testing.T) {
	h := start(t, Config{MaxConcurrent: 1, MaxQueue: 4})
	stream := h.client.Completions.NewStreaming(context.Background(), openai.CompletionNewParams{
		Model: servedName, Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("cut me")}, Temperature: openai.Float(0),
	})
	if !stream.Next() {
		t.Fatal(stream.Err())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the grace period is over at once
	if err := h.s.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("shutdown = %v, want the grace period's error", err)
	}
	for stream.Next() {
	}
	if stream.Err() == nil {
		t.Error("a cut stream ended without an error")
	}
}

// A worker with priority scheduling takes a request's priority (vLLM's field) and answers it; one that
// schedules first come first served takes priority 0 and refuses others (abuse_test's table).
func TestPriorityField(t *testing.T) {
	for _, c := range []struct {
		priority bool
		body     string
		code     int
	}{
		{true, `"priority":-3`, 200},
		{true, `"priority":7`, 200},
		{false, `"priority":0`, 200},
		{false, `"priority":1`, 400},
	} {
		h := start(t, Config{MaxConcurrent: 1, Priority: c.priority})
		body := `{"model":"` + servedName + `","prompt":"x","max_tokens":2,` + c.body + `}`
		resp, err := http.Post(h.http.URL+"/v1/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("priority scheduling %v, %s: HTTP %d, want %d", c.priority, c.body, resp.StatusCode, c.code)
		}
		if c.code == 200 { // and the scheduler is told
			sv, e := h.s.available()
			if e != nil {
				t.Fatal(e.Message)
			}
			j, e := h.s.completionJob([]byte(body), sv)
			var want int
			fmt.Sscanf(strings.TrimPrefix(c.body, `"priority":`), "%d", &want)
			if e != nil || j.req.Priority != want {
				t.Errorf("%s: the scheduler's request has priority %d (%v), want %d", c.body, j.req.Priority, e, want)
			}
		}
	}
}

// TestPrefillHoldByBackend: a hold given is kept; without one (< 0) prompts wait for company on a GPU backend
// (scheduler.DefaultPrefillHold steps) and never on the CPU engine, whose slow steps a wait would add to TTFT.
func TestPrefillHoldByBackend(t *testing.T) {
	var cpu *engine.CPU
	gpu := struct{ engine.Backend }{}
	for _, c := range []struct {
		configured int
		b          engine.Backend
		want       int
	}{
		{-1, cpu, 0},
		{-1, gpu, scheduler.DefaultPrefillHold},
		{3, cpu, 3},
		{0, gpu, 0},
	} {
		if got := prefillHold(c.configured, c.b); got != c.want {
			t.Errorf("prefillHold(%d, %T) = %d, want %d", c.configured, c.b, got, c.want)
		}
	}
}
