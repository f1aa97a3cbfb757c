package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/fetch"
	"github.com/kubeinfer/kubeinfer/worker/fetch/fetchtest"
	"github.com/kubeinfer/kubeinfer/worker/narration"
)

// downloadingPod: the fetch init container runs, the worker waits for it.
func downloadingPod(st *corev1.PodStatus) {
	scheduled(st)
	st.Phase = corev1.PodPending
	st.InitContainerStatuses = []corev1.ContainerStatus{{
		Name: fetchContainerName, Image: testWorkerImage,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}},
	}}
	st.ContainerStatuses = []corev1.ContainerStatus{{
		Name: workerContainerName, Image: testWorkerImage,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}},
	}}
}

// TestDownloadProgressIsShown drives the fetch init container's progress path (Narrator,
// EventSink) against the API server with a fake clock, a 2.4 GB download at 110 MB/s
// reported once a second, and checks what the operator shows: the ModelDownloading
// reason, the condition message and Progress column moving, a stall, the writes, and the
// hand-over to the load.
func TestDownloadProgressIsShown(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	r.reconcile(t, iw)
	iw = getIW(t, iw)
	sim := newWorkerSim(t, ns, "gpt-go")
	sim.setDeployment(1, 0, 1)
	sim.pod("gpt-go-0", downloadingPod)
	pod := getObj(t, ns, "gpt-go-0", &corev1.Pod{})

	// Before the first report: the state, without figures.
	r.reconcile(t, iw)
	got := getIW(t, iw)
	assertCondition(t, got, inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonModelDownloading)
	assertCondition(t, got, inferencev1alpha1.ConditionProgressing, metav1.ConditionTrue, inferencev1alpha1.ReasonModelDownloading)
	c := assertCondition(t, got, inferencev1alpha1.ConditionModelLoaded, metav1.ConditionFalse, inferencev1alpha1.ReasonModelDownloading)
	if c.Message != "1 workers are downloading model gpt-go" || got.Status.Model.LoadProgress != "" {
		t.Errorf("before any report: message %q, progress %q", c.Message, got.Status.Model.LoadProgress)
	}

	n, workerWrites, clock, stop := podNarrator(t, iw, pod, narration.Config{ServedName: "gpt-go", ModelSource: "models.example.com"})
	defer stop()

	const total, rate = 2_400_000_000, 110_000_000
	progress := func(done uint64) inferencev1alpha1.LoadProgress {
		return inferencev1alpha1.LoadProgress{Done: done, Total: total, BytesPerSecond: rate,
			ETA: time.Duration(float64(total-done) / rate * float64(time.Second))}
	}
	annotation := func() string {
		var list corev1.EventList
		_ = k8sClient.List(context.Background(), &list, client.InNamespace(ns), client.MatchingLabels{inferencev1alpha1.LabelWorker: iw.Name})
		for _, e := range list.Items {
			if e.Reason == inferencev1alpha1.ReasonModelDownloading {
				return e.Annotations[inferencev1alpha1.AnnotationLoadedBytes] + "/" + e.Annotations[inferencev1alpha1.AnnotationStalledSince]
			}
		}
		return ""
	}
	statusWrites := r.writes.n.Load()
	var seen []string // the Progress column, as `kubectl get iw -w` would show it change
	observe := func(wantMsg, wantColumn string) {
		t.Helper()
		r.reconcile(t, iw)
		got = getIW(t, iw)
		c := assertCondition(t, got, inferencev1alpha1.ConditionModelLoaded, metav1.ConditionFalse, inferencev1alpha1.ReasonModelDownloading)
		if c.Message != wantMsg || got.Status.Model.LoadProgress != wantColumn {
			t.Errorf("message %q, progress %q; want %q, %q", c.Message, got.Status.Model.LoadProgress, wantMsg, wantColumn)
		}
		if len(seen) == 0 || seen[len(seen)-1] != got.Status.Model.LoadProgress {
			seen = append(seen, got.Status.Model.LoadProgress)
		}
	}

	// A tenth every 3 s, reported once a second: every tenth is patched.
	n.OnModelDownloading(progress(0))
	eventually(t, "the ModelDownloading event", func() bool { return annotation() == "0/" })
	observe("Downloading 0.0 of 2.4 GB (0%, 110.0 MB/s, about 22 s left)", "0%")
	for pct := uint64(1); pct <= 50; pct++ {
		clock.Advance(300 * time.Millisecond)
		n.OnModelDownloading(progress(pct * total / 100))
	}
	eventually(t, "the 50% patch", func() bool { return annotation() == "1200000000/" })
	observe("Downloading 1.2 of 2.4 GB (50%, 110.0 MB/s, about 11 s left)", "50%")
	checkArgoCDSample(t, "downloading", got)

	// No data for 10 s: worker/fetch reports the stall, which is patched at once.
	since := clock.Now().UTC().Truncate(time.Second)
	stalled := progress(total / 2)
	stalled.StalledSince = since
	for range 5 {
		clock.Advance(time.Second)
		n.OnModelDownloading(stalled)
	}
	eventually(t, "the stall patch", func() bool { return strings.HasSuffix(annotation(), since.Format(time.RFC3339)) })
	observe("Downloading 1.2 of 2.4 GB (50%, no data since "+since.Format(time.RFC3339)+")", "50%")
	assertCondition(t, got, inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonModelDownloading)

	// Moving again, to the end, a tenth every 4 s.
	for pct := uint64(51); pct <= 100; pct++ {
		clock.Advance(400 * time.Millisecond)
		n.OnModelDownloading(progress(pct * total / 100))
	}
	eventually(t, "the 100% patch", func() bool { return annotation() == "2400000000/" })
	observe("Downloading 2.4 of 2.4 GB (100%, 110.0 MB/s, about 0 s left)", "100%")
	t.Logf("Progress column: %v", seen)
	if !slices.Equal(seen, []string{"0%", "50%", "100%"}) {
		t.Errorf("the Progress column showed %v", seen)
	}

	// The bound: 1 create, a patch per tenth, one for the stall and one as it moves again.
	if w := workerWrites.Load(); w < 3 || w > 13 {
		t.Errorf("the download made %d writes, want 3 to 13", w)
	}
	if w := r.writes.n.Load() - statusWrites; w > workerWrites.Load() {
		t.Errorf("the operator made %d status writes for %d progress writes", w, workerWrites.Load())
	}
	t.Logf("one download: %d worker writes, %d operator writes", workerWrites.Load(), r.writes.n.Load()-statusWrites)

	// Downloaded: the worker starts loading; the column waits for its load progress.
	sim.pod("gpt-go-0", loadingPod)
	r.reconcile(t, iw)
	got = getIW(t, iw)
	assertCondition(t, got, inferencev1alpha1.ConditionModelLoaded, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoading)
	assertCondition(t, got, inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoading)
	if got.Status.Model.LoadProgress != "" {
		t.Errorf("Progress column %q after the download, before load progress", got.Status.Model.LoadProgress)
	}
}

