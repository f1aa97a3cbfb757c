package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/fake"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/narration"
)

func TestPeakPerSecond(t *testing.T) {
	start := time.Unix(1000, 0)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	workers := []time.Time{at(100), at(900), at(1100), at(1200), at(1300), at(-50)}
	operator := []time.Time{at(1999), at(2500)}
	if n, when := peakPerSecond(start, workers); n != 3 || when != time.Second {
		t.Errorf("workers: peak %d at %s, want 3 at 1s", n, when)
	}
	if n, when := peakPerSecond(start, workers, operator); n != 4 || when != time.Second {
		t.Errorf("together: peak %d at %s, want 4 at 1s (the write before start is not counted)", n, when)
	}
	if n, _ := peakPerSecond(start); n != 0 {
		t.Errorf("no writes: peak %d", n)
	}
}

func iwWithStatus(rv, reason, msg, progress string, ready int64) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "w0000", "resourceVersion": rv},
		"status": map[string]any{
			"readyReplicas": ready,
			"model":         map[string]any{"servedName": "w0000", "loadProgress": progress},
			"conditions": []any{
				map[string]any{"type": "ModelLoaded", "status": "False", "reason": reason, "message": msg, "lastTransitionTime": "2026-01-01T00:00:00Z"},
				map[string]any{"type": "Ready", "status": "False", "reason": reason, "message": msg, "lastTransitionTime": "2026-01-01T00:00:00Z"},
			},
		},
	}}
	if progress == "" {
		unstructured.RemoveNestedField(u.Object, "status", "model", "loadProgress")
	}
	return u
}

func TestProgressOnly(t *testing.T) {
	loading := inferencev1alpha1.ReasonModelLoading
	a := iwWithStatus("1", loading, "Loading 0.1 of 1.2 GB (10%)", "10%", 0)
	b := iwWithStatus("2", loading, "Loading 0.5 of 1.2 GB (40%)", "40%", 0)
	if !progressOnly(a, b) {
		t.Error("a new percentage is a progress-only update")
	}
	if c := iwWithStatus("3", loading, "Loading 0.5 of 1.2 GB (40%)", "40%", 1); progressOnly(b, c) {
		t.Error("a change of readyReplicas is not progress only")
	}
	d := iwWithStatus("4", inferencev1alpha1.ReasonModelDownloading, "Downloading", "90%", 0)
	if progressOnly(d, a) {
		t.Error("from downloading to loading is not progress only")
	}
	e := iwWithStatus("5", "WorkersStarting", "1 worker is starting", "", 0)
	f := iwWithStatus("6", "WorkersStarting", "2 workers are starting", "", 0)
	if progressOnly(e, f) {
		t.Error("a message change outside a download or load is not progress")
	}
	if a.Object["status"].(map[string]any)["model"].(map[string]any)["loadProgress"] != "10%" {
		t.Error("progressOnly changed its argument")
	}
}

func TestLoadWatch(t *testing.T) {
	start := time.Now()
	lw := newLoadWatch(1, start)
	loaded := func(rv, ready, ltt string) *unstructured.Unstructured {
		u := iwWithStatus(rv, "ModelLoaded", "Model is loaded", "", 1)
		conds := u.Object["status"].(map[string]any)["conditions"].([]any)
		conds[0].(map[string]any)["status"] = "True"
		conds[0].(map[string]any)["lastTransitionTime"] = ltt
		conds[1].(map[string]any)["status"] = ready
		return u
	}
	before := loaded("1", "True", "2020-01-01T00:00:00Z")
	lw.observe(nil, before, start)
	if l, _ := lw.counts(); l != 0 {
		t.Fatal("loaded before the phase counted")
	}
	dl := iwWithStatus("2", inferencev1alpha1.ReasonModelDownloading, "Downloading", "30%", 0)
	lw.observe(before, dl, start.Add(time.Second))
	ld := iwWithStatus("3", inferencev1alpha1.ReasonModelLoading, "Loading", "60%", 0)
	lw.observe(dl, ld, start.Add(2*time.Second))
	ld2 := iwWithStatus("4", inferencev1alpha1.ReasonModelLoading, "Loading more", "90%", 0)
	lw.observe(ld, ld2, start.Add(3*time.Second))
	done := loaded("5", "False", "2020-01-01T00:00:00Z")
	lw.observe(ld2, done, start.Add(4*time.Second))
	serving := loaded("6", "True", "2020-01-01T00:00:00Z")
	lw.observe(done, serving, start.Add(5*time.Second))
	s := lw.iws["w0000"]
	if s.maxDownload != 30 || s.maxLoading != 90 || s.updates != 5 || s.progressUpdates != 1 {
		t.Errorf("state %+v", s)
	}
	if !s.loadedAt.Equal(start.Add(4*time.Second)) || !s.readyAt.Equal(start.Add(5*time.Second)) {
		t.Errorf("loaded at %s, ready at %s", s.loadedAt.Sub(start), s.readyAt.Sub(start))
	}
	select {
	case <-lw.allReady:
	default:
		t.Error("allReady not closed")
	}
}

