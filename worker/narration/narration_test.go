package narration

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/report"
)

// memSink keeps what it is sent; block makes Emit wait until released.
type memSink struct {
	mu    sync.Mutex
	got   []Fields
	block chan struct{}
}

func (s *memSink) Emit(ctx context.Context, f Fields) error {
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, f)
	return nil
}

func (s *memSink) fields() []Fields {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Fields(nil), s.got...)
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestNarrator(t *testing.T, mode inferencev1alpha1.InferenceEventsMode, sink Sink, clock *fakeClock, logs *[]string) *Narrator {
	t.Helper()
	cfg := Config{
		Log: funcr.New(func(prefix, args string) {
			if logs != nil {
				*logs = append(*logs, args)
			}
		}, funcr.Options{}),
		Sink: sink, Mode: mode, MinInterval: 30 * time.Second,
		Arch: "llama", ServedName: "tinyllama", Actor: "kubeinfer-worker/tinyllama-0", Target: "InferenceWorker ns/tinyllama",
		Memory: func(device string) (int64, string, bool) {
			if device == "GPU0" {
				return 2212, "VRAM", true
			}
			return 310, "RAM", true
		},
	}
	if clock != nil {
		cfg.Now = clock.now
	}
	return New(cfg)
}

func runNarrator(t *testing.T, n *Narrator) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	go n.Run(ctx)
	return func() { cancel(); n.Wait() }
}

