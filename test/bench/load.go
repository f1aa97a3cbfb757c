package main

// The load phase: do a thousand workers loading at once, each narrating its progress, stay
// within what the API server takes? On KWOK nodes no worker runs, so the bench plays
// every worker itself, with the worker's own progress code:
//
//   - the download of a URL model: worker/fetch.Fetch from a throttled local HTTP server,
//     reporting through a narration.Narrator configured as `kubeinfer-worker fetch`
//     configures it (ModelDownloading Event created, then patched; ModelDownloaded);
//   - the load: a load.Tracker fed by a progress source the bench drives (0 to 100%
//     of 1.17 GB over --load-duration), reporting through a Narrator configured as
//     `kubeinfer-worker serve` configures it (ModelLoading Event created, then patched;
//     ModelLoaded at the end);
//   - the Events go out through narration.EventSink, authenticated as the pod's own
//     ServiceAccount (a pod-bound token from the TokenRequest API, as the kubelet gets
//     one), so the API server also checks the worker's Role for each write;
//   - the bench stands in for the kubelet: it writes the pod's status as a kubelet would
//     (fetch init container running; worker running, not ready; worker ready).
//
// The workers reach the API server through their own counting proxy, so their writes are
// counted exactly and apart from the operator's.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/fetch"
	"github.com/kubeinfer/kubeinfer/worker/load"
	"github.com/kubeinfer/kubeinfer/worker/narration"
	"github.com/kubeinfer/kubeinfer/worker/report"
)

const (
	// simModelBytes is what the simulated loads report: TinyLlama 1.1B Q8_0's weights.
	simModelBytes = 1_170_000_000
	// simDownloadBytes is the size of the file each simulated fetch downloads: small,
	// since only its progress matters, throttled to take --download-duration.
	simDownloadBytes  = 100_000
	simDownloadChunks = 20
	// simLoadTick is how often the driven progress source reports (the CUDA loader
	// reports per tensor; the narrator rate-limits whatever it is given).
	simLoadTick = 200 * time.Millisecond
	// Container names of the operator's worker pods (controllers/children.go).
	fetchContainerName  = "fetch-model"
	workerContainerName = "worker"
)

// spread gives worker i a factor in [0.85, 1.15): loads of one model on like GPUs take
// about, not exactly, as long as each other.
func spread(i int) float64 {
	const golden = 0.6180339887498949
	f := float64(i) * golden
	return 0.85 + 0.3*(f-float64(int(f)))
}

// loadResult is what the load phase measured.
type loadResult struct {
	loads            int
	download         bool
	downloadDuration time.Duration
	loadDuration     time.Duration
	tokens           time.Duration // getting the workers' tokens, before the phase
	timedOut         bool

	// Worker writes: requests by the proxy (exact), split by their answer, and the Events
	// written by kind from the workers' sinks.
	workerRequests  int            // every write request, retries of refused ones included
	workerAccepted  int            // answered 2xx
	workerRefused   int            // answered 429 by API Priority and Fairness (client-go retries them)
	workerKinds     map[string]int // "ModelLoading create" -> n
	workerEmitErrs  int
	workerMaxWrites int // most writes by one worker
	workerFailures  map[string]int
	workerFetchErrs int
	simErrors       []string

	// Operator writes in the window (phase start to all Ready again + settle).
	opWrites      map[string]int
	opStatus      int // InferenceWorker status writes (proxy)
	opFailures    map[string]int
	opReconciles  int
	observedIW    int // InferenceWorker updates the bench's watch saw
	progressOnly  int // of those, changes of progress only (same reasons and counts)
	kubeletWrites int

	// Peak writes per second (1 s buckets from the phase start, writes answered 2xx) and when.
	peakWorkers, peakWorkersOp, peakAll          int
	peakWorkersAt, peakWorkersOpAt, peakAllAt    time.Duration
	peakWorkerRequests                           int // every worker write request, refused ones included
	peakWorkerRequestsAt                         time.Duration
	api                                          apiWrites // kube-apiserver, all clients, over the window
	apiPeak                                      float64   // served writes/s
	apiPeakAt                                    time.Duration
	apiSampleInterval                            time.Duration
	window                                       time.Duration
	podsReadyP50, podsReadyP90, podsReadyAll     time.Duration // the simulated workers' own timeline: the floor
	loadedP50, loadedP90, loadedAll              time.Duration // InferenceWorker ModelLoaded=True again
	lagP50, lagP90, lagMax                       time.Duration // pod ready -> InferenceWorker ModelLoaded
	loaded, readyAgain                           int
	readyAll                                     time.Duration
	showedLoading, showedDownloading             int // InferenceWorkers whose status showed a percentage
	showedAny                                    int // InferenceWorkers whose status showed the download or load at all
	medianMaxLoadingPct, medianMaxDownloadingPct int
	opCPU                                        float64
	components                                   map[string]procStat
	loadAvg                                      string
}

// writeClock records when writes happened.
type writeClock struct {
	mu sync.Mutex
	at []time.Time
}

func (c *writeClock) add(t time.Time) {
	c.mu.Lock()
	c.at = append(c.at, t)
	c.mu.Unlock()
}

func (c *writeClock) times() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.at)
}

// emitLog counts what the workers' narrators sent, by Event reason and create or patch.
type emitLog struct {
	mu       sync.Mutex
	kinds    map[string]int
	perSim   map[int]int
	errs     int
	errFirst string
}

func newEmitLog() *emitLog { return &emitLog{kinds: map[string]int{}, perSim: map[int]int{}} }

