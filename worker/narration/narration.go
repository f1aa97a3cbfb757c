// Package narration tells people what a worker did, in plain words: one structured log
// line for every narration, and, when the worker runs in a cluster, an events.k8s.io/v1
// Event on its InferenceWorker that `kubectl describe inferenceworker` shows, e.g.
//
//	Normal  ModelLoaded        Loaded Llama model tinyllama (2212 MB VRAM, 834 ms)
//	Normal  InferenceComplete  Llama inference complete: 128 tokens in 842 ms
//
// Emitting never blocks inference: narrations go through a bounded queue to one sender
// goroutine, and what does not fit is dropped and counted.
package narration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/report"
)

// Actions: the machine-readable name of what happened, in logs and on Events.
const (
	ActionModelLoad         = "model_load"
	ActionModelLoading      = "model_loading"
	ActionModelDownloading  = "model_downloading"
	ActionModelDownloaded   = "model_downloaded"
	ActionModelLoadFailed   = "model_load_failed"
	ActionInferenceComplete = "inference_complete"
	ActionWorkerDraining    = "worker_draining"
	ActionInferenceFailed   = "inference_failed"
)

// Event reasons, CamelCase as Kubernetes convention wants.
const (
	ReasonModelLoaded       = "ModelLoaded"
	ReasonModelLoading      = inferencev1alpha1.ReasonModelLoading
	ReasonModelDownloading  = inferencev1alpha1.ReasonModelDownloading
	ReasonModelDownloaded   = "ModelDownloaded"
	ReasonModelLoadFailed   = "ModelLoadFailed"
	ReasonInferenceComplete = "InferenceComplete"
	ReasonWorkerDraining    = "WorkerDraining"
	ReasonInferenceFailed   = inferencev1alpha1.ReasonInferenceFailed
)

// Fields are the machine fields of one narration plus its human sentence.
type Fields struct {
	Actor         string // the worker: "kubeinfer-worker/<pod>"
	Action        string // one of the Action constants
	Reason        string // the Event reason
	Warning       bool   // a Warning Event rather than Normal
	Unready       bool   // the worker reports itself not ready after this (AnnotationUnready)
	Target        string // "InferenceWorker <namespace>/<name>", or the model path outside a cluster
	Device        string // "GPU0", "CPU"
	ModelRef      string // the served model name
	Parameters    int64  // the model's parameter count (model_load only)
	DurationMS    int64
	TokensIn      int
	TokensOut     int
	CorrelationID string
	// MemoryMiB is the accelerator memory the process holds (GPU) or its resident
	// memory (CPU); 0 when unknown. MemoryKind says which: "VRAM" or "RAM".
	MemoryMiB  int64
	MemoryKind string
	// GPUs is how many GPUs the model is split over (model_load only); MemoryMiB is then each
	// GPU's (the most of any). 0 or 1 is one.
	GPUs int
	// RequiredMiB and WeightsBytes are the GPU memory plan of the model (model_load only).
	RequiredMiB  int64
	WeightsBytes int64
	// Progress is the load or download progress (model_loading, model_downloading).
	Progress *inferencev1alpha1.LoadProgress
	// EventName names the Event (below the InferenceWorker's name) so that it can be
	// patched later; empty gives a unique name. Patch updates that Event's progress
	// annotations instead of creating one.
	EventName string
	Patch     bool
	Sentence  string
}

// Sink delivers narrations somewhere people read them (Kubernetes Events).
type Sink interface {
	Emit(ctx context.Context, f Fields) error
}

// MemoryProbe reports the memory the process holds on device ("GPU0", "CPU", or the GPUs
// of a split model, "GPU0,GPU1": the most it holds on any of them), in MiB, and its kind
// ("VRAM" or "RAM"); ok is false when it cannot be measured.
type MemoryProbe func(device string) (mib int64, kind string, ok bool)

