//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/hack/devenv"
	"github.com/kubeinfer/kubeinfer/worker/fetch/fetchtest"
)

const (
	gpuResource = corev1.ResourceName("nvidia.com/gpu")
	localNode   = "local"
)

// TestServeAndNarrate: a GPT worker on the CPU and a Llama worker on the local node's GPU
// become Ready, load their models, answer a chat completion through their Service, and
// narrate both as Events on the InferenceWorker.
func TestServeAndNarrate(t *testing.T) {
	workers := []worker{
		gptOnCPU("gpt-cpu"),
		{name: "llama-gpu", arch: "llama", path: "llama.gguf", gpus: 1, product: localGPU},
	}
	for _, w := range workers {
		apply(t, w)
	}
	for _, w := range workers {
		iw := waitReady(t, w.name)
		if c := devenv.Condition(iw, inferencev1alpha1.ConditionModelLoaded); c == nil || c.Status != metav1.ConditionTrue {
			t.Errorf("%s: ModelLoaded condition %+v", w.name, c)
		}
		pods := activePods(t, w.name)
		if len(pods) != 1 || pods[0].Spec.NodeName != localNode {
			t.Fatalf("%s: want one pod on node %s, got %d (%v)", w.name, localNode, len(pods), podNodes(pods))
		}
		limit := workerContainer(t, pods[0]).Resources.Limits[gpuResource]
		if limit.Value() != int64(w.gpus) {
			t.Errorf("%s: GPU limit %s, want %d", w.name, limit.String(), w.gpus)
		}
		ev := waitEvent(t, w.name, "ModelLoaded from the worker", func(ev *eventView) bool {
			return ev.Reason == "ModelLoaded" && ev.Controller == inferencev1alpha1.EventReportingController
		})
		if !strings.Contains(ev.Note, "Loaded") {
			t.Errorf("%s: ModelLoaded note %q", w.name, ev.Note)
		}

		base, err := env.Proxy(context.Background(), ns, w.name)
		if err != nil {
			t.Fatal(err)
		}
		id := "e2e-" + w.name
		reply, err := devenv.Chat(context.Background(), base, w.name, "Say hello in French.", 8, id)
		if err != nil {
			t.Fatal(err)
		}
		if reply.OutputTokens == 0 || reply.CorrelationID != id {
			t.Errorf("%s: reply %+v", w.name, reply)
		}
		waitEvent(t, w.name, "InferenceComplete for request "+id, func(ev *eventView) bool {
			return ev.Reason == "InferenceComplete" && ev.Annotations[inferencev1alpha1.AnnotationCorrelationID] == id
		})
	}
}

// TestGPUWorkersOnGPUNodes: GPU workers land on the simulated GPU node with the GPUs in
// their requests and limits, told to split the model over both (tensor parallelism), and
// `kubectl scale` changes how many run.
func TestGPUWorkersOnGPUNodes(t *testing.T) {
	w := worker{name: "h100", arch: "llama", path: "llama.gguf", gpus: 2, product: gpuProduct}
	apply(t, w)
	waitReady(t, w.name)
	pods := activePods(t, w.name)
	if len(pods) != 1 {
		t.Fatalf("%d pods, want 1", len(pods))
	}
	p := pods[0]
	if !strings.HasPrefix(p.Spec.NodeName, "gpu-node-") {
		t.Errorf("pod on node %q, want a simulated GPU node", p.Spec.NodeName)
	}
	res := workerContainer(t, p).Resources
	for name, l := range map[string]corev1.ResourceList{"requests": res.Requests, "limits": res.Limits} {
		if q := l[gpuResource]; q.Value() != 2 {
			t.Errorf("%s[nvidia.com/gpu] = %s, want 2", name, q.String())
		}
	}
	if p.Spec.NodeSelector["nvidia.com/gpu.product"] != gpuProduct {
		t.Errorf("nodeSelector %v, want the GPU product", p.Spec.NodeSelector)
	}
	if args := strings.Join(workerContainer(t, p).Args, " "); !strings.Contains(args, "--device cuda") || !strings.Contains(args, "--gpus 2") {
		t.Errorf("worker args %q, want the model on both GPUs (--device cuda --gpus 2)", args)
	}

	t.Run("kubectl scale up", func(t *testing.T) {
		kubectl(t, nil, "scale", "inferenceworker/"+w.name, "--replicas=2")
		iw := waitIW(t, w.name, "Ready with 2 workers", 3*time.Minute, func(iw *inferencev1alpha1.InferenceWorker) bool {
			return devenv.IsReady(iw) && iw.Status.ReadyReplicas == 2
		})
		if *iw.Spec.Replicas != 2 {
			t.Errorf("spec.replicas = %d", *iw.Spec.Replicas)
		}
		if pods := activePods(t, w.name); len(pods) != 2 {
			t.Errorf("%d pods, want 2 (%v)", len(pods), podNodes(pods))
		}
		out := kubectl(t, nil, "get", "inferenceworker", w.name, "-o", "jsonpath={.status.readyText}")
		if out != "2/2" {
			t.Errorf("kubectl get: readyText %q, want 2/2", out)
		}
	})
	t.Run("kubectl scale down", func(t *testing.T) {
		kubectl(t, nil, "scale", "inferenceworker/"+w.name, "--replicas=1")
		waitIW(t, w.name, "Ready with 1 worker", 3*time.Minute, func(iw *inferencev1alpha1.InferenceWorker) bool {
			return devenv.IsReady(iw) && iw.Status.Replicas == 1
		})
		waitPods(t, w.name, "down to 1 pod", func(pods []corev1.Pod) bool { return len(pods) == 1 })
	})
}