func (l *emitLog) add(sim int, f narration.Fields, err error) {
	kind := f.Reason + " create"
	if f.Patch {
		kind = f.Reason + " patch"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.errs++
		if l.errFirst == "" {
			l.errFirst = err.Error()
		}
		return
	}
	l.kinds[kind]++
	l.perSim[sim]++
}

// countingSink is the worker's EventSink, counted.
type countingSink struct {
	inner narration.Sink
	sim   int
	log   *emitLog
}

func (s countingSink) Emit(ctx context.Context, f narration.Fields) error {
	err := s.inner.Emit(ctx, f)
	s.log.add(s.sim, f, err)
	return err
}

// modelServer serves a file throttled to take a given time per request (?ms=), like the
// throttled server of the e2e download test.
type modelServer struct {
	URL    string
	SHA256 string
	srv    *http.Server
	data   []byte
}

func newModelServer(size int) (*modelServer, error) {
	data := make([]byte, size)
	rand.New(rand.NewSource(1)).Read(data)
	sum := sha256.Sum256(data)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &modelServer{URL: "http://" + l.Addr().String() + "/model.gguf", SHA256: hex.EncodeToString(sum[:]), data: data}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

func (s *modelServer) serve(w http.ResponseWriter, r *http.Request) {
	ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
	step := time.Duration(ms) * time.Millisecond / (simDownloadChunks - 1)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(s.data)))
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	for i := range simDownloadChunks {
		if i > 0 {
			select {
			case <-time.After(step):
			case <-r.Context().Done():
				return
			}
		}
		if _, err := w.Write(s.data[i*len(s.data)/simDownloadChunks : (i+1)*len(s.data)/simDownloadChunks]); err != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
	}
}

func (s *modelServer) Close() { _ = s.srv.Close() }

// Pod status as a kubelet writes it while the worker downloads, loads, then serves. The
// phase stays Running throughout: KWOK's stages act on Pending pods (they would finish the
// init container at once), and nothing the operator or the deployment controller reads
// depends on the phase.

func setPodCondition(st *corev1.PodStatus, typ corev1.PodConditionType, status corev1.ConditionStatus, reason string, now metav1.Time) {
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type != typ {
			continue
		}
		if c.Status != status {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason, c.Message = status, reason, ""
		return
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: typ, Status: status, Reason: reason, LastTransitionTime: now})
}

// containerStatuses rebuilds the statuses of specs, keeping image ids, with state set by fn.
func containerStatuses(old []corev1.ContainerStatus, specs []corev1.Container, fn func(*corev1.ContainerStatus)) []corev1.ContainerStatus {
	var out []corev1.ContainerStatus
	for _, c := range specs {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image}
		for _, o := range old {
			if o.Name == c.Name {
				cs.ImageID, cs.ContainerID = o.ImageID, o.ContainerID
			}
		}
		fn(&cs)
		out = append(out, cs)
	}
	return out
}

func notReady(st *corev1.PodStatus, now metav1.Time) {
	setPodCondition(st, corev1.PodReady, corev1.ConditionFalse, "ContainersNotReady", now)
	setPodCondition(st, corev1.ContainersReady, corev1.ConditionFalse, "ContainersNotReady", now)
}

// podDownloading: the fetch init container runs, the worker waits for it.
func podDownloading(p *corev1.Pod, now metav1.Time) {
	st := &p.Status
	st.Phase = corev1.PodRunning
	setPodCondition(st, corev1.PodInitialized, corev1.ConditionFalse, "ContainersNotInitialized", now)
	notReady(st, now)
	st.InitContainerStatuses = containerStatuses(st.InitContainerStatuses, p.Spec.InitContainers, func(cs *corev1.ContainerStatus) {
		cs.Started = ptr.To(true)
		cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
	})
	st.ContainerStatuses = containerStatuses(st.ContainerStatuses, p.Spec.Containers, func(cs *corev1.ContainerStatus) {
		cs.Started = ptr.To(false)
		cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}
	})
}

// podLoading: the init container (if any) is done; the worker runs but is not ready: its
// startup probe (/readyz) fails until the model is loaded.
func podLoading(p *corev1.Pod, now metav1.Time) {
	st := &p.Status
	st.Phase = corev1.PodRunning
	setPodCondition(st, corev1.PodInitialized, corev1.ConditionTrue, "", now)
	notReady(st, now)
	started := now
	for _, cs := range st.InitContainerStatuses {
		if cs.State.Running != nil {
			started = cs.State.Running.StartedAt
		}
	}
	st.InitContainerStatuses = containerStatuses(st.InitContainerStatuses, p.Spec.InitContainers, func(cs *corev1.ContainerStatus) {
		cs.Ready, cs.Started = true, ptr.To(false)
		cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: started, FinishedAt: now}}
	})
	st.ContainerStatuses = containerStatuses(st.ContainerStatuses, p.Spec.Containers, func(cs *corev1.ContainerStatus) {
		cs.Started = ptr.To(false)
		cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
	})
}

// podServing: the worker's probes pass.
func podServing(p *corev1.Pod, now metav1.Time) {
	st := &p.Status
	setPodCondition(st, corev1.PodReady, corev1.ConditionTrue, "", now)
	setPodCondition(st, corev1.ContainersReady, corev1.ConditionTrue, "", now)
	for i := range st.ContainerStatuses {
		st.ContainerStatuses[i].Ready, st.ContainerStatuses[i].Started = true, ptr.To(true)
	}
}

