//go:build gitops

package gitops

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

const (
	argocdNS  = "argocd"
	modelsNS  = "models"
	appName   = "inference-workers"
	claimName = "models"
	// celMessage is the InferenceWorker CRD's rule on spec.model.source.
	celMessage = "set exactly one of pvc, url or image"
)

var (
	applicationGVR    = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	inferenceWorkerGV = schema.GroupVersionResource{Group: "inference.kubeinfer.dev", Version: "v1alpha1", Resource: "inferenceworkers"}
)

// gitops is everything TestGitOps runs: a devcluster with the operator, Argo CD's
// application controller and repo server with redis, and a Git repository over HTTP.
type gitops struct {
	repo, work string
	c          *cluster
	git        *gitRepo
}

// TestGitOps: a real Argo CD syncs a Git directory holding a llama
// and a gpt InferenceWorker into a devcluster, where the operator creates the workers and
// the local node runs them (they really load the fixture models), and the Application's
// sync and health, as Argo CD reports them, follow each commit.
func TestGitOps(t *testing.T) {
	suiteStart := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 35*time.Minute)
	defer cancel()
	g := setUp(t, ctx)
	t.Logf("environment up after %s", time.Since(suiteStart).Round(time.Second))

	// 1. The initial commit: both workers load their models and serve.
	step := time.Now()
	rev := g.git.commit(t, "llama and gpt workers", map[string]string{
		"workers/llama.yaml": workerYAML("llama", "llama", "llama3_rope_scaling.gguf", 1, 1, ""),
		"workers/gpt.yaml":   workerYAML("gpt", "gpt", "gpt2.gguf", 1, 0, ""),
	})
	g.createApplication(t, ctx)
	st := g.waitApp(t, ctx, "1 initial sync", 6*time.Minute, func(s appStatus) bool {
		return s.Sync.Status == "Synced" && s.Sync.Revision == rev && s.Health.Status == "Healthy" &&
			s.resourceHealth("llama") == "Healthy" && s.resourceHealth("gpt") == "Healthy" && s.opPhase() == "Succeeded"
	})
	g.logWorkers(t, ctx)
	t.Logf("step 1 (initial sync to Synced/Healthy) took %s", time.Since(step).Round(time.Second))

	// 2. No drift: the operator writes status and owns children, Argo CD keeps the
	// Application Synced and does not sync again (selfHeal would, on drift).
	step = time.Now()
	firstOp := st.OperationState.StartedAt
	g.holdApp(t, ctx, "2 steady 60s", 60*time.Second, func(s appStatus) error {
		if s.Sync.Status != "Synced" || s.Health.Status != "Healthy" {
			return fmt.Errorf("sync=%s health=%s", s.Sync.Status, s.Health.Status)
		}
		if s.OperationState == nil || s.OperationState.StartedAt != firstOp {
			return fmt.Errorf("a new sync operation started: %s", s.summary())
		}
		return nil
	})
	t.Logf("step 2 (60 s without drift) took %s", time.Since(step).Round(time.Second))

	// 3. Scale gpt to 2 workers: Progressing while the new worker loads, then Healthy.
	step = time.Now()
	rev = g.git.commit(t, "scale gpt to 2", map[string]string{
		"workers/gpt.yaml": workerYAML("gpt", "gpt", "gpt2.gguf", 2, 0, ""),
	})
	g.refresh(t, ctx)
	g.waitApp(t, ctx, "3 scale: progressing", 3*time.Minute, func(s appStatus) bool {
		return s.Sync.Revision == rev && s.Health.Status == "Progressing" && s.resourceHealth("gpt") == "Progressing"
	})
	g.waitApp(t, ctx, "3 scale: healthy", 4*time.Minute, func(s appStatus) bool {
		return s.Sync.Status == "Synced" && s.Sync.Revision == rev && s.Health.Status == "Healthy" &&
			s.resourceHealth("gpt") == "Healthy" && s.resourceHealth("llama") == "Healthy"
	})
	if r, ready := g.workerReplicas(t, ctx, "gpt"); r != 2 || ready != 2 {
		t.Fatalf("gpt: status.replicas=%d readyReplicas=%d, want 2/2", r, ready)
	}
	g.logWorkers(t, ctx)
	t.Logf("step 3 (scale) took %s", time.Since(step).Round(time.Second))

	// 4. Two model sources: the API server's CEL rule rejects the manifest, so the sync
	// fails with its message; the running llama workers are left alone.
	step = time.Now()
	badURL := "      url:\n        url: https://models.example.com/llama.gguf\n        sha256: " + strings.Repeat("ab", 32) + "\n"
	rev = g.git.commit(t, "llama: two model sources", map[string]string{
		"workers/llama.yaml": workerYAML("llama", "llama", "llama3_rope_scaling.gguf", 1, 1, badURL),
	})
	g.refresh(t, ctx)
	// With ServerSideApply=true, Argo CD 3.6 also diffs server-side (a dry-run apply), so
	// the API server's rejection surfaces while comparing, as a ComparisonError, and no
	// sync is attempted.
	st = g.waitApp(t, ctx, "4a invalid source: comparison error (server-side diff)", 2*time.Minute, func(s appStatus) bool {
		return s.Sync.Revision == rev && s.conditionContaining("ComparisonError", celMessage) != ""
	})
	t.Logf("condition ComparisonError: %s", st.conditionContaining("ComparisonError", celMessage))
	// With client-side diff the Application is OutOfSync and the automated sync runs and
	// fails on the API server's validation.
	g.setCompareOptions(t, ctx, "ServerSideDiff=false")
	// Automated syncs are retried (Argo CD 3's default limit is 5, with backoff): a failed
	// attempt shows as phase Running with retryCount > 0 until the last one ends Failed.
	st = g.waitApp(t, ctx, "4b invalid source: sync failed (ServerSideDiff=false)", 3*time.Minute, func(s appStatus) bool {
		op := s.OperationState
		return op != nil && op.SyncResult != nil && op.SyncResult.Revision == rev &&
			(op.Phase == "Failed" || op.Phase == "Error" || (op.Phase == "Running" && op.RetryCount > 0 && strings.Contains(op.Message, celMessage)))
	})
	if st.Sync.Status != "OutOfSync" {
		t.Errorf("after the failed sync: sync=%s, want OutOfSync", st.Sync.Status)
	}
	if !strings.Contains(st.OperationState.Message, celMessage) {
		t.Errorf("operationState.message %q does not contain the API server's CEL message %q", st.OperationState.Message, celMessage)
	}
	t.Logf("operationState.phase=%s message: %s", st.OperationState.Phase, st.OperationState.Message)
	for _, r := range st.OperationState.SyncResult.Resources {
		t.Logf("operationState.syncResult.resources: %s/%s status=%s message=%s", r.Kind, r.Name, r.Status, r.Message)
	}
	if r, ready := g.workerReplicas(t, ctx, "llama"); r != 1 || ready != 1 {
		t.Errorf("llama after the rejected commit: replicas=%d ready=%d, want the old 1/1 still serving", r, ready)
	}
	g.setCompareOptions(t, ctx, "")
	// A retrying sync holds the Application until its retries are spent (minutes); fix
	// forward as one would in the UI: terminate it, then commit the next change.
	if st.opPhase() == "Running" {
		g.terminateOperation(t, ctx)
	}
	t.Logf("step 4 (CEL rejection) took %s", time.Since(step).Round(time.Second))

	// 5. A corrupt model file: the sync succeeds, the new llama worker cannot load the
	// model, the operator reports ModelLoadFailed and Argo CD shows Degraded.
	step = time.Now()
	rev = g.git.commit(t, "llama: corrupt model file", map[string]string{
		"workers/llama.yaml": workerYAML("llama", "llama", "corrupt.gguf", 1, 1, ""),
	})
	g.refresh(t, ctx)
	st = g.waitApp(t, ctx, "5 corrupt model: degraded", 4*time.Minute, func(s appStatus) bool {
		return s.Sync.Status == "Synced" && s.Sync.Revision == rev && s.Health.Status == "Degraded" &&
			s.resourceHealth("llama") == "Degraded"
	})
	if msg := st.resource("llama").Health.Message; !strings.HasPrefix(msg, "ModelLoadFailed: ") {
		t.Errorf("llama health message %q, want the ModelLoadFailed reason", msg)
	}
	g.logWorkers(t, ctx)
	t.Logf("step 5 (corrupt model) took %s", time.Since(step).Round(time.Second))

	// 6. Delete llama from Git: automated sync prunes it, and the garbage collector removes
	// its children (Deployment, ReplicaSets, pods, Service, ServiceAccount, Role, RoleBinding).
	step = time.Now()
	rev = g.git.commit(t, "remove llama", map[string]string{"workers/llama.yaml": ""})
	g.refresh(t, ctx)
	g.waitApp(t, ctx, "6 prune: llama gone", 3*time.Minute, func(s appStatus) bool {
		return s.Sync.Status == "Synced" && s.Sync.Revision == rev && s.Health.Status == "Healthy" &&
			s.resource("llama") == nil && s.resourceHealth("gpt") == "Healthy"
	})
	g.waitLlamaGone(t, ctx)
	t.Logf("step 6 (prune) took %s", time.Since(step).Round(time.Second))

	t.Logf("TestGitOps passed in %s (environment %s)", time.Since(suiteStart).Round(time.Second), g.work)
}