// TestUnschedulableUntilNodeAdded: more GPUs than any node has leaves the worker
// Unschedulable, with the scheduler's reason in the condition and an Event, until a node
// with enough GPUs joins (`devcluster add-node`).
func TestUnschedulableUntilNodeAdded(t *testing.T) {
	w := worker{name: "eight-gpus", arch: "llama", path: "llama.gguf", gpus: 8}
	apply(t, w)
	iw := waitIW(t, w.name, "Unschedulable", 2*time.Minute, func(iw *inferencev1alpha1.InferenceWorker) bool {
		c := devenv.Condition(iw, inferencev1alpha1.ConditionReady)
		return devenv.Current(iw) && c != nil && c.Reason == inferencev1alpha1.ReasonUnschedulable
	})
	c := devenv.Condition(iw, inferencev1alpha1.ConditionReady)
	if c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "Insufficient nvidia.com/gpu") {
		t.Errorf("Ready condition %s %q, want False naming the GPU shortage", c.Status, c.Message)
	}
	waitEvent(t, w.name, "Unschedulable naming the shortage", func(ev *eventView) bool {
		return ev.Reason == inferencev1alpha1.ReasonUnschedulable && ev.Type == corev1.EventTypeWarning &&
			strings.Contains(ev.Note, "Insufficient nvidia.com/gpu")
	})

	out, err := env.Devcluster(context.Background(), "add-node", "--gpus", "8", "--name", "gpu-node-big", "--gpu-product", gpuProduct)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(strings.TrimSpace(out))
	waitReady(t, w.name)
	if pods := activePods(t, w.name); len(pods) != 1 || pods[0].Spec.NodeName != "gpu-node-big" {
		t.Errorf("pods on %v, want one on gpu-node-big", podNodes(pods))
	}
	waitEvent(t, w.name, "Serving", func(ev *eventView) bool { return ev.Reason == inferencev1alpha1.ReasonServing })
}

