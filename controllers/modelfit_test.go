package controllers

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/load"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
	"github.com/kubeinfer/kubeinfer/worker/modelsize"
	"github.com/kubeinfer/kubeinfer/worker/narration"
	"github.com/kubeinfer/kubeinfer/worker/report"
)

// bigModelHeader is the GGUF header of a Llama model with 32 blocks of 8192 wide F16
// weights (about 55 GB): only the header exists, the tensors are declared, not written.
func bigModelHeader(t *testing.T) (header []byte, fileSize int64) {
	t.Helper()
	return llamaHeader(t, modeltest.Config{Arch: "llama", Embedding: 8192, Heads: 64, HeadsKV: 8, FeedForward: 28672,
		Blocks: 32, Vocab: 40, Context: 4096, Type: gguf.TypeF16}, nil)
}

// llamaHeader is the GGUF header of a Llama model of cfg's shape with F16 weights, but for
// the tensors typed gives a type of their own.
func llamaHeader(t *testing.T, cfg modeltest.Config, typed map[string]gguf.GGMLType) (header []byte, fileSize int64) {
	t.Helper()
	w, err := modeltest.Writer(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, ff, v, nkv := uint64(cfg.Embedding), uint64(cfg.FeedForward), uint64(cfg.Vocab), uint64(cfg.Embedding/cfg.Heads*cfg.HeadsKV)
	declare := func(name string, typ gguf.GGMLType, dims ...uint64) {
		if tt, ok := typed[name]; ok {
			typ = tt
		}
		if err := w.DeclareTensor(name, typ, dims); err != nil {
			t.Fatal(err)
		}
	}
	declare("token_embd.weight", gguf.TypeF16, e, v)
	declare("output_norm.weight", gguf.TypeF32, e)
	for i := range cfg.Blocks {
		p := fmt.Sprintf("blk.%d.", i)
		declare(p+"attn_norm.weight", gguf.TypeF32, e)
		declare(p+"attn_q.weight", gguf.TypeF16, e, e)
		declare(p+"attn_k.weight", gguf.TypeF16, e, nkv)
		declare(p+"attn_v.weight", gguf.TypeF16, e, nkv)
		declare(p+"attn_output.weight", gguf.TypeF16, e, e)
		declare(p+"ffn_norm.weight", gguf.TypeF32, e)
		declare(p+"ffn_gate.weight", gguf.TypeF16, e, ff)
		declare(p+"ffn_up.weight", gguf.TypeF16, e, ff)
		declare(p+"ffn_down.weight", gguf.TypeF16, ff, e)
	}
	var buf bytes.Buffer
	size, err := w.WriteHeader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), int64(size)
}

// headerServer serves a model whose header is all it has: any range past the header
// fails and is remembered, so a test can assert it was never asked for.
func headerServer(t *testing.T, header []byte, fileSize int64) (*httptest.Server, *atomic.Int64) {
	var past atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var start, end int64
		if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &start, &end); err != nil || end < start {
			http.Error(w, "ranges only", http.StatusBadRequest)
			return
		}
		if end >= int64(len(header)) {
			past.Add(1)
			http.Error(w, "no tensor data here", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, fileSize))
		w.WriteHeader(http.StatusPartialContent)
		_, _ = w.Write(header[start : end+1])
	}))
	t.Cleanup(ts.Close)
	return ts, &past
}

// gpuNode creates a node labelled by gpu-feature-discovery with its GPU memory.
func gpuNode(t *testing.T, name string, memMiB int64) *corev1.Node {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		labelGPUMemory: strconv.FormatInt(memMiB, 10), labelGPUProduct: "TEST-GPU"}}}
	if err := k8sClient.Create(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), n) })
	return n
}