// TestStalledDownloadIsModelFetchFailed: a download whose every attempt stalls exits with
// code 4 and the stall in its termination message; the operator shows ModelFetchFailed
// with the last progress in the ModelLoaded condition too.
func TestStalledDownloadIsModelFetchFailed(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	r.reconcile(t, iw)
	stall := &fetch.StallError{Timeout: time.Minute, Last: inferencev1alpha1.LoadProgress{Done: 1.2e9, Total: 2.4e9, BytesPerSecond: 11e7, ETA: 11 * time.Second}}
	newWorkerSim(t, ns, "gpt-go").pod("gpt-go-0", func(st *corev1.PodStatus) {
		fetchFailedPod(st)
		st.InitContainerStatuses[0].LastTerminationState.Terminated.Message = "{\"msg\":\"download interrupted; retrying\"}\nkubeinfer-worker fetch: " + stall.Error()
	})
	r.reconcile(t, iw)
	got := getIW(t, iw)
	c := assertCondition(t, got, inferencev1alpha1.ConditionModelLoaded, metav1.ConditionFalse, inferencev1alpha1.ReasonModelFetchFailed)
	if !strings.Contains(c.Message, "download stalled: no data for 1m0s (last: Downloading 1.2 of 2.4 GB (50%, 110.0 MB/s, about 11 s left))") {
		t.Errorf("ModelLoaded message %q", c.Message)
	}
	assertCondition(t, got, inferencev1alpha1.ConditionDegraded, metav1.ConditionTrue, inferencev1alpha1.ReasonModelFetchFailed)
	assertCondition(t, got, inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonModelFetchFailed)
}

