package controllers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// The narration end to end: the real worker binary, started with the args and env the
// operator's Deployment gives it and authenticated as the worker ServiceAccount the
// operator created (so its Role is proven sufficient), narrates on the real API server;
// the Events and `kubectl describe` are checked, then the operator reads them back.

var (
	workerBinOnce sync.Once
	workerBin     string
	workerBinErr  error
)

func buildWorker(t *testing.T) string {
	t.Helper()
	workerBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kubeinfer-worker-bin")
		if err != nil {
			workerBinErr = err
			return
		}
		workerBin = filepath.Join(dir, "kubeinfer-worker")
		out, err := exec.Command("go", "build", "-o", workerBin, "../cmd/kubeinfer-worker").CombinedOutput()
		if err != nil {
			workerBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if workerBinErr != nil {
		t.Fatal(workerBinErr)
	}
	return workerBin
}

// workerProc is a running worker process.
type workerProc struct {
	cmd    *exec.Cmd
	url    string
	stderr *lockedBuffer
	done   chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// podEnv resolves the container's env the way the kubelet would for pod.
func podEnv(c corev1.Container, pod *corev1.Pod) []string {
	var env []string
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			switch e.ValueFrom.FieldRef.FieldPath {
			case "metadata.name":
				v = pod.Name
			case "metadata.namespace":
				v = pod.Namespace
			case "metadata.uid":
				v = string(pod.UID)
			}
		}
		env = append(env, e.Name+"="+v)
	}
	return env
}

// startWorker runs the worker container of the Deployment as a local process: its args
// with the model path, port and termination log made local, its env resolved for pod.
func startWorker(t *testing.T, d *appsv1.Deployment, pod *corev1.Pod, kubeconfig, modelPath string, extraArgs ...string) *workerProc {
	t.Helper()
	c := container(t, d.Spec.Template.Spec, workerContainerName, false)
	port := freePort(t)
	args := slices.Clone(c.Args)
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--model":
			args[i+1] = modelPath
		case "--port":
			args[i+1] = strconv.Itoa(port)
		}
	}
	args = append(args, "--host", "127.0.0.1", "--termination-log", filepath.Join(t.TempDir(), "termination-log"))
	args = append(args, extraArgs...)
	cmd := exec.Command(buildWorker(t), args...)
	cmd.Env = append(podEnv(c, pod), "KUBECONFIG="+kubeconfig, "PATH="+os.Getenv("PATH"), "HOME="+t.TempDir())
	p := &workerProc{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port), stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("worker stderr:\n%s", p.stderr.String())
		}
	})
	return p
}

func (p *workerProc) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			t.Fatalf("worker exited before ready: %v\n%s", err, p.stderr.String())
		default:
		}
		if resp, err := http.Get(p.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("worker not ready in time\n%s", p.stderr.String())
}

