package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/scheduler"
)

var embeddingFields = map[string]field{
	"model": impl, "input": impl, "encoding_format": impl, "dimensions": impl, "user": ignore,
}

type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
}

type embeddingObject struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32, or base64 of little-endian float32s
}

type embeddingResponse struct {
	Object string            `json:"object"`
	Data   []embeddingObject `json:"data"`
	Model  string            `json:"model"`
	Usage  struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

// pooling is how the model's GGUF says to pool its hidden states
// ({arch}.pooling_type). A generative model declares none: its last token
// has read the whole input, so that one is its embedding.
func pooling(m *model.Model) engine.Pooling {
	if m.File != nil {
		if v, ok := m.File.Get(m.Hyper.Arch + ".pooling_type"); ok {
			if n, ok := v.Int(); ok {
				switch p := engine.Pooling(n); p {
				case engine.PoolingMean, engine.PoolingCLS, engine.PoolingLast:
					return p
				}
			}
		}
	}
	return engine.PoolingLast
}

// embeddingInputs reads input: a string, an array of strings, an array of
// token ids or an array of arrays of token ids.
func embeddingInputs(raw json.RawMessage) (texts []string, tokens [][]int, e *apiError) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil, nil
	}
	if json.Unmarshal(raw, &texts) == nil {
		return texts, nil, nil
	}
	var ids []int
	if json.Unmarshal(raw, &ids) == nil {
		return nil, [][]int{ids}, nil
	}
	if json.Unmarshal(raw, &tokens) == nil {
		return nil, tokens, nil
	}
	return nil, nil, invalid("input", "input must be a string, an array of strings, an array of token ids, or an array of arrays of token ids.")
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	type embedJob struct {
		prompts [][]int
		base64  bool
		pool    engine.Pooling
	}
	var ej embedJob
	sv, _, ok := s.intake(w, r, func(raw []byte, sv serving) (job, *apiError) {
		var body embeddingRequest
		if e := decodeObject(raw, embeddingFields, "", &body); e != nil {
			return job{}, e
		}
		if e := s.checkModel(body.Model); e != nil {
			return job{}, e
		}
		if _, ok := sv.m.Backend.(engine.Embedder); !ok {
			return job{}, &apiError{Status: http.StatusNotImplemented, Type: "invalid_request_error", Code: strp("embeddings_unsupported"),
				Message: fmt.Sprintf("The %s engine of this worker does not compute embeddings; run the model on the CPU engine for /v1/embeddings.", sv.m.Backend.Name())}
		}
		switch body.EncodingFormat {
		case "", "float":
		case "base64":
			ej.base64 = true
		default:
			return job{}, invalid("encoding_format", "encoding_format is %q; it must be float or base64.", body.EncodingFormat)
		}
		dim := sv.m.Backend.Model().Hyper.Embedding
		if body.Dimensions != nil && *body.Dimensions != dim {
			return job{}, invalid("dimensions", "dimensions is %d; this model's embeddings have %d and cannot be shortened.", *body.Dimensions, dim)
		}
		if len(body.Input) == 0 || string(body.Input) == "null" {
			return job{}, invalid("input", "input is missing; send the text to embed.")
		}
		texts, tokens, e := embeddingInputs(body.Input)
		if e != nil {
			return job{}, e
		}
		n := max(len(texts), len(tokens))
		switch {
		case n == 0:
			return job{}, invalid("input", "input is empty; send at least one text.")
		case n > maxEmbeddingInputs:
			return job{}, invalid("input", "input holds %d inputs; at most %d are allowed.", n, maxEmbeddingInputs)
		}
		vocab := sv.m.Tokenizer.VocabSize()
		for i, text := range texts {
			param := fmt.Sprintf("input[%d]", i)
			if text == "" {
				return job{}, invalid(param, "%s is empty.", param)
			}
			if m, tooLong := sv.lim.promptCertainlyTooLong(sv.m.Tokenizer, len(text)); tooLong {
				return job{}, promptTooLong(param, sv.lim.ContextLength, m, true)
			}
			ej.prompts = append(ej.prompts, sv.m.TextPrompt(text))
		}
		for i, ids := range tokens {
			param := fmt.Sprintf("input[%d]", i)
			if len(ids) == 0 {
				return job{}, invalid(param, "%s is empty.", param)
			}
			for _, id := range ids {
				if id < 0 || id >= vocab {
					return job{}, invalid(param, "token id %d is outside the vocabulary of %d tokens.", id, vocab)
				}
			}
			ej.prompts = append(ej.prompts, ids)
		}
		for i, p := range ej.prompts {
			if len(p) >= sv.lim.ContextLength {
				return job{}, promptTooLong(fmt.Sprintf("input[%d]", i), sv.lim.ContextLength, len(p), false)
			}
		}
		ej.pool = pooling(sv.m.Backend.Model())
		return job{endpoint: "/v1/embeddings"}, nil
	})
	if !ok {
		return
	}
	resp, e := s.embed(r.Context(), sv, ej.prompts, ej.pool)
	if e != nil {
		writeError(w, e)
		return
	}
	resp.Model = s.cfg.ServedName
	if ej.base64 {
		for i := range resp.Data {
			v := resp.Data[i].Embedding.([]float32)
			b := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(f))
			}
			resp.Data[i].Embedding = base64.StdEncoding.EncodeToString(b)
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// embed runs the prompts through the scheduler, as many at once as it has
// slots, and collects their embeddings in order.
func (s *Server) embed(ctx context.Context, sv serving, prompts [][]int, pool engine.Pooling) (*embeddingResponse, *apiError) {
	resp := &embeddingResponse{Object: "list", Data: make([]embeddingObject, len(prompts))}
	wave := max(1, s.cfg.MaxConcurrent)
	for lo := 0; lo < len(prompts); lo += wave {
		hi := min(len(prompts), lo+wave)
		handles := make([]*scheduler.Handle, 0, hi-lo)
		for _, p := range prompts[lo:hi] {
			h, err := sv.sched.Submit(ctx, scheduler.Request{Prompt: p, Pooling: pool})
			switch {
			case errors.Is(err, scheduler.ErrQueueFull):
				return nil, &apiError{Status: http.StatusTooManyRequests, Type: "rate_limit_error", Code: strp("queue_full"), RetryAfter: s.cfg.RetryAfter,
					Message: "The server is at capacity and its queue is full; retry after the Retry-After delay."}
			case errors.Is(err, scheduler.ErrShuttingDown):
				return nil, errShuttingDown()
			case err != nil:
				return nil, &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: err.Error()}
			}
			handles = append(handles, h)
		}
		for k, h := range handles {
			for _, ok := h.Next(ctx); ok; _, ok = h.Next(ctx) {
			}
			if ctx.Err() != nil {
				return nil, &apiError{Status: 499, Type: "cancelled", Message: "the client left"}
			}
			res := h.Result()
			if res.Err != nil {
				return nil, &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: "embedding failed: " + res.Err.Error()}
			}
			i := lo + k
			resp.Data[i] = embeddingObject{Object: "embedding", Index: i, Embedding: res.Embedding}
			resp.Usage.PromptTokens += res.PromptTokens
		}
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens
	s.metrics.promptTokens.Add(float64(resp.Usage.PromptTokens))
	return resp, nil
}