func TestModelTooLargeScalesToZeroUntilANodeFits(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	header, size := bigModelHeader(t)
	ts, past := headerServer(t, header, size)
	gpuNode(t, "gpu-small-"+ns, 24576)
	gpuNode(t, "gpu-medium-"+ns, 40960)

	// A stable URL (recorded for Argo CD below) that leads to the test server.
	r.Sizer = &modelsize.Sizer{Client: &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host = "http", strings.TrimPrefix(ts.URL, "http://")
		return http.DefaultTransport.RoundTrip(req)
	})}}
	iw := loadSample(t, "inference_v1alpha1_inferenceworker_llama.yaml")
	iw.Spec.Model.Source = inferencev1alpha1.ModelSource{URL: &inferencev1alpha1.URLModelSource{
		URL: "https://models.example.com/big.gguf", SHA256: strings.Repeat("b1", 32)}}
	iw.Spec.GPU = inferencev1alpha1.GPUSpec{Count: 1}
	iw = createIW(t, ns, iw)
	r.reconcile(t, iw)

	got := getIW(t, iw)
	checkArgoCDSample(t, "model-too-large", got)
	ready := assertCondition(t, got, inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonModelTooLarge)
	assertCondition(t, got, inferencev1alpha1.ConditionDegraded, metav1.ConditionTrue, inferencev1alpha1.ReasonModelTooLarge)
	need := got.Status.Model.RequiredMiB
	// About 55 GB of weights plus KV cache and buffers, within the default 0.9 of a GPU.
	if need <= 40960 || need > 70000 || got.Status.Model.WeightsBytes < 25e9 {
		t.Fatalf("status.model = %+v, want about 55 GB of weights and more than 40960 MiB", got.Status.Model)
	}
	for _, want := range []string{fmt.Sprintf("needs %d MiB (weights ", need), "has 40960 MiB", "scaled to 0"} {
		if !strings.Contains(ready.Message, want) {
			t.Errorf("Ready message %q lacks %q", ready.Message, want)
		}
	}
	ev := hasEvent(r.recorder.take(), inferencev1alpha1.ReasonModelTooLarge)
	if ev == nil || ev.Type != corev1.EventTypeWarning || !strings.Contains(ev.Note, strconv.FormatInt(need, 10)) || !strings.Contains(ev.Note, "40960 MiB") {
		t.Fatalf("ModelTooLarge warning event = %+v", ev)
	}
	// No pod can be created, let alone wait in Pending: the Deployment runs none.
	d := getObj(t, ns, iw.Name, &appsv1.Deployment{})
	if *d.Spec.Replicas != 0 {
		t.Errorf("deployment replicas = %d while the model fits no node", *d.Spec.Replicas)
	}
	if past.Load() != 0 {
		t.Errorf("the operator asked for %d ranges past the header", past.Load())
	}

	// Nothing changed: no write, no event, and the header is not read again (cached per digest).
	before := r.writes.n.Load()
	r.reconcile(t, iw)
	if w := r.writes.n.Load() - before; w != 0 {
		t.Errorf("unchanged reconcile in ModelTooLarge made %d writes", w)
	}
	if evs := r.recorder.take(); len(evs) != 0 {
		t.Errorf("unchanged reconcile emitted %v", evs)
	}

	// A node that fits joins: the node watch enqueues this InferenceWorker, which leaves
	// ModelTooLarge and runs its workers with the memory affinity.
	big := gpuNode(t, "gpu-large-"+ns, 81920)
	reqs := r.nodeToInferenceWorkers(context.Background(), big)
	if !containsRequest(reqs, client.ObjectKeyFromObject(iw)) {
		t.Fatalf("node watch enqueued %v, want %s", reqs, iw.Name)
	}
	r.reconcile(t, iw)
	got = getIW(t, iw)
	if c := condition(t, got, inferencev1alpha1.ConditionReady); c.Reason == inferencev1alpha1.ReasonModelTooLarge {
		t.Fatalf("still ModelTooLarge: %s", c.Message)
	}
	assertCondition(t, got, inferencev1alpha1.ConditionDegraded, metav1.ConditionFalse, inferencev1alpha1.ReasonAsExpected)
	d = getObj(t, ns, iw.Name, &appsv1.Deployment{})
	if *d.Spec.Replicas != 1 {
		t.Errorf("deployment replicas = %d after a node fits", *d.Spec.Replicas)
	}
	assertMemoryAffinity(t, d.Spec.Template.Spec, need)
}