// Config configures a Narrator.
type Config struct {
	Log logr.Logger
	// Sink receives narrations besides the log; nil narrates to the log only (no cluster).
	Sink Sink
	// Mode and MinInterval come from spec.narration of the InferenceWorker.
	Mode        inferencev1alpha1.InferenceEventsMode
	MinInterval time.Duration
	// Arch is the declared architecture, "llama" or "gpt".
	Arch       string
	ServedName string
	Actor      string
	Target     string
	// ModelSource says where a downloaded model comes from (the URL's host), for the
	// download narration.
	ModelSource string
	Memory      MemoryProbe
	// QueueSize bounds the narrations waiting for the Sink; 0 means 256.
	QueueSize int
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// ProgressInterval is the least time between two patches of a load's ModelLoading
	// Event (or a download's ModelDownloading Event); 0 means 3 s. A patch also needs 10
	// more percent than the last, so a load writes at most 1 create + 10 patches, however
	// long it takes; a download as much, plus one patch when it stalls and one when it
	// moves again.
	ProgressInterval time.Duration
}

// Narrator implements report.Narrator.
type Narrator struct {
	cfg     Config
	queue   chan Fields
	dropped prometheus.Counter
	emitted *prometheus.CounterVec
	done    chan struct{}

	mu sync.Mutex
	// Sampled mode: when the last InferenceComplete Event went out, and what was
	// skipped since.
	lastEvent     time.Time
	skippedReqs   int
	skippedTokens int
	device        string
	// The current load's ModelLoading Event and download's ModelDownloading Event.
	loading, downloading progressEvent
	// unready: an InferenceFailed Event has said the worker is no longer ready.
	unready atomic.Bool
}

// progressEvent is the one Event that shows a load's or download's progress: its name,
// when it was last written, the step and stall it showed, and when progress was last logged.
type progressEvent struct {
	name    string
	patched time.Time
	step    int
	stalled bool
	logged  time.Time
}

var _ report.Narrator = (*Narrator)(nil)

// New returns a Narrator; call Run to start delivering to the Sink.
func New(cfg Config) *Narrator {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 256
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Mode == "" {
		cfg.Mode = inferencev1alpha1.InferenceEventsSampled
	}
	if cfg.MinInterval <= 0 {
		cfg.MinInterval = 30 * time.Second
	}
	if cfg.ProgressInterval <= 0 {
		cfg.ProgressInterval = 3 * time.Second
	}
	n := &Narrator{
		cfg:   cfg,
		queue: make(chan Fields, cfg.QueueSize),
		done:  make(chan struct{}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kubeinfer_narration_events_dropped_total",
			Help: "Narration Events dropped because the queue to the API server was full.",
		}),
		emitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubeinfer_narration_events_total",
			Help: "Narration Events sent to the API server, by reason and result.",
		}, []string{"reason", "result"}),
	}
	return n
}

// Collectors are the narration metrics, to be served with the worker's.
func (n *Narrator) Collectors() []prometheus.Collector {
	return []prometheus.Collector{n.dropped, n.emitted}
}

// archTitle is the architecture as people write it: "Llama" or "GPT".
func archTitle(arch string) string {
	if strings.EqualFold(arch, string(inferencev1alpha1.ArchitectureGPT)) {
		return "GPT"
	}
	return "Llama"
}

func (n *Narrator) base(action, reason string) Fields {
	return Fields{
		Actor:    n.cfg.Actor,
		Action:   action,
		Reason:   reason,
		Target:   n.cfg.Target,
		ModelRef: n.cfg.ServedName,
	}
}

// OnModelLoading narrates a load's progress: in the log at most once a second, and as
// one ModelLoading Event per load, created on the first call and then patched with the
// progress at most every ProgressInterval and only on a new tenth of the load, so a load
// costs the API server at most 11 writes. Always emitted, whatever the mode.
func (n *Narrator) OnModelLoading(p inferencev1alpha1.LoadProgress) {
	n.progress(&n.loading, ActionModelLoading, ReasonModelLoading, "Loading", p, func() string {
		return fmt.Sprintf("Loading %s model %s (%s of weights)", archTitle(n.cfg.Arch), n.cfg.ServedName, decimalBytes(p.Total))
	})
}

