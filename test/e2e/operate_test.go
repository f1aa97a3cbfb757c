//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/hack/devenv"
	"github.com/kubeinfer/kubeinfer/worker/fetch/fetchtest"
)

const (
	operatorNS = "kubeinfer-system"
	operatorSA = "kubeinfer-controller-manager"
)

// canI asks the API server's authorizer whether a ServiceAccount may do something.
func canI(t *testing.T, ns, sa, verb, group, resource, inNS string) bool {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               "system:serviceaccount:" + ns + ":" + sa,
		Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: inNS, Verb: verb, Group: group, Resource: resource},
	}}
	if err := env.Client.Create(context.Background(), sar); err != nil {
		t.Fatal(err)
	}
	return sar.Status.Allowed
}

// TestOperatorInstalledByHelm: the operator of this suite was installed with `helm
// install` of charts/kubeinfer (TestMain): the release is deployed, the operator runs as
// the chart's Deployment in a namespace that enforces the restricted Pod Security
// Standard, and its ServiceAccount may manage workers but not read Secrets.
func TestOperatorInstalledByHelm(t *testing.T) {
	ctx := context.Background()
	out, err := env.Helm(ctx, "status", "kubeinfer", "--namespace", operatorNS)
	if err != nil || !strings.Contains(out, "STATUS: deployed") {
		t.Fatalf("helm status: %v\n%s", err, out)
	}
	d := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: operatorNS, Name: operatorSA}, d); err != nil {
		t.Fatal(err)
	}
	if d.Status.AvailableReplicas != 1 || d.Spec.Template.Spec.ServiceAccountName != operatorSA {
		t.Errorf("operator Deployment: %d available, ServiceAccount %q", d.Status.AvailableReplicas, d.Spec.Template.Spec.ServiceAccountName)
	}
	ns := &corev1.Namespace{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: operatorNS}, ns); err != nil || ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace %s labels %v, want enforce=restricted", operatorNS, ns.Labels)
	}
	for _, c := range []struct {
		verb, group, resource, ns string
		want                      bool
	}{
		{"get", "", "secrets", ns.Name, false},
		{"list", "", "secrets", "", false},
		{"get", "", "secrets", "e2e", false},
		{"patch", "apps", "deployments", "e2e", true},
		{"list", "inference.kubeinfer.dev", "inferenceworkers", "", true},
		{"delete", "apps", "deployments", "e2e", false},
		{"create", "", "pods", "e2e", false},
	} {
		if got := canI(t, operatorNS, operatorSA, c.verb, c.group, c.resource, c.ns); got != c.want {
			t.Errorf("operator may %s %s.%s in %q: %v, want %v", c.verb, c.resource, c.group, c.ns, got, c.want)
		}
	}
}

// TestRestrictedNamespaceEnforced: the namespace every other test runs its workers in
// really enforces the restricted profile, so their pods passing admission means the
// operator's pods meet it: a pod that does not is refused.
func TestRestrictedNamespaceEnforced(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "not-restricted", Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox", Command: []string{"true"}}}},
	}
	err := env.Client.Create(context.Background(), pod)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `violates PodSecurity "restricted`) {
		t.Fatalf("creating a pod without a restricted security context in %s: %v, want Forbidden by PodSecurity", ns, err)
	}
	t.Logf("refused as expected: %v", err)
}

// TestPrivateModelOncePerNodeBehindAPIKeys: four replicas of a gated model, given as
// hf://, from a server that behaves like the hub (token, redirect to a CDN, ETag, a
// connection dropped halfway), with a Node cache and API keys:
//   - the hub's CDN sends the file once in all (the drop resumed, no byte twice), and never
//     sees the token; every pod's model is a link to the node's cached file;
//   - all four are Ready;
//   - the OpenAI SDK needs one of the keys: 401 without it;
//   - the workers' ServiceAccount can narrate but not read the Secrets.
//
// A Node cache is a hostPath volume, which only the privileged Pod Security level admits,
// so this test has its own namespace.
func TestPrivateModelOncePerNodeBehindAPIKeys(t *testing.T) {
	const (
		name  = "gated"
		cache = "e2e-node-cache"
		token = "hf_e2e_token"
		key   = "sk-e2e-key"
	)
	ctx := context.Background()
	model, err := os.ReadFile(filepath.Join(env.Repo, "worker", "testdata", "fidelity", "gpt2.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(model)
	digest := hex.EncodeToString(sum[:])
	hub := fetchtest.StartHub(t, model, token)
	hub.DropAfter = len(model) / 2

	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cache,
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}}}); err != nil {
		t.Fatal(err)
	}
	if err := waitRootCA(ctx, cache); err != nil {
		t.Fatal(err)
	}
	for secret, data := range map[string]map[string]string{
		"hf-token": {"Authorization": "Bearer " + token},
		"api-keys": {"api-keys": key + "\n"},
	} {
		if err := env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: cache}, StringData: data}); err != nil {
			t.Fatal(err)
		}
	}
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
      url:
        url: %s
        sha256: %s
        headersSecretRef: {name: hf-token}
        cache: {type: Node, sizeLimit: 1Gi}
  replicas: 4
  gpu: {count: 0}
  serving:
    apiKeySecretRef: {name: api-keys}
  pod:
    env: [{name: HF_ENDPOINT, value: %q}]
    labels: {team: e2e}