// A model whose header names a tensor type no worker of this version computes is refused
// before any pod runs: ModelLoaded and Ready say so with the tensor, its type and the
// supported types, a Warning event tells the user, and the Deployment runs no pod (which
// would only crash-loop on the same refusal).
func TestUnsupportedTensorTypeIsRefusedFromTheHeader(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	header, size := llamaHeader(t, modeltest.Config{Arch: "llama", Embedding: 256, Heads: 4, HeadsKV: 4, FeedForward: 512,
		Blocks: 2, Vocab: 40, Context: 512, Type: gguf.TypeF16}, map[string]gguf.GGMLType{"blk.1.ffn_down.weight": gguf.TypeIQ2_XXS})
	ts, _ := headerServer(t, header, size)
	r.Sizer = &modelsize.Sizer{Client: ts.Client()}
	iw := loadSample(t, "inference_v1alpha1_inferenceworker_llama.yaml")
	iw.Spec.Model.Source = inferencev1alpha1.ModelSource{URL: &inferencev1alpha1.URLModelSource{
		URL: ts.URL + "/iq2.gguf", SHA256: strings.Repeat("c2", 32)}}
	iw.Spec.GPU = inferencev1alpha1.GPUSpec{Count: 1}
	iw = createIW(t, ns, iw)
	r.reconcile(t, iw)

	got := getIW(t, iw)
	loaded := assertCondition(t, got, inferencev1alpha1.ConditionModelLoaded, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoadFailed)
	assertCondition(t, got, inferencev1alpha1.ConditionDegraded, metav1.ConditionTrue, inferencev1alpha1.ReasonModelLoadFailed)
	assertCondition(t, got, inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoadFailed)
	for _, want := range []string{"tensor blk.1.ffn_down.weight has type IQ2_XXS", "supported: F32, F16, Q4_0", "IQ4_XS",
		"scaled to 0", "spec.model"} {
		if !strings.Contains(loaded.Message, want) {
			t.Errorf("ModelLoaded message %q lacks %q", loaded.Message, want)
		}
	}
	ev := hasEvent(r.recorder.take(), inferencev1alpha1.ReasonModelLoadFailed)
	if ev == nil || ev.Type != corev1.EventTypeWarning || !strings.Contains(ev.Note, "IQ2_XXS") {
		t.Fatalf("ModelLoadFailed warning event = %+v", ev)
	}
	if d := getObj(t, ns, iw.Name, &appsv1.Deployment{}); *d.Spec.Replicas != 0 {
		t.Errorf("deployment replicas = %d for a model no worker can run", *d.Spec.Replicas)
	}

	// Pointing spec.model at a supported file brings the workers back.
	header, size = llamaHeader(t, modeltest.Config{Arch: "llama", Embedding: 256, Heads: 4, HeadsKV: 4, FeedForward: 512,
		Blocks: 2, Vocab: 40, Context: 512, Type: gguf.TypeF16}, map[string]gguf.GGMLType{"blk.1.ffn_down.weight": gguf.TypeQ4_K})
	ts2, _ := headerServer(t, header, size)
	r.Sizer = &modelsize.Sizer{Client: ts2.Client()}
	got.Spec.Model.Source.URL.URL, got.Spec.Model.Source.URL.SHA256 = ts2.URL+"/q4k.gguf", strings.Repeat("d4", 32)
	if err := k8sClient.Update(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	r.reconcile(t, got)
	got = getIW(t, got)
	if c := condition(t, got, inferencev1alpha1.ConditionModelLoaded); c.Reason == inferencev1alpha1.ReasonModelLoadFailed {
		t.Fatalf("still refused after pointing at a supported file: %s", c.Message)
	}
	if d := getObj(t, ns, iw.Name, &appsv1.Deployment{}); *d.Spec.Replicas != 1 {
		t.Errorf("deployment replicas = %d for a supported model", *d.Spec.Replicas)
	}
}

func containsRequest(reqs []reconcile.Request, key client.ObjectKey) bool {
	for _, r := range reqs {
		if r.NamespacedName == key {
			return true
		}
	}
	return false
}

func assertMemoryAffinity(t *testing.T, spec corev1.PodSpec, minMiB int64) {
	t.Helper()
	a := spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		t.Fatalf("no required node affinity: %+v", a)
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 1 {
		t.Fatalf("node selector terms %+v", terms)
	}
	e := terms[0].MatchExpressions[0]
	if e.Key != labelGPUMemory || e.Operator != corev1.NodeSelectorOpGt || len(e.Values) != 1 || e.Values[0] != strconv.FormatInt(minMiB-1, 10) {
		t.Errorf("memory affinity %+v, want %s Gt %d", e, labelGPUMemory, minMiB-1)
	}
}

// countingConfig counts the requests that write (anything but GET, LIST, WATCH).
func countingConfig(c *rest.Config, writes *atomic.Int64) *rest.Config {
	c = rest.CopyConfig(c)
	c.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method != http.MethodGet {
				writes.Add(1)
			}
			return rt.RoundTrip(req)
		})
	}
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// fakeClock is a settable clock for the worker's progress code.
// podNarrator runs the worker's narration as the worker pod would: through an events client
// whose writes are counted, on a clock the test moves. nc's Sink and Now are filled in; stop
// ends the narrator after delivering what is queued.
func podNarrator(t *testing.T, iw *inferencev1alpha1.InferenceWorker, pod *corev1.Pod, nc narration.Config) (
	n *narration.Narrator, writes *atomic.Int64, clock *fakeClock, stop func()) {
	t.Helper()
	writes = &atomic.Int64{}
	cs, err := kubernetes.NewForConfig(countingConfig(cfg, writes))
	if err != nil {
		t.Fatal(err)
	}
	clock = &fakeClock{now: time.Now()}
	nc.Sink = &narration.EventSink{Client: cs.CoreV1(), Target: narration.Target{Name: iw.Name, Namespace: iw.Namespace,
		UID: string(iw.UID), PodName: pod.Name, PodUID: string(pod.UID)}}
	nc.Now = clock.Now
	n = narration.New(nc)
	ctx, cancel := context.WithCancel(context.Background())
	go n.Run(ctx)
	return n, writes, clock, func() { cancel(); n.Wait() }
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestLoadProgressIsShownAndBounded drives the worker's real progress path (LoadTracker,
// Narrator, EventSink) against the API server with a fake clock, 1% of a 2.4 GB load
// every 100 ms, and checks the operator's condition message and Progress column move,
// and that the load costs a bounded number of writes on both sides.
func TestLoadProgressIsShownAndBounded(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	r.reconcile(t, iw)
	iw = getIW(t, iw)
	sim := newWorkerSim(t, ns, "gpt-go")
	sim.setDeployment(1, 0, 1)
	sim.pod("gpt-go-0", loadingPod)
	pod := getObj(t, ns, "gpt-go-0", &corev1.Pod{})

	n, workerWrites, clock, stop := podNarrator(t, iw, pod, narration.Config{Arch: "gpt", ServedName: "gpt-go"})
	tracker := load.NewTracker(n.OnModelLoading, clock.Now)

	const total = 2_400_000_000
	statusWrites := r.writes.n.Load()
	loadTo := func(from, to int) {
		for pct := from; pct <= to; pct++ {
			tracker.Update(uint64(pct)*total/100, total)
			clock.Advance(100 * time.Millisecond)
		}
	}
	progressAnnotation := func() string {
		var list corev1.EventList
		_ = k8sClient.List(context.Background(), &list, client.InNamespace(ns), client.MatchingLabels{inferencev1alpha1.LabelWorker: iw.Name})
		for _, e := range list.Items {
			if e.Reason == inferencev1alpha1.ReasonModelLoading {
				return e.Annotations[inferencev1alpha1.AnnotationLoadedBytes]
			}
		}
		return ""
	}

	loadTo(0, 0)
	eventually(t, "the ModelLoading event", func() bool { return progressAnnotation() == "0" })
	r.reconcile(t, iw)
	got := getIW(t, iw)
	c := assertCondition(t, got, inferencev1alpha1.ConditionModelLoaded, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoading)
	if c.Message != "Loading 0.0 of 2.4 GB (0%)" || got.Status.Model.LoadProgress != "0%" {
		t.Errorf("at the start: message %q, progress %q", c.Message, got.Status.Model.LoadProgress)
	}

	loadTo(1, 50) // 5 s: the 3 s interval and a new tenth allow one patch, at 30%
	eventually(t, "the 30% patch", func() bool { return progressAnnotation() == "720000000" })
	r.reconcile(t, iw)
	got = getIW(t, iw)
	c = condition(t, got, inferencev1alpha1.ConditionModelLoaded)
	if c.Message != "Loading 0.7 of 2.4 GB (30%, 240.0 MB/s, about 7 s left)" || got.Status.Model.LoadProgress != "30%" {
		t.Errorf("at 30%%: message %q, progress %q", c.Message, got.Status.Model.LoadProgress)
	}

	loadTo(51, 100)
	stop()
	if got := progressAnnotation(); got != "2160000000" {
		t.Errorf("last patch shows %s bytes, want the 90%% step", got)
	}
	r.reconcile(t, iw)
	if got := getIW(t, iw).Status.Model.LoadProgress; got != "90%" {
		t.Errorf("Progress column %q", got)
	}
	// The bound: one create and at most one patch per tenth of the load (here one per
	// 3 s as well: 30, 60, 90%), and one status write per change the operator saw.
	if w := workerWrites.Load(); w < 2 || w > 11 {
		t.Errorf("the worker made %d writes for one load, want 2 to 11", w)
	}
	if w := r.writes.n.Load() - statusWrites; w > workerWrites.Load() {
		t.Errorf("the operator made %d status writes for %d progress writes", w, workerWrites.Load())
	}
	t.Logf("one load: %d worker writes, %d operator writes", workerWrites.Load(), r.writes.n.Load()-statusWrites)

	// Loaded and ready: the Progress column empties.
	sim.setDeployment(1, 1, 1)
	sim.pod("gpt-go-0", readyPod)
	r.reconcile(t, iw)
	if got := getIW(t, iw).Status.Model.LoadProgress; got != "" {
		t.Errorf("Progress column %q once loaded", got)
	}
}

// TestStalledLoadIsModelLoadFailed: a worker whose load stalls exits with code 3 and the
// stall in its termination message (cmd/kubeinfer-worker, --load-stall-timeout); the
// operator shows ModelLoadFailed with the last progress.
func TestStalledLoadIsModelLoadFailed(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	r.reconcile(t, iw)
	stall := &load.StallError{Timeout: 5 * time.Minute, Last: inferencev1alpha1.LoadProgress{Done: 1.2e9, Total: 2.4e9, BytesPerSecond: 1e8, ETA: 12 * time.Second}}
	newWorkerSim(t, ns, "gpt-go").pod("gpt-go-0", crashingPod(inferencev1alpha1.WorkerExitModelLoadFailed, "model load failed: "+stall.Error()))
	r.reconcile(t, iw)
	got := getIW(t, iw)
	c := assertCondition(t, got, inferencev1alpha1.ConditionModelLoaded, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoadFailed)
	if !strings.Contains(c.Message, "no progress for 5m0s (last: Loading 1.2 of 2.4 GB (50%") {
		t.Errorf("ModelLoadFailed message %q", c.Message)
	}
	assertCondition(t, got, inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoadFailed)
}

// TestReportedSizeDoesNotRollRunningWorkers: a PVC model is sized only by its workers' first
// load. That size must not restart the workers that just loaded it (each would load it a
// second time): the pods' GPU memory affinity waits for the next change that rolls them anyway,
// a scale does not count, and a new Deployment has it from the start.
func TestReportedSizeDoesNotRollRunningWorkers(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	gpuNode(t, "gpu-"+ns, 81559)
	iw := loadSample(t, "inference_v1alpha1_inferenceworker_llama.yaml") // PVC source, 1 GPU
	iw = createIW(t, ns, iw)
	r.reconcile(t, iw)
	d := getObj(t, ns, iw.Name, &appsv1.Deployment{})
	if a := memoryAffinityMiB(d.Spec.Template.Spec.Affinity); a != 0 {
		t.Fatalf("affinity for %d MiB before any worker reported a size", a)
	}
	sim := newWorkerSim(t, ns, iw.Name)
	sim.setDeployment(1, 1, 1)
	sim.pod(iw.Name+"-0", readyPod)
	ev := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: iw.Name + ".load", Namespace: ns,
			Labels: map[string]string{inferencev1alpha1.LabelWorker: iw.Name}, Annotations: map[string]string{
				inferencev1alpha1.AnnotationDurationMS: "900", inferencev1alpha1.AnnotationDevice: "GPU0",
				inferencev1alpha1.AnnotationVRAMMiB: "5258", inferencev1alpha1.AnnotationRequiredMiB: "5272",
			}},
		EventTime:           metav1.NewMicroTime(time.Now()),
		ReportingController: inferencev1alpha1.EventReportingController,
		ReportingInstance:   iw.Name + "-0",
		Action:              "model_load",
		Reason:              inferencev1alpha1.ReasonModelLoaded,
		Type:                corev1.EventTypeNormal,
		Note:                "Loaded Llama model llama-go on GPU0 (5258 MB VRAM, 900 ms)",
		Regarding: corev1.ObjectReference{APIVersion: inferencev1alpha1.GroupVersion.String(), Kind: "InferenceWorker",
			Name: iw.Name, Namespace: ns, UID: iw.UID},
	}
	if err := k8sClient.Create(context.Background(), ev); err != nil {
		t.Fatalf("create event: %v", err)
	}
	r.reconcile(t, iw)
	if got := getIW(t, iw); got.Status.Model.RequiredMiB != 5272 {
		t.Fatalf("status.model.requiredMiB = %d, want the reported 5272", got.Status.Model.RequiredMiB)
	}
	r.reconcile(t, iw) // the reconcile that sees the size in status
	template := func() *appsv1.Deployment { return getObj(t, ns, iw.Name, &appsv1.Deployment{}) }
	if d2 := template(); d2.Generation != d.Generation || memoryAffinityMiB(d2.Spec.Template.Spec.Affinity) != 0 {
		t.Errorf("the reported size changed the running pods' template (generation %d -> %d, affinity %d MiB)",
			d.Generation, d2.Generation, memoryAffinityMiB(d2.Spec.Template.Spec.Affinity))
	}

	// A scale keeps the template as it is.
	iw = getIW(t, iw)
	iw.Spec.Replicas = ptr.To[int32](2)
	if err := k8sClient.Update(context.Background(), iw); err != nil {
		t.Fatal(err)
	}
	r.reconcile(t, iw)
	if d2 := template(); *d2.Spec.Replicas != 2 || memoryAffinityMiB(d2.Spec.Template.Spec.Affinity) != 0 {
		t.Errorf("after a scale: replicas %d, affinity %d MiB; want 2 and none", *d2.Spec.Replicas,
			memoryAffinityMiB(d2.Spec.Template.Spec.Affinity))
	}

	// A change that rolls the pods anyway brings the affinity along.
	iw = getIW(t, iw)
	iw.Spec.Serving.MaxConcurrentRequests = iw.Spec.Serving.MaxConcurrentRequests + 1
	if err := k8sClient.Update(context.Background(), iw); err != nil {
		t.Fatal(err)
	}
	r.reconcile(t, iw)
	assertMemoryAffinity(t, template().Spec.Template.Spec, 5272)

	// And a Deployment made anew has it from the start.
	if err := k8sClient.Delete(context.Background(), template()); err != nil {
		t.Fatal(err)
	}
	r.reconcile(t, iw)
	assertMemoryAffinity(t, template().Spec.Template.Spec, 5272)
}

