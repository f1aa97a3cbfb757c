package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/chattemplate"
	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/load"
	"github.com/kubeinfer/kubeinfer/worker/report"
	"github.com/kubeinfer/kubeinfer/worker/scheduler"
)

const maxBodyBytes = 16 << 20

func itoa(i int) string { return strconv.Itoa(i) }

// job is a validated generation request, independent of the endpoint.
type job struct {
	endpoint     string
	promptParam  string // "prompt" or "messages", for errors
	req          scheduler.Request
	stream       bool
	includeUsage bool
}

// decode reads the JSON body into v.
func decode(r *http.Request, v any) *apiError {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		return invalid("", "could not read the request body: %v", err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return invalid("", "We could not parse the JSON body of your request: %v. Send a JSON object as the body.", err)
	}
	return nil
}

// available checks that the server takes requests and that the model name
// is ours; it returns the scheduler and model to use.
func (s *Server) available(name string) (*scheduler.Scheduler, *load.Model, *apiError) {
	if s.draining.Load() {
		return nil, nil, &apiError{Status: http.StatusServiceUnavailable, Type: "service_unavailable", Code: strp("shutting_down"),
			Message: "The server is shutting down; retry on another replica."}
	}
	s.mu.RLock()
	sched, m := s.sched, s.model
	s.mu.RUnlock()
	if sched == nil {
		return nil, nil, &apiError{Status: http.StatusServiceUnavailable, Type: "service_unavailable", Code: strp("model_loading"),
			Message: "The model is still loading; retry shortly."}
	}
	if name != "" && name != s.cfg.ServedName {
		return nil, nil, &apiError{Status: http.StatusNotFound, Type: "invalid_request_error", Param: strp("model"), Code: strp("model_not_found"),
			Message: fmt.Sprintf("The model '%s' does not exist or you do not have access to it. This server serves '%s'.", name, s.cfg.ServedName)}
	}
	return sched, m, nil
}

// sampling validates the fields shared by both endpoints.
func (f *samplingFields) sampling(maxTokens *int, maxTokensParam string) (scheduler.Request, *apiError) {
	var req scheduler.Request
	if f.N != nil && *f.N != 1 {
		return req, invalid("n", "n is %d but this server generates exactly one choice per request; set n to 1 or leave it out.", *f.N)
	}
	temp, topP := 1.0, 1.0
	if f.Temperature != nil {
		if temp = *f.Temperature; temp < 0 || temp > 2 {
			return req, invalid("temperature", "temperature is %g; it must be between 0 and 2.", temp)
		}
	}
	if f.TopP != nil {
		if topP = *f.TopP; topP <= 0 || topP > 1 {
			return req, invalid("top_p", "top_p is %g; it must be greater than 0 and at most 1.", topP)
		}
	}
	if maxTokens != nil {
		if *maxTokens < 1 {
			return req, invalid(maxTokensParam, "%s is %d; it must be at least 1, or left out to generate until the context is full.", maxTokensParam, *maxTokens)
		}
		req.MaxTokens = *maxTokens
	}
	for name, p := range map[string]*float64{"presence_penalty": f.PresencePenalty, "frequency_penalty": f.FrequencyPenalty} {
		if p != nil && (*p < -2 || *p > 2) {
			return req, invalid(name, "%s is %g; it must be between -2 and 2.", name, *p)
		}
	}
	if len(f.Stop) > 4 {
		return req, invalid("stop", "stop has %d sequences; at most 4 are allowed.", len(f.Stop))
	}
	if f.StreamOptions != nil && !f.Stream {
		return req, invalid("stream_options", "stream_options is only allowed when stream is true.")
	}
	seed := rand.Uint64()
	if f.Seed != nil {
		seed = uint64(*f.Seed)
	}
	req.Sampling = engine.SamplingParams{Temperature: float32(temp), TopP: float32(topP), Seed: seed}
	if f.PresencePenalty != nil {
		req.Sampling.PresencePenalty = float32(*f.PresencePenalty)
	}
	if f.FrequencyPenalty != nil {
		req.Sampling.FrequencyPenalty = float32(*f.FrequencyPenalty)
	}
	req.Stop = f.Stop
	return req, nil
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	var body completionRequest
	if e := decode(r, &body); e != nil {
		writeError(w, e)
		return
	}
	sched, m, e := s.available(body.Model)
	if e != nil {
		writeError(w, e)
		return
	}
	req, e := body.sampling(body.MaxTokens, "max_tokens")
	if e == nil {
		e = func() *apiError {
			switch {
			case body.Prompt == nil || (body.Prompt.text == "" && len(body.Prompt.tokens) == 0):
				return invalid("prompt", "prompt is missing or empty; send the text to complete.")
			case body.Prompt.count != 1:
				return invalid("prompt", "prompt holds %d prompts; this server completes one prompt per request.", body.Prompt.count)
			case body.Logprobs != nil && (*body.Logprobs < 0 || *body.Logprobs > 5):
				return invalid("logprobs", "logprobs is %d; it must be between 0 and 5.", *body.Logprobs)
			case body.Echo:
				return invalid("echo", "echo is not supported; leave it out.")
			}
			return nil
		}()
	}
	if e != nil {
		writeError(w, e)
		return
	}
	if body.Prompt.tokens != nil {
		vocab := m.Tokenizer.VocabSize()
		for _, id := range body.Prompt.tokens {
			if id < 0 || id >= vocab {
				writeError(w, invalid("prompt", "token id %d is outside the vocabulary of %d tokens.", id, vocab))
				return
			}
		}
		req.Prompt = body.Prompt.tokens
	} else {
		req.Prompt = m.Tokenizer.Encode(body.Prompt.text, true)
	}
	if body.Logprobs != nil {
		req.Logprobs, req.TopLogprobs = true, *body.Logprobs
	}
	s.run(w, r, sched, job{endpoint: "/v1/completions", promptParam: "prompt", req: req, stream: body.Stream,
		includeUsage: body.StreamOptions != nil && body.StreamOptions.IncludeUsage}, completionFormat{})
}

