// Package report holds what the worker tells about itself: a model that is
// ready, a model that failed to load, a finished request. The server and the
// loader produce these records; the narration (worker/narration) turns them
// into Kubernetes Events, log lines and metrics. Keeping the records here lets
// both sides depend on this small package instead of on each other.
package report

import "time"

// Completion describes one finished generation request.
type Completion struct {
	CorrelationID    string
	Endpoint         string // "/v1/completions" or "/v1/chat/completions"
	Model            string
	PromptTokens     int
	CompletionTokens int
	Duration         time.Duration
	TimeToFirstToken time.Duration // 0 when no token was generated
	// Finish is "stop" or "length", or "cancelled" (client went away),
	// "cut" (shutdown grace ended) or "error".
	Finish string
	Err    error
}

// ModelLoaded describes a model that is ready to serve.
type ModelLoaded struct {
	ServedName    string
	Arch          string
	Backend       string // "cpu" or "cuda"
	Device        string
	ContextLength int
	Parameters    int64
	// RequiredMiB and WeightsBytes are the model's GPU memory plan (load.Options.Plan).
	RequiredMiB  int64
	WeightsBytes int64
	// DeviceBytes is the GPU memory the load really took, as the backend measured it (on the GPU
	// where it took most); 0 if unknown.
	DeviceBytes uint64
	// GPUs is how many GPUs the model is split over (tensor parallelism); 0 or 1 is one.
	GPUs     int
	LoadTime time.Duration // warm-up included
}

// InferenceFailure describes a request the model could not serve because its
// forward pass produced non-finite logits (NaN or Inf).
type InferenceFailure struct {
	CorrelationID string
	Endpoint      string
	Cause         string
	// Consecutive is how many requests in a row have failed so, this one included.
	Consecutive int
	// Unready is set on the failure that made the worker report itself not ready.
	Unready bool
}

// Narrator is told what the worker does. Calls happen on request goroutines
// and must not block for long.
type Narrator interface {
	OnModelLoaded(ModelLoaded)
	OnModelLoadFailed(err error)
	OnComplete(Completion)
	OnInferenceFailed(InferenceFailure)
}

// Nop ignores everything.
type Nop struct{}

func (Nop) OnModelLoaded(ModelLoaded) {}
func (Nop) OnModelLoadFailed(error)   {}
func (Nop) OnComplete(Completion)     {}

func (Nop) OnInferenceFailed(InferenceFailure) {}