// TestInferenceFailureMakesTheWorkerDegraded: a worker whose model produces non-finite
// logits narrates InferenceFailed Warnings (with the worker's own narration code) and,
// after repeated failures, turns itself unready; the operator shows it as Degraded with
// the worker's message, and a ready worker again clears it.
func TestInferenceFailureMakesTheWorkerDegraded(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	r.reconcile(t, iw)
	iw = getIW(t, iw)
	sim := newWorkerSim(t, ns, "gpt-go")
	sim.setDeployment(1, 1, 1)
	sim.pod("gpt-go-0", readyPod)
	pod := getObj(t, ns, "gpt-go-0", &corev1.Pod{})
	n, _, _, stop := podNarrator(t, iw, pod, narration.Config{Arch: "gpt", ServedName: "gpt-go"})
	defer stop()

	// A failure that leaves the worker ready is only a Warning Event.
	n.OnInferenceFailed(report.InferenceFailure{CorrelationID: "c1", Cause: "the model produced non-finite logits (NaN for token 3)", Consecutive: 1})
	eventually(t, "the first InferenceFailed event", func() bool { return len(workerEvents(t, iw, inferencev1alpha1.ReasonInferenceFailed)) == 1 })
	r.reconcile(t, iw)
	assertCondition(t, getIW(t, iw), inferencev1alpha1.ConditionDegraded, metav1.ConditionFalse, inferencev1alpha1.ReasonAsExpected)

	// The third in a row: the worker reports itself unready and its pod stops being ready.
	n.OnInferenceFailed(report.InferenceFailure{CorrelationID: "c3", Cause: "the model produced non-finite logits (Inf for token 9)", Consecutive: 3, Unready: true})
	eventually(t, "the unready InferenceFailed event", func() bool { return len(workerEvents(t, iw, inferencev1alpha1.ReasonInferenceFailed)) == 2 })
	sim.setDeployment(1, 0, 1)
	sim.pod("gpt-go-0", loadingPod) // running, not ready
	r.reconcile(t, iw)
	got := getIW(t, iw)
	c := assertCondition(t, got, inferencev1alpha1.ConditionDegraded, metav1.ConditionTrue, inferencev1alpha1.ReasonInferenceFailed)
	for _, want := range []string{"pod gpt-go-0", "non-finite logits (Inf for token 9)", "delete the pod to restart"} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("Degraded message %q lacks %q", c.Message, want)
		}
	}
	assertCondition(t, got, inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonInferenceFailed)

	// A restarted, ready worker is no problem, even with the old Event still there.
	sim.setDeployment(1, 1, 1)
	sim.pod("gpt-go-0", readyPod)
	r.reconcile(t, iw)
	assertCondition(t, getIW(t, iw), inferencev1alpha1.ConditionDegraded, metav1.ConditionFalse, inferencev1alpha1.ReasonAsExpected)
}