// TestLoadWatchUnseenLoad: when the operator never showed the load (it saw the pod only
// once ready again), the InferenceWorker counts as loaded when its status carries the new
// load's figures.
func TestLoadWatchUnseenLoad(t *testing.T) {
	start := time.Now()
	lw := newLoadWatch(1, start)
	serving := func(rv string, loadMillis int64) *unstructured.Unstructured {
		u := iwWithStatus(rv, "ModelLoaded", "Model is loaded", "", 1)
		conds := u.Object["status"].(map[string]any)["conditions"].([]any)
		conds[0].(map[string]any)["status"] = "True"
		conds[1].(map[string]any)["status"] = "True"
		if loadMillis > 0 {
			u.Object["status"].(map[string]any)["model"].(map[string]any)["loadMillis"] = loadMillis
		}
		return u
	}
	before := serving("1", 0)
	lw.observe(nil, before, start)
	same := serving("2", 0)
	lw.observe(before, same, start.Add(time.Second))
	if l, _ := lw.counts(); l != 0 {
		t.Fatal("an unrelated update counted as loaded")
	}
	after := serving("3", 10600)
	lw.observe(same, after, start.Add(2*time.Second))
	if l, r := lw.counts(); l != 1 || r != 1 {
		t.Errorf("loaded %d, ready %d after the load's figures arrived", l, r)
	}
	if lw.iws["w0000"].unloadedSeen {
		t.Error("the load was never shown")
	}
}

func TestParseAPIWrites(t *testing.T) {
	metrics := `# HELP apiserver_request_total x
apiserver_request_total{code="201",component="apiserver",dry_run="",group="events.k8s.io",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 120
apiserver_request_total{code="429",component="apiserver",dry_run="",group="events.k8s.io",resource="events",scope="resource",subresource="",verb="PATCH",version="v1"} 7
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="status",verb="PUT",version="v1"} 30
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"} 1000
apiserver_request_total{code="201",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} 5
`
	if got := parseAPIWrites(metrics); got != (apiWrites{served: 155, refused: 7}) {
		t.Errorf("parseAPIWrites = %+v", got)
	}
}

func benchPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "w0000-abc", Namespace: namespace, UID: "pod-uid",
			Labels: map[string]string{inferencev1alpha1.LabelWorker: "w0000"}},
		Spec: corev1.PodSpec{
			ServiceAccountName: "w0000-worker",
			InitContainers:     []corev1.Container{{Name: fetchContainerName, Image: workerImage}},
			Containers:         []corev1.Container{{Name: workerContainerName, Image: workerImage}},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
				{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue},
				{Type: corev1.ContainersReady, Status: corev1.ConditionTrue},
			},
			ContainerStatuses: []corev1.ContainerStatus{{Name: workerContainerName, Ready: true, ImageID: "img",
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
		},
	}
}

func podCondition(p *corev1.Pod, typ corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return ""
}

// TestPodStatusTransitions: the statuses the simulated kubelet writes read as the
// operator reads them (controllers/status.go: countDownloading, countLoading).
func TestPodStatusTransitions(t *testing.T) {
	p := benchPod()
	now := metav1.Now()
	podDownloading(p, now)
	if init := p.Status.InitContainerStatuses; len(init) != 1 || init[0].State.Running == nil {
		t.Fatalf("downloading: init containers %+v", init)
	}
	if w := p.Status.ContainerStatuses[0]; w.Ready || w.State.Waiting == nil || w.ImageID != "img" {
		t.Errorf("downloading: worker %+v", w)
	}
	if podCondition(p, corev1.PodReady) != corev1.ConditionFalse || podCondition(p, corev1.PodInitialized) != corev1.ConditionFalse ||
		podCondition(p, corev1.PodScheduled) != corev1.ConditionTrue {
		t.Errorf("downloading: conditions %+v", p.Status.Conditions)
	}
	podLoading(p, metav1.NewTime(now.Add(time.Second)))
	if init := p.Status.InitContainerStatuses[0]; init.State.Terminated == nil || init.State.Terminated.ExitCode != 0 ||
		!init.State.Terminated.StartedAt.Equal(&now) {
		t.Errorf("loading: init container %+v", init)
	}
	if w := p.Status.ContainerStatuses[0]; w.Ready || w.State.Running == nil {
		t.Errorf("loading: worker %+v", w)
	}
	if podCondition(p, corev1.PodReady) != corev1.ConditionFalse || podCondition(p, corev1.PodInitialized) != corev1.ConditionTrue {
		t.Errorf("loading: conditions %+v", p.Status.Conditions)
	}
	podServing(p, metav1.NewTime(now.Add(2*time.Second)))
	if w := p.Status.ContainerStatuses[0]; !w.Ready || w.State.Running == nil {
		t.Errorf("serving: worker %+v", w)
	}
	if podCondition(p, corev1.PodReady) != corev1.ConditionTrue || podCondition(p, corev1.ContainersReady) != corev1.ConditionTrue {
		t.Errorf("serving: conditions %+v", p.Status.Conditions)
	}
}