// workerYAML is an InferenceWorker reading path from the "models" PVC. extraSource is
// appended inside spec.model.source (a second source, for the CEL rule).
func workerYAML(name, arch, path string, replicas, gpus int, extraSource string) string {
	return fmt.Sprintf(`apiVersion: inference.kubeinfer.dev/v1alpha1
kind: InferenceWorker
metadata:
  name: %s
spec:
  model:
    architecture: %s
    source:
      pvc:
        claimName: %s
        path: %s
%s  replicas: %d
  gpu:
    count: %d
`, name, arch, claimName, path, extraSource, replicas, gpus)
}

// setUp starts everything; all of it is stopped by t.Cleanup in reverse order.
func setUp(t *testing.T, ctx context.Context) *gitops {
	repo := findRepoRoot(t)
	argo := ensureArgoCD(t, repo)

	work, err := os.MkdirTemp("", "kubeinfer-gitops-")
	must(t, err, "temp dir")
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("KUBEINFER_GITOPS_KEEP") != "" {
			t.Logf("kept %s (logs in %s/logs, pod logs in %s/cluster/pods)", work, work, work)
			return
		}
		_ = os.RemoveAll(work)
	})
	logs := filepath.Join(work, "logs")
	bin := filepath.Join(work, "bin")
	stateDir := filepath.Join(work, "cluster")
	for _, d := range []string{logs, bin} {
		must(t, os.MkdirAll(d, 0o755), d)
	}
	t.Logf("work dir %s", work)

	// What devcluster's local node runs (kubeinfer-worker from --bin-dir), the operator
	// and devcluster itself, built from this checkout.
	start := time.Now()
	for _, cmd := range []string{"kubeinfer-worker", "manager"} {
		if dir := os.Getenv("KUBEINFER_GITOPS_PREBUILT"); dir != "" {
			// Prebuilt binaries, e.g. while the checkout is mid-change and does not build.
			data, err := os.ReadFile(filepath.Join(dir, cmd))
			must(t, err, "KUBEINFER_GITOPS_PREBUILT")
			must(t, os.WriteFile(filepath.Join(bin, cmd), data, 0o755), "copy ", cmd)
			t.Logf("%s: prebuilt, from %s (KUBEINFER_GITOPS_PREBUILT)", cmd, dir)
			continue
		}
		goBuild(t, repo, filepath.Join(bin, cmd), "./cmd/"+cmd)
	}
	goBuild(t, repo, filepath.Join(bin, "devcluster"), "./hack/devcluster")
	t.Logf("built kubeinfer-worker, manager, devcluster in %s", time.Since(start).Round(time.Second))

	// devcluster without KWOK GPU nodes: every pod lands on the local node, which
	// advertises GPUs and runs containers as processes.
	readyFile := filepath.Join(stateDir, "ready")
	dc := startProcess(t, logs, "devcluster", filepath.Join(bin, "devcluster"), []string{"devcluster", "up",
		"--state-dir", stateDir, "--bin-dir", bin, "--gpu-nodes", "0", "--local-gpus", "4",
		"--restart-backoff", "2s", "--ready-file", readyFile})
	start = time.Now()
	var kubeconfig string
	poll(t, ctx, 25*time.Minute, "devcluster ready (first use builds the control plane)", func() (bool, error) {
		if dc.exited() {
			t.Fatalf("devcluster exited; see %s", dc.logPath)
		}
		b, err := os.ReadFile(readyFile)
		kubeconfig = strings.TrimSpace(string(b))
		return err == nil && kubeconfig != "", err
	})
	t.Logf("devcluster ready in %s", time.Since(start).Round(time.Second))
	c := newCluster(t, kubeconfig)
	g := &gitops{repo: repo, work: work, c: c}

	// The models: the local node mounts PVC "models" of namespace "models" from
	// <state-dir>/pvc/models/models/.
	pvcDir := filepath.Join(stateDir, "pvc", modelsNS, claimName)
	must(t, os.MkdirAll(pvcDir, 0o755), "pvc dir")
	for _, f := range []string{"gpt2.gguf", "llama3_rope_scaling.gguf"} {
		data, err := os.ReadFile(filepath.Join(repo, "worker", "testdata", "fidelity", f))
		must(t, err, f)
		must(t, os.WriteFile(filepath.Join(pvcDir, f), data, 0o644), f)
	}
	must(t, os.WriteFile(filepath.Join(pvcDir, "corrupt.gguf"), []byte("this is not a GGUF file\n"), 0o644), "corrupt.gguf")
	c.apply(t, ctx, decodeYAML(t, []byte(fmt.Sprintf(storageYAML, modelsNS, claimName, pvcDir)))...)
	// devcluster runs no persistentvolume-binder controller: finish the binding as it
	// would (the scheduler wants the bind-completed annotation, kubectl the phases).
	_, err = c.Client.CoreV1().PersistentVolumes().Patch(ctx, modelsNS+"-"+claimName, types.MergePatchType,
		[]byte(`{"status":{"phase":"Bound"}}`), metav1.PatchOptions{}, "status")
	must(t, err, "PV status")
	_, err = c.Client.CoreV1().PersistentVolumeClaims(modelsNS).Patch(ctx, claimName, types.MergePatchType,
		[]byte(`{"status":{"phase":"Bound","accessModes":["ReadOnlyMany"],"capacity":{"storage":"1Gi"}}}`), metav1.PatchOptions{}, "status")
	must(t, err, "PVC status")

	// The operator, with its CRD.
	c.waitCRDs(t, ctx, c.applyFile(t, ctx, filepath.Join(repo, "config", "crd", "bases", "inference.kubeinfer.dev_inferenceworkers.yaml")))
	startProcess(t, logs, "manager", filepath.Join(bin, "manager"), []string{"manager",
		"--health-probe-bind-address=0", "--metrics-bind-address=0"}, "KUBECONFIG="+kubeconfig)

	// Redis on loopback, as a child process.
	redisPort := freePort(t)
	redisAddr := "127.0.0.1:" + strconv.Itoa(redisPort)
	redisPath, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found (apt-get install redis-server): %v", err)
	}
	redis := startProcess(t, logs, "redis", redisPath, []string{"redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(redisPort),
		"--save", "", "--appendonly", "no", "--dir", work, "--protected-mode", "yes"})
	waitTCP(t, redisAddr, 30*time.Second, redis)

	// Argo CD's CRDs and settings.
	var crds []*unstructured.Unstructured
	for _, f := range []string{"application-crd.yaml", "applicationset-crd.yaml", "appproject-crd.yaml"} {
		crds = append(crds, c.applyFile(t, ctx, filepath.Join(argo.CRDDir, f))...)
	}
	c.waitCRDs(t, ctx, crds)
	c.apply(t, ctx, g.argoCDSettings(t)...)

	// The Git repository, served over HTTP by git http-backend (smart HTTP).
	g.git = newGitRepo(t, work)

	// repo-server and application-controller: the same binary, told apart by argv[0].
	repoServerPort := freePort(t)
	repoServerAddr := "127.0.0.1:" + strconv.Itoa(repoServerPort)
	rs := startProcess(t, logs, "argocd-repo-server", argo.Binary, []string{"argocd-repo-server",
		"--address", "127.0.0.1", "--port", strconv.Itoa(repoServerPort),
		"--metrics-address", "127.0.0.1", "--metrics-port", strconv.Itoa(freePort(t)),
		// Plaintext gRPC on loopback; v3.6 rejects its default mTLS client CA path with it.
		"--disable-tls", "--client-ca-path=",
		"--redis", redisAddr, "--logformat", "text", "--parallelismlimit", "2"},
		"PATH="+argo.ScriptDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"ARGOCD_GPG_ENABLED=false", "ARGOCD_ASK_PASS_SOCK="+filepath.Join(work, "repo-server-askpass.sock"), "TMPDIR="+mkdir(t, work, "repo-server-tmp"), "HOME="+mkdir(t, work, "repo-server-home"))
	waitTCP(t, repoServerAddr, 2*time.Minute, rs)
	ac := startProcess(t, logs, "argocd-application-controller", argo.Binary, []string{"argocd-application-controller",
		"--kubeconfig", kubeconfig, "--namespace", argocdNS,
		"--repo-server", repoServerAddr, "--repo-server-plaintext", "--redis", redisAddr,
		"--metrics-port", strconv.Itoa(freePort(t)), "--logformat", "text",
		"--status-processors", "4", "--operation-processors", "2", "--kubectl-parallelism-limit", "4",
		// Git is polled every 20s; after each commit the test also asks for a refresh,
		// as the Git webhook would.
		"--app-resync", "20", "--app-resync-jitter", "0",
		// Argo CD 3 keeps resource health out of the Application by default; persist it
		// so .status.resources[].health can be read.
		"--persist-resource-health"},
		"ARGOCD_CONTROLLER_REPLICAS=1", "HOME="+mkdir(t, work, "controller-home"),
		// The in-cluster destination (https://kubernetes.default.svc) is the devcluster:
		// Argo CD's switch for running outside a pod (its own `make start-local` uses it).
		"ARGOCD_FAKE_IN_CLUSTER=true", "KUBECONFIG="+kubeconfig)
	time.Sleep(2 * time.Second)
	if ac.exited() {
		t.Fatalf("argocd-application-controller exited; see %s", ac.logPath)
	}
	return g
}