// simWorker is one worker pod: its fetch init container (URL models) and its worker.
type simWorker struct {
	i        int
	target   narration.Target
	pod      *corev1.Pod
	events   corev1client.EventsGetter // as the pod's ServiceAccount
	pods     corev1client.PodInterface // the bench's own client: the kubelet's writes
	download time.Duration             // 0: no download (PVC model)
	load     time.Duration
	modelURL string // the throttled server, with ?ms=
	modelSHA string
	source   string // the host the InferenceWorker's URL names, for the sentences
	dest     string
	http     *http.Client
	emits    *emitLog
	kubelet  *writeClock

	// Filled by run.
	readyNs  atomic.Int64 // when the kubelet said ready (the load is over), UnixNano; 0 before
	fetchErr error
	err      error
	serve    *narration.Narrator
	stopNarr context.CancelFunc
}

// kubeletWrite applies change to the pod's status, as the kubelet would, retrying on a
// conflict with a fresh read.
func (w *simWorker) kubeletWrite(ctx context.Context, change func(*corev1.Pod, metav1.Time)) error {
	for attempt := 0; ; attempt++ {
		p := w.pod.DeepCopy()
		change(p, metav1.Now())
		got, err := w.pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
		w.kubelet.add(time.Now())
		if err == nil {
			w.pod = got
			return nil
		}
		if !apierrors.IsConflict(err) || attempt == 3 {
			return fmt.Errorf("pod %s status: %w", w.pod.Name, err)
		}
		if w.pod, err = w.pods.Get(ctx, w.pod.Name, metav1.GetOptions{}); err != nil {
			return err
		}
	}
}

func (w *simWorker) sink() narration.Sink {
	return countingSink{inner: &narration.EventSink{Client: w.events, Target: w.target}, sim: w.i, log: w.emits}
}

// run downloads (if a URL model), loads, and stays up narrating until ctx ends (the serve
// narrator then flushes, as the worker does on SIGTERM).
func (w *simWorker) run(ctx context.Context, phase context.Context) {
	actor := "kubeinfer-worker/" + w.target.PodName
	if w.download > 0 {
		if w.err = w.kubeletWrite(phase, podDownloading); w.err != nil {
			return
		}
		// As `kubeinfer-worker fetch` (cmd/kubeinfer-worker/fetch.go newFetchNarrator).
		fn := narration.New(narration.Config{Log: logr.Discard(), ServedName: w.target.Name, ModelSource: w.source,
			Target: w.target.String(), Actor: actor, Sink: w.sink()})
		fctx, stop := context.WithCancel(context.Background())
		go fn.Run(fctx)
		_, w.fetchErr = fetch.Fetch(phase, fetch.Options{URL: w.modelURL, SHA256: w.modelSHA, Dest: w.dest, Client: w.http,
			Log: logr.Discard(), StallTimeout: time.Minute, Progress: fn.OnModelDownloading,
			Downloaded: func(size int64, took time.Duration) { fn.OnModelDownloaded(uint64(size), took) }})
		stop() // the init container exits: its narration is flushed
		fn.Wait()
		_ = os.RemoveAll(w.dest)
		if w.fetchErr != nil {
			w.err = w.fetchErr
			return
		}
	}
	if w.err = w.kubeletWrite(phase, podLoading); w.err != nil {
		return
	}
	// As `kubeinfer-worker serve` (cmd/kubeinfer-worker/serve.go newNarrator, runServe).
	w.serve = narration.New(narration.Config{Log: logr.Discard(), Mode: inferencev1alpha1.InferenceEventsSampled,
		MinInterval: 30 * time.Second, Arch: "llama", ServedName: w.target.Name, Actor: actor, Target: w.target.String(),
		Sink: w.sink()})
	nctx, stop := context.WithCancel(context.Background())
	w.stopNarr = stop
	go w.serve.Run(nctx)
	tracker := load.NewTracker(w.serve.OnModelLoading, nil)
	start := time.Now()
	tick := time.NewTicker(simLoadTick)
	for {
		el := time.Since(start)
		done := uint64(simModelBytes)
		if el < w.load {
			done = uint64(float64(simModelBytes) * el.Seconds() / w.load.Seconds())
		}
		tracker.Update(done, simModelBytes)
		if el >= w.load {
			break
		}
		select {
		case <-tick.C:
		case <-phase.Done():
			tick.Stop()
			w.err = phase.Err()
			return
		}
	}
	tick.Stop()
	// The loaded model, as the CUDA loader reports it. requiredMiB and weightsBytes are
	// left out: the operator cannot read the header of the bench's URL, so a reported
	// requiredMiB would become every Deployment's GPU memory affinity and roll all the
	// workers (a separate question from the load's writes; see README.md).
	w.serve.OnModelLoaded(report.ModelLoaded{ServedName: w.target.Name, Arch: "llama", Backend: "cuda", Device: "GPU0",
		ContextLength: 2048, Parameters: 1_100_048_384, DeviceBytes: 1_500_000_000, LoadTime: time.Since(start)})
	if w.err = w.kubeletWrite(phase, podServing); w.err != nil {
		return
	}
	w.readyNs.Store(time.Now().UnixNano())
	<-ctx.Done()
}

// stopServe ends the serve narrator, flushing what it still has queued.
func (w *simWorker) stopServe() {
	if w.stopNarr != nil {
		w.stopNarr()
		w.serve.Wait()
	}
}

// iwLoadState is what the bench's watch saw of one InferenceWorker during the phase.
type iwLoadState struct {
	unloadedSeen             bool
	loadMillis               int64 // status.model.loadMillis when the phase began
	loadedAt, readyAt        time.Time
	maxLoading, maxDownload  int // highest Progress column shown, -1 if none
	updates, progressUpdates int
}

