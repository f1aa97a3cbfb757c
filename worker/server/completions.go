package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/chattemplate"
	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/load"
	"github.com/kubeinfer/kubeinfer/worker/report"
	"github.com/kubeinfer/kubeinfer/worker/scheduler"
)

func itoa(i int) string { return strconv.Itoa(i) }

// job is a validated generation request, independent of the endpoint.
type job struct {
	endpoint     string
	promptParam  string // "prompt" or "messages", for errors
	req          scheduler.Request
	stream       bool
	includeUsage bool
}

// serving is what a request is served with: the scheduler, the model and the limits.
type serving struct {
	sched *scheduler.Scheduler
	m     *load.Model
	lim   Limits
}

// available checks that the server takes requests.
func (s *Server) available() (serving, *apiError) {
	if s.draining.Load() {
		return serving{}, errShuttingDown()
	}
	s.mu.RLock()
	sv := serving{s.sched, s.model, s.lim}
	s.mu.RUnlock()
	if sv.sched == nil {
		return sv, &apiError{Status: http.StatusServiceUnavailable, Type: "service_unavailable", Code: strp("model_loading"),
			Message: "The model is still loading; retry shortly."}
	}
	return sv, nil
}

func errShuttingDown() *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Type: "service_unavailable", Code: strp("shutting_down"),
		Message: "The server is shutting down; retry on another replica."}
}

// checkModel checks that name, when given, is the model this server serves.
func (s *Server) checkModel(name string) *apiError {
	if name != "" && name != s.cfg.ServedName {
		return &apiError{Status: http.StatusNotFound, Type: "invalid_request_error", Param: strp("model"), Code: strp("model_not_found"),
			Message: fmt.Sprintf("The model '%s' does not exist or you do not have access to it. This server serves '%s'.", name, s.cfg.ServedName)}
	}
	return nil
}

func tooLarge(max int64) *apiError {
	return &apiError{Status: http.StatusRequestEntityTooLarge, Type: "invalid_request_error", Code: strp("request_too_large"),
		Message: fmt.Sprintf("The request body is larger than this server's limit of %d bytes (--max-request-bytes); shorten the prompt.", max)}
}

// intake reads, decodes and tokenizes a request with build, inside the intake
// pool: at most Limits.Intake requests at once, all that admission could take,
// so the memory requests hold before admission is bounded (Limits.MemoryBound).
// Everything but the job is garbage when it returns. ok is false when the
// response has been written (an error) or the client left.
func (s *Server) intake(w http.ResponseWriter, r *http.Request, build func(body []byte, sv serving) (job, *apiError)) (serving, job, bool) {
	fail := func(e *apiError) (serving, job, bool) {
		writeError(w, e)
		return serving{}, job{}, false
	}
	if e := checkContentType(r); e != nil {
		return fail(e)
	}
	sv, e := s.available()
	if e != nil {
		return fail(e)
	}
	if r.ContentLength > sv.lim.MaxRequestBytes {
		w.Header().Set("Connection", "close") // do not read the body just to discard it
		return fail(tooLarge(sv.lim.MaxRequestBytes))
	}
	select {
	case s.intakeSlots <- struct{}{}:
	case <-r.Context().Done():
		return serving{}, job{}, false
	}
	defer func() { <-s.intakeSlots }()

	// The body's deadline starts now, not while the request waited for intake;
	// once read, the connection needs none until its next request (a deadline
	// left in place would cancel a long stream).
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(sv.lim.ReadTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, sv.lim.MaxRequestBytes))
	if err == nil {
		_ = rc.SetReadDeadline(time.Time{})
	} else {
		// net/http would read the rest of a small body to discard it: fail
		// that read at once, so the connection closes instead of waiting.
		_ = rc.SetReadDeadline(time.Now())
	}
	var maxErr *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &maxErr):
		return fail(tooLarge(sv.lim.MaxRequestBytes))
	case errors.As(err, &netErr) && netErr.Timeout():
		w.Header().Set("Connection", "close")
		return fail(&apiError{Status: http.StatusRequestTimeout, Type: "invalid_request_error", Code: strp("request_timeout"),
			Message: fmt.Sprintf("The request body did not arrive within %s (--read-timeout); send it faster.", sv.lim.ReadTimeout)})
	case err != nil:
		return fail(invalid("", "The request body could not be read: %v.", err))
	}
	j, e := build(body, sv)
	if e != nil {
		return fail(e)
	}
	return sv, j, true
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
	if len(f.StreamOptions) > 0 && string(f.StreamOptions) != "null" && !f.Stream {
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
	req.IgnoreEOS = f.IgnoreEOS
	return req, nil
}

// includeUsage reads stream_options.
func (f *samplingFields) includeUsage() (bool, *apiError) {
	if len(f.StreamOptions) == 0 || string(f.StreamOptions) == "null" {
		return false, nil
	}
	var so streamOptions
	if e := decodeObject(f.StreamOptions, streamOptionsFields, "stream_options.", &so); e != nil {
		return false, e
	}
	return so.IncludeUsage, nil
}

