//go:build e2e

// Package e2e tests kubeinfer end to end (`make test-e2e`): the real operator process
// (bin/manager) and worker processes (bin/kubeinfer-worker) on a devcluster with a
// simulated GPU node (KWOK) and the local node whose pods really run. TestMain starts the
// cluster once and installs the operator with `helm install` of charts/kubeinfer (its
// pod runs on the local node); the tests run one after another in namespace e2e, which
// enforces the restricted Pod Security Standard, each with its own InferenceWorkers,
// which they delete when done.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/hack/devenv"
)

const (
	ns = "e2e"
	// The simulated GPU node's shape; the local node has one GPU (product kubeinfer-local).
	gpuProduct  = "NVIDIA-H100-80GB-HBM3"
	gpusPerNode = 4
	localGPU    = "kubeinfer-local"
	// restartBackoff is the local node's first CrashLoopBackOff delay: long enough that the
	// operator sees a worker waiting to restart, short enough for the suite.
	restartBackoff = 15 * time.Second
)

var (
	env      *devenv.Env
	keepData = flag.Bool("e2e.keep-state", false, "keep the devcluster state dir (logs, pod dirs) even when the tests pass")
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	start := time.Now()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	repo, err := devenv.FindRepo()
	if err != nil {
		return fail(err)
	}
	if err := devenv.Build(ctx, repo, os.Stderr); err != nil {
		return fail(err)
	}
	stateDir, err := os.MkdirTemp("", "kubeinfer-e2e-")
	if err != nil {
		return fail(err)
	}
	env, err = devenv.Start(ctx, devenv.Options{
		Repo: repo, StateDir: stateDir,
		GPUNodes: 1, GPUsPerNode: gpusPerNode, LocalGPUs: 1,
		RestartBackoff: restartBackoff, Log: os.Stderr,
		// Read autoscaled workers' load every 2 s rather than 10, so TestAutoscalingOnLoad is short.
		ManagerArgs: []string{"--autoscaling-interval=" + autoscalingInterval.String()},
		// The node cache of this cluster's local node (a hostPath), not the machine's.
		Helm: &devenv.HelmOptions{Set: []string{"nodeCacheDir=" + filepath.Join(stateDir, "node-cache")}},
	})
	if err != nil {
		return fail(err)
	}
	code := 1
	defer func() {
		env.Stop()
		if left := devenv.ProcessesUsing(stateDir); len(left) > 0 {
			for _, pid := range left {
				fmt.Fprintln(os.Stderr, "e2e: left running after stop:", devenv.Describe(pid))
			}
			code = 1
		}
		if code == 0 && !*keepData {
			_ = os.RemoveAll(stateDir)
		} else {
			fmt.Fprintf(os.Stderr, "e2e: logs of the cluster, operator and workers kept in %s (logs/, pods/*/logs/)\n", stateDir)
		}
		fmt.Fprintf(os.Stderr, "e2e: finished in %s\n", time.Since(start).Round(time.Second))
	}()
	if err := setupNamespace(ctx); err != nil {
		return fail(err)
	}
	fmt.Fprintf(os.Stderr, "e2e: cluster, operator and namespace %s ready in %s\n", ns, time.Since(start).Round(time.Second))
	code = m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "e2e: operator log (%s) ends:\n%s\n", env.OperatorLog(), devenv.Tail(env.OperatorLog(), 30))
	}
	return code
}

// setupNamespace creates the test namespace, which enforces the restricted Pod Security
// Standard (so every worker pod of the suite must meet it), with a "models" claim holding
// the project's small models (worker/testdata/models, made by hack/train): gpt2.gguf
// (gpt-go, a GPT-2) and llama.gguf (llama-go).
func setupNamespace(ctx context.Context) error {
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: devenv.RestrictedLabels}}); err != nil {
		return err
	}
	// Worker pods project the namespace's root CA; wait for the controller that publishes it.
	if err := waitRootCA(ctx, ns); err != nil {
		return fmt.Errorf("kube-root-ca.crt in %s: %w", ns, err)
	}
	if err := env.CreateModelsPVC(ctx, ns, "models"); err != nil {
		return err
	}
	for dst, src := range map[string]string{"gpt2.gguf": "gpt-go.gguf", "llama.gguf": "llama-go.gguf"} {
		if err := devenv.CopyFile(filepath.Join(env.Repo, "worker", "testdata", "models", src), filepath.Join(env.PVCDir(ns, "models"), dst)); err != nil {
			return err
		}
	}
	return nil
}

// worker describes a test InferenceWorker reading from the "models" claim.
type worker struct {
	name     string
	arch     string // llama or gpt
	path     string // on the claim
	gpus     int
	product  string // nvidia.com/gpu.product to select, if any
	replicas int
	events   string // spec.narration.inferenceEvents, default All
}

func (w worker) manifest() string {
	if w.replicas == 0 {
		w.replicas = 1
	}
	if w.events == "" {
		w.events = "All"
	}
	product := ""
	if w.product != "" {
		product = "\n    product: " + w.product
	}
	return fmt.Sprintf(`apiVersion: inference.kubeinfer.dev/v1alpha1
kind: InferenceWorker
metadata:
  name: %s
  namespace: %s
spec:
  model:
    architecture: %s
    source:
      pvc: {claimName: models, path: %s}
  replicas: %d
  gpu:
    count: %d%s
  narration:
    inferenceEvents: %s
`, w.name, ns, w.arch, w.path, w.replicas, w.gpus, product, w.events)
}

// gptOnCPU is a GPT worker on the CPU engine: its pods run on the local node.
func gptOnCPU(name string) worker {
	return worker{name: name, arch: "gpt", path: "gpt2.gguf"}
}