// loadWatch follows the InferenceWorkers through the phase: when each shows its model
// loaded again and Ready again, which percentages its Progress column showed, and which
// of its status updates changed only the progress. Loaded again is ModelLoaded=True after
// the status showed the download or load (ModelLoaded not True), or, when the operator
// never showed it (it saw the pod only once ready again), with the new load's figures
// (status.model.loadMillis changed: the operator read the ModelLoaded Event).
type loadWatch struct {
	mu        sync.Mutex
	start     time.Time
	want      int
	iws       map[string]*iwLoadState
	loaded    int
	ready     int
	allLoaded chan struct{}
	allReady  chan struct{}
}

func newLoadWatch(want int, start time.Time) *loadWatch {
	return &loadWatch{start: start, want: want, iws: map[string]*iwLoadState{},
		allLoaded: make(chan struct{}), allReady: make(chan struct{})}
}

func condition(u *unstructured.Unstructured, typ string) (status, reason string, transition time.Time) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != typ {
			continue
		}
		s, _ := m["status"].(string)
		r, _ := m["reason"].(string)
		lt, _ := m["lastTransitionTime"].(string)
		t, _ := time.Parse(time.RFC3339, lt)
		return s, r, t
	}
	return "", "", time.Time{}
}

// progressOnly says whether an InferenceWorker status update changed only the load
// progress: the Progress column and condition messages, with ModelLoaded reporting a
// download or load before and after.
func progressOnly(old, cur *unstructured.Unstructured) bool {
	for _, u := range []*unstructured.Unstructured{old, cur} {
		if _, r, _ := condition(u, inferencev1alpha1.ConditionModelLoaded); r != inferencev1alpha1.ReasonModelLoading && r != inferencev1alpha1.ReasonModelDownloading {
			return false
		}
	}
	strip := func(u *unstructured.Unstructured) any {
		st, _, _ := unstructured.NestedMap(u.Object, "status")
		st = runtime.DeepCopyJSON(st)
		if m, ok := st["model"].(map[string]any); ok {
			delete(m, "loadProgress")
		}
		if conds, ok := st["conditions"].([]any); ok {
			for _, c := range conds {
				if m, ok := c.(map[string]any); ok {
					delete(m, "message")
				}
			}
		}
		return st
	}
	return reflect.DeepEqual(strip(old), strip(cur))
}

func progressPercent(u *unstructured.Unstructured) int {
	s, _, _ := unstructured.NestedString(u.Object, "status", "model", "loadProgress")
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil || !strings.HasSuffix(s, "%") {
		return -1
	}
	return n
}

func (lw *loadWatch) state(name string) *iwLoadState {
	s := &iwLoadState{maxLoading: -1, maxDownload: -1}
	lw.iws[name] = s
	return s
}

// observe records the InferenceWorker u as seen at now; old is the object before the
// update (nil for the first sight).
func (lw *loadWatch) observe(old, u *unstructured.Unstructured, now time.Time) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	s, seen := lw.iws[u.GetName()]
	if !seen {
		s = lw.state(u.GetName())
		s.loadMillis, _, _ = unstructured.NestedInt64(u.Object, "status", "model", "loadMillis")
	}
	if old != nil && old.GetResourceVersion() != u.GetResourceVersion() {
		s.updates++
		if progressOnly(old, u) {
			s.progressUpdates++
		}
	}
	status, reason, transition := condition(u, inferencev1alpha1.ConditionModelLoaded)
	if status != string(metav1.ConditionTrue) {
		s.unloadedSeen = true
		switch reason {
		case inferencev1alpha1.ReasonModelLoading:
			s.maxLoading = max(s.maxLoading, progressPercent(u))
		case inferencev1alpha1.ReasonModelDownloading:
			s.maxDownload = max(s.maxDownload, progressPercent(u))
		}
	}
	loadMillis, _, _ := unstructured.NestedInt64(u.Object, "status", "model", "loadMillis")
	if s.loadedAt.IsZero() && status == string(metav1.ConditionTrue) &&
		(s.unloadedSeen || !transition.Before(lw.start.Truncate(time.Second)) || loadMillis != s.loadMillis) {
		s.loadedAt = now
		lw.loaded++
		if lw.loaded == lw.want {
			close(lw.allLoaded)
		}
	}
	if !s.loadedAt.IsZero() && s.readyAt.IsZero() {
		if st, _, _ := condition(u, inferencev1alpha1.ConditionReady); st == string(metav1.ConditionTrue) {
			s.readyAt = now
			lw.ready++
			if lw.ready == lw.want {
				close(lw.allReady)
			}
		}
	}
}

func (lw *loadWatch) counts() (loaded, ready int) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.loaded, lw.ready
}

func watchLoads(ctx context.Context, dc dynamic.Interface, ns string, lw *loadWatch) cache.SharedIndexInformer {
	f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dc, 0, ns, nil)
	inf := f.ForResource(iwResource).Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if u, ok := obj.(*unstructured.Unstructured); ok {
				lw.observe(nil, u, time.Now())
			}
		},
		UpdateFunc: func(oldObj, obj any) {
			old, ok1 := oldObj.(*unstructured.Unstructured)
			u, ok2 := obj.(*unstructured.Unstructured)
			if ok1 && ok2 {
				lw.observe(old, u, time.Now())
			}
		},
	})
	f.Start(ctx.Done())
	return inf
}

// peakPerSecond is the most writes in one second (buckets from start) over the lists of
// times together, and when that second began.
func peakPerSecond(start time.Time, lists ...[]time.Time) (int, time.Duration) {
	buckets := map[int]int{}
	for _, l := range lists {
		for _, t := range l {
			if t.Before(start) {
				continue
			}
			buckets[int(t.Sub(start)/time.Second)]++
		}
	}
	peak, at := 0, 0
	for b, n := range buckets {
		if n > peak || (n == peak && b < at) {
			peak, at = n, b
		}
	}
	return peak, time.Duration(at) * time.Second
}