func mkdir(t *testing.T, parent, name string) string {
	d := filepath.Join(parent, name)
	must(t, os.MkdirAll(d, 0o755), d)
	return d
}

// storageYAML: the namespace, and a PersistentVolume pre-bound to the "models" claim so
// the scheduler places worker pods (the local node mounts <state-dir>/pvc/<ns>/<claim>).
const storageYAML = `apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: %[1]s-%[2]s
spec:
  capacity:
    storage: 1Gi
  accessModes: [ReadOnlyMany, ReadWriteOnce]
  storageClassName: ""
  persistentVolumeReclaimPolicy: Retain
  hostPath:
    path: %[3]s
  claimRef:
    namespace: %[1]s
    name: %[2]s
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: %[2]s
  namespace: %[1]s
  annotations:
    pv.kubernetes.io/bind-completed: "yes"
spec:
  accessModes: [ReadOnlyMany]
  storageClassName: ""
  volumeName: %[1]s-%[2]s
  resources:
    requests:
      storage: 1Gi
`

// argoCDSettings are the argocd namespace and Argo CD's ConfigMaps and Secret: argocd-cm
// carries kubeinfer's health check exactly as config/argocd/argocd-cm.yaml has it.
func (g *gitops) argoCDSettings(t *testing.T) []*unstructured.Unstructured {
	data, err := os.ReadFile(filepath.Join(g.repo, "config", "argocd", "argocd-cm.yaml"))
	must(t, err, "argocd-cm.yaml")
	cms := decodeYAML(t, data)
	if len(cms) != 1 || cms[0].GetName() != "argocd-cm" {
		t.Fatalf("config/argocd/argocd-cm.yaml: want one ConfigMap argocd-cm")
	}
	cm := cms[0]
	if _, ok, _ := unstructured.NestedString(cm.Object, "data", "resource.customizations.health.inference.kubeinfer.dev_InferenceWorker"); !ok {
		t.Fatalf("config/argocd/argocd-cm.yaml has no InferenceWorker health customization")
	}
	secretKey := make([]byte, 32)
	_, _ = rand.Read(secretKey)
	labels := map[string]any{"app.kubernetes.io/part-of": "argocd"}
	obj := func(apiVersion, kind, name string, fields map[string]any) *unstructured.Unstructured {
		o := map[string]any{"apiVersion": apiVersion, "kind": kind,
			"metadata": map[string]any{"name": name, "namespace": argocdNS, "labels": labels}}
		for k, v := range fields {
			o[k] = v
		}
		return &unstructured.Unstructured{Object: o}
	}
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": argocdNS}}}
	return []*unstructured.Unstructured{
		ns,
		cm,
		obj("v1", "ConfigMap", "argocd-rbac-cm", nil),
		obj("v1", "Secret", "argocd-secret", map[string]any{"stringData": map[string]any{"server.secretkey": hex.EncodeToString(secretKey)}}),
		// What a real install sets here reaches the processes as environment variables;
		// the local processes get the same settings as flags (see setUp).
		obj("v1", "ConfigMap", "argocd-cmd-params-cm", map[string]any{"data": map[string]any{
			"controller.resource.health.persist": "true",
			"controller.repo.server.plaintext":   "true",
			"reposerver.disable.tls":             "true",
		}}),
	}
}