// TestSpecChangeRollsPods: changing the spec replaces the workers with pods of the new
// template, which run the new arguments.
func TestSpecChangeRollsPods(t *testing.T) {
	w := gptOnCPU("rolling")
	apply(t, w)
	iw := waitReady(t, w.name)
	before := activePods(t, w.name)
	if len(before) != 1 {
		t.Fatalf("%d pods, want 1", len(before))
	}
	oldName, oldHash := before[0].Name, before[0].Labels["pod-template-hash"]

	kubectl(t, nil, "patch", "inferenceworker", w.name, "--type", "merge", "-p", `{"spec":{"serving":{"maxConcurrentRequests":4}}}`)
	waitIW(t, w.name, "Ready for the new spec", 3*time.Minute, func(got *inferencev1alpha1.InferenceWorker) bool {
		return got.Generation > iw.Generation && devenv.IsReady(got)
	})
	after := waitPods(t, w.name, "replaced", func(pods []corev1.Pod) bool {
		return len(pods) == 1 && pods[0].Name != oldName
	})
	p := after[0]
	if h := p.Labels["pod-template-hash"]; h == oldHash {
		t.Errorf("pod-template-hash unchanged: %s", h)
	}
	args := workerContainer(t, p).Args
	if i := slices.Index(args, "--max-concurrent"); i < 0 || args[i+1] != "4" {
		t.Errorf("new pod's args %v, want --max-concurrent 4", args)
	}
	t.Logf("pod %s (template %s) replaced by %s (template %s)", oldName, oldHash, p.Name, p.Labels["pod-template-hash"])
}

// TestKilledWorkerRestarts: a killed worker process is restarted; killed again right
// away, it waits in CrashLoopBackOff, which the operator reports as Degraded, and then it
// serves again.
func TestKilledWorkerRestarts(t *testing.T) {
	w := gptOnCPU("crashing")
	apply(t, w)
	waitReady(t, w.name)

	kill := func(restarts int32) {
		t.Helper()
		pods := activePods(t, w.name)
		if len(pods) != 1 {
			t.Fatalf("%d pods, want 1", len(pods))
		}
		pid := workerPID(t, pods[0])
		t.Logf("killing worker process %d of pod %s (restarts so far: %d)", pid, pods[0].Name, restarts)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}

	kill(0)
	waitPods(t, w.name, "restarted once and ready", func(pods []corev1.Pod) bool {
		cs := workerStatus(pods)
		return cs != nil && cs.RestartCount == 1 && cs.Ready
	})
	waitReady(t, w.name)

	kill(1)
	// The second restart waits restartBackoff: the operator says Degraded meanwhile. The
	// Event stays, so this does not depend on catching the condition in time.
	sawDegraded := false
	waitEvent(t, w.name, "CrashLoopBackOff", func(ev *eventView) bool {
		if iw, err := env.InferenceWorker(context.Background(), ns, w.name); err == nil {
			if c := devenv.Condition(iw, inferencev1alpha1.ConditionDegraded); c != nil && c.Status == metav1.ConditionTrue {
				sawDegraded = true
			}
		}
		return ev.Reason == inferencev1alpha1.ReasonCrashLoopBackOff && ev.Type == corev1.EventTypeWarning
	})
	t.Logf("Degraded=True observed while waiting: %v", sawDegraded)
	pods := waitPods(t, w.name, "restarted twice and ready", func(pods []corev1.Pod) bool {
		cs := workerStatus(pods)
		return cs != nil && cs.RestartCount == 2 && cs.Ready
	})
	if last := workerStatus(pods).LastTerminationState.Terminated; last == nil || last.ExitCode != 128+int32(syscall.SIGKILL) {
		t.Errorf("lastState.terminated = %+v, want exit code 137", last)
	}
	iw := waitReady(t, w.name)
	if c := devenv.Condition(iw, inferencev1alpha1.ConditionDegraded); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("Degraded %+v after the worker serves again", c)
	}
}

// TestBadModelPath: a model file that does not exist makes the worker narrate
// ModelLoadFailed and the operator say so in the conditions.
func TestBadModelPath(t *testing.T) {
	w := worker{name: "bad-path", arch: "gpt", path: "no/such/model.gguf"}
	apply(t, w)
	iw := waitIW(t, w.name, "ModelLoadFailed", 2*time.Minute, func(iw *inferencev1alpha1.InferenceWorker) bool {
		c := devenv.Condition(iw, inferencev1alpha1.ConditionModelLoaded)
		return devenv.Current(iw) && c != nil && c.Reason == inferencev1alpha1.ReasonModelLoadFailed
	})
	for _, ct := range []string{inferencev1alpha1.ConditionModelLoaded, inferencev1alpha1.ConditionReady, inferencev1alpha1.ConditionDegraded} {
		c := devenv.Condition(iw, ct)
		want := metav1.ConditionFalse
		if ct == inferencev1alpha1.ConditionDegraded {
			want = metav1.ConditionTrue
		}
		if c == nil || c.Status != want || c.Reason != inferencev1alpha1.ReasonModelLoadFailed {
			t.Errorf("%s condition %+v, want %s ModelLoadFailed", ct, c, want)
		} else {
			t.Logf("%s=%s %s: %s", ct, c.Status, c.Reason, c.Message)
		}
	}
	waitEvent(t, w.name, "ModelLoadFailed from the worker", func(ev *eventView) bool {
		return ev.Reason == inferencev1alpha1.ReasonModelLoadFailed && ev.Controller == inferencev1alpha1.EventReportingController &&
			ev.Type == corev1.EventTypeWarning
	})
}

