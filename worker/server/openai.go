package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// apiError is an error in OpenAI's JSON shape with its HTTP status.
type apiError struct {
	Status  int     `json:"-"`
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
	// RetryAfter, in seconds, is sent as the Retry-After header when set.
	RetryAfter int `json:"-"`
}

func (e *apiError) Error() string { return e.Message }

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func invalid(param, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error", Param: strp(param), Message: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(e.RetryAfter))
	}
	writeJSON(w, e.Status, struct {
		Error *apiError `json:"error"`
	}{e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// stopList is OpenAI's stop: a string or an array of strings.
type stopList []string

func (s *stopList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = stopList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return &fieldError{"stop", "stop must be a string or an array of strings."}
	}
	*s = many
	return nil
}

// prompt is the completions prompt: a string, an array of one string, an
// array of token ids, or an array of one array of token ids.
type prompt struct {
	text   string
	tokens []int
	count  int // how many prompts were given
}

func (p *prompt) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &p.text); err == nil {
		p.count = 1
		return nil
	}
	var texts []string
	if err := json.Unmarshal(b, &texts); err == nil {
		p.count = len(texts)
		if len(texts) > 0 {
			p.text = texts[0]
		}
		return nil
	}
	if err := json.Unmarshal(b, &p.tokens); err == nil {
		p.count = 1
		return nil
	}
	var batches [][]int
	if err := json.Unmarshal(b, &batches); err == nil {
		p.count = len(batches)
		if len(batches) > 0 {
			p.tokens = batches[0]
		}
		return nil
	}
	return &fieldError{"prompt", "prompt must be a string, an array of strings, or an array of token ids."}
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// samplingFields are shared by completions and chat completions.
type samplingFields struct {
	Model            string          `json:"model"`
	MaxTokens        *int            `json:"max_tokens"`
	Temperature      *float64        `json:"temperature"`
	TopP             *float64        `json:"top_p"`
	N                *int            `json:"n"`
	Stream           bool            `json:"stream"`
	StreamOptions    json.RawMessage `json:"stream_options"` // checked field by field, see streamOptions
	Stop             stopList        `json:"stop"`
	Seed             *int64          `json:"seed"`
	PresencePenalty  *float64        `json:"presence_penalty"`
	FrequencyPenalty *float64        `json:"frequency_penalty"`
	IgnoreEOS        bool            `json:"ignore_eos"`
	ResponseFormat   json.RawMessage `json:"response_format"` // see responseConstraint
	// LogitBias maps token ids, as strings, to a bias from -100 to 100.
	LogitBias map[string]float64 `json:"logit_bias"`
	// Extensions of vLLM's and llama.cpp's servers.
	Priority          *int     `json:"priority"`
	TopK              *int     `json:"top_k"`
	MinP              *float64 `json:"min_p"`
	RepetitionPenalty *float64 `json:"repetition_penalty"`
}

type completionRequest struct {
	samplingFields
	Prompt   *prompt `json:"prompt"`
	Logprobs *int    `json:"logprobs"`
	Echo     bool    `json:"echo"`
}

type chatMessage struct {
	Role       string            `json:"role"`
	Content    json.RawMessage   `json:"content"`
	ToolCalls  []json.RawMessage `json:"tool_calls"` // decoded one by one, so errors can name them
	ToolCallID *string           `json:"tool_call_id"`
}

type chatRequest struct {
	samplingFields
	// Messages are decoded one by one, so errors can name messages[i].
	Messages            []json.RawMessage `json:"messages"`
	MaxCompletionTokens *int              `json:"max_completion_tokens"`
	Logprobs            bool              `json:"logprobs"`
	TopLogprobs         *int              `json:"top_logprobs"`
	Tools               []json.RawMessage `json:"tools"` // decoded one by one, see tools.go
	ToolChoice          json.RawMessage   `json:"tool_choice"`
	ParallelToolCalls   *bool             `json:"parallel_tool_calls"`
}

