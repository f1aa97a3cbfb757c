package controllers

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

var digestA = strings.Repeat("a", 64)

// createSpec sends an InferenceWorker with spec (YAML) to the real API server.
func createSpec(t *testing.T, ns, spec string) error {
	t.Helper()
	obj := &unstructured.Unstructured{}
	obj.SetAPIVersion("inference.kubeinfer.dev/v1alpha1")
	obj.SetKind("InferenceWorker")
	obj.SetNamespace(ns)
	obj.SetGenerateName("operate-")
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(spec), &m); err != nil {
		t.Fatalf("test spec: %v", err)
	}
	obj.Object["spec"] = m
	return k8sClient.Create(context.Background(), obj)
}

// TestOperateFieldsValidation: the API keys, model source and pod overlay fields are
// refused by the real API server when they cannot work, with a message that says what
// to change, and accepted in the forms the README shows.
func TestOperateFieldsValidation(t *testing.T) {
	ns := newNamespace(t)
	urlSpec := func(extra string) string {
		return `
model:
  architecture: gpt
  source:
    url:
      url: https://example.com/m.gguf
      sha256: ` + digestA + extra
	}
	invalid := []struct {
		name string
		spec string
		want []string
	}{
		{"hf url without a path", `
model:
  architecture: gpt
  source: {url: {url: "hf://Qwen/repo", sha256: "` + digestA + `"}}`,
			[]string{"spec.model.source.url.url", "an hf:// url is hf://OWNER/REPO/PATH[@REVISION]"}},
		{"hf url with two revisions", `
model:
  architecture: gpt
  source: {url: {url: "hf://Qwen/repo/m.gguf@main@v2", sha256: "` + digestA + `"}}`,
			[]string{"spec.model.source.url.url", "an hf:// url is hf://OWNER/REPO/PATH[@REVISION]"}},
		{"claim cache without a claim", urlSpec(`
      cache: {type: Claim}`),
			[]string{"spec.model.source.url.cache", "set claimName (a ReadWriteMany PersistentVolumeClaim) with type Claim"}},
		{"node cache with a claim", urlSpec(`
      cache: {type: Node, claimName: shared}`),
			[]string{"spec.model.source.url.cache", "set claimName (a ReadWriteMany PersistentVolumeClaim) with type Claim"}},
		{"unknown cache type", urlSpec(`
      cache: {type: Memory}`),
			[]string{"spec.model.source.url.cache.type", `supported values: "Node", "Claim"`}},
		{"headers secret without a name", urlSpec(`
      headersSecretRef: {}`),
			[]string{"spec.model.source.url.headersSecretRef.name", "Required value"}},
		{"api key secret without a name", validSpec + `
serving: {apiKeySecretRef: {key: keys}}`,
			[]string{"spec.serving.apiKeySecretRef.name", "Required value"}},
		{"volume named like the operator's", validSpec + `
pod:
  volumes: [{name: model, emptyDir: {}}]`,
			[]string{"spec.pod.volumes", "may not be named model, tmp, model-cache, api-keys or source-headers"}},
		{"mount over the model", validSpec + `
pod:
  volumes: [{name: extra, emptyDir: {}}]
  volumeMounts: [{name: extra, mountPath: /models/extra}]`,
			[]string{"spec.pod.volumeMounts", "may not mount at or below /models"}},
		{"mount over the api keys", validSpec + `
pod:
  volumes: [{name: extra, emptyDir: {}}]
  volumeMounts: [{name: extra, mountPath: /var/run/kubeinfer}]`,
			[]string{"spec.pod.volumeMounts", "choose another mountPath"}},
		{"selector label", validSpec + `
pod:
  labels: {inference.kubeinfer.dev/worker: other}`,
			[]string{"spec.pod.labels", "the operator selects its pods by them"}},
		{"service account not a name", validSpec + `
pod:
  serviceAccountName: "Not_A_Name"`,
			[]string{"spec.pod.serviceAccountName", "should match"}},
	}
	for _, c := range invalid {
		t.Run(c.name, func(t *testing.T) {
			err := createSpec(t, ns, c.spec)
			if err == nil {
				t.Fatalf("the API server accepted an invalid manifest")
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not contain %q", err.Error(), w)
				}
			}
		})
	}

	valid := map[string]string{
		"hf url with a revision": `
model:
  architecture: gpt
  source: {url: {url: "hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q8_0.gguf@main", sha256: "` + digestA + `"}}`,
		"hf url in a folder, no revision": `
model:
  architecture: gpt
  source: {url: {url: "hf://org/repo/q8/model.gguf", sha256: "` + digestA + `"}}`,
		"gated download cached on the node": urlSpec(`
      headersSecretRef: {name: hf-token}
      cache: {type: Node, sizeLimit: 50Gi}`),
		"download cached on a claim": urlSpec(`
      cache: {type: Claim, claimName: model-cache}`),
		"api keys": validSpec + `
serving: {apiKeySecretRef: {name: llama-keys}}`,
		"every overlay field": validSpec + `
pod:
  imagePullSecrets: [{name: registry}]
  labels: {team: search}
  annotations: {example.com/owner: search}
  volumes: [{name: ca, configMap: {name: corp-ca}}]
  volumeMounts: [{name: ca, mountPath: /etc/ssl/corp, readOnly: true}]
  serviceAccountName: search-workers`,
	}
	for name, spec := range valid {
		t.Run("accepts "+name, func(t *testing.T) {
			if err := createSpec(t, ns, spec); err != nil {
				t.Fatalf("valid manifest rejected: %v", err)
			}
		})
	}
}