// createApplication applies config/argocd/example's AppProject and Application, pointed
// at the local repository's workers/ directory.
func (g *gitops) createApplication(t *testing.T, ctx context.Context) {
	example := filepath.Join(g.repo, "config", "argocd", "example")
	read := func(name string) *unstructured.Unstructured {
		data, err := os.ReadFile(filepath.Join(example, name))
		must(t, err, name)
		objs := decodeYAML(t, data)
		if len(objs) != 1 {
			t.Fatalf("%s: want one object", name)
		}
		return objs[0]
	}
	proj, app := read("appproject.yaml"), read("application.yaml")
	must(t, unstructured.SetNestedStringSlice(proj.Object, []string{g.git.url}, "spec", "sourceRepos"), "sourceRepos")
	must(t, unstructured.SetNestedField(app.Object, g.git.url, "spec", "source", "repoURL"), "repoURL")
	must(t, unstructured.SetNestedField(app.Object, "workers", "spec", "source", "path"), "path")
	must(t, unstructured.SetNestedField(app.Object, "main", "spec", "source", "targetRevision"), "targetRevision")
	if app.GetName() != appName || app.GetNamespace() != argocdNS {
		t.Fatalf("example Application is %s/%s, want %s/%s", app.GetNamespace(), app.GetName(), argocdNS, appName)
	}
	g.c.apply(t, ctx, proj, app)
	t.Logf("Application %s: repoURL %s path workers, automated sync with prune and selfHeal", appName, g.git.url)
}