// complete sends one completion and returns the completion tokens the worker reported.
func (p *workerProc) complete(t *testing.T, correlationID string, maxTokens int) int {
	t.Helper()
	body := fmt.Sprintf(`{"model":"gpt-go","prompt":"Hello there","max_tokens":%d,"temperature":0}`, maxTokens)
	req, _ := http.NewRequest(http.MethodPost, p.url+"/v1/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Correlation-ID", correlationID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("completion: %d %s", resp.StatusCode, data)
	}
	if got := resp.Header.Get("X-Correlation-ID"); got != correlationID {
		t.Errorf("correlation id echoed as %q, want %q", got, correlationID)
	}
	var out struct {
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out.Usage.CompletionTokens
}

// stop sends SIGTERM, as the kubelet does, and waits for a clean exit.
func (p *workerProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Errorf("worker exit after SIGTERM: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("worker did not stop after SIGTERM")
	}
}

// workerEvents lists the narration Events of the worker on iw, oldest first.
func workerEvents(t *testing.T, iw *inferencev1alpha1.InferenceWorker, reason string) []eventsv1.Event {
	t.Helper()
	var list eventsv1.EventList
	if err := k8sClient.List(context.Background(), &list, client.InNamespace(iw.Namespace)); err != nil {
		t.Fatal(err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.ReportingController == inferencev1alpha1.EventReportingController && e.Regarding.UID == iw.UID && e.Reason == reason {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b eventsv1.Event) int { return a.EventTime.Compare(b.EventTime.Time) })
	return out
}

func waitEvents(t *testing.T, iw *inferencev1alpha1.InferenceWorker, reason string, n int) []eventsv1.Event {
	t.Helper()
	var evs []eventsv1.Event
	eventually(t, fmt.Sprintf("%d %s events", n, reason), func() bool {
		evs = workerEvents(t, iw, reason)
		return len(evs) >= n
	})
	return evs
}

func TestWorkerNarratesOnInferenceWorker(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	sample := loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml")
	sample.Spec.Narration.InferenceEvents = inferencev1alpha1.InferenceEventsAll
	iw := createIW(t, ns, sample)
	r.reconcile(t, iw)
	iw = getIW(t, iw)
	d := getObj(t, ns, "gpt-go", &appsv1.Deployment{})
	sim := newWorkerSim(t, ns, "gpt-go")
	sim.pod("gpt-go-7d9f-x2x", loadingPod)
	pod := getObj(t, ns, "gpt-go-7d9f-x2x", &corev1.Pod{})

	// The worker authenticates as its ServiceAccount; only the operator's Role lets it narrate.
	kubeconfig := serviceAccountKubeconfig(t, ns, d.Spec.Template.Spec.ServiceAccountName)
	model, err := filepath.Abs("../worker/testdata/models/gpt-go.gguf")
	if err != nil {
		t.Fatal(err)
	}

	w := startWorker(t, d, pod, kubeconfig, model)
	w.waitReady(t)
	tokens := map[string]int{}
	for i := range 3 {
		id := fmt.Sprintf("corr-%d", i)
		tokens[id] = w.complete(t, id, 4+i)
	}

	loaded := waitEvents(t, iw, "ModelLoaded", 1)[0]
	if !regexp.MustCompile(`^Loaded GPT model gpt-go on CPU \(gpt2, \d+ MB RAM, \d+ ms\)$`).MatchString(loaded.Note) {
		t.Errorf("ModelLoaded note = %q", loaded.Note)
	}
	assertNarrationEvent(t, loaded, iw, pod, "model_load", corev1.EventTypeNormal)
	for _, k := range []string{inferencev1alpha1.AnnotationDurationMS, inferencev1alpha1.AnnotationRAMMiB, inferencev1alpha1.AnnotationParameters} {
		if n, err := strconv.Atoi(loaded.Annotations[k]); err != nil || n <= 0 {
			t.Errorf("ModelLoaded annotation %s = %q", k, loaded.Annotations[k])
		}
	}
	if _, ok := loaded.Annotations[inferencev1alpha1.AnnotationVRAMMiB]; ok {
		t.Error("the CPU engine must not report VRAM")
	}

	done := waitEvents(t, iw, "InferenceComplete", 3)
	noteRe := regexp.MustCompile(`^GPT inference complete: (\d+) tokens in \d+ ms$`)
	for _, e := range done {
		assertNarrationEvent(t, e, iw, pod, "inference_complete", corev1.EventTypeNormal)
		id := e.Annotations[inferencev1alpha1.AnnotationCorrelationID]
		want, ok := tokens[id]
		if !ok {
			t.Errorf("event with unknown correlation id %q", id)
			continue
		}
		m := noteRe.FindStringSubmatch(e.Note)
		if m == nil || m[1] != strconv.Itoa(want) || e.Annotations[inferencev1alpha1.AnnotationTokensOut] != strconv.Itoa(want) {
			t.Errorf("event %s: note %q, tokens-out %q, want %d tokens", id, e.Note, e.Annotations[inferencev1alpha1.AnnotationTokensOut], want)
		}
		if e.Annotations[inferencev1alpha1.AnnotationDevice] != "CPU" || e.Annotations[inferencev1alpha1.AnnotationTokensIn] == "" {
			t.Errorf("event %s annotations: %v", id, e.Annotations)
		}
	}

	// kubectl describe shows the narration in plain words.
	describe := kubectlDescribe(t, ns, "gpt-go")
	for _, want := range []string{"ModelLoaded", "kubeinfer.dev/worker", "Loaded GPT model gpt-go on CPU", "InferenceComplete", "GPT inference complete:"} {
		if !strings.Contains(describe, want) {
			t.Errorf("kubectl describe does not show %q:\n%s", want, describe)
		}
	}
	t.Logf("kubectl describe inferenceworker gpt-go (events):\n%s", eventsSection(describe))

	// The operator reads the load figures back once the pod is ready.
	sim.setDeployment(1, 1, 1)
	sim.pod("gpt-go-7d9f-x2x", readyPod)
	r.reconcile(t, iw)
	got := getIW(t, iw)
	c := condition(t, got, inferencev1alpha1.ConditionModelLoaded)
	if c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "last load:") || got.Status.Model.LoadMillis <= 0 || got.Status.Model.Parameters <= 0 {
		t.Errorf("ModelLoaded = %s %q, status.model = %+v", c.Status, c.Message, got.Status.Model)
	}

	w.stop(t)
	draining := waitEvents(t, iw, "WorkerDraining", 1)
	assertNarrationEvent(t, draining[0], iw, pod, "worker_draining", corev1.EventTypeNormal)
}

// TestSampledNarrationIsBounded: 50 fast requests in Sampled mode make few Events, and
// their summaries account for every request and token.
func TestSampledNarrationIsBounded(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	sample := loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml")
	sample.Spec.Narration.InferenceEvents = inferencev1alpha1.InferenceEventsSampled
	sample.Spec.Narration.MinIntervalSeconds = 2
	iw := createIW(t, ns, sample)
	r.reconcile(t, iw)
	iw = getIW(t, iw)
	d := getObj(t, ns, "gpt-go", &appsv1.Deployment{})
	if got := argValue(container(t, d.Spec.Template.Spec, workerContainerName, false).Args, "--inference-events-interval"); got != "2s" {
		t.Fatalf("--inference-events-interval = %q", got)
	}
	newWorkerSim(t, ns, "gpt-go").pod("gpt-go-0", loadingPod)
	pod := getObj(t, ns, "gpt-go-0", &corev1.Pod{})
	model, _ := filepath.Abs("../worker/testdata/models/gpt-go.gguf")
	w := startWorker(t, d, pod, adminKubeconfig(t), model)
	w.waitReady(t)

	start := time.Now()
	requests, totalTokens := 0, 0
	for i := range 50 {
		totalTokens += w.complete(t, fmt.Sprintf("s-%d", i), 2)
		requests++
	}
	time.Sleep(2100 * time.Millisecond) // past the interval: the next request carries the summary
	totalTokens += w.complete(t, "s-last", 2)
	requests++
	elapsed := time.Since(start)

	waitEvents(t, iw, "InferenceComplete", 2)
	time.Sleep(500 * time.Millisecond) // let any straggler arrive before counting
	evs := workerEvents(t, iw, "InferenceComplete")
	maxEvents := 1 + int(elapsed/(2*time.Second)) + 1
	if len(evs) > maxEvents {
		t.Errorf("%d events for %d requests in %v with a 2 s interval, want at most %d", len(evs), requests, elapsed, maxEvents)
	}
	// Each event stands for itself plus the requests it summarises.
	summary := regexp.MustCompile(`^GPT inference complete: (\d+) tokens in \d+ ms(?: \(\+(\d+) requests, (\d+) tokens since last event\))?$`)
	countedReqs, countedTokens := 0, 0
	for _, e := range evs {
		m := summary.FindStringSubmatch(e.Note)
		if m == nil {
			t.Fatalf("note %q does not match the sampled format", e.Note)
		}
		own, _ := strconv.Atoi(m[1])
		skippedReqs, _ := strconv.Atoi(m[2])
		skippedTokens, _ := strconv.Atoi(m[3])
		countedReqs += 1 + skippedReqs
		countedTokens += own + skippedTokens
	}
	if countedReqs != requests || countedTokens != totalTokens {
		t.Errorf("events account for %d requests and %d tokens, want %d and %d", countedReqs, countedTokens, requests, totalTokens)
	}
	if !strings.Contains(evs[len(evs)-1].Note, "since last event") {
		t.Errorf("the last event should summarise the skipped requests: %q", evs[len(evs)-1].Note)
	}
	w.stop(t)
}

// TestModelLoadFailureIsNarrated: a corrupt model gives a ModelLoadFailed Warning with
// the reason, and the worker exits with the code the operator reads as ModelLoadFailed.
func TestModelLoadFailureIsNarrated(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	r.reconcile(t, iw)
	iw = getIW(t, iw)
	d := getObj(t, ns, "gpt-go", &appsv1.Deployment{})
	newWorkerSim(t, ns, "gpt-go").pod("gpt-go-0", loadingPod)
	pod := getObj(t, ns, "gpt-go-0", &corev1.Pod{})
	corrupt := filepath.Join(t.TempDir(), "model.gguf")
	if err := os.WriteFile(corrupt, []byte("this is not a GGUF file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := startWorker(t, d, pod, adminKubeconfig(t), corrupt)
	select {
	case err := <-w.done:
		w.done <- err
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != inferencev1alpha1.WorkerExitModelLoadFailed {
			t.Fatalf("worker exit = %v, want code %d", err, inferencev1alpha1.WorkerExitModelLoadFailed)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("worker did not exit on a corrupt model")
	}
	ev := waitEvents(t, iw, "ModelLoadFailed", 1)[0]
	assertNarrationEvent(t, ev, iw, pod, "model_load_failed", corev1.EventTypeWarning)
	if !strings.HasPrefix(ev.Note, "Failed to load GPT model gpt-go: ") || !strings.Contains(ev.Note, corrupt) {
		t.Errorf("ModelLoadFailed note = %q", ev.Note)
	}
}

func assertNarrationEvent(t *testing.T, e eventsv1.Event, iw *inferencev1alpha1.InferenceWorker, pod *corev1.Pod, action, typ string) {
	t.Helper()
	if e.Action != action || e.Type != typ || e.ReportingInstance != pod.Name {
		t.Errorf("event %s: action %q type %q instance %q, want %q %q %q", e.Reason, e.Action, e.Type, e.ReportingInstance, action, typ, pod.Name)
	}
	if e.Regarding.Kind != "InferenceWorker" || e.Regarding.Name != iw.Name || e.Regarding.UID != iw.UID {
		t.Errorf("event %s regarding %+v", e.Reason, e.Regarding)
	}
	if e.Related == nil || e.Related.Kind != "Pod" || e.Related.Name != pod.Name || e.Related.UID != pod.UID {
		t.Errorf("event %s related %+v", e.Reason, e.Related)
	}
	if e.Annotations[inferencev1alpha1.AnnotationAction] != action {
		t.Errorf("event %s annotations %v", e.Reason, e.Annotations)
	}
}

func adminKubeconfig(t *testing.T) string {
	t.Helper()
	user, err := testEnv.AddUser(envtest.User{Name: "kubeinfer-test-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// kubectlDescribe runs the real kubectl against the envtest API server.
func kubectlDescribe(t *testing.T, ns, name string) string {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl is needed for this test: %v", err)
	}
	out, err := exec.Command(kubectl, "--kubeconfig", adminKubeconfig(t), "describe", "inferenceworker", name, "-n", ns).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl describe: %v\n%s", err, out)
	}
	return string(out)
}

func eventsSection(describe string) string {
	sc := bufio.NewScanner(strings.NewReader(describe))
	var b strings.Builder
	in := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Events:") {
			in = true
		}
		if in {
			b.WriteString(sc.Text() + "\n")
		}
	}
	return b.String()
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates to the test
// API server as ServiceAccount sa of namespace ns, as a worker pod would.
func serviceAccountKubeconfig(t *testing.T, ns, sa string) string {
	t.Helper()
	user, err := testEnv.AddUser(envtest.User{Name: "system:serviceaccount:" + ns + ":" + sa, Groups: []string{"system:serviceaccounts"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestArchitectureMismatchIsRefused: a real worker declared gpt and given a qwen3 file
// (llama family) refuses it at load, naming both, as a ModelLoadFailed Event; its
// termination message, as the kubelet reports it, becomes the ModelLoaded and Ready
// conditions.
func TestArchitectureMismatchIsRefused(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	r.reconcile(t, iw)
	iw = getIW(t, iw)
	d := getObj(t, ns, "gpt-go", &appsv1.Deployment{})
	sim := newWorkerSim(t, ns, "gpt-go")
	sim.pod("gpt-go-0", loadingPod)
	pod := getObj(t, ns, "gpt-go-0", &corev1.Pod{})
	qwen3, err := filepath.Abs("../worker/testdata/fidelity/qwen3.gguf")
	if err != nil {
		t.Fatal(err)
	}
	termLog := filepath.Join(t.TempDir(), "termination-log")
	if err := os.WriteFile(termLog, nil, 0o644); err != nil { // the kubelet creates it
		t.Fatal(err)
	}
	w := startWorker(t, d, pod, adminKubeconfig(t), qwen3, "--termination-log", termLog)
	select {
	case err := <-w.done:
		w.done <- err
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != inferencev1alpha1.WorkerExitModelLoadFailed {
			t.Fatalf("worker exit = %v, want code %d", err, inferencev1alpha1.WorkerExitModelLoadFailed)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("worker did not exit on a model of the other family")
	}
	const refusal = "file is qwen3 (llama family) but gpt was declared"
	ev := waitEvents(t, iw, "ModelLoadFailed", 1)[0]
	assertNarrationEvent(t, ev, iw, pod, "model_load_failed", corev1.EventTypeWarning)
	if !strings.HasPrefix(ev.Note, "Failed to load GPT model gpt-go: ") || !strings.Contains(ev.Note, refusal) {
		t.Errorf("ModelLoadFailed note = %q", ev.Note)
	}
	msg, err := os.ReadFile(termLog)
	if err != nil {
		t.Fatal(err)
	}
	sim.pod("gpt-go-0", crashingPod(inferencev1alpha1.WorkerExitModelLoadFailed, string(msg)))
	r.reconcile(t, iw)
	got := getIW(t, iw)
	c := assertCondition(t, got, inferencev1alpha1.ConditionModelLoaded, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoadFailed)
	if !strings.Contains(c.Message, refusal) {
		t.Errorf("ModelLoaded message %q, want it to contain %q", c.Message, refusal)
	}
	assertCondition(t, got, inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoadFailed)
}