// TestDeleteRemovesChildren: deleting an InferenceWorker removes every child (the garbage
// collector follows the owner references) and stops the worker processes.
func TestDeleteRemovesChildren(t *testing.T) {
	w := gptOnCPU("deleted")
	apply(t, w)
	waitReady(t, w.name)
	pids := []int{}
	for _, p := range activePods(t, w.name) {
		pids = append(pids, workerPID(t, p))
	}
	kubectl(t, nil, "delete", "inferenceworker", w.name)

	sel := client.MatchingLabels{inferencev1alpha1.LabelWorker: w.name}
	var left []string
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		left = left[:0]
		for kind, list := range childLists() {
			if err := env.Client.List(ctx, list, client.InNamespace(ns), sel); err != nil {
				return false, nil
			}
			if n := meta.LenList(list); n > 0 {
				left = append(left, fmt.Sprintf("%d %s", n, kind))
			}
		}
		return len(left) == 0, nil
	})
	if err != nil {
		t.Fatalf("children left 2 minutes after the delete: %v", left)
	}
	for _, pid := range pids {
		if devenv.ProcessAlive(pid) {
			t.Errorf("worker process %d still runs", pid)
		}
	}
}

// waitPods polls the InferenceWorker's active pods until ok holds.
func waitPods(t *testing.T, name, what string, ok func([]corev1.Pod) bool) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err := workerPods(ctx, name, false)
		if err != nil {
			return false, nil
		}
		pods = got
		return ok(got), nil
	})
	if err != nil {
		describe(t, name)
		t.Fatalf("pods of %s not %s", name, what)
	}
	return pods
}

func workerContainer(t *testing.T, p corev1.Pod) corev1.Container {
	t.Helper()
	for _, c := range p.Spec.Containers {
		if c.Name == "worker" {
			return c
		}
	}
	t.Fatalf("pod %s has no worker container", p.Name)
	return corev1.Container{}
}

func workerStatus(pods []corev1.Pod) *corev1.ContainerStatus {
	if len(pods) != 1 {
		return nil
	}
	for i, cs := range pods[0].Status.ContainerStatuses {
		if cs.Name == "worker" {
			return &pods[0].Status.ContainerStatuses[i]
		}
	}
	return nil
}

// workerPID is the process of the pod's worker container on the local node, which
// reports it in the container ID (local://PID).
func workerPID(t *testing.T, p corev1.Pod) int {
	t.Helper()
	cs := workerStatus([]corev1.Pod{p})
	if cs == nil || cs.State.Running == nil {
		t.Fatalf("pod %s: worker not running: %+v", p.Name, cs)
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(cs.ContainerID, "local://"))
	if err != nil || !devenv.ProcessAlive(pid) {
		t.Fatalf("pod %s: container ID %q is no running local process", p.Name, cs.ContainerID)
	}
	return pid
}

func podNodes(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name+"@"+p.Spec.NodeName)
	}
	return out
}