var chatRoles = map[string]bool{"system": true, "developer": true, "user": true, "assistant": true, "tool": true}

func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	var body chatRequest
	if e := decode(r, &body); e != nil {
		writeError(w, e)
		return
	}
	sched, m, e := s.available(body.Model)
	if e != nil {
		writeError(w, e)
		return
	}
	maxTokens, param := body.MaxCompletionTokens, "max_completion_tokens"
	if maxTokens == nil {
		maxTokens, param = body.MaxTokens, "max_tokens"
	}
	req, e := body.sampling(maxTokens, param)
	if e != nil {
		writeError(w, e)
		return
	}
	if len(body.Messages) == 0 {
		writeError(w, invalid("messages", "messages is empty; send at least one message."))
		return
	}
	if body.TopLogprobs != nil {
		if *body.TopLogprobs < 0 || *body.TopLogprobs > 20 {
			writeError(w, invalid("top_logprobs", "top_logprobs is %d; it must be between 0 and 20.", *body.TopLogprobs))
			return
		}
		if !body.Logprobs {
			writeError(w, invalid("top_logprobs", "top_logprobs needs logprobs set to true."))
			return
		}
		req.TopLogprobs = *body.TopLogprobs
	}
	req.Logprobs = body.Logprobs
	msgs := make([]chattemplate.Message, len(body.Messages))
	for i, msg := range body.Messages {
		if !chatRoles[msg.Role] {
			writeError(w, invalid(fmt.Sprintf("messages[%d].role", i), "role %q is not one of system, developer, user, assistant, tool.", msg.Role))
			return
		}
		text, err := messageText(msg.Content)
		if err != nil {
			writeError(w, invalid(fmt.Sprintf("messages[%d].content", i), "%v", err))
			return
		}
		msgs[i] = chattemplate.Message{Role: msg.Role, Content: text}
	}
	prompt, err := m.Template.Render(msgs, true)
	if err != nil {
		writeError(w, invalid("messages", "the model's chat template rejected the messages: %v", err))
		return
	}
	// The template writes the BOS token itself where the model wants it.
	req.Prompt = m.Tokenizer.Encode(prompt, m.Template.Plain())
	s.run(w, r, sched, job{endpoint: "/v1/chat/completions", promptParam: "messages", req: req, stream: body.Stream,
		includeUsage: body.StreamOptions != nil && body.StreamOptions.IncludeUsage}, chatFormat{})
}

// format renders one endpoint's responses.
type format interface {
	idPrefix() string
	// chunk is a streamed chunk for ev, or nil when there is nothing to send.
	chunk(base chunkBase, ev scheduler.Event, first bool) any
	finalChunk(base chunkBase, finish string) any
	usageChunk(base chunkBase, u usage) any
	response(base chunkBase, evs []scheduler.Event, res scheduler.Result, finish string, u usage) any
}

type chunkBase struct {
	id      string
	created int64
	model   string
	req     *scheduler.Request
}