`, name, cache, hub.Ref(), digest, hub.Hub.URL)
	if _, err := env.Kubectl(ctx, []byte(manifest), "apply", "-f", "-"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteAndWait(t, cache, name) })

	start := time.Now()
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 4*time.Minute, true, func(ctx context.Context) (bool, error) {
		iw, err := env.InferenceWorker(ctx, cache, name)
		return err == nil && devenv.IsReady(iw) && iw.Status.ReadyReplicas == 4, nil
	})
	if err != nil {
		out, _ := env.Kubectl(ctx, nil, "-n", cache, "describe", "inferenceworker", name)
		pods, _ := env.Kubectl(ctx, nil, "-n", cache, "get", "pods", "-o", "wide")
		t.Fatalf("%s not Ready with 4 workers after 4 minutes:\n%s\n%s", name, out, pods)
	}
	t.Logf("4/4 Ready after %s", time.Since(start).Round(100*time.Millisecond))

	st := hub.Stats()
	t.Logf("the hub saw %+v", st)
	if st.SentBytes != len(model) || st.FullTransfers != 1 {
		t.Errorf("the CDN sent %d bytes in %d transfers from byte 0, want the %d-byte file once", st.SentBytes, st.FullTransfers, len(model))
	}
	if st.RangeTransfers != 1 {
		t.Errorf("%d resumed transfers, want 1 after the dropped connection", st.RangeTransfers)
	}
	if st.CDNSawAuthorization || st.Unauthorized != 0 {
		t.Errorf("token sent to the CDN: %v; unauthorized hub requests: %d", st.CDNSawAuthorization, st.Unauthorized)
	}
	cached := filepath.Join(env.StateDir, "node-cache", "sha256", digest)
	fi, err := os.Stat(cached)
	if err != nil {
		t.Fatalf("the node cache: %v", err)
	}
	if links := fi.Sys().(*syscall.Stat_t).Nlink; links != 5 {
		t.Errorf("the cached file has %d links, want 5: the cache's and one in each of the 4 pods", links)
	}
	pods, err := workerPodsIn(ctx, cache, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if p.Labels["team"] != "e2e" {
			t.Errorf("pod %s labels %v lack the overlay's", p.Name, p.Labels)
		}
	}

	base, err := env.Proxy(ctx, cache, name)
	if err != nil {
		t.Fatal(err)
	}
	chat := func(apiKey string) error {
		c := openai.NewClient(option.WithBaseURL(base), option.WithAPIKey(apiKey), option.WithMaxRetries(0))
		_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "gpt2", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}, MaxTokens: openai.Int(4),
		})
		return err
	}
	if err := chat(key); err != nil {
		t.Errorf("chat with the API key: %v", err)
	}
	var apiErr *openai.Error
	if err := chat("sk-wrong"); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != "invalid_api_key" {
		t.Errorf("chat with a wrong key: %v, want 401 invalid_api_key", err)
	}
	resp, err := http.Get(strings.TrimSuffix(base, "/v1") + "/metrics")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("/metrics without a key: %v %v, want 200", err, resp)
	}
	if resp != nil {
		resp.Body.Close()
	}

	sa := name + "-worker"
	for _, c := range []struct {
		verb, group, resource string
		want                  bool
	}{
		{"get", "", "secrets", false},
		{"list", "", "secrets", false},
		{"list", "", "pods", false},
		{"create", "events.k8s.io", "events", true},
		{"patch", "events.k8s.io", "events", true},
	} {
		if got := canI(t, cache, sa, c.verb, c.group, c.resource, cache); got != c.want {
			t.Errorf("workers may %s %s.%s: %v, want %v", c.verb, c.resource, c.group, got, c.want)
		}
	}
}

// waitRootCA waits for the namespace's kube-root-ca.crt, which worker pods project.
func waitRootCA(ctx context.Context, namespace string) error {
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		return env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "kube-root-ca.crt"}, &corev1.ConfigMap{}) == nil, nil
	})
}

func workerPodsIn(ctx context.Context, namespace, name string) ([]corev1.Pod, error) {
	list := &corev1.PodList{}
	err := env.Client.List(ctx, list, client.InNamespace(namespace), client.MatchingLabels{inferencev1alpha1.LabelWorker: name})
	return list.Items, err
}

// deleteAndWait deletes an InferenceWorker and waits until its pods are gone.
func deleteAndWait(t *testing.T, namespace, name string) {
	ctx := context.Background()
	iw := &inferencev1alpha1.InferenceWorker{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if err := env.Client.Delete(ctx, iw, &client.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("cleanup: %v", err)
		return
	}
	if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := workerPodsIn(ctx, namespace, name)
		return err == nil && len(pods) == 0, nil
	}); err != nil {
		t.Errorf("cleanup: pods of %s/%s still exist after 2 minutes", namespace, name)
	}
}

// TestNodeCacheRefusedInRestrictedNamespace: a Node cache (a hostPath volume) in the
// restricted namespace is refused by Pod Security admission; the operator reads the
// refusal from the Deployment and says Degraded WorkersRefused, with what to change,
// rather than starting forever.
func TestNodeCacheRefusedInRestrictedNamespace(t *testing.T) {
	const name = "refused"
	manifest := fmt.Sprintf(`apiVersion: inference.kubeinfer.dev/v1alpha1
