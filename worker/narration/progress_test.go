package narration

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/report"
)

// TestLoadProgressWritesAreBounded: a load that reports progress 1000 times, even with
// no time limit between patches, costs one create and at most one patch per tenth.
func TestLoadProgressWritesAreBounded(t *testing.T) {
	sink := &memSink{}
	clock := &fakeClock{t: time.Unix(1000, 0)}
	var logs []string
	n := newTestNarrator(t, inferencev1alpha1.InferenceEventsAll, sink, clock, &logs)
	n.cfg.ProgressInterval = time.Nanosecond
	stop := runNarrator(t, n)
	const total = 1000
	for i := 0; i <= total; i++ {
		n.OnModelLoading(inferencev1alpha1.LoadProgress{Done: uint64(i), Total: total, ETA: -1})
		clock.t = clock.t.Add(10 * time.Millisecond) // 10 s in all
	}
	stop()
	got := sink.fields()
	if len(got) != 11 || got[0].Patch || got[0].Reason != ReasonModelLoading {
		t.Fatalf("%d writes (first %+v), want 1 create + 10 patches", len(got), got[0])
	}
	for i, f := range got[1:] {
		if !f.Patch || f.EventName != got[0].EventName || f.Progress.Percent() != (i+1)*10 {
			t.Errorf("write %d: patch %v name %q at %d%%", i+1, f.Patch, f.EventName, f.Progress.Percent())
		}
	}
	if got[0].Sentence != "Loading Llama model tinyllama (1.0 kB of weights)" {
		t.Errorf("note %q", got[0].Sentence)
	}
	// The log gets progress at most once a second: 10 s, so 11 lines at most.
	if len(logs) > 11 {
		t.Errorf("%d progress log lines in 10 s", len(logs))
	}
}

// TestEventSinkLabelsAndPatchesProgress: the Event carries the InferenceWorker label the
// operator's cache selects on, and a patch changes only its progress annotations.
func TestEventSinkLabelsAndPatchesProgress(t *testing.T) {
	cs := fake.NewClientset()
	s := &EventSink{Client: cs.CoreV1(), Target: Target{Name: "tinyllama", Namespace: "ns", UID: "u1", PodName: "tinyllama-0"}}
	p := inferencev1alpha1.LoadProgress{Done: 0, Total: 100, ETA: -1}
	f := Fields{Action: ActionModelLoading, Reason: ReasonModelLoading, EventName: "loading.1", Progress: &p, Sentence: "Loading"}
	ctx := context.Background()
	if err := s.Emit(ctx, f); err != nil {
		t.Fatal(err)
	}
	p2 := inferencev1alpha1.LoadProgress{Done: 50, Total: 100, BytesPerSecond: 10, ETA: 5 * time.Second}
	f.Patch, f.Progress = true, &p2
	if err := s.Emit(ctx, f); err != nil {
		t.Fatal(err)
	}
	ev, err := cs.CoreV1().Events("ns").Get(ctx, "tinyllama.loading.1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Labels[inferencev1alpha1.LabelWorker] != "tinyllama" || ev.Type != corev1.EventTypeNormal {
		t.Errorf("labels %v type %s", ev.Labels, ev.Type)
	}
	back, ok := inferencev1alpha1.ParseLoadProgress(ev.Annotations)
	if !ok || back.Done != 50 || ev.Annotations[AnnotationAction] != ActionModelLoading {
		t.Errorf("annotations after the patch: %v", ev.Annotations)
	}
}

