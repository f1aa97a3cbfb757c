package devenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// ChatReply is the part of an OpenAI chat completion response the demo and tests read.
type ChatReply struct {
	Model         string // the model the server says answered
	Content       string
	FinishReason  string
	PromptTokens  int
	OutputTokens  int
	CorrelationID string
	Elapsed       time.Duration
}

// Chat sends one chat completion request to an OpenAI base URL (…/v1).
func Chat(ctx context.Context, baseURL, model, prompt string, maxTokens int, correlationID string) (ChatReply, error) {
	body, _ := json.Marshal(map[string]any{
		"model":       model,
		"messages":    []map[string]string{{"role": "user", "content": prompt}},
		"max_tokens":  maxTokens,
		"temperature": 0,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return ChatReply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Correlation-ID", correlationID)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ChatReply{}, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return ChatReply{}, fmt.Errorf("POST %s/chat/completions: %s: %s", baseURL, resp.Status, data)
	}
	var r struct {
		Model   string `json:"model"`
		Choices []struct {
			Message      struct{ Content string } `json:"message"`
			FinishReason string                   `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(data, &r); err != nil || len(r.Choices) == 0 {
		return ChatReply{}, fmt.Errorf("unexpected chat completion response (%v): %s", err, data)
	}
	return ChatReply{
		Model: r.Model, Content: r.Choices[0].Message.Content, FinishReason: r.Choices[0].FinishReason,
		PromptTokens: r.Usage.PromptTokens, OutputTokens: r.Usage.CompletionTokens,
		CorrelationID: resp.Header.Get("X-Correlation-ID"), Elapsed: time.Since(start),
	}, nil
}

// InferenceWorker reads one InferenceWorker.
func (e *Env) InferenceWorker(ctx context.Context, ns, name string) (*inferencev1alpha1.InferenceWorker, error) {
	iw := &inferencev1alpha1.InferenceWorker{}
	return iw, e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, iw)
}

// Condition returns the InferenceWorker's condition of type t, or nil.
func Condition(iw *inferencev1alpha1.InferenceWorker, t string) *metav1.Condition {
	return meta.FindStatusCondition(iw.Status.Conditions, t)
}

// Current says whether the operator has written status for the InferenceWorker's spec.
func Current(iw *inferencev1alpha1.InferenceWorker) bool {
	return iw.Status.ObservedGeneration == iw.Generation
}

// IsReady says whether the operator reports the InferenceWorker Ready for its current spec.
func IsReady(iw *inferencev1alpha1.InferenceWorker) bool {
	c := Condition(iw, inferencev1alpha1.ConditionReady)
	return Current(iw) && c != nil && c.Status == metav1.ConditionTrue
}

// Events returns the Events about an InferenceWorker (the operator's and the workers'
// narration), oldest first.
func (e *Env) Events(ctx context.Context, ns, name string) ([]eventsv1.Event, error) {
	list := &eventsv1.EventList{}
	if err := e.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	var out []eventsv1.Event
	for _, ev := range list.Items {
		if ev.Regarding.Kind == "InferenceWorker" && ev.Regarding.Name == name {
			out = append(out, ev)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return eventTime(out[i]).Before(eventTime(out[j])) })
	return out, nil
}

func eventTime(ev eventsv1.Event) time.Time {
	switch {
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	case !ev.DeprecatedLastTimestamp.IsZero():
		return ev.DeprecatedLastTimestamp.Time
	default:
		return ev.CreationTimestamp.Time
	}
}

// FindEvent returns the first Event with the reason, or nil.
func FindEvent(evs []eventsv1.Event, reason string) *eventsv1.Event {
	for i := range evs {
		if evs[i].Reason == reason {
			return &evs[i]
		}
	}
	return nil
}