// refresh asks Argo CD to compare with Git now, as a Git webhook would.
func (g *gitops) refresh(t *testing.T, ctx context.Context) {
	patch := []byte(`{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"normal"}}}`)
	_, err := g.c.Dynamic.Resource(applicationGVR).Namespace(argocdNS).Patch(ctx, appName, types.MergePatchType, patch, metav1.PatchOptions{})
	must(t, err, "refresh Application")
}

// setCompareOptions sets (or with "" removes) the Application's compare-options
// annotation and asks for a hard refresh.
func (g *gitops) setCompareOptions(t *testing.T, ctx context.Context, opts string) {
	v := "null"
	if opts != "" {
		v = strconv.Quote(opts)
	}
	patch := []byte(`{"metadata":{"annotations":{"argocd.argoproj.io/compare-options":` + v + `,"argocd.argoproj.io/refresh":"hard"}}}`)
	_, err := g.c.Dynamic.Resource(applicationGVR).Namespace(argocdNS).Patch(ctx, appName, types.MergePatchType, patch, metav1.PatchOptions{})
	must(t, err, "compare-options")
	t.Logf("Application annotation argocd.argoproj.io/compare-options=%q (hard refresh)", opts)
}

// terminateOperation does what `argocd app terminate-op` does, and waits for the end.
func (g *gitops) terminateOperation(t *testing.T, ctx context.Context) {
	patch := []byte(`{"status":{"operationState":{"phase":"Terminating"}}}`)
	_, err := g.c.Dynamic.Resource(applicationGVR).Namespace(argocdNS).Patch(ctx, appName, types.MergePatchType, patch, metav1.PatchOptions{})
	must(t, err, "terminate operation")
	st := g.waitApp(t, ctx, "4c terminate the retrying sync", 2*time.Minute, func(s appStatus) bool {
		return s.opPhase() != "Running" && s.opPhase() != "Terminating"
	})
	t.Logf("operation terminated: phase=%s message=%q", st.opPhase(), st.OperationState.Message)
}