func percentileOf(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	i := min(max(int(p*float64(len(ds))+0.5)-1, 0), len(ds)-1)
	return ds[i]
}

// apiWrites are the kube-apiserver's write requests (apiserver_request_total over the
// verbs that write, every client): served, and refused with 429 by API Priority and Fairness.
type apiWrites struct{ served, refused int }

func (a apiWrites) minus(b apiWrites) apiWrites {
	return apiWrites{a.served - b.served, a.refused - b.refused}
}

func readAPIWrites(ctx context.Context, cs kubernetes.Interface) (apiWrites, error) {
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return apiWrites{}, err
	}
	return parseAPIWrites(string(raw)), nil
}

func parseAPIWrites(metrics string) apiWrites {
	var served, refused float64
	for _, line := range strings.Split(metrics, "\n") {
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		i := strings.Index(line, `verb="`)
		if i < 0 {
			continue
		}
		verb, _, _ := strings.Cut(line[i+len(`verb="`):], `"`)
		switch verb {
		case "POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION":
			f := strings.Fields(line)
			n, _ := strconv.ParseFloat(f[len(f)-1], 64)
			if strings.Contains(line, `code="429"`) {
				refused += n
			} else {
				served += n
			}
		}
	}
	return apiWrites{int(served), int(refused)}
}

// reconcileTotal is the operator's controller_runtime_reconcile_total, all results.
func reconcileTotal(port int) int {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	total := 0.0
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "controller_runtime_reconcile_total{") {
			f := strings.Fields(line)
			n, _ := strconv.ParseFloat(f[len(f)-1], 64)
			total += n
		}
	}
	return int(total)
}

// apiSampler samples the API server's served writes on an interval, for their peak rate.
// A sample is dated when its request was sent: the counters are read when the request is
// handled, and rendering millions of bytes of metrics can take seconds under load.
type apiSampler struct {
	mu       sync.Mutex
	peak     float64
	peakAt   time.Duration
	interval time.Duration
	slowest  time.Duration
}

func (s *apiSampler) run(ctx context.Context, cs kubernetes.Interface, start time.Time) {
	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	lastT := time.Now()
	last, err := readAPIWrites(ctx, cs)
	if err != nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t := time.Now()
		n, err := readAPIWrites(ctx, cs)
		if err != nil {
			continue
		}
		took := time.Since(t)
		rate := float64(n.served-last.served) / t.Sub(lastT).Seconds()
		s.mu.Lock()
		s.slowest = max(s.slowest, took)
		if rate > s.peak {
			s.peak, s.peakAt = rate, lastT.Sub(start)
		}
		s.mu.Unlock()
		last, lastT = n, t
	}
}