// run submits the job and writes the response, streamed or whole.
func (s *Server) run(w http.ResponseWriter, r *http.Request, sched *scheduler.Scheduler, j job, f format) {
	ri := infoFrom(r.Context())
	start := time.Now()
	ctxLen := sched.ContextLength()
	if n := len(j.req.Prompt); n >= ctxLen {
		writeError(w, &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error", Param: strp(j.promptParam), Code: strp("context_length_exceeded"),
			Message: fmt.Sprintf("This model's maximum context length is %d tokens. However, your prompt has %d tokens, which leaves no room to generate. Please shorten the prompt.", ctxLen, n)})
		return
	}
	h, err := sched.Submit(r.Context(), j.req)
	switch {
	case errors.Is(err, scheduler.ErrQueueFull):
		writeError(w, &apiError{Status: http.StatusTooManyRequests, Type: "rate_limit_error", Code: strp("queue_full"), RetryAfter: s.cfg.RetryAfter,
			Message: "The server is at capacity and its queue is full; retry after the Retry-After delay."})
		return
	case errors.Is(err, scheduler.ErrShuttingDown):
		writeError(w, &apiError{Status: http.StatusServiceUnavailable, Type: "service_unavailable", Code: strp("shutting_down"),
			Message: "The server is shutting down; retry on another replica."})
		return
	case err != nil:
		writeError(w, &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: err.Error()})
		return
	}
	s.metrics.promptTokens.Add(float64(len(j.req.Prompt)))
	base := chunkBase{id: newID(f.idPrefix()), created: time.Now().Unix(), model: s.cfg.ServedName, req: &j.req}

	var ttft time.Duration
	last := start
	var evs []scheduler.Event
	var sse *sseWriter
	if j.stream {
		sse = newSSEWriter(w)
	}
	first := true
	for {
		ev, ok := h.Next(context.Background())
		if !ok {
			break
		}
		if ev.Token >= 0 {
			now := time.Now()
			if ttft == 0 {
				ttft = now.Sub(start)
				s.metrics.timeToFirstToken.Observe(ttft.Seconds())
			} else {
				s.metrics.interToken.Observe(now.Sub(last).Seconds())
			}
			last = now
			s.metrics.generatedTokens.Inc()
		}
		if sse == nil {
			evs = append(evs, ev)
			continue
		}
		if c := f.chunk(base, ev, first); c != nil {
			first = false
			sse.send(c) // a failed write means the client left; the context cancels the request
		}
	}
	res := h.Result()
	u := usage{PromptTokens: res.PromptTokens, CompletionTokens: len(res.Tokens), TotalTokens: res.PromptTokens + len(res.Tokens)}
	finish := string(res.Finish)
	switch {
	case res.Err == nil:
	case errors.Is(res.Err, scheduler.ErrCut):
		finish = "cut"
	case r.Context().Err() != nil:
		finish = "cancelled"
	default:
		finish = "error"
	}
	rec := report.Completion{CorrelationID: ri.id, Endpoint: j.endpoint, Model: s.cfg.ServedName, PromptTokens: u.PromptTokens,
		CompletionTokens: u.CompletionTokens, Duration: time.Since(start), TimeToFirstToken: ttft, Finish: finish, Err: res.Err}
	ri.log.Info("completion", "promptTokens", rec.PromptTokens, "completionTokens", rec.CompletionTokens,
		"finish", rec.Finish, "seconds", rec.Duration.Seconds(), "ttftSeconds", ttft.Seconds(), "stream", j.stream)
	s.cfg.Narrator.OnComplete(rec)
	if res.Err == nil {
		s.metrics.requestDone(u.PromptTokens, u.CompletionTokens, rec.Duration, h.QueueTime())
	}

	if res.Err != nil {
		e := &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: "generation failed: " + res.Err.Error()}
		if finish == "cut" {
			e = &apiError{Status: http.StatusServiceUnavailable, Type: "service_unavailable", Code: strp("shutting_down"),
				Message: "The server shut down before the generation finished; retry on another replica."}
		}
		if finish == "cancelled" {
			return // nobody is listening
		}
		if sse != nil {
			sse.send(struct {
				Error *apiError `json:"error"`
			}{e})
			return
		}
		writeError(w, e)
		return
	}
	if sse != nil {
		if first {
			sse.send(f.chunk(base, scheduler.Event{Token: -1}, true))
		}
		sse.send(f.finalChunk(base, finish))
		if j.includeUsage {
			sse.send(f.usageChunk(base, u))
		}
		sse.done()
		return
	}
	writeJSON(w, http.StatusOK, f.response(base, evs, res, finish, u))
}

// sseWriter writes Server-Sent Events.
type sseWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func newSSEWriter(w http.ResponseWriter) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush() // clients see the stream start even while the request waits
	return &sseWriter{w: w, rc: rc}
}

func (s *sseWriter) send(v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(s.w, "data: %s\n\n", b)
	_ = s.rc.Flush()
}

func (s *sseWriter) done() {
	io.WriteString(s.w, "data: [DONE]\n\n")
	_ = s.rc.Flush()
}

// completionFormat renders /v1/completions.
type completionFormat struct{}

func (completionFormat) idPrefix() string { return "cmpl-" }