// conditionContaining is the message of the first condition of type ctype containing s.
func (s appStatus) conditionContaining(ctype, sub string) string {
	for _, c := range s.Conditions {
		if c.Type == ctype && strings.Contains(c.Message, sub) {
			return c.Message
		}
	}
	return ""
}

// appStatus is the part of an Application's status the test reads.
type appStatus struct {
	Sync struct {
		Status   string `json:"status"`
		Revision string `json:"revision"`
	} `json:"sync"`
	Health struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"health"`
	Resources []struct {
		Kind      string `json:"kind"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
		Status    string `json:"status"`
		Health    *struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"health"`
	} `json:"resources"`
	OperationState *struct {
		Phase      string `json:"phase"`
		Message    string `json:"message"`
		StartedAt  string `json:"startedAt"`
		RetryCount int    `json:"retryCount"`
		SyncResult *struct {
			Revision  string `json:"revision"`
			Resources []struct {
				Kind    string `json:"kind"`
				Name    string `json:"name"`
				Status  string `json:"status"`
				Message string `json:"message"`
			} `json:"resources"`
		} `json:"syncResult"`
	} `json:"operationState"`
	Conditions []struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"conditions"`
}

func (s appStatus) opPhase() string {
	if s.OperationState == nil {
		return ""
	}
	return s.OperationState.Phase
}