// runLoad plays every InferenceWorker's pod loading its model at once, in the operator
// phase's cluster once the rest window is over. See the top of this file.
func runLoad(ctx context.Context, o options, d *devcluster, cs kubernetes.Interface, dc dynamic.Interface,
	opProxy *countingProxy, op *operatorProc, metricsPort int) (*loadResult, error) {
	lr := &loadResult{downloadDuration: o.downloadDuration, loadDuration: o.loadDuration, workerFailures: map[string]int{}}

	// Who is there: each InferenceWorker's UID and its one pod.
	iws, err := dc.Resource(iwResource).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	pods, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	podOf := map[string]*corev1.Pod{}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp == nil {
			podOf[p.Labels[inferencev1alpha1.LabelWorker]] = p
		}
	}
	workerProxy, err := newCountingProxy(rest.AnonymousClientConfig(d.Config))
	if err != nil {
		return nil, err
	}
	defer workerProxy.Close()
	// One keep-alive connection per worker, as each worker process keeps its own.
	workerTransport := &http.Transport{MaxIdleConnsPerHost: o.workers + 10, IdleConnTimeout: 5 * time.Minute}
	defer workerTransport.CloseIdleConnections()
	fetchTransport := &http.Transport{MaxIdleConnsPerHost: 16}
	defer fetchTransport.CloseIdleConnections()

	var models *modelServer
	host := ""
	if u, err := url.Parse(modelURL); err == nil {
		host = u.Host
	}
	if o.source == "url" && o.downloadDuration > 0 {
		if models, err = newModelServer(simDownloadBytes); err != nil {
			return nil, err
		}
		defer models.Close()
		lr.download = true
	}
	shm := "/dev/shm"
	if fi, err := os.Stat(shm); err != nil || !fi.IsDir() {
		shm = o.dir
	}
	destRoot, err := os.MkdirTemp(shm, "kubeinfer-bench-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(destRoot)

	emits := newEmitLog()
	kubelet := &writeClock{}
	sims := make([]*simWorker, 0, len(iws.Items))
	for i, iw := range iws.Items {
		p := podOf[iw.GetName()]
		if p == nil {
			return nil, fmt.Errorf("InferenceWorker %s has no pod", iw.GetName())
		}
		w := &simWorker{
			i: i, pod: p, pods: cs.CoreV1().Pods(namespace), load: time.Duration(float64(o.loadDuration) * spread(i)),
			target: narration.Target{Name: iw.GetName(), Namespace: namespace, UID: string(iw.GetUID()), PodName: p.Name, PodUID: string(p.UID)},
			source: host, dest: filepath.Join(destRoot, iw.GetName()), http: &http.Client{Transport: fetchTransport},
			emits: emits, kubelet: kubelet,
		}
		if lr.download && len(p.Spec.InitContainers) > 0 {
			w.download = time.Duration(float64(o.downloadDuration) * spread(i+7))
			w.modelURL = fmt.Sprintf("%s?ms=%d", models.URL, w.download.Milliseconds())
			w.modelSHA = models.SHA256
		}
		sims = append(sims, w)
	}
	lr.loads = len(sims)

	// Each worker's token, bound to its pod, as the kubelet asks for the projected volume.
	logf("load: getting %d pod-bound ServiceAccount tokens", len(sims))
	tokStart := time.Now()
	_, err = createAllN(len(sims), o.createParallelism, func(i int) error {
		w := sims[i]
		tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, w.pod.Spec.ServiceAccountName, &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600), BoundObjectRef: &authenticationv1.BoundObjectReference{
				Kind: "Pod", APIVersion: "v1", Name: w.pod.Name, UID: w.pod.UID}},
		}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("token for %s: %w", w.pod.Name, err)
		}
		ev, err := corev1client.NewForConfig(&rest.Config{Host: workerProxy.URL, BearerToken: tr.Status.Token,
			Transport: workerTransport, UserAgent: "kubeinfer-worker (bench-operator simulation)"})
		if err != nil {
			return err
		}
		w.events = ev
		return nil
	})
	if err != nil {
		return nil, err
	}
	lr.tokens = time.Since(tokStart)

	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	lw := newLoadWatch(len(sims), time.Now())
	inf := watchLoads(wctx, dc, namespace, lw)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil, fmt.Errorf("InferenceWorker watch did not sync")
	}
	time.Sleep(2 * time.Second) // a quiet moment before the start
	opBefore := opProxy.Writes()
	_, _, opFailBefore := opProxy.Snapshot()
	reconcilesBefore := reconcileTotal(metricsPort)
	apiBefore, _ := readAPIWrites(ctx, cs)
	opCPU0, _ := readStat(op.pid())
	base := componentBaseline(d)
	sampler := &apiSampler{interval: 2 * time.Second}
	lr.apiSampleInterval = sampler.interval

	start := time.Now()
	lw.mu.Lock()
	lw.start = start
	lw.mu.Unlock()
	sctx, stopSampler := context.WithCancel(ctx)
	defer stopSampler()
	go sampler.run(sctx, cs, start)

	logf("load: %d workers start loading at once (download %s, load %s, each ±15%%)", len(sims), o.downloadDuration, o.loadDuration)
	phase, cancelPhase := context.WithTimeout(ctx, o.loadTimeout)
	defer cancelPhase()
	up, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, w := range sims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(up, phase)
		}()
	}
	// Stop everything on the way out, whatever happens.
	defer func() {
		stopWorkers()
		wg.Wait()
		for _, w := range sims {
			w.stopServe()
		}
	}()

	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	waitFor := func(ch chan struct{}) bool {
		for {
			select {
			case <-ch:
				return true
			case <-phase.Done():
				return false
			case <-tick.C:
				loaded, ready := lw.counts()
				ready2 := 0
				for _, w := range sims {
					if !w.readyTime().IsZero() {
						ready2++
					}
				}
				logf("  %5.1fs: pods ready %d, InferenceWorkers loaded %d, Ready %d of %d; writes: workers %d, operator %d",
					time.Since(start).Seconds(), ready2, loaded, ready, len(sims), workerProxy.Writes(), opProxy.Writes()-opBefore)
			}
		}
	}
	okLoaded := waitFor(lw.allLoaded)
	okReady := okLoaded && waitFor(lw.allReady)
	lr.timedOut = !okReady
	time.Sleep(5 * time.Second) // the last Events and status writes
	end := time.Now()
	lr.window = end.Sub(start)
	stopSampler()
	lr.components = componentCPU(d, base)
	lr.loadAvg = loadAvg()
	if st, err := readStat(op.pid()); err == nil {
		lr.opCPU = st.cpuSecond - opCPU0.cpuSecond
	}
	lr.opReconciles = reconcileTotal(metricsPort) - reconcilesBefore
	_, _, opFailAfter := opProxy.Snapshot()
	lr.opFailures = map[string]int{}
	for k, v := range opFailAfter {
		if d := v - opFailBefore[k]; d > 0 {
			lr.opFailures[k] = d
		}
	}
	if apiAfter, err := readAPIWrites(ctx, cs); err == nil {
		lr.api = apiAfter.minus(apiBefore)
	}
	sampler.mu.Lock()
	lr.apiPeak, lr.apiPeakAt = sampler.peak, sampler.peakAt
	if sampler.slowest > sampler.interval/2 {
		logf("load: scraping the kube-apiserver's metrics took up to %s", sampler.slowest.Round(time.Millisecond))
	}
	sampler.mu.Unlock()

	// The workers' writes.
	workerLog := workerProxy.WritesSince(0)
	lr.workerRequests = len(workerLog)
	_, _, lr.workerFailures = workerProxy.Snapshot()
	emits.mu.Lock()
	lr.workerKinds = maps.Clone(emits.kinds)
	lr.workerEmitErrs = emits.errs
	for _, n := range emits.perSim {
		lr.workerMaxWrites = max(lr.workerMaxWrites, n)
	}
	if emits.errFirst != "" {
		lr.simErrors = append(lr.simErrors, "first Event error: "+emits.errFirst)
	}
	emits.mu.Unlock()

	// The operator's writes in the window.
	opLog := opProxy.WritesSince(opBefore)
	lr.opWrites = map[string]int{}
	var opTimes []time.Time
	for _, wr := range opLog {
		if wr.at.After(end) {
			continue
		}
		if wr.code >= 200 && wr.code < 300 {
			opTimes = append(opTimes, wr.at)
		}
		path := wr.path
		if u, err := url.Parse(wr.path); err == nil {
			path = u.Path
		}
		key := wr.verb + " " + resourceOf(path)
		lr.opWrites[key]++
		if key == "PUT inferenceworkers.inference.kubeinfer.dev/status" {
			lr.opStatus++
		}
	}
	var workerTimes, workerRequestTimes []time.Time
	for _, wr := range workerLog {
		workerRequestTimes = append(workerRequestTimes, wr.at)
		switch {
		case wr.code >= 200 && wr.code < 300:
			lr.workerAccepted++
			workerTimes = append(workerTimes, wr.at)
		case wr.code == http.StatusTooManyRequests:
			lr.workerRefused++
		}
	}
	kubeletTimes := kubelet.times()
	lr.kubeletWrites = len(kubeletTimes)
	lr.peakWorkers, lr.peakWorkersAt = peakPerSecond(start, workerTimes)
	lr.peakWorkerRequests, lr.peakWorkerRequestsAt = peakPerSecond(start, workerRequestTimes)
	lr.peakWorkersOp, lr.peakWorkersOpAt = peakPerSecond(start, workerTimes, opTimes)
	lr.peakAll, lr.peakAllAt = peakPerSecond(start, workerTimes, opTimes, kubeletTimes)

	// Timelines.
	lw.mu.Lock()
	var podsReady, loaded, lags, loadingPct, downloadPct []time.Duration
	for _, w := range sims {
		rt := w.readyTime()
		if w.err != nil && len(lr.simErrors) < 5 {
			lr.simErrors = append(lr.simErrors, w.err.Error())
		}
		if w.fetchErr != nil {
			lr.workerFetchErrs++
		}
		if !rt.IsZero() {
			podsReady = append(podsReady, rt.Sub(start))
		}
		s := lw.iws[w.target.Name]
		if s == nil {
			continue
		}
		lr.observedIW += s.updates
		lr.progressOnly += s.progressUpdates
		if s.unloadedSeen {
			lr.showedAny++
		}
		if !s.loadedAt.IsZero() {
			loaded = append(loaded, s.loadedAt.Sub(start))
			if !rt.IsZero() {
				lags = append(lags, s.loadedAt.Sub(rt))
			}
		}
		if s.maxLoading >= 0 {
			lr.showedLoading++
			loadingPct = append(loadingPct, time.Duration(s.maxLoading))
		}
		if s.maxDownload >= 0 {
			lr.showedDownloading++
			downloadPct = append(downloadPct, time.Duration(s.maxDownload))
		}
		if !s.readyAt.IsZero() {
			lr.readyAll = max(lr.readyAll, s.readyAt.Sub(start))
		}
	}
	lr.loaded, lr.readyAgain = lw.loaded, lw.ready
	lw.mu.Unlock()
	lr.podsReadyP50, lr.podsReadyP90, lr.podsReadyAll = percentileOf(podsReady, 0.5), percentileOf(podsReady, 0.9), percentileOf(podsReady, 1)
	lr.loadedP50, lr.loadedP90, lr.loadedAll = percentileOf(loaded, 0.5), percentileOf(loaded, 0.9), percentileOf(loaded, 1)
	lr.lagP50, lr.lagP90, lr.lagMax = percentileOf(lags, 0.5), percentileOf(lags, 0.9), percentileOf(lags, 1)
	lr.medianMaxLoadingPct = int(percentileOf(loadingPct, 0.5))
	lr.medianMaxDownloadingPct = int(percentileOf(downloadPct, 0.5))
	logf("load: %d/%d InferenceWorkers loaded in %s, %d Ready again; workers wrote %d, the operator %d",
		lr.loaded, lr.loads, lr.loadedAll.Round(time.Millisecond), lr.readyAgain, lr.workerAccepted, len(opTimes))
	return lr, nil
}