// OnModelDownloading narrates the progress of the download of a URL model (the fetch init
// container) as OnModelLoading does a load's, on one ModelDownloading Event, which is also
// patched when the download stalls (p.StalledSince set) and when it moves again.
func (n *Narrator) OnModelDownloading(p inferencev1alpha1.LoadProgress) {
	n.progress(&n.downloading, ActionModelDownloading, ReasonModelDownloading, "Downloading", p, func() string {
		size := "size unknown"
		if p.Total > 0 {
			size = decimalBytes(p.Total)
		}
		s := fmt.Sprintf("Downloading model %s (%s)", n.cfg.ServedName, size)
		if n.cfg.ModelSource != "" {
			s += " from " + n.cfg.ModelSource
		}
		return s
	})
}

// progress logs p at most once a second (and on a stall or recovery) and writes pe's
// Event: created on the first call, then patched on a new step or a change of stall, no
// sooner than ProgressInterval after the last write.
func (n *Narrator) progress(pe *progressEvent, action, reason, verb string, p inferencev1alpha1.LoadProgress, first func() string) {
	now := n.cfg.Now()
	f := n.base(action, reason)
	f.Progress = &p
	stalled := !p.StalledSince.IsZero()
	n.mu.Lock()
	logIt := now.Sub(pe.logged) >= time.Second || pe.name == "" || stalled != pe.stalled
	if logIt {
		pe.logged = now
	}
	step := p.Step()
	send := false
	switch {
	case pe.name == "":
		// Time first: kubectl describe keeps Events of the same second in name order.
		pe.name = fmt.Sprintf("%x.%s", now.UnixNano(), strings.ToLower(verb))
		pe.patched, pe.step, pe.stalled, send = now, step, stalled, true
		f.Sentence = first()
	case (step > pe.step || stalled != pe.stalled) && now.Sub(pe.patched) >= n.cfg.ProgressInterval:
		pe.patched, pe.step, pe.stalled, send = now, max(step, pe.step), stalled, true
		f.Patch = true
	}
	f.EventName = pe.name
	n.mu.Unlock()
	sentence := p.Sentence(verb)
	if f.Sentence == "" {
		f.Sentence = sentence
	}
	if logIt {
		kv := []any{"narration", true, "action", f.Action, "loadedBytes", p.Done, "totalBytes", p.Total,
			"bytesPerSecond", p.BytesPerSecond, "etaSeconds", int64(p.ETA / time.Second), "model", f.ModelRef}
		if stalled {
			kv = append(kv, "stalledSince", p.StalledSince.UTC().Format(time.RFC3339))
		}
		n.cfg.Log.Info(sentence, kv...)
	}
	if send {
		n.enqueue(f)
	}
}

// OnModelDownloaded narrates a finished, verified download; always emitted.
func (n *Narrator) OnModelDownloaded(bytes uint64, took time.Duration) {
	f := n.base(ActionModelDownloaded, ReasonModelDownloaded)
	f.DurationMS = took.Milliseconds()
	f.Sentence = fmt.Sprintf("Downloaded model %s (%s in %s", n.cfg.ServedName, decimalBytes(bytes), took.Round(100*time.Millisecond))
	if s := took.Seconds(); s > 0 {
		f.Sentence += ", " + decimalBytes(uint64(float64(bytes)/s)) + "/s"
	}
	f.Sentence += "), sha256 verified"
	n.narrate(f)
}