kind: InferenceWorker
metadata:
  name: %s
  namespace: %s
spec:
  model:
    architecture: gpt
    source:
      url: {url: "http://127.0.0.1:1/m.gguf", sha256: "%s", cache: {type: Node}}
  gpu: {count: 0}
`, name, ns, strings.Repeat("0", 64))
	applyManifest(t, name, manifest)
	iw := waitIW(t, name, "Degraded WorkersRefused", 2*time.Minute, func(iw *inferencev1alpha1.InferenceWorker) bool {
		c := devenv.Condition(iw, inferencev1alpha1.ConditionDegraded)
		return devenv.Current(iw) && c != nil && c.Status == metav1.ConditionTrue && c.Reason == inferencev1alpha1.ReasonWorkersRefused
	})
	c := devenv.Condition(iw, inferencev1alpha1.ConditionDegraded)
	t.Logf("Degraded: %s", c.Message)
	for _, want := range []string{`violates PodSecurity "restricted`, "hostPath", "cache.type Claim"} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("Degraded message lacks %q", want)
		}
	}
	if r := devenv.Condition(iw, inferencev1alpha1.ConditionReady); r == nil || r.Reason != inferencev1alpha1.ReasonWorkersRefused {
		t.Errorf("Ready condition %+v, want reason WorkersRefused", r)
	}
}

// TestReleaseManifest: `make release-manifest` writes one file that the API server accepts
// with a plain `kubectl apply -f` (client-side, so the CRD must fit the last-applied
// annotation), checked as a server-side dry run against this cluster. The chart installed
// the same objects already, with other ports: the dry run gives the operator's namespaced
// objects other names, so it creates them beside the chart's rather than merging the two.
func TestReleaseManifest(t *testing.T) {
	ctx := context.Background()
	cmd := exec.CommandContext(ctx, "make", "-s", "--no-print-directory", "release-manifest",
		"IMG=registry.example/kubeinfer-operator:v9", "WORKER_IMG=registry.example/kubeinfer-worker:v9")
	cmd.Dir = env.Repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make release-manifest: %v\n%s", err, out)
	}
	path := filepath.Join(env.Repo, "dist", "kubeinfer.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"image: registry.example/kubeinfer-operator:v9", "--worker-image=registry.example/kubeinfer-worker:v9",
		"kind: CustomResourceDefinition", "pod-security.kubernetes.io/enforce: restricted"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}
	renamed := strings.ReplaceAll(string(data), "kubeinfer-controller-manager", "kubeinfer-release-check")
	out, err := env.Kubectl(ctx, []byte(renamed), "apply", "--dry-run=server", "-f", "-")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "(server dry run)"); n < 10 {
		t.Errorf("kubectl apply --dry-run=server applied %d objects:\n%s", n, out)
	}
	t.Logf("kubectl apply -f %s (server dry run):\n%s", path, out)
}