// TestDownloadProgressWritesAreBounded: a download narrates like a load (one create, at
// most one patch per tenth, no closer than the interval) on its own ModelDownloading
// Event, plus one patch when it stalls and one when it moves again.
func TestDownloadProgressWritesAreBounded(t *testing.T) {
	sink := &memSink{}
	clock := &fakeClock{t: time.Unix(1000, 0)}
	var logs []string
	n := newTestNarrator(t, inferencev1alpha1.InferenceEventsAll, sink, clock, &logs)
	n.cfg.ModelSource = "models.example.com"
	stop := runNarrator(t, n)
	const total = 2_400_000_000
	report := func(pct int, stalledSince time.Time) {
		n.OnModelDownloading(inferencev1alpha1.LoadProgress{Done: uint64(pct) * total / 100, Total: total,
			BytesPerSecond: 110e6, ETA: time.Second, StalledSince: stalledSince})
		clock.t = clock.t.Add(time.Second) // once a second, as worker/fetch reports
	}
	for pct := 0; pct <= 40; pct += 2 {
		report(pct, time.Time{})
	}
	since := clock.t
	for range 30 { // 30 s without data, reported once a second
		report(42, since)
	}
	for pct := 42; pct <= 100; pct += 2 {
		report(pct, time.Time{})
	}
	stop()
	got := sink.fields()
	if len(got) < 2 || got[0].Patch || got[0].Reason != ReasonModelDownloading || got[0].Action != ActionModelDownloading {
		t.Fatalf("first write %+v", got[0])
	}
	if want := "Downloading model tinyllama (2.4 GB) from models.example.com"; got[0].Sentence != want {
		t.Errorf("note %q, want %q", got[0].Sentence, want)
	}
	stalls, recoveries := 0, 0
	wasStalled := false
	for i, f := range got[1:] {
		if !f.Patch || f.EventName != got[0].EventName || !strings.HasSuffix(f.EventName, ".downloading") {
			t.Errorf("write %d: patch %v name %q", i+1, f.Patch, f.EventName)
		}
		stalled := !f.Progress.StalledSince.IsZero()
		switch {
		case stalled && !wasStalled:
			stalls++
			if !f.Progress.StalledSince.Equal(since) {
				t.Errorf("stall patch says since %s, want %s", f.Progress.StalledSince, since)
			}
		case !stalled && wasStalled:
			recoveries++
		}
		wasStalled = stalled
	}
	// 10 tenths + the stall + the recovery (which may carry a new tenth).
	if stalls != 1 || recoveries != 1 || len(got) > 1+10+2 {
		t.Errorf("%d writes, %d stall and %d recovery patches", len(got), stalls, recoveries)
	}
	if last := got[len(got)-1]; last.Progress.Percent() != 100 {
		t.Errorf("last patch at %d%%", last.Progress.Percent())
	}
	if len(logs) > 81 {
		t.Errorf("%d progress log lines for 81 reports", len(logs))
	}
}