// TestFetchInitContainerNarratesDownload runs the real `kubeinfer-worker fetch` with the
// args and env of the operator's init container, authenticated as the worker
// ServiceAccount (so its Role is proven sufficient for the download narration too),
// against a throttled server, while the operator reconciles: the Progress column and the
// ModelLoaded condition rise while it downloads.
func TestFetchInitContainerNarratesDownload(t *testing.T) {
	model, err := os.ReadFile("../worker/testdata/fidelity/gpt2.gguf")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(model)
	ts := fetchtest.ThrottledServer(t, model, 75_000) // ~7 s for 523 kB
	ns := newNamespace(t)
	r := newTestReconciler(t)
	sample := loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml")
	sample.Spec.Model.Source.URL = &inferencev1alpha1.URLModelSource{URL: ts.URL + "/models/gpt-go.gguf", SHA256: hex.EncodeToString(sum[:])}
	iw := createIW(t, ns, sample)
	r.reconcile(t, iw)
	iw = getIW(t, iw)
	d := getObj(t, ns, "gpt-go", &appsv1.Deployment{})
	sim := newWorkerSim(t, ns, "gpt-go")
	sim.setDeployment(1, 0, 1)
	sim.pod("gpt-go-0", downloadingPod)
	pod := getObj(t, ns, "gpt-go-0", &corev1.Pod{})

	kubeconfig := serviceAccountKubeconfig(t, ns, d.Spec.Template.Spec.ServiceAccountName)
	c := container(t, d.Spec.Template.Spec, fetchContainerName, true)
	dest := t.TempDir()
	args := slices.Clone(c.Args)
	args[slices.Index(args, "--dest")+1] = dest
	cmd := exec.Command(buildWorker(t), args...)
	cmd.Env = append(podEnv(c, pod), "KUBECONFIG="+kubeconfig, "PATH="+os.Getenv("PATH"), "HOME="+t.TempDir())
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("fetch stderr:\n%s", stderr.String())
		}
	})

	// What `kubectl get iw -w` would print: each change of the Progress column and message.
	var columns, messages []string
	var exit error
	for running := true; running; {
		select {
		case exit = <-done:
			running = false
		case <-time.After(200 * time.Millisecond):
		}
		r.reconcile(t, iw)
		got := getIW(t, iw)
		m := condition(t, got, inferencev1alpha1.ConditionModelLoaded)
		if p := got.Status.Model.LoadProgress; p != "" && (len(columns) == 0 || columns[len(columns)-1] != p) {
			columns = append(columns, p)
			messages = append(messages, m.Message)
			t.Logf("%5.1fs  %-4s  %s: %s", time.Since(start).Seconds(), p, m.Reason, m.Message)
		}
	}
	if exit != nil {
		t.Fatalf("fetch: %v\n%s", exit, stderr.String())
	}
	if b, err := os.ReadFile(filepath.Join(dest, "model.gguf")); err != nil || len(b) != len(model) {
		t.Fatalf("downloaded file: %d bytes, %v", len(b), err)
	}
	if len(columns) < 2 {
		t.Fatalf("the Progress column showed %v during a %s download, want it to rise", columns, time.Since(start).Round(time.Second))
	}
	msgRe := regexp.MustCompile(`^Downloading \d+\.\d of 522\.7 kB \((\d+)%(, \d+\.\d [kMG]B/s, about \d+ s left)?\)$`)
	last := -1
	for i, msg := range messages {
		m := msgRe.FindStringSubmatch(msg)
		if m == nil {
			t.Errorf("message %q", msg)
			continue
		}
		pct, _ := strconv.Atoi(m[1])
		if pct <= last || columns[i] != m[1]+"%" {
			t.Errorf("progress %v (messages %q) does not rise", columns, messages)
		}
		last = pct
	}

	evs := waitEvents(t, iw, inferencev1alpha1.ReasonModelDownloading, 1)
	assertNarrationEvent(t, evs[0], iw, pod, narration.ActionModelDownloading, corev1.EventTypeNormal)
	if want := "Downloading model gpt-go (522.7 kB) from " + strings.TrimPrefix(ts.URL, "http://"); evs[0].Note != want {
		t.Errorf("ModelDownloading note %q, want %q", evs[0].Note, want)
	}
	doneEv := waitEvents(t, iw, narration.ReasonModelDownloaded, 1)[0]
	if !regexp.MustCompile(`^Downloaded model gpt-go \(522\.7 kB in [\d.]+m?s, [\d.]+ kB/s\), sha256 verified$`).MatchString(doneEv.Note) {
		t.Errorf("ModelDownloaded note %q", doneEv.Note)
	}
}