// readyTime is when the simulated kubelet marked the pod ready; zero before.
func (w *simWorker) readyTime() time.Time {
	if ns := w.readyNs.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Bounds of the worker's progress narration (worker/narration): per progress Event, 1
// create and at most 10 patches (a download adds one per stall and recovery; the bench's
// do not stall); plus the one ModelDownloaded and one ModelLoaded Event.
const progressEventWrites = 11

func printLoad(w io.Writer, lr *loadResult) {
	n := float64(lr.loads)
	sec := func(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }
	what := fmt.Sprintf("load %s", lr.loadDuration)
	if lr.download {
		what = fmt.Sprintf("download %s then load %s", lr.downloadDuration, lr.loadDuration)
	}
	fmt.Fprintf(w, "\nload phase: %d workers start at once, each %s (±15%%), narrating with worker/narration, worker/fetch and load.Tracker "+
		"as their pod's ServiceAccount (pod-bound tokens, %s to get); the bench writes the pods' status as their kubelets would\n\n",
		lr.loads, what, sec(lr.tokens))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tvalue\tgoal")
	bound := 2 * (progressEventWrites + 1)
	if !lr.download {
		bound = progressEventWrites + 1
	}
	fmt.Fprintf(tw, "worker Event writes per load (creates + patches, answered 2xx)\t%.2f (%d in all)\t<= %d per worker %s\n",
		float64(lr.workerAccepted)/n, lr.workerAccepted, bound, verdict(lr.workerMaxWrites <= bound))
	fmt.Fprintf(tw, "  most by one worker\t%d\t\n", lr.workerMaxWrites)
	for _, reason := range []string{narration.ReasonModelDownloading, narration.ReasonModelDownloaded, narration.ReasonModelLoading, narration.ReasonModelLoaded} {
		c, p := lr.workerKinds[reason+" create"], lr.workerKinds[reason+" patch"]
		if c+p == 0 {
			continue
		}
		fmt.Fprintf(tw, "  %s: creates / patches per load\t%.2f / %.2f\t\n", reason, float64(c)/n, float64(p)/n)
	}
	failed := 0
	for k, v := range lr.workerFailures {
		if !strings.HasSuffix(k, " -> 429") {
			failed += v
		}
	}
	fmt.Fprintf(tw, "worker write requests per load, refused ones included\t%.2f (%d)\t\n", float64(lr.workerRequests)/n, lr.workerRequests)
	fmt.Fprintf(tw, "  refused with 429 (API Priority and Fairness; client-go retries)\t%d\t\n", lr.workerRefused)
	fmt.Fprintf(tw, "  failed otherwise / narrations lost (the narrator gave up)\t%d / %d\t0 %s\n", failed, lr.workerEmitErrs, verdict(lr.workerEmitErrs == 0))
	fmt.Fprintf(tw, "operator InferenceWorker status writes per load\t%.2f (%d)\t\n", float64(lr.opStatus)/n, lr.opStatus)
	fmt.Fprintf(tw, "  of which progress only (bench's watch saw %d updates)\t%.2f (%d)\t\n", lr.observedIW, float64(lr.progressOnly)/n, lr.progressOnly)
	others := 0
	for k, v := range lr.opWrites {
		if k != "PUT inferenceworkers.inference.kubeinfer.dev/status" {
			others += v
		}
	}
	fmt.Fprintf(tw, "operator other writes per load\t%.2f (%d)\t\n", float64(others)/n, others)
	fmt.Fprintf(tw, "operator reconciles per load\t%.2f (%d)\t\n", float64(lr.opReconciles)/n, lr.opReconciles)
	fmt.Fprintf(tw, "peak writes/s answered 2xx: workers / + operator / + simulated kubelets\t%d (at %s) / %d (at %s) / %d (at %s)\t\n",
		lr.peakWorkers, sec(lr.peakWorkersAt), lr.peakWorkersOp, sec(lr.peakWorkersOpAt), lr.peakAll, sec(lr.peakAllAt))
	fmt.Fprintf(tw, "peak worker write requests/s, refused ones included\t%d (at %s)\t\n", lr.peakWorkerRequests, sec(lr.peakWorkerRequestsAt))
	if lr.window > 0 {
		fmt.Fprintf(tw, "kube-apiserver writes, all clients: served (mean, peak of %s samples) / refused 429\t%d (%.0f/s, %.0f/s at %s) / %d\t\n",
			lr.apiSampleInterval, lr.api.served, float64(lr.api.served)/lr.window.Seconds(), lr.apiPeak, sec(lr.apiPeakAt), lr.api.refused)
	}
	fmt.Fprintf(tw, "pods ready (the simulated loads end): p50 / p90 / all\t%s / %s / %s\t\n", sec(lr.podsReadyP50), sec(lr.podsReadyP90), sec(lr.podsReadyAll))
	suffix := ""
	if lr.loaded < lr.loads {
		suffix = fmt.Sprintf(" (only %d of %d, TIMED OUT)", lr.loaded, lr.loads)
	}
	fmt.Fprintf(tw, "InferenceWorkers show the model loaded: p50 / p90 / all\t%s / %s / %s%s\t\n", sec(lr.loadedP50), sec(lr.loadedP90), sec(lr.loadedAll), suffix)
	fmt.Fprintf(tw, "  after their pod went ready: p50 / p90 / max\t%s / %s / %s\t\n", sec(lr.lagP50), sec(lr.lagP90), sec(lr.lagMax))
	suffix = ""
	if lr.readyAgain < lr.loads {
		suffix = fmt.Sprintf(" (only %d of %d, TIMED OUT)", lr.readyAgain, lr.loads)
	}
	fmt.Fprintf(tw, "InferenceWorkers Ready again (all)\t%s%s\t\n", sec(lr.readyAll), suffix)
	fmt.Fprintf(tw, "InferenceWorkers whose status showed the download or load at all\t%d\t\n", lr.showedAny)
	if lr.download {
		fmt.Fprintf(tw, "  whose Progress showed a download %% / median highest shown\t%d / %d%%\t\n", lr.showedDownloading, lr.medianMaxDownloadingPct)
	}
	fmt.Fprintf(tw, "  whose Progress showed a load %% / median highest shown\t%d / %d%%\t\n", lr.showedLoading, lr.medianMaxLoadingPct)
	fmt.Fprintf(tw, "operator CPU over the phase (%s)\t%.1fs\t\n", sec(lr.window), lr.opCPU)
	tw.Flush()
	fmt.Fprintf(w, "load: operator writes by verb and resource (phase start to all Ready again + 5 s):\n%s", formatCounts(lr.opWrites, lr.loads))
	if len(lr.opFailures) > 0 {
		fmt.Fprintf(w, "load: operator requests that failed (kind -> HTTP code):\n%s", formatCounts(lr.opFailures, lr.loads))
	}
	if len(lr.workerFailures) > 0 {
		fmt.Fprintf(w, "load: worker requests that failed (kind -> HTTP code):\n%s", formatCounts(lr.workerFailures, lr.loads))
	}
	if lr.workerFetchErrs > 0 {
		fmt.Fprintf(w, "load: %d simulated downloads failed\n", lr.workerFetchErrs)
	}
	for _, e := range lr.simErrors {
		fmt.Fprintf(w, "load: error: %s\n", e)
	}
	fmt.Fprintf(w, "load: CPU seconds per process over the phase (load avg %s at end):\n", lr.loadAvg)
	names := make([]string, 0, len(lr.components))
	for name := range lr.components {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "    %-26s %7.1fs\n", name, lr.components[name].cpuSecond)
	}
}