func completionLP(evs []scheduler.Event, offset int) *completionLogprobs {
	lp := &completionLogprobs{Tokens: []string{}, TokenLogprobs: []float32{}, TopLogprobs: []map[string]float32{}, TextOffset: []int{}}
	for _, ev := range evs {
		if ev.Logprob == nil {
			continue
		}
		lp.Tokens = append(lp.Tokens, ev.Logprob.Text)
		lp.TokenLogprobs = append(lp.TokenLogprobs, ev.Logprob.Logprob)
		top := map[string]float32{}
		for _, t := range ev.Top {
			if _, dup := top[t.Text]; !dup {
				top[t.Text] = t.Logprob
			}
		}
		lp.TopLogprobs = append(lp.TopLogprobs, top)
		lp.TextOffset = append(lp.TextOffset, offset)
		offset += len(ev.Logprob.Text)
	}
	return lp
}

func (completionFormat) chunk(b chunkBase, ev scheduler.Event, _ bool) any {
	if ev.Text == "" && ev.Logprob == nil {
		return nil
	}
	c := completionChoice{Text: ev.Text}
	if b.req.Logprobs {
		c.Logprobs = completionLP([]scheduler.Event{ev}, 0)
	}
	return completionResponse{ID: b.id, Object: "text_completion", Created: b.created, Model: b.model, Choices: []completionChoice{c}}
}

func (completionFormat) finalChunk(b chunkBase, finish string) any {
	return completionResponse{ID: b.id, Object: "text_completion", Created: b.created, Model: b.model,
		Choices: []completionChoice{{FinishReason: &finish}}}
}

func (completionFormat) usageChunk(b chunkBase, u usage) any {
	return completionResponse{ID: b.id, Object: "text_completion", Created: b.created, Model: b.model, Choices: []completionChoice{}, Usage: &u}
}

func (completionFormat) response(b chunkBase, evs []scheduler.Event, res scheduler.Result, finish string, u usage) any {
	c := completionChoice{Text: res.Text, FinishReason: &finish}
	if b.req.Logprobs {
		c.Logprobs = completionLP(evs, 0)
	}
	return completionResponse{ID: b.id, Object: "text_completion", Created: b.created, Model: b.model, Choices: []completionChoice{c}, Usage: &u}
}

// chatFormat renders /v1/chat/completions.
type chatFormat struct{}

func (chatFormat) idPrefix() string { return "chatcmpl-" }

func chatLP(evs []scheduler.Event) *chatLogprobs {
	lp := &chatLogprobs{Content: []chatTokenLogprob{}}
	for _, ev := range evs {
		if ev.Logprob == nil {
			continue
		}
		t := chatTokenLogprob{Token: ev.Logprob.Text, Logprob: ev.Logprob.Logprob, Bytes: byteInts(ev.Logprob.Text), TopLogprobs: []topLogprob{}}
		for _, a := range ev.Top {
			t.TopLogprobs = append(t.TopLogprobs, topLogprob{Token: a.Text, Logprob: a.Logprob, Bytes: byteInts(a.Text)})
		}
		lp.Content = append(lp.Content, t)
	}
	return lp
}

func (chatFormat) chunk(b chunkBase, ev scheduler.Event, first bool) any {
	if ev.Text == "" && ev.Logprob == nil && !first {
		return nil
	}
	text := ev.Text
	c := chatChunkChoice{Delta: chatDelta{Content: &text}}
	if first {
		c.Delta.Role = "assistant"
	}
	if b.req.Logprobs && ev.Logprob != nil {
		c.Logprobs = chatLP([]scheduler.Event{ev})
	}
	return chatChunk{ID: b.id, Object: "chat.completion.chunk", Created: b.created, Model: b.model, Choices: []chatChunkChoice{c}}
}

func (chatFormat) finalChunk(b chunkBase, finish string) any {
	return chatChunk{ID: b.id, Object: "chat.completion.chunk", Created: b.created, Model: b.model,
		Choices: []chatChunkChoice{{FinishReason: &finish}}}
}

func (chatFormat) usageChunk(b chunkBase, u usage) any {
	return chatChunk{ID: b.id, Object: "chat.completion.chunk", Created: b.created, Model: b.model, Choices: []chatChunkChoice{}, Usage: &u}
}

func (chatFormat) response(b chunkBase, evs []scheduler.Event, res scheduler.Result, finish string, u usage) any {
	c := chatChoice{Message: chatResponseMessage{Role: "assistant", Content: res.Text}, FinishReason: finish}
	if b.req.Logprobs {
		c.Logprobs = chatLP(evs)
	}
	return chatResponse{ID: b.id, Object: "chat.completion", Created: b.created, Model: b.model, Choices: []chatChoice{c}, Usage: u}
}