// OnModelLoaded narrates a finished load; always emitted, whatever the mode.
func (n *Narrator) OnModelLoaded(rec report.ModelLoaded) {
	n.mu.Lock()
	n.device = rec.Device
	n.mu.Unlock()
	f := n.base(ActionModelLoad, ReasonModelLoaded)
	f.Device = rec.Device
	f.GPUs = rec.GPUs
	f.DurationMS = rec.LoadTime.Milliseconds()
	f.Parameters = rec.Parameters
	f.RequiredMiB, f.WeightsBytes = rec.RequiredMiB, rec.WeightsBytes
	if n.cfg.Memory != nil {
		if mib, kind, ok := n.cfg.Memory(rec.Device); ok {
			f.MemoryMiB, f.MemoryKind = mib, kind
		}
	}
	if f.MemoryMiB == 0 && rec.DeviceBytes > 0 && rec.Device != "CPU" {
		// No driver figure (e.g. NVML cannot see this process's PID inside a container):
		// what the backend measured the load to take on the GPU.
		f.MemoryMiB, f.MemoryKind = int64((rec.DeviceBytes+1<<20-1)>>20), "VRAM"
	}
	f.Sentence = modelLoadedSentence(n.cfg.Arch, rec.Arch, n.cfg.ServedName, f)
	n.narrate(f)
}

// modelLoadedSentence names the family and, first in the parentheses, the file's
// architecture: "Loaded Llama model qwen3-4b (qwen3, 2212 MB VRAM, 834 ms)".
func modelLoadedSentence(family, arch, name string, f Fields) string {
	where, what := "", ""
	if f.Device == "CPU" {
		where = " on CPU"
	}
	if arch != "" {
		what = arch + ", "
	}
	if f.MemoryMiB > 0 {
		count := "" // a model split over several GPUs: what each took, the most of them
		if f.GPUs > 1 {
			count = fmt.Sprintf("%d × ", f.GPUs)
		}
		return fmt.Sprintf("Loaded %s model %s%s (%s%s%d MB %s, %d ms)", archTitle(family), name, where, what, count,
			f.MemoryMiB, f.MemoryKind, f.DurationMS)
	}
	return fmt.Sprintf("Loaded %s model %s%s (%s%d ms)", archTitle(family), name, where, what, f.DurationMS)
}

// OnModelLoadFailed narrates a failed load as a Warning; always emitted.
func (n *Narrator) OnModelLoadFailed(err error) {
	f := n.base(ActionModelLoadFailed, ReasonModelLoadFailed)
	f.Warning = true
	f.Sentence = fmt.Sprintf("Failed to load %s model %s: %v", archTitle(n.cfg.Arch), n.cfg.ServedName, err)
	n.narrate(f)
}

// OnInferenceFailed narrates a request whose logits were not finite as a Warning. The
// failures up to the one that makes the worker unready go out as Events (the operator
// reads them); later ones, while the worker stays unready, only to the log.
func (n *Narrator) OnInferenceFailed(rec report.InferenceFailure) {
	f := n.base(ActionInferenceFailed, ReasonInferenceFailed)
	f.Warning = true
	f.CorrelationID = rec.CorrelationID
	n.mu.Lock()
	f.Device = n.device
	n.mu.Unlock()
	f.Sentence = fmt.Sprintf("%s inference failed: %s (%d in a row)", archTitle(n.cfg.Arch), rec.Cause, rec.Consecutive)
	if rec.Unready {
		f.Sentence += "; the worker now reports itself not ready"
		f.Unready = true
	}
	n.log(f)
	if rec.Unready {
		n.unready.Store(true)
	} else if n.unready.Load() {
		return
	}
	n.enqueue(f)
}

// OnDraining narrates the start of a graceful shutdown.
func (n *Narrator) OnDraining(running int) {
	f := n.base(ActionWorkerDraining, ReasonWorkerDraining)
	n.mu.Lock()
	f.Device = n.device
	n.mu.Unlock()
	f.Sentence = fmt.Sprintf("%s worker draining: finishing %d running requests before shutdown", archTitle(n.cfg.Arch), running)
	n.narrate(f)
}