// promptTooLong is the error for a prompt that fills the context; atLeast
// says the count is a lower bound from the prompt's length in bytes.
func promptTooLong(param string, ctxLen, n int, atLeast bool) *apiError {
	has := fmt.Sprintf("has %d tokens", n)
	if atLeast {
		has = fmt.Sprintf("has at least %d tokens", n)
	}
	return &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error", Param: strp(param), Code: strp("context_length_exceeded"),
		Message: fmt.Sprintf("This model's maximum context length is %d tokens. However, your prompt %s, which leaves no room to generate. Please shorten the prompt.", ctxLen, has)}
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	if sv, j, ok := s.intake(w, r, s.completionJob); ok {
		s.run(w, r, sv.sched, j, completionFormat{})
	}
}

func (s *Server) completionJob(raw []byte, sv serving) (job, *apiError) {
	var body completionRequest
	if e := decodeObject(raw, completionFields, "", &body); e != nil {
		return job{}, e
	}
	if e := s.checkModel(body.Model); e != nil {
		return job{}, e
	}
	req, e := body.sampling(body.MaxTokens, "max_tokens")
	if e != nil {
		return job{}, e
	}
	includeUsage, e := body.includeUsage()
	if e != nil {
		return job{}, e
	}
	switch {
	case body.Prompt == nil || (body.Prompt.text == "" && len(body.Prompt.tokens) == 0):
		return job{}, invalid("prompt", "prompt is missing or empty; send the text to complete.")
	case body.Prompt.count != 1:
		return job{}, invalid("prompt", "prompt holds %d prompts; this server completes one prompt per request.", body.Prompt.count)
	case body.Logprobs != nil && (*body.Logprobs < 0 || *body.Logprobs > 5):
		return job{}, invalid("logprobs", "logprobs is %d; it must be between 0 and 5.", *body.Logprobs)
	case body.Echo:
		return job{}, invalid("echo", "echo is not supported; leave it out.")
	}
	if body.Prompt.tokens != nil {
		vocab := sv.m.Tokenizer.VocabSize()
		for _, id := range body.Prompt.tokens {
			if id < 0 || id >= vocab {
				return job{}, invalid("prompt", "token id %d is outside the vocabulary of %d tokens.", id, vocab)
			}
		}
		req.Prompt = body.Prompt.tokens
	} else {
		if n, tooLong := sv.lim.promptCertainlyTooLong(sv.m.Tokenizer, len(body.Prompt.text)); tooLong {
			return job{}, promptTooLong("prompt", sv.lim.ContextLength, n, true)
		}
		req.Prompt = sv.m.TextPrompt(body.Prompt.text)
	}
	if body.Logprobs != nil {
		req.Logprobs, req.TopLogprobs = true, *body.Logprobs
	}
	return job{endpoint: "/v1/completions", promptParam: "prompt", req: req, stream: body.Stream, includeUsage: includeUsage}, nil
}

var chatRoles = map[string]bool{"system": true, "developer": true, "user": true, "assistant": true, "tool": true}

func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	if sv, j, ok := s.intake(w, r, s.chatJob); ok {
		s.run(w, r, sv.sched, j, chatFormat{})
	}
}