// TestDownloadProgress: a URL model served slowly (a throttled local server, ~10 s for
// the 523 kB GPT-2 test model) is downloaded by the init container, which reports its
// progress: `kubectl get iw -w` shows the Progress column rise while the STATUS is
// ModelDownloading, and the ModelLoaded condition reads "Downloading ... of 522.7 kB
// (N%, ...)", before the worker loads the model and serves. The captured watch is logged
// and written to $TMPDIR/kubeinfer-e2e/kubectl-get-iw-w.txt.
func TestDownloadProgress(t *testing.T) {
	const name = "downloaded"
	model, err := os.ReadFile(filepath.Join(env.Repo, "worker", "testdata", "fidelity", "gpt2.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	srv := fetchtest.ThrottledServer(t, model, 50_000)
	sum := sha256.Sum256(model)
	manifest := fmt.Sprintf(`apiVersion: inference.kubeinfer.dev/v1alpha1
kind: InferenceWorker
metadata:
  name: %s
  namespace: %s
spec:
  model:
    architecture: gpt
    servedName: gpt2
    source:
      url: {url: %q, sha256: %s}
  replicas: 1
  gpu: {count: 0}
`, name, ns, srv.URL+"/models/gpt2.gguf", hex.EncodeToString(sum[:]))
	applyManifest(t, name, manifest)

	// kubectl get iw -w, as a person would watch it, until the worker serves.
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	watch := exec.CommandContext(watchCtx, "kubectl", "-n", ns, "get", "inferenceworker", name, "-w")
	watch.Env = append(os.Environ(), "KUBECONFIG="+env.Kubeconfig)
	var watched lockedBuffer
	watch.Stdout, watch.Stderr = &watched, &watched
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	watchDone := make(chan struct{})
	go func() { _ = watch.Wait(); close(watchDone) }()

	// Meanwhile the ModelLoaded condition, as `kubectl describe` shows it.
	var messages []string
	waitIW(t, name, "Ready", 2*time.Minute, func(iw *inferencev1alpha1.InferenceWorker) bool {
		if c := devenv.Condition(iw, inferencev1alpha1.ConditionModelLoaded); c != nil && c.Reason == inferencev1alpha1.ReasonModelDownloading &&
			strings.HasPrefix(c.Message, "Downloading ") && (len(messages) == 0 || messages[len(messages)-1] != c.Message) {
			messages = append(messages, c.Message)
		}
		return devenv.IsReady(iw)
	})
	time.Sleep(time.Second) // let the watch print the Ready line
	stopWatch()
	<-watchDone
	out := watched.String()
	t.Logf("kubectl get inferenceworker %s -w:\n%s", name, out)
	t.Logf("ModelLoaded condition while downloading:\n  %s", strings.Join(messages, "\n  "))
	if dir := filepath.Join(os.TempDir(), "kubeinfer-e2e"); os.MkdirAll(dir, 0o755) == nil {
		path := filepath.Join(dir, "kubectl-get-iw-w.txt")
		if err := os.WriteFile(path, []byte("$ kubectl get inferenceworker "+name+" -w\n"+out), 0o644); err == nil {
			t.Logf("saved to %s", path)
		}
	}

	// The Progress column rose through at least two values while downloading, then Serving.
	var progress []int
	served := false
	pct := regexp.MustCompile(`\s(\d+)%\s`)
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(line, " "+inferencev1alpha1.ReasonModelDownloading+" "):
			if m := pct.FindStringSubmatch(line); m != nil {
				v, _ := strconv.Atoi(m[1])
				if len(progress) == 0 || progress[len(progress)-1] != v {
					progress = append(progress, v)
				}
			}
		case strings.Contains(line, " "+inferencev1alpha1.ReasonServing+" "):
			served = true
		}
	}
	if len(progress) < 2 || !slices.IsSorted(progress) {
		t.Errorf("Progress column while downloading: %v, want at least two rising values", progress)
	}
	if !served {
		t.Errorf("the watch never showed Serving")
	}
	if len(messages) < 2 {
		t.Errorf("ModelLoaded messages while downloading: %q, want the progress to move", messages)
	}
	for _, m := range messages {
		if !regexp.MustCompile(`^Downloading \d+\.\d of 522\.7 kB \(\d+%`).MatchString(m) {
			t.Errorf("ModelLoaded message %q", m)
		}
	}
	waitEvent(t, name, "ModelDownloaded from the init container", func(ev *eventView) bool {
		return ev.Reason == "ModelDownloaded" && ev.Controller == inferencev1alpha1.EventReportingController
	})
}

// lockedBuffer is a bytes.Buffer that a process and the test may use at once.
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