// messageText returns a message's content: a string, or an array of text
// parts that are joined. param locates the content in the request.
func messageText(raw json.RawMessage, param string) (string, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", invalid(param, "%s must be a string or an array of text parts.", param)
	}
	var out strings.Builder
	for i, raw := range parts {
		var p struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		prefix := fmt.Sprintf("%s[%d].", param, i)
		if e := decodeObject(raw, contentPartFields, prefix, &p); e != nil {
			return "", e
		}
		if p.Type != "text" {
			return "", invalid(prefix+"type", "content part type %q is not supported; only text is.", p.Type)
		}
		out.WriteString(p.Text)
	}
	return out.String(), nil
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Completions responses.

type completionLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float32            `json:"token_logprobs"`
	TopLogprobs   []map[string]float32 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

type completionChoice struct {
	Text         string              `json:"text"`
	Index        int                 `json:"index"`
	Logprobs     *completionLogprobs `json:"logprobs"`
	FinishReason *string             `json:"finish_reason"`
}

type completionResponse struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   *usage             `json:"usage,omitempty"`
}

// Chat responses.

type topLogprob struct {
	Token   string  `json:"token"`
	Logprob float32 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

type chatTokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float32      `json:"logprob"`
	Bytes       []int        `json:"bytes"`
	TopLogprobs []topLogprob `json:"top_logprobs"`
}

type chatLogprobs struct {
	Content []chatTokenLogprob `json:"content"`
}

type chatResponseMessage struct {
	Role string `json:"role"`
	// Content is null when the message is only tool calls.
	Content   *string       `json:"content"`
	ToolCalls []toolCallOut `json:"tool_calls,omitempty"`
}

type functionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type toolCallOut struct {
	// Index is set in streamed deltas only.
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function functionCall `json:"function"`
}

type chatChoice struct {
	Index        int                 `json:"index"`
	Message      chatResponseMessage `json:"message"`
	Logprobs     *chatLogprobs       `json:"logprobs"`
	FinishReason string              `json:"finish_reason"`
}

type chatResponse struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   usage        `json:"usage"`
}

type chatDelta struct {
	Role      string        `json:"role,omitempty"`
	Content   *string       `json:"content,omitempty"`
	ToolCalls []toolCallOut `json:"tool_calls,omitempty"`
}

type chatChunkChoice struct {
	Index        int           `json:"index"`
	Delta        chatDelta     `json:"delta"`
	Logprobs     *chatLogprobs `json:"logprobs"`
	FinishReason *string       `json:"finish_reason"`
}

type chatChunk struct {
	ID      string            `json:"id"`
	Object  string            `json:"object"`
	Created int64             `json:"created"`
	Model   string            `json:"model"`
	Choices []chatChunkChoice `json:"choices"`
	Usage   *usage            `json:"usage,omitempty"`
}

type modelList struct {
	Object string        `json:"object"`
	Data   []modelObject `json:"data"`
}

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
	// MaxModelLen is vLLM's name for the most tokens of one request, prompt
	// included; ContextLength is the model's own (its GGUF's).
	MaxModelLen   int          `json:"max_model_len,omitempty"`
	ContextLength int          `json:"context_length,omitempty"`
	Limits        *modelLimits `json:"limits,omitempty"`
}

// modelLimits are the worker's limits a client can plan with.
type modelLimits struct {
	MaxRequestBytes   int64 `json:"max_request_bytes"`
	MaxConcurrent     int   `json:"max_concurrent_requests"`
	MaxQueued         int   `json:"max_queued_requests"`
	MaxChoices        int   `json:"max_choices"`
	MaxStopSequences  int   `json:"max_stop_sequences"`
	MaxTopLogprobs    int   `json:"max_top_logprobs"`
	MaxEmbeddingBatch int   `json:"max_embedding_inputs"`
	Embeddings        bool  `json:"embeddings"`
}

func byteInts(s string) []int {
	out := make([]int, len(s))
	for i := range len(s) {
		out[i] = int(s[i])
	}
	return out
}
