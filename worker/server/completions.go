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
	"sync"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/chattemplate"
	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/grammar"
	"github.com/kubeinfer/kubeinfer/worker/load"
	"github.com/kubeinfer/kubeinfer/worker/report"
	"github.com/kubeinfer/kubeinfer/worker/scheduler"
)

func itoa(i int) string { return strconv.Itoa(i) }

// job is a validated generation request, independent of the endpoint.
type job struct {
	endpoint    string
	promptParam string // "prompt" or "messages", for errors
	// req is every choice's request; choice i samples with Seed + i.
	req scheduler.Request
	n   int
	// constraint makes each choice's matcher (structured output, required
	// tool calls); nil for free text.
	constraint   func() *grammar.Matcher
	tools        toolRequest
	syntax       chattemplate.ToolSyntax
	stream       bool
	includeUsage bool
}

// serving is what a request is served with: the scheduler, the model and the limits.
type serving struct {
	sched    *scheduler.Scheduler
	m        *load.Model
	lim      Limits
	grammars *grammarCache
	priority bool // Config.Priority
}

// available checks that the server takes requests.
func (s *Server) available() (serving, *apiError) {
	if s.draining.Load() {
		return serving{}, errShuttingDown()
	}
	s.mu.RLock()
	sv := serving{s.sched, s.model, s.lim, s.grammars, s.cfg.Priority}
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

// sampling validates the fields shared by both endpoints; the choice
// count comes back in n.
func (f *samplingFields) sampling(sv serving, maxTokens *int, maxTokensParam string) (req scheduler.Request, n int, e *apiError) {
	n = 1
	if f.N != nil {
		if n = *f.N; n < 1 || n > sv.lim.MaxChoices {
			return req, 0, invalid("n", "n is %d; it must be between 1 and %d on this server.", n, sv.lim.MaxChoices)
		}
	}
	temp, topP := 1.0, 1.0
	if f.Temperature != nil {
		if temp = *f.Temperature; temp < 0 || temp > 2 {
			return req, 0, invalid("temperature", "temperature is %g; it must be between 0 and 2.", temp)
		}
	}
	if f.TopP != nil {
		if topP = *f.TopP; topP <= 0 || topP > 1 {
			return req, 0, invalid("top_p", "top_p is %g; it must be greater than 0 and at most 1.", topP)
		}
	}
	if maxTokens != nil {
		if *maxTokens < 1 {
			return req, 0, invalid(maxTokensParam, "%s is %d; it must be at least 1, or left out to generate until the context is full.", maxTokensParam, *maxTokens)
		}
		req.MaxTokens = *maxTokens
	}
	for name, p := range map[string]*float64{"presence_penalty": f.PresencePenalty, "frequency_penalty": f.FrequencyPenalty} {
		if p != nil && (*p < -2 || *p > 2) {
			return req, 0, invalid(name, "%s is %g; it must be between -2 and 2.", name, *p)
		}
	}
	if len(f.Stop) > maxStopSequences {
		return req, 0, invalid("stop", "stop has %d sequences; at most %d are allowed.", len(f.Stop), maxStopSequences)
	}
	if len(f.StreamOptions) > 0 && string(f.StreamOptions) != "null" && !f.Stream {
		return req, 0, invalid("stream_options", "stream_options is only allowed when stream is true.")
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
	if f.Priority != nil && *f.Priority != 0 {
		if !sv.priority {
			return req, 0, invalid("priority", "priority is %d; this worker serves requests first come first served, so only 0 is allowed (spec.serving.schedulingPolicy: priority honours it).", *f.Priority)
		}
		req.Priority = *f.Priority
	}
	if f.TopK != nil {
		if *f.TopK < -1 {
			return req, 0, invalid("top_k", "top_k is %d; it must be at least 1, or 0 or -1 for no limit.", *f.TopK)
		}
		req.Sampling.TopK = max(*f.TopK, 0)
	}
	if f.MinP != nil {
		if *f.MinP < 0 || *f.MinP > 1 {
			return req, 0, invalid("min_p", "min_p is %g; it must be between 0 and 1.", *f.MinP)
		}
		req.Sampling.MinP = float32(*f.MinP)
	}
	if f.RepetitionPenalty != nil {
		if rp := *f.RepetitionPenalty; rp <= 0 || rp > 10 {
			return req, 0, invalid("repetition_penalty", "repetition_penalty is %g; it must be greater than 0 and at most 10 (1 is none).", rp)
		}
		req.Sampling.RepetitionPenalty = float32(*f.RepetitionPenalty)
	}
	if len(f.LogitBias) > 0 {
		vocab := sv.m.Tokenizer.VocabSize()
		req.Sampling.LogitBias = make(map[int]float32, len(f.LogitBias))
		for k, v := range f.LogitBias {
			id, err := strconv.Atoi(k)
			if err != nil || id < 0 || id >= vocab {
				return req, 0, invalid("logit_bias", "logit_bias key %q is not a token id of this model's vocabulary of %d tokens.", k, vocab)
			}
			if v < -100 || v > 100 {
				return req, 0, invalid("logit_bias", "logit_bias of token %d is %g; it must be between -100 and 100.", id, v)
			}
			req.Sampling.LogitBias[id] = float32(v)
		}
	}
	req.Stop = f.Stop
	req.IgnoreEOS = f.IgnoreEOS
	return req, n, nil
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
	req, n, e := body.sampling(sv, body.MaxTokens, "max_tokens")
	if e != nil {
		return job{}, e
	}
	includeUsage, e := body.includeUsage()
	if e != nil {
		return job{}, e
	}
	format, e := sv.responseConstraint(body.ResponseFormat)
	if e != nil {
		return job{}, e
	}
	switch {
	case body.Prompt == nil || (body.Prompt.text == "" && len(body.Prompt.tokens) == 0):
		return job{}, invalid("prompt", "prompt is missing or empty; send the text to complete.")
	case body.Prompt.count != 1:
		return job{}, invalid("prompt", "prompt holds %d prompts; this server completes one prompt per request.", body.Prompt.count)
	case body.Logprobs != nil && (*body.Logprobs < 0 || *body.Logprobs > maxCompletionTopLogprobs):
		return job{}, invalid("logprobs", "logprobs is %d; it must be between 0 and %d.", *body.Logprobs, maxCompletionTopLogprobs)
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
	return job{endpoint: "/v1/completions", promptParam: "prompt", req: req, n: n, constraint: constraintOf(format),
		stream: body.Stream, includeUsage: includeUsage}, nil
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
	req, n, e := body.sampling(sv, maxTokens, param)
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
		if *body.TopLogprobs < 0 || *body.TopLogprobs > maxTopLogprobs {
			return job{}, invalid("top_logprobs", "top_logprobs is %d; it must be between 0 and %d.", *body.TopLogprobs, maxTopLogprobs)
		}
		if !body.Logprobs {
			return job{}, invalid("top_logprobs", "top_logprobs needs logprobs set to true.")
		}
		req.TopLogprobs = *body.TopLogprobs
	}
	req.Logprobs = body.Logprobs
	tools, e := parseTools(body.Tools)
	if e != nil {
		return job{}, e
	}
	tr, e := parseToolChoice(body.ToolChoice, tools, body.ParallelToolCalls)
	if e != nil {
		return job{}, e
	}
	format, e := sv.responseConstraint(body.ResponseFormat)
	if e != nil {
		return job{}, e
	}
	calls, e := sv.toolConstraint(tr)
	if e != nil {
		return job{}, e
	}
	if format != nil && calls != nil {
		return job{}, invalid("response_format", "response_format cannot be combined with tool_choice %s: the output is the tool calls.", string(body.ToolChoice))
	}
	if calls != nil {
		format = calls
	}
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
		m := chattemplate.Message{Role: msg.Role, Content: text}
		if len(msg.ToolCalls) > 0 {
			if msg.Role != "assistant" {
				return job{}, invalid(prefix+"tool_calls", "%stool_calls is only allowed on assistant messages.", prefix)
			}
			if m.ToolCalls, e = messageToolCalls(msg.ToolCalls, prefix); e != nil {
				return job{}, e
			}
		}
		if msg.ToolCallID != nil {
			if msg.Role != "tool" {
				return job{}, invalid(prefix+"tool_call_id", "%stool_call_id is only allowed on tool messages.", prefix)
			}
			m.ToolCallID = *msg.ToolCallID
		} else if msg.Role == "tool" {
			return job{}, invalid(prefix+"tool_call_id", "%stool_call_id is required on tool messages.", prefix)
		}
		msgs[i] = m
	}
	var toolJSON [][]byte
	for _, t := range tools {
		toolJSON = append(toolJSON, t.raw)
	}
	prompt, err := sv.m.Template.RenderToolsPrompt(msgs, toolJSON, true)
	if err != nil {
		return job{}, invalid("messages", "the model's chat template rejected the messages: %v", err)
	}
	if n, tooLong := sv.lim.promptCertainlyTooLong(sv.m.Tokenizer, len(prompt.Text)); tooLong {
		return job{}, promptTooLong("messages", sv.lim.ContextLength, n, true)
	}
	req.Prompt = sv.m.ChatPrompt(prompt)
	return job{endpoint: "/v1/chat/completions", promptParam: "messages", req: req, n: n, constraint: constraintOf(format),
		tools: tr, syntax: sv.m.Template.ToolSyntax(), stream: body.Stream, includeUsage: includeUsage}, nil
}

// format renders one endpoint's responses.
type format interface {
	idPrefix() string
	// chunk is a streamed chunk for ev of choice c, or nil when there is
	// nothing to send.
	chunk(base chunkBase, c *choice, ev scheduler.Event) any
	// finalChunks end choice c's stream: what it held back, its finish reason.
	finalChunks(base chunkBase, c *choice) []any
	usageChunk(base chunkBase, u usage) any
	response(base chunkBase, cs []*choice, u usage) any
}

type chunkBase struct {
	id      string
	created int64
	model   string
	req     *scheduler.Request
}

// choice is one of a request's n generations.
type choice struct {
	index   int
	h       *scheduler.Handle
	evs     []scheduler.Event
	res     scheduler.Result
	finish  string
	started bool        // its first chunk went out
	out     *toolOutput // its text, and the tool calls in it
	last    time.Time   // its last token, for the inter-token latency
}

// run submits the job's choices and writes the response, streamed or whole.
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
	choices := make([]*choice, max(j.n, 1))
	for i := range choices {
		req := j.req
		req.Sampling.Seed += uint64(i)
		if j.constraint != nil {
			req.Constraint = j.constraint()
		}
		// Choices after the first find the prompt's KV blocks in the pool:
		// the scheduler prefills them once.
		h, err := sched.Submit(ctx, req)
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
		choices[i] = &choice{index: i, h: h, out: newToolOutput(j.syntax, j.tools.mode)}
	}
	s.metrics.promptTokens.Add(float64(len(j.req.Prompt)))
	base := chunkBase{id: newID(f.idPrefix()), created: time.Now().Unix(), model: s.cfg.ServedName, req: &j.req}

	type indexed struct {
		c  *choice
		ev scheduler.Event
	}
	events := make(chan indexed)
	var wg sync.WaitGroup
	for _, c := range choices {
		wg.Go(func() {
			for {
				ev, ok := c.h.Next(context.Background())
				if !ok {
					return
				}
				events <- indexed{c, ev}
			}
		})
	}
	go func() { wg.Wait(); close(events) }()

	var ttft time.Duration
	var sse *sseWriter
	if j.stream {
		sse = newSSEWriter(w)
	}
	send := func(v any) {
		if v != nil && sse.send(v) != nil {
			// The client left or stopped reading past the write timeout: stop
			// generating; the loop ends when the scheduler has let go.
			cancel()
		}
	}
	for ie := range events {
		c, ev := ie.c, ie.ev
		if ev.Token >= 0 {
			now := time.Now()
			if ttft == 0 {
				ttft = now.Sub(start)
				s.metrics.timeToFirstToken.Observe(ttft.Seconds())
			} else if !c.last.IsZero() {
				s.metrics.interToken.Observe(now.Sub(c.last).Seconds())
			}
			c.last = now
			s.metrics.generatedTokens.Inc()
		}
		if sse == nil {
			c.evs = append(c.evs, ev)
			continue
		}
		send(f.chunk(base, c, ev))
	}
	var u usage
	var failed error
	for _, c := range choices {
		c.res = c.h.Result()
		c.finish = string(c.res.Finish)
		u.PromptTokens = c.res.PromptTokens
		u.CompletionTokens += len(c.res.Tokens)
		if c.res.Err != nil && failed == nil {
			failed = c.res.Err
		}
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	finish := choices[0].finish
	switch {
	case failed == nil:
	case errors.Is(failed, scheduler.ErrCut):
		finish = "cut"
		s.cut.Add(1)
	case ctx.Err() != nil:
		finish = "cancelled"
	default:
		finish = "error"
	}
	rec := report.Completion{CorrelationID: ri.id, Endpoint: j.endpoint, Model: s.cfg.ServedName, PromptTokens: u.PromptTokens,
		CompletionTokens: u.CompletionTokens, Duration: time.Since(start), TimeToFirstToken: ttft, Finish: finish, Err: failed}
	ri.log.Info("completion", "promptTokens", rec.PromptTokens, "completionTokens", rec.CompletionTokens, "choices", len(choices),
		"finish", rec.Finish, "seconds", rec.Duration.Seconds(), "ttftSeconds", ttft.Seconds(), "stream", j.stream)
	s.cfg.Narrator.OnComplete(rec)
	s.generated(ri.id, j.endpoint, failed)
	if failed == nil {
		s.metrics.requestDone(u.PromptTokens, u.CompletionTokens, rec.Duration, choices[0].h.QueueTime())
	}

	if failed != nil {
		e := &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: "generation failed: " + failed.Error()}
		if errors.Is(failed, engine.ErrNonFinite) {
			e.Code = strp("non_finite_logits")
			e.Message = "The model produced invalid numbers (NaN or infinity) while generating, so the response was stopped (" +
				failed.Error() + "). The model or the server is at fault, not your request; retry on another replica."
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
		for _, c := range choices {
			for _, v := range f.finalChunks(base, c) {
				send(v)
			}
		}
		if j.includeUsage {
			send(f.usageChunk(base, u))
		}
		sse.done()
		return
	}
	writeJSON(w, http.StatusOK, f.response(base, choices, u))
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

func (completionFormat) chunk(b chunkBase, c *choice, ev scheduler.Event) any {
	if ev.Text == "" && ev.Logprob == nil {
		return nil
	}
	cc := completionChoice{Index: c.index, Text: ev.Text}
	if b.req.Logprobs {
		cc.Logprobs = completionLP([]scheduler.Event{ev}, 0)
	}
	return completionResponse{ID: b.id, Object: "text_completion", Created: b.created, Model: b.model, Choices: []completionChoice{cc}}
}

func (completionFormat) finalChunks(b chunkBase, c *choice) []any {
	return []any{completionResponse{ID: b.id, Object: "text_completion", Created: b.created, Model: b.model,
		Choices: []completionChoice{{Index: c.index, FinishReason: &c.finish}}}}
}

func (completionFormat) usageChunk(b chunkBase, u usage) any {
	return completionResponse{ID: b.id, Object: "text_completion", Created: b.created, Model: b.model, Choices: []completionChoice{}, Usage: &u}
}

func (completionFormat) response(b chunkBase, cs []*choice, u usage) any {
	out := make([]completionChoice, len(cs))
	for i, c := range cs {
		out[i] = completionChoice{Index: c.index, Text: c.res.Text, FinishReason: &c.finish}
		if b.req.Logprobs {
			out[i].Logprobs = completionLP(c.evs, 0)
		}
	}
	return completionResponse{ID: b.id, Object: "text_completion", Created: b.created, Model: b.model, Choices: out, Usage: &u}
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

func (chatFormat) chunk(b chunkBase, c *choice, ev scheduler.Event) any {
	text := c.out.add(ev.Text)
	if text == "" && ev.Logprob == nil && c.started {
		return nil
	}
	cc := chatChunkChoice{Index: c.index, Delta: chatDelta{Content: &text}}
	if !c.started {
		cc.Delta.Role = "assistant"
		c.started = true
	}
	if b.req.Logprobs && ev.Logprob != nil {
		cc.Logprobs = chatLP([]scheduler.Event{ev})
	}
	return chatChunk{ID: b.id, Object: "chat.completion.chunk", Created: b.created, Model: b.model, Choices: []chatChunkChoice{cc}}
}

// finalChunks sends what the tool parser held back: the content that was
// not a call, or the calls, each whole in one delta.
func (chatFormat) finalChunks(b chunkBase, c *choice) []any {
	chunk := func(cc chatChunkChoice) any {
		cc.Index = c.index
		if !c.started {
			cc.Delta.Role = "assistant"
			c.started = true
		}
		return chatChunk{ID: b.id, Object: "chat.completion.chunk", Created: b.created, Model: b.model, Choices: []chatChunkChoice{cc}}
	}
	var out []any
	_, calls, unsent := c.out.finish()
	if unsent != "" || !c.started {
		out = append(out, chunk(chatChunkChoice{Delta: chatDelta{Content: &unsent}}))
	}
	finish := c.finish
	if len(calls) > 0 {
		for i := range calls {
			calls[i].Index = &i
		}
		out = append(out, chunk(chatChunkChoice{Delta: chatDelta{ToolCalls: calls}}))
		finish = "tool_calls"
	}
	return append(out, chunk(chatChunkChoice{FinishReason: &finish}))
}

func (chatFormat) usageChunk(b chunkBase, u usage) any {
	return chatChunk{ID: b.id, Object: "chat.completion.chunk", Created: b.created, Model: b.model, Choices: []chatChunkChoice{}, Usage: &u}
}

func (chatFormat) response(b chunkBase, cs []*choice, u usage) any {
	out := make([]chatChoice, len(cs))
	for i, c := range cs {
		for _, ev := range c.evs {
			c.out.add(ev.Text)
		}
		content, calls, _ := c.out.finish()
		msg := chatResponseMessage{Role: "assistant", Content: &content, ToolCalls: calls}
		finish := c.finish
		if len(calls) > 0 {
			finish = "tool_calls"
			if content == "" {
				msg.Content = nil
			}
		}
		out[i] = chatChoice{Index: c.index, Message: msg, FinishReason: finish}
		if b.req.Logprobs {
			out[i].Logprobs = chatLP(c.evs)
		}
	}
	return chatResponse{ID: b.id, Object: "chat.completion", Created: b.created, Model: b.model, Choices: out, Usage: u}
}
