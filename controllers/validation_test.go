package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// validSpec is a minimal valid InferenceWorker spec; each case below breaks one thing.
const validSpec = `
model:
  architecture: llama
  source:
    pvc: {claimName: models, path: tinyllama.gguf}
`

// TestInvalidManifestsAreRejected sends broken manifests to the real API server and checks
// that OpenAPI and CEL validation refuse each with a message naming the field to fix.
func TestInvalidManifestsAreRejected(t *testing.T) {
	ns := newNamespace(t)
	cases := []struct {
		name string
		spec string
		want []string // substrings of the API server's message
	}{
		{"unknown architecture", `
model:
  architecture: mamba
  source: {pvc: {claimName: models, path: m.gguf}}`,
			[]string{"spec.model.architecture", `supported values: "llama", "gpt"`}},
		{"architecture missing", `
model:
  source: {pvc: {claimName: models, path: m.gguf}}`,
			[]string{"spec.model.architecture", "Required value"}},
		{"two sources", `
model:
  architecture: llama
  source:
    pvc: {claimName: models, path: m.gguf}
    url: {url: "https://example.com/m.gguf", sha256: "` + strings.Repeat("a", 64) + `"}`,
			[]string{"spec.model.source", "set exactly one of pvc, url or image"}},
		{"no source", `
model:
  architecture: llama
  source: {}`,
			[]string{"spec.model.source", "set exactly one of pvc, url or image"}},
		{"url without sha256", `
model:
  architecture: gpt
  source: {url: {url: "https://example.com/m.gguf"}}`,
			[]string{"spec.model.source.url.sha256", "Required value"}},
		{"sha256 not hex", `
model:
  architecture: gpt
  source: {url: {url: "https://example.com/m.gguf", sha256: "not-a-digest"}}`,
			[]string{"spec.model.source.url.sha256", "should match"}},
		{"url with ftp scheme", `
model:
  architecture: gpt
  source: {url: {url: "ftp://example.com/m.gguf", sha256: "` + strings.Repeat("b", 64) + `"}}`,
			[]string{"spec.model.source.url.url", "url must be an http:// or https:// URL"}},
		{"absolute pvc path", `
model:
  architecture: llama
  source: {pvc: {claimName: models, path: /etc/passwd}}`,
			[]string{"spec.model.source.pvc.path", "must be relative"}},
		{"pvc path escaping the volume", `
model:
  architecture: llama
  source: {pvc: {claimName: models, path: a/../../b.gguf}}`,
			[]string{"spec.model.source.pvc.path", "must not contain '..'"}},
		{"pvc without claimName", `
model:
  architecture: llama
  source: {pvc: {path: m.gguf}}`,
			[]string{"spec.model.source.pvc.claimName", "Required value"}},
		{"image without reference", `
model:
  architecture: llama
  source: {image: {path: m.gguf}}`,
			[]string{"spec.model.source.image.reference", "Required value"}},
		{"negative replicas", validSpec + `
replicas: -1`,
			[]string{"spec.replicas", "greater than or equal to 0"}},
		{"negative gpu count", validSpec + `
gpu: {count: -2}`,
			[]string{"spec.gpu.count", "greater than or equal to 0"}},
		{"gpu product without gpus", validSpec + `
gpu: {count: 0, product: NVIDIA-H100-80GB-HBM3}`,
			[]string{"spec.gpu", "product and minMemoryMiB select GPUs, so they need count > 0"}},
		{"bad gpu resource name", validSpec + `
gpu: {resourceName: "nvidia gpu"}`,
			[]string{"spec.gpu.resourceName", "should match"}},
		{"port out of range", validSpec + `
serving: {port: 70000}`,
			[]string{"spec.serving.port", "less than or equal to 65535"}},
		{"privileged port", validSpec + `
serving: {port: 80}`,
			[]string{"spec.serving.port", "greater than or equal to 1024"}},
		{"zero concurrency", validSpec + `
serving: {maxConcurrentRequests: 0}`,
			[]string{"spec.serving.maxConcurrentRequests", "greater than or equal to 1"}},
		{"unknown KV cache type", validSpec + `
serving: {kvCacheType: q4_0}`,
			[]string{"spec.serving.kvCacheType", `supported values: "auto", "f16", "bf16", "f32", "q8_0"`}},
		{"GPU memory utilization as a percentage", validSpec + `
serving: {gpuMemoryUtilization: 90}`,
			[]string{"spec.serving.gpuMemoryUtilization", "greater than 0 and at most 1: e.g. 0.9 for 90%"}},
		{"negative GPU memory utilization", validSpec + `
serving: {gpuMemoryUtilization: -0.5}`,
			[]string{"spec.serving.gpuMemoryUtilization", "greater than 0 and at most 1"}},
		{"unknown narration mode", validSpec + `
narration: {inferenceEvents: Verbose}`,
			[]string{"spec.narration.inferenceEvents", `supported values: "All", "Sampled", "Off"`}},
		{"zero narration interval", validSpec + `
narration: {minIntervalSeconds: 0}`,
			[]string{"spec.narration.minIntervalSeconds", "greater than or equal to 1"}},
		{"unsupported format", `
model:
  architecture: llama
  format: safetensors
  source: {pvc: {claimName: models, path: m.gguf}}`,
			[]string{"spec.model.format", `supported values: "gguf"`}},
		{"served name with spaces", `
model:
  architecture: llama
  servedName: "my model"
  source: {pvc: {claimName: models, path: m.gguf}}`,
			[]string{"spec.model.servedName", "should match"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obj := &unstructured.Unstructured{}
			obj.SetAPIVersion("inference.kubeinfer.dev/v1alpha1")
			obj.SetKind("InferenceWorker")
			obj.SetNamespace(ns)
			obj.SetGenerateName("invalid-")
			spec := map[string]any{}
			if err := yaml.Unmarshal([]byte(c.spec), &spec); err != nil {
				t.Fatalf("test spec: %v", err)
			}
			obj.Object["spec"] = spec
			err := k8sClient.Create(context.Background(), obj)
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

	// The valid base must be accepted, or every case above proves nothing.
	obj := &unstructured.Unstructured{}
	obj.SetAPIVersion("inference.kubeinfer.dev/v1alpha1")
	obj.SetKind("InferenceWorker")
	obj.SetNamespace(ns)
	obj.SetName("valid")
	spec := map[string]any{}
	if err := yaml.Unmarshal([]byte(validSpec), &spec); err != nil {
		t.Fatal(err)
	}
	obj.Object["spec"] = spec
	if err := k8sClient.Create(context.Background(), obj); err != nil {
		t.Fatalf("valid manifest rejected: %v", err)
	}
	// The edges of the ranges are accepted too: a whole GPU written as an integer, q8_0 on a CPU worker.
	for i, extra := range []string{`
serving: {gpuMemoryUtilization: 1, kvCacheType: bf16}`, `
serving: {gpuMemoryUtilization: 0.05, kvCacheType: q8_0}
gpu: {count: 0}`} {
		obj := &unstructured.Unstructured{}
		obj.SetAPIVersion("inference.kubeinfer.dev/v1alpha1")
		obj.SetKind("InferenceWorker")
		obj.SetNamespace(ns)
		obj.SetName(fmt.Sprintf("valid-%d", i))
		spec := map[string]any{}
		if err := yaml.Unmarshal([]byte(validSpec+extra), &spec); err != nil {
			t.Fatal(err)
		}
		obj.Object["spec"] = spec
		if err := k8sClient.Create(context.Background(), obj); err != nil {
			t.Errorf("valid manifest %s rejected: %v", extra, err)
		}
	}
}