// apply creates or updates w with the real kubectl and deletes it when the test ends,
// waiting until its pods are gone so the next test has the GPUs and CPU to itself.
func apply(t *testing.T, w worker) {
	t.Helper()
	applyManifest(t, w.name, w.manifest())
}

// applyManifest applies the manifest of the InferenceWorker name, as apply does.
func applyManifest(t *testing.T, name, manifest string) {
	t.Helper()
	kubectl(t, []byte(manifest), "apply", "-f", "-")
	t.Cleanup(func() { deleteWorkers(t, name) })
}

// applyAll applies the workers with one kubectl apply and deletes them together when the
// test ends, so that their pods start and stop at the same time rather than one by one.
func applyAll(t *testing.T, ws ...worker) {
	t.Helper()
	var manifests, names []string
	for _, w := range ws {
		manifests = append(manifests, w.manifest())
		names = append(names, w.name)
	}
	kubectl(t, []byte(strings.Join(manifests, "---\n")), "apply", "-f", "-")
	t.Cleanup(func() { deleteWorkers(t, names...) })
}

// deleteWorkers deletes the InferenceWorkers and waits until their pods are gone, so the
// next test has the GPUs and CPU to itself.
func deleteWorkers(t *testing.T, names ...string) {
	ctx := context.Background()
	args := append([]string{"-n", ns, "delete", "inferenceworker", "--ignore-not-found", "--wait=false"}, names...)
	if _, err := env.Kubectl(ctx, nil, args...); err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	var left []string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		left = left[:0]
		for _, name := range names {
			pods, err := workerPods(ctx, name, true)
			if err != nil || len(pods) > 0 {
				left = append(left, name)
			}
		}
		return len(left) == 0, nil
	})
	if err != nil {
		t.Errorf("cleanup: pods of %s still exist after 2 minutes", strings.Join(left, ", "))
	}
}

func kubectl(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	out, err := env.Kubectl(context.Background(), stdin, append([]string{"-n", ns}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitIW polls the InferenceWorker until ok holds; on timeout it fails with what it saw.
func waitIW(t *testing.T, name, what string, timeout time.Duration, ok func(*inferencev1alpha1.InferenceWorker) bool) *inferencev1alpha1.InferenceWorker {
	t.Helper()
	var iw *inferencev1alpha1.InferenceWorker
	start := time.Now()
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		got, err := env.InferenceWorker(ctx, ns, name)
		if err != nil {
			return false, nil
		}
		iw = got
		return ok(got), nil
	})
	if err != nil {
		describe(t, name)
		t.Fatalf("InferenceWorker %s not %s after %s", name, what, timeout)
	}
	t.Logf("%s %s after %s", name, what, time.Since(start).Round(100*time.Millisecond))
	return iw
}

func waitReady(t *testing.T, name string) *inferencev1alpha1.InferenceWorker {
	t.Helper()
	return waitIW(t, name, "Ready", 3*time.Minute, devenv.IsReady)
}

// describe logs what a person would look at: kubectl describe and the pods.
func describe(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	out, _ := env.Kubectl(ctx, nil, "-n", ns, "describe", "inferenceworker", name)
	t.Logf("kubectl describe inferenceworker %s:\n%s", name, out)
	out, _ = env.Kubectl(ctx, nil, "-n", ns, "get", "pods", "-o", "wide", "-l", inferencev1alpha1.LabelWorker+"="+name)
	t.Logf("pods:\n%s", out)
}

// workerPods lists the InferenceWorker's pods; terminating ones only if withTerminating.
func workerPods(ctx context.Context, name string, withTerminating bool) ([]corev1.Pod, error) {
	list := &corev1.PodList{}
	if err := env.Client.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{inferencev1alpha1.LabelWorker: name}); err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if withTerminating || p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

func activePods(t *testing.T, name string) []corev1.Pod {
	t.Helper()
	pods, err := workerPods(context.Background(), name, false)
	if err != nil {
		t.Fatal(err)
	}
	return pods
}

// waitEvent waits for an Event about the InferenceWorker that satisfies ok.
func waitEvent(t *testing.T, name, what string, ok func(ev *eventView) bool) *eventView {
	t.Helper()
	var found *eventView
	var seen []string
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		evs, err := env.Events(ctx, ns, name)
		if err != nil {
			return false, nil
		}
		seen = seen[:0]
		for i := range evs {
			v := &eventView{Reason: evs[i].Reason, Type: evs[i].Type, Note: evs[i].Note,
				Controller: evs[i].ReportingController, Annotations: evs[i].Annotations}
			seen = append(seen, v.String())
			if ok(v) {
				found = v
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no Event %s about %s; Events:\n%s", what, name, strings.Join(seen, "\n"))
	}
	t.Logf("Event: %s", found)
	return found
}

type eventView struct {
	Reason, Type, Note, Controller string
	Annotations                    map[string]string
}

func (v *eventView) String() string {
	return fmt.Sprintf("%s %s (%s): %s", v.Type, v.Reason, v.Controller, v.Note)
}

// children are the kinds the operator creates for an InferenceWorker, with the
// ReplicaSets and pods the Deployment makes.
func childLists() map[string]client.ObjectList {
	return map[string]client.ObjectList{
		"Deployment":     &appsv1.DeploymentList{},
		"ReplicaSet":     &appsv1.ReplicaSetList{},
		"Pod":            &corev1.PodList{},
		"Service":        &corev1.ServiceList{},
		"ServiceAccount": &corev1.ServiceAccountList{},
		"Role":           &rbacv1.RoleList{},
		"RoleBinding":    &rbacv1.RoleBindingList{},
	}
}