// OnComplete narrates a finished request, as the mode says: every one (All), at most one
// per MinInterval with a summary of the rest (Sampled), or only in the log (Off).
func (n *Narrator) OnComplete(rec report.Completion) {
	f := n.base(ActionInferenceComplete, ReasonInferenceComplete)
	f.DurationMS = rec.Duration.Milliseconds()
	f.TokensIn, f.TokensOut = rec.PromptTokens, rec.CompletionTokens
	f.CorrelationID = rec.CorrelationID
	f.Sentence = fmt.Sprintf("%s inference complete: %d tokens in %d ms", archTitle(n.cfg.Arch), rec.CompletionTokens, f.DurationMS)
	if rec.Finish != "stop" && rec.Finish != "length" && rec.Finish != "" {
		f.Sentence += " (" + rec.Finish + ")"
	}

	n.mu.Lock()
	f.Device = n.device
	toSink := true
	switch n.cfg.Mode {
	case inferencev1alpha1.InferenceEventsOff:
		toSink = false
	case inferencev1alpha1.InferenceEventsSampled:
		now := n.cfg.Now()
		if !n.lastEvent.IsZero() && now.Sub(n.lastEvent) < n.cfg.MinInterval {
			n.skippedReqs++
			n.skippedTokens += rec.CompletionTokens
			toSink = false
		} else {
			if n.skippedReqs > 0 {
				f.Sentence += fmt.Sprintf(" (+%d requests, %d tokens since last event)", n.skippedReqs, n.skippedTokens)
			}
			n.lastEvent, n.skippedReqs, n.skippedTokens = now, 0, 0
		}
	}
	n.mu.Unlock()

	n.log(f)
	if toSink {
		n.enqueue(f)
	}
}

func (n *Narrator) narrate(f Fields) {
	n.log(f)
	n.enqueue(f)
}

// log writes the narration as one structured line; it is the record of every narration,
// sampled away or not.
func (n *Narrator) log(f Fields) {
	kv := []any{"narration", true, "action", f.Action, "reason", f.Reason, "actor", f.Actor, "target", f.Target,
		"device", f.Device, "model", f.ModelRef, "durationMs", f.DurationMS}
	if f.Action == ActionInferenceComplete {
		kv = append(kv, "tokensIn", f.TokensIn, "tokensOut", f.TokensOut, "correlationId", f.CorrelationID)
	}
	if f.MemoryMiB > 0 {
		kv = append(kv, "memoryMiB", f.MemoryMiB, "memoryKind", f.MemoryKind)
	}
	n.cfg.Log.Info(f.Sentence, kv...)
}

func (n *Narrator) enqueue(f Fields) {
	if n.cfg.Sink == nil {
		return
	}
	select {
	case n.queue <- f:
	default:
		n.dropped.Inc()
	}
}

// Run delivers queued narrations to the Sink until ctx ends, then sends what is still
// queued (bounded by a short deadline) so the last words of a worker are not lost.
func (n *Narrator) Run(ctx context.Context) {
	defer close(n.done)
	if n.cfg.Sink == nil {
		<-ctx.Done()
		return
	}
	for {
		select {
		case f := <-n.queue:
			n.send(context.Background(), f)
		case <-ctx.Done():
			flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			for {
				select {
				case f := <-n.queue:
					n.send(flush, f)
				default:
					return
				}
			}
		}
	}
}

// Wait returns when Run has returned.
func (n *Narrator) Wait() { <-n.done }

// Deadlines of one delivery, client-go's retries of a refused request included. A progress
// Event can give up sooner: the next patch says more. The others carry what the operator
// reads back (a load's size and device, a failure), so they wait out a rate-limited API
// server longer, as when a thousand workers start at once (test/bench).
const (
	progressDeadline = 10 * time.Second
	factDeadline     = 30 * time.Second
)

func (n *Narrator) send(ctx context.Context, f Fields) {
	deadline := factDeadline
	if f.Progress != nil {
		deadline = progressDeadline
	}
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	if err := n.cfg.Sink.Emit(ctx, f); err != nil {
		n.emitted.WithLabelValues(f.Reason, "error").Inc()
		n.cfg.Log.Error(err, "emit narration event", "reason", f.Reason)
		return
	}
	n.emitted.WithLabelValues(f.Reason, "ok").Inc()
}

// decimalBytes writes n in kB, MB or GB, as the progress messages do.
func decimalBytes(n uint64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f kB", float64(n)/1e3)
}