func TestModelServerThrottles(t *testing.T) {
	s, err := newModelServer(simDownloadBytes)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	resp, err := http.Get(s.URL + "?ms=400")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(data) != simDownloadBytes || resp.ContentLength != simDownloadBytes {
		t.Fatalf("%d bytes (Content-Length %d), %v", len(data), resp.ContentLength, err)
	}
	if took := time.Since(start); took < 350*time.Millisecond || took > 3*time.Second {
		t.Errorf("took %s, want about 400ms", took)
	}
}

// TestSimulatedWorker runs one simulated worker through the real narration and fetch code
// against a fake API server: its Events are the worker's, and the pod ends ready.
func TestSimulatedWorker(t *testing.T) {
	models, err := newModelServer(simDownloadBytes)
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close()
	cs := fake.NewClientset(benchPod())
	pod, err := cs.CoreV1().Pods(namespace).Get(context.Background(), "w0000-abc", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	emits := newEmitLog()
	w := &simWorker{
		target:   narration.Target{Name: "w0000", Namespace: namespace, UID: "iw-uid", PodName: pod.Name, PodUID: string(pod.UID)},
		pod:      pod,
		events:   cs.CoreV1(),
		pods:     cs.CoreV1().Pods(namespace),
		download: 600 * time.Millisecond,
		load:     1500 * time.Millisecond,
		modelURL: models.URL + "?ms=600",
		modelSHA: models.SHA256,
		source:   "models.example.com",
		dest:     filepath.Join(t.TempDir(), "w0000"),
		http:     http.DefaultClient,
		emits:    emits,
		kubelet:  &writeClock{},
	}
	up, stop := context.WithCancel(context.Background())
	phase, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { w.run(up, phase); close(done) }()
wait:
	for w.readyTime().IsZero() {
		select {
		case <-done: // failed: w.err says why
			break wait
		case <-phase.Done():
			t.Fatal("the simulated worker did not finish")
		case <-time.After(20 * time.Millisecond):
		}
	}
	stop()
	<-done
	w.stopServe()
	if w.err != nil {
		t.Fatal(w.err)
	}
	if took := time.Until(w.readyTime()); took > 0 {
		t.Errorf("ready in the future: %s", took)
	}

	evs, err := cs.CoreV1().Events(namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	for _, e := range evs.Items {
		reasons[e.Reason]++
		if e.InvolvedObject.UID != "iw-uid" || e.Related == nil || e.Related.Name != pod.Name || e.Labels[inferencev1alpha1.LabelWorker] != "w0000" {
			t.Errorf("event %s: regarding %+v related %+v labels %v", e.Name, e.InvolvedObject, e.Related, e.Labels)
		}
		if e.Reason == narration.ReasonModelLoading {
			if p, ok := inferencev1alpha1.ParseLoadProgress(e.Annotations); !ok || p.Total != simModelBytes {
				t.Errorf("ModelLoading annotations %v", e.Annotations)
			}
		}
	}
	for _, r := range []string{narration.ReasonModelDownloading, narration.ReasonModelDownloaded, narration.ReasonModelLoading, narration.ReasonModelLoaded} {
		if reasons[r] != 1 {
			t.Errorf("%d %s Events, want 1 (all: %v)", reasons[r], r, reasons)
		}
	}
	emits.mu.Lock()
	creates := emits.kinds[narration.ReasonModelLoading+" create"] + emits.kinds[narration.ReasonModelDownloading+" create"] +
		emits.kinds[narration.ReasonModelLoaded+" create"] + emits.kinds[narration.ReasonModelDownloaded+" create"]
	if creates != 4 || emits.errs != 0 {
		t.Errorf("sink saw %v, %d errors", emits.kinds, emits.errs)
	}
	emits.mu.Unlock()
	got, err := cs.CoreV1().Pods(namespace).Get(context.Background(), pod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if podCondition(got, corev1.PodReady) != corev1.ConditionTrue || got.Status.InitContainerStatuses[0].State.Terminated == nil {
		t.Errorf("pod status at the end: %+v", got.Status)
	}
	if n := len(w.kubelet.times()); n != 3 {
		t.Errorf("%d kubelet writes, want 3 (downloading, loading, ready)", n)
	}
}