// TestModelSplitOverGPUs: a model of about 55 GB on a cluster whose largest GPUs have
// 40 GiB runs with spec.gpu.count 2, split over both GPUs of a worker: the operator sizes it
// per GPU (no ModelTooLarge, the memory affinity asks for each GPU's share), asks for two
// GPUs and tells the worker to use both; the worker's narration and the status say so. With
// one GPU again the same model is too large, and the message says to raise the count.
func TestModelSplitOverGPUs(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	header, size := bigModelHeader(t)
	ts, _ := headerServer(t, header, size)
	gpuNode(t, "gpu-medium-"+ns, 40960)
	r.Sizer = &modelsize.Sizer{Client: &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host = "http", strings.TrimPrefix(ts.URL, "http://")
		return http.DefaultTransport.RoundTrip(req)
	})}}
	iw := loadSample(t, "inference_v1alpha1_inferenceworker_llama.yaml")
	iw.Spec.Model.Source = inferencev1alpha1.ModelSource{URL: &inferencev1alpha1.URLModelSource{
		URL: "https://models.example.com/big.gguf", SHA256: strings.Repeat("c2", 32)}}
	iw.Spec.GPU = inferencev1alpha1.GPUSpec{Count: 2}
	iw = createIW(t, ns, iw)
	r.reconcile(t, iw)

	got := getIW(t, iw)
	if c := condition(t, got, inferencev1alpha1.ConditionReady); c.Reason == inferencev1alpha1.ReasonModelTooLarge {
		t.Fatalf("split over 2 GPUs, still ModelTooLarge: %s", c.Message)
	}
	need := got.Status.Model.RequiredMiB
	if need <= 20000 || need >= 40960 {
		t.Fatalf("status.model.requiredMiB = %d, want each GPU's half of about 55 GB", need)
	}
	d := getObj(t, ns, iw.Name, &appsv1.Deployment{})
	if *d.Spec.Replicas != 1 {
		t.Errorf("deployment replicas = %d", *d.Spec.Replicas)
	}
	c := d.Spec.Template.Spec.Containers[0]
	gpu := corev1.ResourceName("nvidia.com/gpu")
	if l, q := c.Resources.Limits[gpu], c.Resources.Requests[gpu]; l.Value() != 2 || q.Value() != 2 {
		t.Errorf("worker resources %+v, want 2 %s", c.Resources, gpu)
	}
	if !strings.Contains(strings.Join(c.Args, " "), "--device cuda") || !strings.Contains(strings.Join(c.Args, " "), "--gpus 2") {
		t.Errorf("worker args %v lack --device cuda --gpus 2", c.Args)
	}
	assertMemoryAffinity(t, d.Spec.Template.Spec, need)

	// The worker loads over GPU0 and GPU1 and narrates so; the operator reads it back.
	sim := newWorkerSim(t, ns, iw.Name)
	sim.setDeployment(1, 0, 1)
	sim.pod(iw.Name+"-0", loadingPod)
	pod := getObj(t, ns, iw.Name+"-0", &corev1.Pod{})
	n, _, _, stop := podNarrator(t, iw, pod, narration.Config{Arch: "llama", ServedName: servedName(iw)})
	const perGPU = 31000 // MiB the load took on the GPU where it took most
	n.OnModelLoaded(report.ModelLoaded{ServedName: servedName(iw), Arch: "llama", Backend: "cuda", Device: "GPU0,GPU1",
		GPUs: 2, RequiredMiB: need, WeightsBytes: got.Status.Model.WeightsBytes, DeviceBytes: perGPU << 20, LoadTime: 2 * time.Second})
	stop()
	loaded := waitEvents(t, iw, "ModelLoaded", 1)[0]
	if want := fmt.Sprintf("Loaded Llama model %s (llama, 2 × %d MB VRAM, 2000 ms)", servedName(iw), perGPU); loaded.Note != want {
		t.Errorf("ModelLoaded note %q, want %q", loaded.Note, want)
	}
	if a := loaded.Annotations; a[inferencev1alpha1.AnnotationGPUs] != "2" || a[inferencev1alpha1.AnnotationVRAMMiB] != strconv.Itoa(perGPU) ||
		a[inferencev1alpha1.AnnotationDevice] != "GPU0,GPU1" {
		t.Errorf("ModelLoaded annotations %v", a)
	}
	sim.setDeployment(1, 1, 1)
	sim.pod(iw.Name+"-0", readyPod)
	r.reconcile(t, iw)
	got = getIW(t, iw)
	if m := got.Status.Model; m.Device != "GPU0,GPU1" || m.MemoryMiB != perGPU || m.RequiredMiB != need {
		t.Errorf("status.model = %+v", m)
	}
	if c := condition(t, got, inferencev1alpha1.ConditionModelLoaded); !strings.Contains(c.Message, fmt.Sprintf("2 × %d MB VRAM, on GPU0,GPU1", perGPU)) {
		t.Errorf("ModelLoaded condition %q", c.Message)
	}

	// One GPU: the model no longer fits any node, whatever the two-GPU worker reported.
	got.Spec.GPU.Count = 1
	if err := k8sClient.Update(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	r.reconcile(t, iw)
	got = getIW(t, iw)
	ready := assertCondition(t, got, inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonModelTooLarge)
	if got.Status.Model.RequiredMiB <= 40960 || !strings.Contains(ready.Message, "raise spec.gpu.count") {
		t.Errorf("one GPU: requiredMiB %d, message %q", got.Status.Model.RequiredMiB, ready.Message)
	}
}