type appResource = struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Health    *struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"health"`
}

// resource is the InferenceWorker named name in .status.resources, or nil.
func (s appStatus) resource(name string) *appResource {
	for i := range s.Resources {
		if s.Resources[i].Kind == "InferenceWorker" && s.Resources[i].Name == name {
			return &s.Resources[i]
		}
	}
	return nil
}

func (s appStatus) resourceHealth(name string) string {
	if r := s.resource(name); r != nil && r.Health != nil {
		return r.Health.Status
	}
	return ""
}

// summary is one line for the log: what Argo CD reports.
func (s appStatus) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sync=%s rev=%.7s health=%s", s.Sync.Status, s.Sync.Revision, s.Health.Status)
	if s.OperationState != nil {
		rev := ""
		if s.OperationState.SyncResult != nil {
			rev = s.OperationState.SyncResult.Revision
		}
		fmt.Fprintf(&b, " operation=%s(rev %.7s)", s.OperationState.Phase, rev)
		if op := s.OperationState; op.Phase != "Succeeded" && op.Message != "" {
			fmt.Fprintf(&b, " retry=%d %q", op.RetryCount, op.Message)
		}
	}
	for _, r := range s.Resources {
		h := "-"
		if r.Health != nil {
			h = r.Health.Status
			if r.Health.Message != "" {
				h += " " + strconv.Quote(r.Health.Message)
			}
		}
		fmt.Fprintf(&b, " | %s/%s %s %s", r.Kind, r.Name, r.Status, h)
	}
	for _, c := range s.Conditions {
		fmt.Fprintf(&b, " | condition %s: %s", c.Type, c.Message)
	}
	return b.String()
}

func (g *gitops) getApp(ctx context.Context) (appStatus, error) {
	var s appStatus
	u, err := g.c.Dynamic.Resource(applicationGVR).Namespace(argocdNS).Get(ctx, appName, metav1.GetOptions{})
	if err != nil {
		return s, err
	}
	raw, _, _ := unstructured.NestedMap(u.Object, "status")
	data, err := json.Marshal(raw)
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(data, &s)
}

// waitApp polls the Application until ok, logging each change of what Argo CD reports.
func (g *gitops) waitApp(t *testing.T, ctx context.Context, step string, timeout time.Duration, ok func(appStatus) bool) appStatus {
	t.Helper()
	start := time.Now()
	var last string
	var s appStatus
	poll(t, ctx, timeout, "Application: "+step, func() (bool, error) {
		var err error
		if s, err = g.getApp(ctx); err != nil {
			return false, err
		}
		if sum := s.summary(); sum != last {
			t.Logf("[%s +%5.1fs] %s", step, time.Since(start).Seconds(), sum)
			last = sum
		}
		return ok(s), fmt.Errorf("last: %s", last)
	})
	return s
}

// holdApp checks the Application every second for d, failing at the first violation.
func (g *gitops) holdApp(t *testing.T, ctx context.Context, step string, d time.Duration, check func(appStatus) error) {
	t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < d {
		s, err := g.getApp(ctx)
		must(t, err, "get Application")
		if sum := s.summary(); sum != last {
			t.Logf("[%s +%5.1fs] %s", step, time.Since(start).Seconds(), sum)
			last = sum
		}
		if err := check(s); err != nil {
			t.Fatalf("[%s +%.1fs] %v", step, time.Since(start).Seconds(), err)
		}
		time.Sleep(time.Second)
	}
	t.Logf("[%s +%5.1fs] still: %s", step, time.Since(start).Seconds(), last)
}

// workerReplicas is an InferenceWorker's status.replicas and status.readyReplicas.
func (g *gitops) workerReplicas(t *testing.T, ctx context.Context, name string) (int64, int64) {
	u, err := g.c.Dynamic.Resource(inferenceWorkerGV).Namespace(modelsNS).Get(ctx, name, metav1.GetOptions{})
	must(t, err, "get InferenceWorker ", name)
	r, _, _ := unstructured.NestedInt64(u.Object, "status", "replicas")
	ready, _, _ := unstructured.NestedInt64(u.Object, "status", "readyReplicas")
	return r, ready
}

// logWorkers logs what the operator reports on each InferenceWorker and the worker pods.
func (g *gitops) logWorkers(t *testing.T, ctx context.Context) {
	list, err := g.c.Dynamic.Resource(inferenceWorkerGV).Namespace(modelsNS).List(ctx, metav1.ListOptions{})
	must(t, err, "list InferenceWorkers")
	for _, u := range list.Items {
		ready, _, _ := unstructured.NestedString(u.Object, "status", "readyText")
		model, _, _ := unstructured.NestedMap(u.Object, "status", "model")
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		var cs []string
		for _, c := range conds {
			m, _ := c.(map[string]any)
			cs = append(cs, fmt.Sprintf("%v=%v(%v)", m["type"], m["status"], m["reason"]))
		}
		t.Logf("  InferenceWorker %s: ready %s, model %v, conditions %s", u.GetName(), ready, model, strings.Join(cs, " "))
	}
	pods, err := g.c.Client.CoreV1().Pods(modelsNS).List(ctx, metav1.ListOptions{})
	must(t, err, "list pods")
	for _, p := range pods.Items {
		restarts := int32(0)
		for _, cs := range p.Status.ContainerStatuses {
			restarts += cs.RestartCount
		}
		t.Logf("  pod %s on %s: %s ready=%v restarts=%d", p.Name, p.Spec.NodeName, p.Status.Phase, podReady(p.Status.Conditions), restarts)
	}
}

func podReady(conds []corev1.PodCondition) bool {
	for _, c := range conds {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// waitLlamaGone waits until the llama InferenceWorker and everything it owned are gone.
func (g *gitops) waitLlamaGone(t *testing.T, ctx context.Context) {
	sel := metav1.ListOptions{LabelSelector: "inference.kubeinfer.dev/worker=llama"}
	cs := g.c.Client
	poll(t, ctx, 3*time.Minute, "llama and its children deleted", func() (bool, error) {
		if _, err := g.c.Dynamic.Resource(inferenceWorkerGV).Namespace(modelsNS).Get(ctx, "llama", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("InferenceWorker llama still there (%v)", err)
		}
		counts := map[string]int{}
		if l, err := cs.AppsV1().Deployments(modelsNS).List(ctx, sel); err == nil {
			counts["Deployment"] = len(l.Items)
		}
		if l, err := cs.AppsV1().ReplicaSets(modelsNS).List(ctx, sel); err == nil {
			counts["ReplicaSet"] = len(l.Items)
		}
		if l, err := cs.CoreV1().Pods(modelsNS).List(ctx, sel); err == nil {
			counts["Pod"] = len(l.Items)
		}
		if l, err := cs.CoreV1().Services(modelsNS).List(ctx, sel); err == nil {
			counts["Service"] = len(l.Items)
		}
		if l, err := cs.CoreV1().ServiceAccounts(modelsNS).List(ctx, sel); err == nil {
			counts["ServiceAccount"] = len(l.Items)
		}
		if l, err := cs.RbacV1().Roles(modelsNS).List(ctx, sel); err == nil {
			counts["Role"] = len(l.Items)
		}
		if l, err := cs.RbacV1().RoleBindings(modelsNS).List(ctx, sel); err == nil {
			counts["RoleBinding"] = len(l.Items)
		}
		for kind, n := range counts {
			if n > 0 {
				return false, fmt.Errorf("%d %s(s) of llama left", n, kind)
			}
		}
		if len(counts) != 7 {
			return false, fmt.Errorf("could not list every kind: %v", counts)
		}
		return true, nil
	})
	// The gpt workers are untouched.
	if r, ready := g.workerReplicas(t, ctx, "gpt"); r != 2 || ready != 2 {
		t.Fatalf("gpt after pruning llama: replicas=%d ready=%d, want 2/2", r, ready)
	}
	t.Logf("llama: InferenceWorker, Deployment, ReplicaSets, pods, Service, ServiceAccount, Role and RoleBinding are gone; gpt still 2/2")
}

// gitRepo is a bare repository served over smart HTTP on loopback, and a clone to commit in.
type gitRepo struct {
	url, clone string
}

func newGitRepo(t *testing.T, work string) *gitRepo {
	root := mkdir(t, work, "git")
	bare := filepath.Join(root, "inference.git")
	clone := filepath.Join(work, "git-clone")
	run := func(dir string, args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+work)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run(root, "init", "--bare", "--initial-branch=main", bare)
	run(work, "init", "--initial-branch=main", clone)
	run(clone, "config", "user.name", "kubeinfer gitops test")
	run(clone, "config", "user.email", "gitops-test@kubeinfer.dev")
	run(clone, "remote", "add", "origin", bare)

	execPath, err := exec.Command("git", "--exec-path").Output()
	must(t, err, "git --exec-path")
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Root: "/",
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err, "listen")
	srv := &http.Server{Handler: backend, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &gitRepo{url: fmt.Sprintf("http://%s/inference.git", l.Addr()), clone: clone}
}

// commit writes files (an empty content deletes the file), commits, pushes to main and
// returns the commit's SHA.
func (r *gitRepo) commit(t *testing.T, msg string, files map[string]string) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(r.clone, name)
		if content == "" {
			must(t, os.Remove(p), "remove ", name)
			continue
		}
		must(t, os.MkdirAll(filepath.Dir(p), 0o755), name)
		must(t, os.WriteFile(p, []byte(content), 0o644), name)
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = r.clone
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("add", "-A")
	git("commit", "-q", "-m", msg)
	git("push", "-q", "origin", "main")
	sha := git("rev-parse", "HEAD")
	t.Logf("git commit %.7s %q pushed to %s", sha, msg, r.url)
	return sha
}