func (s *Server) chatJob(raw []byte, sv serving) (job, *apiError) {
	var body chatRequest
	if e := decodeObject(raw, chatFields, "", &body); e != nil {
		return job{}, e
	}
	if e := s.checkModel(body.Model); e != nil {
		return job{}, e
	}
	maxTokens, param := body.MaxCompletionTokens, "max_completion_tokens"
	if maxTokens == nil {
		maxTokens, param = body.MaxTokens, "max_tokens"
	}
	req, e := body.sampling(maxTokens, param)
	if e != nil {
		return job{}, e
	}
	includeUsage, e := body.includeUsage()
	if e != nil {
		return job{}, e
	}
	if len(body.Messages) == 0 {
		return job{}, invalid("messages", "messages is empty; send at least one message.")
	}
	if body.TopLogprobs != nil {
		if *body.TopLogprobs < 0 || *body.TopLogprobs > 20 {
			return job{}, invalid("top_logprobs", "top_logprobs is %d; it must be between 0 and 20.", *body.TopLogprobs)
		}
		if !body.Logprobs {
			return job{}, invalid("top_logprobs", "top_logprobs needs logprobs set to true.")
		}
		req.TopLogprobs = *body.TopLogprobs
	}
	req.Logprobs = body.Logprobs
	msgs := make([]chattemplate.Message, len(body.Messages))
	for i, raw := range body.Messages {
		prefix := fmt.Sprintf("messages[%d].", i)
		var msg chatMessage
		if e := decodeObject(raw, messageFields, prefix, &msg); e != nil {
			return job{}, e
		}
		if !chatRoles[msg.Role] {
			return job{}, invalid(prefix+"role", "role %q is not one of system, developer, user, assistant, tool.", msg.Role)
		}
		text, e := messageText(msg.Content, prefix+"content")
		if e != nil {
			return job{}, e
		}
		msgs[i] = chattemplate.Message{Role: msg.Role, Content: text}
	}
	prompt, err := sv.m.Template.RenderPrompt(msgs, true)
	if err != nil {
		return job{}, invalid("messages", "the model's chat template rejected the messages: %v", err)
	}
	if n, tooLong := sv.lim.promptCertainlyTooLong(sv.m.Tokenizer, len(prompt.Text)); tooLong {
		return job{}, promptTooLong("messages", sv.lim.ContextLength, n, true)
	}
	req.Prompt = sv.m.ChatPrompt(prompt)
	return job{endpoint: "/v1/chat/completions", promptParam: "messages", req: req, stream: body.Stream, includeUsage: includeUsage}, nil
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
		writeError(w, promptTooLong(j.promptParam, ctxLen, n, false))
		return
	}
	// The generation also stops when the client cannot take the stream.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	h, err := sched.Submit(ctx, j.req)
	switch {
	case errors.Is(err, scheduler.ErrQueueFull):
		writeError(w, &apiError{Status: http.StatusTooManyRequests, Type: "rate_limit_error", Code: strp("queue_full"), RetryAfter: s.cfg.RetryAfter,
			Message: "The server is at capacity and its queue is full; retry after the Retry-After delay."})
		return
	case errors.Is(err, scheduler.ErrShuttingDown):
		writeError(w, errShuttingDown())
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
			if sse.send(c) != nil {
				// The client left or stopped reading past the write timeout: stop
				// generating; the loop ends when the scheduler has let go.
				cancel()
			}
		}
	}
	res := h.Result()
	u := usage{PromptTokens: res.PromptTokens, CompletionTokens: len(res.Tokens), TotalTokens: res.PromptTokens + len(res.Tokens)}
	finish := string(res.Finish)
	switch {
	case res.Err == nil:
	case errors.Is(res.Err, scheduler.ErrCut):
		finish = "cut"
		s.cut.Add(1)
	case ctx.Err() != nil:
		finish = "cancelled"
	default:
		finish = "error"
	}
	rec := report.Completion{CorrelationID: ri.id, Endpoint: j.endpoint, Model: s.cfg.ServedName, PromptTokens: u.PromptTokens,
		CompletionTokens: u.CompletionTokens, Duration: time.Since(start), TimeToFirstToken: ttft, Finish: finish, Err: res.Err}
	ri.log.Info("completion", "promptTokens", rec.PromptTokens, "completionTokens", rec.CompletionTokens,
		"finish", rec.Finish, "seconds", rec.Duration.Seconds(), "ttftSeconds", ttft.Seconds(), "stream", j.stream)
	s.cfg.Narrator.OnComplete(rec)
	s.generated(ri.id, j.endpoint, res.Err)
	if res.Err == nil {
		s.metrics.requestDone(u.PromptTokens, u.CompletionTokens, rec.Duration, h.QueueTime())
	}

	if res.Err != nil {
		e := &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: "generation failed: " + res.Err.Error()}
		if errors.Is(res.Err, engine.ErrNonFinite) {
			e.Code = strp("non_finite_logits")
			e.Message = "The model produced invalid numbers (NaN or infinity) while generating, so the response was stopped (" +
				res.Err.Error() + "). The model or the server is at fault, not your request; retry on another replica."
		}
		if finish == "cut" {
			e = &apiError{Status: http.StatusServiceUnavailable, Type: "service_unavailable", Code: strp("shutting_down"),
				Message: "The server shut down before the generation finished; retry on another replica."}
		}
		if finish == "cancelled" {
			return // nobody is listening
		}
		if sse != nil {
			_ = sse.send(struct {
				Error *apiError `json:"error"`
			}{e})
			return
		}
		writeError(w, e)
		return
	}
	if sse != nil {
		if first {
			_ = sse.send(f.chunk(base, scheduler.Event{Token: -1}, true))
		}
		_ = sse.send(f.finalChunk(base, finish))
		if j.includeUsage {
			_ = sse.send(f.usageChunk(base, u))
		}
		sse.done()
		return
	}
	writeJSON(w, http.StatusOK, f.response(base, evs, res, finish, u))
}

// sseWriter writes Server-Sent Events. Each write gets its own deadline (see
// statusWriter), so a stream lasts as long as the client keeps reading.
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

// send writes one event; an error means the client is gone or not reading.
func (s *sseWriter) send(v any) error {
	b, _ := json.Marshal(v)
	if _, err := fmt.Fprintf(s.w, "data: %s\n\n", b); err != nil {
		return err
	}
	return s.rc.Flush()
}

func (s *sseWriter) done() {
	_, _ = io.WriteString(s.w, "data: [DONE]\n\n")
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