// TestProgressPatchClearsStall: a patch removes the stall annotation of the patch before.
func TestProgressPatchClearsStall(t *testing.T) {
	cs := fake.NewClientset()
	s := &EventSink{Client: cs.CoreV1(), Target: Target{Name: "tinyllama", Namespace: "ns", UID: "u1", PodName: "tinyllama-0"}}
	ctx := context.Background()
	p := inferencev1alpha1.LoadProgress{Done: 10, Total: 100, ETA: -1, StalledSince: time.Unix(1000, 0)}
	f := Fields{Action: ActionModelDownloading, Reason: ReasonModelDownloading, EventName: "downloading.1", Progress: &p, Sentence: "Downloading"}
	if err := s.Emit(ctx, f); err != nil {
		t.Fatal(err)
	}
	p2 := inferencev1alpha1.LoadProgress{Done: 60, Total: 100, BytesPerSecond: 10, ETA: 4 * time.Second}
	f.Patch, f.Progress = true, &p2
	if err := s.Emit(ctx, f); err != nil {
		t.Fatal(err)
	}
	ev, err := cs.CoreV1().Events("ns").Get(ctx, "tinyllama.downloading.1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back, ok := inferencev1alpha1.ParseLoadProgress(ev.Annotations)
	if !ok || back.Done != 60 || !back.StalledSince.IsZero() || back.ETA != 4*time.Second {
		t.Errorf("annotations after the patch: %v", ev.Annotations)
	}
}

// TestPatchOfALostEventCreatesIt: when the first write of a progress Event was lost (refused
// by the API server's rate limiting, or timed out), the next patch finds nothing to patch and
// creates the Event with the current progress instead.
func TestPatchOfALostEventCreatesIt(t *testing.T) {
	cs := fake.NewClientset()
	s := &EventSink{Client: cs.CoreV1(), Target: Target{Name: "llama-go", Namespace: "ns", UID: "u1", PodName: "llama-go-0"}}
	p := inferencev1alpha1.LoadProgress{Done: 60, Total: 100, BytesPerSecond: 10, ETA: 4 * time.Second}
	f := Fields{Action: ActionModelLoading, Reason: ReasonModelLoading, EventName: "loading.2", Progress: &p,
		Sentence: "Loading 60 of 100 B", Patch: true}
	ctx := context.Background()
	if err := s.Emit(ctx, f); err != nil {
		t.Fatal(err)
	}
	ev, err := cs.CoreV1().Events("ns").Get(ctx, "llama-go.loading.2", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the lost Event was not made again: %v", err)
	}
	back, ok := inferencev1alpha1.ParseLoadProgress(ev.Annotations)
	if !ok || back.Done != 60 || ev.Reason != ReasonModelLoading || ev.Message != "Loading 60 of 100 B" {
		t.Errorf("re-created Event: reason %s note %q annotations %v", ev.Reason, ev.Message, ev.Annotations)
	}
	// Later patches patch it.
	p2 := inferencev1alpha1.LoadProgress{Done: 90, Total: 100, BytesPerSecond: 10, ETA: time.Second}
	f.Progress = &p2
	if err := s.Emit(ctx, f); err != nil {
		t.Fatal(err)
	}
	list, _ := cs.CoreV1().Events("ns").List(ctx, metav1.ListOptions{})
	if back, _ := inferencev1alpha1.ParseLoadProgress(list.Items[0].Annotations); len(list.Items) != 1 || back.Done != 90 {
		t.Errorf("after the next patch: %d Events, progress %+v", len(list.Items), back)
	}
}

// deadlineSink records how long each delivery may take.
type deadlineSink struct {
	mu   sync.Mutex
	left map[string]time.Duration
}

func (s *deadlineSink) Emit(ctx context.Context, f Fields) error {
	d, ok := ctx.Deadline()
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		s.left[f.Reason] = time.Until(d)
	}
	return nil
}

// TestFactsOutwaitARateLimitedServer: a progress Event gives up after progressDeadline (the
// next patch supersedes it), a ModelLoaded Event, which the operator reads sizes from, after
// factDeadline.
func TestFactsOutwaitARateLimitedServer(t *testing.T) {
	sink := &deadlineSink{left: map[string]time.Duration{}}
	n := newTestNarrator(t, inferencev1alpha1.InferenceEventsAll, sink, nil, nil)
	stop := runNarrator(t, n)
	n.OnModelLoading(inferencev1alpha1.LoadProgress{Done: 1, Total: 10, ETA: time.Second})
	n.OnModelLoaded(report.ModelLoaded{Device: "GPU0", LoadTime: time.Second})
	// Wait for both deliveries before stopping: what is still queued at the stop goes out
	// within the shutdown flush's own, shorter deadline.
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		sink.mu.Lock()
		done := len(sink.left) == 2
		sink.mu.Unlock()
		if done || time.Since(start) > 5*time.Second {
			break
		}
	}
	stop()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if l := sink.left[ReasonModelLoading]; l <= 0 || l > progressDeadline {
		t.Errorf("ModelLoading deadline %s, want at most %s", l, progressDeadline)
	}
	if l := sink.left[ReasonModelLoaded]; l <= progressDeadline || l > factDeadline {
		t.Errorf("ModelLoaded deadline %s, want more than %s, at most %s", l, progressDeadline, factDeadline)
	}
}