func TestSentences(t *testing.T) {
	sink := &memSink{}
	n := newTestNarrator(t, inferencev1alpha1.InferenceEventsAll, sink, nil, nil)
	stop := runNarrator(t, n)
	n.OnModelLoaded(report.ModelLoaded{Arch: "qwen3", Device: "GPU0", LoadTime: 834 * time.Millisecond})
	n.OnModelLoaded(report.ModelLoaded{Arch: "gemma3", Device: "CPU", LoadTime: 1500 * time.Millisecond})
	n.OnComplete(report.Completion{CompletionTokens: 128, PromptTokens: 12, Duration: 842 * time.Millisecond, Finish: "length", CorrelationID: "abc"})
	n.OnModelLoadFailed(errString("load /models/x.gguf: gguf: offset 0: bad magic"))
	n.OnDraining(3)
	stop()

	got := sink.fields()
	want := []struct{ reason, sentence string }{
		{ReasonModelLoaded, "Loaded Llama model tinyllama (qwen3, 2212 MB VRAM, 834 ms)"},
		{ReasonModelLoaded, "Loaded Llama model tinyllama on CPU (gemma3, 310 MB RAM, 1500 ms)"},
		{ReasonInferenceComplete, "Llama inference complete: 128 tokens in 842 ms"},
		{ReasonModelLoadFailed, "Failed to load Llama model tinyllama: load /models/x.gguf: gguf: offset 0: bad magic"},
		{ReasonWorkerDraining, "Llama worker draining: finishing 3 running requests before shutdown"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d narrations, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Reason != w.reason || got[i].Sentence != w.sentence {
			t.Errorf("narration %d = %s %q, want %s %q", i, got[i].Reason, got[i].Sentence, w.reason, w.sentence)
		}
	}
	if !got[3].Warning || got[0].Warning {
		t.Errorf("only the failure is a warning: %+v", got)
	}
	if c := got[2]; c.TokensOut != 128 || c.TokensIn != 12 || c.CorrelationID != "abc" || c.DurationMS != 842 || c.Device != "CPU" {
		t.Errorf("inference fields: %+v", c)
	}

	gpt := New(Config{Arch: "gpt", ServedName: "gpt2", Sink: sink, Mode: inferencev1alpha1.InferenceEventsAll})
	gpt.OnComplete(report.Completion{CompletionTokens: 5, Duration: 20 * time.Millisecond})
	if f := <-gpt.queue; f.Sentence != "GPT inference complete: 5 tokens in 20 ms" {
		t.Errorf("gpt sentence = %q", f.Sentence)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestSampledSummarisesSkippedRequests: in Sampled mode at most one InferenceComplete
// per interval reaches the sink, and the next one says what was skipped.
func TestSampledSummarisesSkippedRequests(t *testing.T) {
	sink := &memSink{}
	clock := &fakeClock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	var logs []string
	n := newTestNarrator(t, inferencev1alpha1.InferenceEventsSampled, sink, clock, &logs)
	stop := runNarrator(t, n)
	for i := range 50 {
		clock.t = clock.t.Add(100 * time.Millisecond)
		n.OnComplete(report.Completion{CompletionTokens: 10 + i, Duration: 90 * time.Millisecond})
	}
	clock.t = clock.t.Add(30 * time.Second)
	n.OnComplete(report.Completion{CompletionTokens: 7, Duration: 50 * time.Millisecond})
	stop()

	got := sink.fields()
	if len(got) != 2 {
		t.Fatalf("%d events for 51 requests in ~35 s with a 30 s interval, want 2: %+v", len(got), got)
	}
	// Requests 2..50 were skipped: 49 requests with 11+...+59 tokens.
	skippedTokens := 0
	for i := 1; i < 50; i++ {
		skippedTokens += 10 + i
	}
	want := "Llama inference complete: 7 tokens in 50 ms (+49 requests, " + strconv.Itoa(skippedTokens) + " tokens since last event)"
	if got[1].Sentence != want {
		t.Errorf("summary = %q\n want %q", got[1].Sentence, want)
	}
	if got[0].Sentence != "Llama inference complete: 10 tokens in 90 ms" {
		t.Errorf("first = %q", got[0].Sentence)
	}
	if len(logs) != 51 {
		t.Errorf("every request must be logged, got %d log lines", len(logs))
	}
}

func TestOffKeepsLoadEvents(t *testing.T) {
	sink := &memSink{}
	n := newTestNarrator(t, inferencev1alpha1.InferenceEventsOff, sink, nil, nil)
	stop := runNarrator(t, n)
	n.OnModelLoaded(report.ModelLoaded{Device: "CPU", LoadTime: time.Second})
	for range 5 {
		n.OnComplete(report.Completion{CompletionTokens: 3})
	}
	stop()
	got := sink.fields()
	if len(got) != 1 || got[0].Reason != ReasonModelLoaded {
		t.Errorf("Off must emit only the load event, got %+v", got)
	}
}

// TestFullQueueDropsAndCounts: a stuck API server never blocks the request path.
func TestFullQueueDropsAndCounts(t *testing.T) {
	sink := &memSink{block: make(chan struct{})}
	n := New(Config{Sink: sink, Mode: inferencev1alpha1.InferenceEventsAll, QueueSize: 4, Arch: "llama"})
	prometheus.NewRegistry().MustRegister(n.Collectors()...)
	ctx, cancel := context.WithCancel(context.Background())
	go n.Run(ctx)
	done := make(chan struct{})
	go func() {
		for range 20 {
			n.OnComplete(report.Completion{CompletionTokens: 1})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("OnComplete blocked on a stuck sink")
	}
	// One narration may be in the sender, 4 in the queue: at least 15 dropped.
	if d := testutil.ToFloat64(n.dropped); d < 15 {
		t.Errorf("dropped = %v, want >= 15", d)
	}
	close(sink.block)
	cancel()
	n.Wait()
	if len(sink.fields()) == 0 {
		t.Error("queued narrations were not flushed on shutdown")
	}
}

func TestEventObject(t *testing.T) {
	tgt := Target{Name: "tinyllama", Namespace: "ml", UID: "iw-uid", PodName: "tinyllama-7d9f-x2x", PodUID: "pod-uid"}
	s := &EventSink{Target: tgt, now: func() time.Time { return time.Unix(1700000000, 0) }}
	ev := s.event(Fields{Action: ActionInferenceComplete, Reason: ReasonInferenceComplete, Device: "GPU0", ModelRef: "tinyllama",
		DurationMS: 842, TokensIn: 9, TokensOut: 128, CorrelationID: "req-1", MemoryMiB: 2212, MemoryKind: "VRAM",
		Sentence: strings.Repeat("é", 600)})
	if ev.Regarding.Kind != "InferenceWorker" || ev.Regarding.UID != "iw-uid" || ev.Regarding.APIVersion != "inference.kubeinfer.dev/v1alpha1" {
		t.Errorf("regarding = %+v", ev.Regarding)
	}
	if ev.Related == nil || ev.Related.Kind != "Pod" || ev.Related.Name != "tinyllama-7d9f-x2x" {
		t.Errorf("related = %+v", ev.Related)
	}
	if ev.ReportingController != "kubeinfer.dev/worker" || ev.ReportingInstance != "tinyllama-7d9f-x2x" || ev.Action != "inference_complete" {
		t.Errorf("reporting/action = %s %s %s", ev.ReportingController, ev.ReportingInstance, ev.Action)
	}
	for k, v := range map[string]string{AnnotationDurationMS: "842", AnnotationTokensOut: "128", AnnotationTokensIn: "9",
		AnnotationCorrelationID: "req-1", AnnotationDevice: "GPU0", AnnotationVRAMMiB: "2212"} {
		if ev.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, ev.Annotations[k], v)
		}
	}
	if len(ev.Note) > maxNoteBytes || !strings.HasSuffix(ev.Note, "…") || !strings.HasPrefix(ev.Note, "éé") {
		t.Errorf("note not truncated to %d bytes on a rune boundary: %d bytes", maxNoteBytes, len(ev.Note))
	}
}

func TestTargetFromEnv(t *testing.T) {
	env := map[string]string{
		inferencev1alpha1.EnvInferenceWorkerName: "m", inferencev1alpha1.EnvInferenceWorkerNamespace: "ns",
		inferencev1alpha1.EnvPodName: "m-0",
	}
	tgt, ok := TargetFromEnv(func(k string) string { return env[k] })
	if !ok || tgt.Name != "m" || tgt.Namespace != "ns" || tgt.PodName != "m-0" {
		t.Errorf("target = %+v, %v", tgt, ok)
	}
	if _, ok := TargetFromEnv(func(string) string { return "" }); ok {
		t.Error("no env must mean no cluster")
	}
}

func TestProcessMemory(t *testing.T) {
	mib, kind, ok := ProcessMemory("CPU")
	if !ok || kind != "RAM" || mib <= 0 {
		t.Errorf("CPU memory = %d %s %v", mib, kind, ok)
	}
	if _, _, ok := ProcessMemory("GPU0"); ok {
		t.Error("no VRAM figure may be invented without the driver")
	}
}

// TestInferenceFailedWarnings: non-finite failures are Warning Events with the cause,
// up to the one that makes the worker unready; later ones go to the log only.
func TestInferenceFailedWarnings(t *testing.T) {
	sink := &memSink{}
	var logs []string
	n := newTestNarrator(t, inferencev1alpha1.InferenceEventsOff, sink, nil, &logs)
	stop := runNarrator(t, n)
	cause := "the model produced non-finite logits (NaN for token 7)"
	for i := 1; i <= 4; i++ {
		n.OnInferenceFailed(report.InferenceFailure{CorrelationID: "c" + strconv.Itoa(i), Cause: cause, Consecutive: i, Unready: i == 3})
	}
	stop()
	got := sink.fields()
	if len(got) != 3 {
		t.Fatalf("got %d events, want 3 (the fourth, after unready, only logged): %+v", len(got), got)
	}
	for i, f := range got {
		if f.Reason != inferencev1alpha1.ReasonInferenceFailed || !f.Warning || f.Action != ActionInferenceFailed || f.CorrelationID != "c"+strconv.Itoa(i+1) {
			t.Errorf("event %d: %+v", i, f)
		}
	}
	if want := "Llama inference failed: " + cause + " (3 in a row); the worker now reports itself not ready"; got[2].Sentence != want {
		t.Errorf("sentence %q, want %q", got[2].Sentence, want)
	}
	if len(logs) != 4 {
		t.Errorf("logged %d narrations, want all 4", len(logs))
	}
}
