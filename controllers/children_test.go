package controllers

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// Unit tests of the pure child builders: no API server needed.

func baseIW() *inferencev1alpha1.InferenceWorker {
	return &inferencev1alpha1.InferenceWorker{
		ObjectMeta: metav1.ObjectMeta{Name: "m", Namespace: "ns", UID: "uid-1"},
		Spec: inferencev1alpha1.InferenceWorkerSpec{
			Model: inferencev1alpha1.ModelSpec{
				Architecture: inferencev1alpha1.ArchitectureLlama,
				Source:       inferencev1alpha1.ModelSource{Image: &inferencev1alpha1.ImageModelSource{Reference: "reg/models:q8", Path: "llama/model.gguf"}},
			},
			Replicas: ptr.To[int32](2),
			GPU:      inferencev1alpha1.GPUSpec{Count: 2},
		},
	}
}

func TestImageSourceMountsImageVolume(t *testing.T) {
	iw := baseIW()
	spec := workerPodSpec(iw, childOptions{WorkerImage: "w:1"})
	found := false
	for _, v := range spec.Volumes {
		if *v.Name == modelVolumeName {
			if v.Image == nil {
				t.Fatalf("model volume is not an image volume: %+v", v)
			}
			if *v.Image.Reference != "reg/models:q8" || *v.Image.PullPolicy != corev1.PullIfNotPresent {
				t.Errorf("image volume = %+v", v.Image)
			}
			found = true
		}
	}
	if !found {
		t.Fatal("no model volume")
	}
	if got := argValue(workerArgs(iw), "--model"); got != "/models/llama/model.gguf" {
		t.Errorf("--model = %q", got)
	}
	if len(spec.InitContainers) != 0 {
		t.Errorf("image sources need no fetch init container")
	}
}

func TestGPUSelection(t *testing.T) {
	cases := []struct {
		name         string
		mutate       func(*inferencev1alpha1.InferenceWorker)
		wantSelector map[string]string
		wantGt       string // node affinity on nvidia.com/gpu.memory, "" = none
	}{
		{"plain", func(*inferencev1alpha1.InferenceWorker) {}, nil, ""},
		{"product", func(iw *inferencev1alpha1.InferenceWorker) { iw.Spec.GPU.Product = "NVIDIA-H100-80GB-HBM3" },
			map[string]string{labelGPUProduct: "NVIDIA-H100-80GB-HBM3"}, ""},
		{"min memory", func(iw *inferencev1alpha1.InferenceWorker) { iw.Spec.GPU.MinMemoryMiB = ptr.To[int64](40960) },
			nil, "40959"},
		{"user node selector kept", func(iw *inferencev1alpha1.InferenceWorker) {
			iw.Spec.Pod.NodeSelector = map[string]string{"pool": "inference"}
			iw.Spec.GPU.Product = "A100"
		}, map[string]string{"pool": "inference", labelGPUProduct: "A100"}, ""},
		{"user affinity wins", func(iw *inferencev1alpha1.InferenceWorker) {
			iw.Spec.GPU.MinMemoryMiB = ptr.To[int64](1000)
			iw.Spec.Pod.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
					MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}},
				}}},
			}}
		}, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			iw := baseIW()
			c.mutate(iw)
			spec := workerPodSpec(iw, childOptions{})
			if len(c.wantSelector) != len(spec.NodeSelector) {
				t.Errorf("nodeSelector = %v, want %v", spec.NodeSelector, c.wantSelector)
			}
			for k, v := range c.wantSelector {
				if spec.NodeSelector[k] != v {
					t.Errorf("nodeSelector[%s] = %q, want %q", k, spec.NodeSelector[k], v)
				}
			}
			var gt string
			if spec.Affinity != nil && spec.Affinity.NodeAffinity != nil {
				for _, term := range spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
					for _, e := range term.MatchExpressions {
						if *e.Key == labelGPUMemory && *e.Operator == corev1.NodeSelectorOpGt {
							gt = e.Values[0]
						}
					}
				}
			}
			if gt != c.wantGt {
				t.Errorf("gpu.memory Gt = %q, want %q", gt, c.wantGt)
			}
			if c.name == "user affinity wins" && spec.Affinity == nil {
				t.Error("user affinity dropped")
			}
		})
	}
}

func TestOverlayMergesWithOperatorSettings(t *testing.T) {
	iw := baseIW()
	iw.Spec.Pod = inferencev1alpha1.PodOverlay{
		Tolerations:       []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "ml", Effect: corev1.TaintEffectNoSchedule}},
		Env:               []corev1.EnvVar{{Name: "HF_HOME", Value: "/tmp/hf"}},
		Resources:         corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("16Gi")}},
		PriorityClassName: "inference-high",
		RuntimeClassName:  ptr.To("nvidia"),
	}
	spec := workerPodSpec(iw, childOptions{})
	var keys []string
	for _, tl := range spec.Tolerations {
		keys = append(keys, *tl.Key)
	}
	if !slices.Equal(keys, []string{"nvidia.com/gpu", "dedicated"}) {
		t.Errorf("tolerations = %v", keys)
	}
	w := spec.Containers[0]
	limits := *w.Resources.Limits
	if q := limits["nvidia.com/gpu"]; q.Value() != 2 {
		t.Errorf("GPU limit = %v", limits)
	}
	if q := limits[corev1.ResourceMemory]; q.String() != "16Gi" {
		t.Errorf("memory limit = %v", limits)
	}
	if q := (*w.Resources.Requests)["nvidia.com/gpu"]; q.Value() != 2 {
		t.Errorf("extended resources need request == limit: %v", *w.Resources.Requests)
	}
	last := w.Env[len(w.Env)-1]
	if *last.Name != "HF_HOME" || *last.Value != "/tmp/hf" {
		t.Errorf("user env not appended: %+v", last)
	}
	if *spec.PriorityClassName != "inference-high" || *spec.RuntimeClassName != "nvidia" {
		t.Errorf("priority/runtime class: %v %v", spec.PriorityClassName, spec.RuntimeClassName)
	}

	// A URL model's download gets the same environment (a proxy is for the download first).
	iw.Spec.Model.Source = inferencev1alpha1.ModelSource{URL: &inferencev1alpha1.URLModelSource{
		URL: "https://models.example.com/m.gguf", SHA256: strings.Repeat("ab", 32)}}
	iw.Spec.Pod.Env = append(iw.Spec.Pod.Env, corev1.EnvVar{Name: "HTTPS_PROXY", Value: "http://proxy:3128"})
	spec = workerPodSpec(iw, childOptions{})
	if len(spec.InitContainers) != 1 {
		t.Fatalf("%d init containers for a URL model", len(spec.InitContainers))
	}
	var fetchEnv []string
	for _, e := range spec.InitContainers[0].Env {
		fetchEnv = append(fetchEnv, *e.Name)
	}
	if !slices.Contains(fetchEnv, "HTTPS_PROXY") || !slices.Contains(fetchEnv, "HF_HOME") ||
		!slices.Contains(fetchEnv, inferencev1alpha1.EnvInferenceWorkerName) {
		t.Errorf("download container env %v lacks the overlay's or the narration's", fetchEnv)
	}
}

func TestDesiredReplicas(t *testing.T) {
	iw := baseIW()
	if got := desiredReplicas(iw); got != 2 {
		t.Errorf("replicas = %d", got)
	}
	iw.Spec.Suspend = true
	if got := desiredReplicas(iw); got != 0 {
		t.Errorf("suspended replicas = %d", got)
	}
}

// TestModelMemoryAffinity: the memory the model needs becomes a node affinity unless the
// user chose the GPUs; ModelTooLarge runs no pods.
func TestModelMemoryAffinity(t *testing.T) {
	opts := childOptions{WorkerImage: "w:1", RequiredGPUMemoryMiB: 30000}
	gtValue := func(iw *inferencev1alpha1.InferenceWorker, o childOptions) string {
		a := affinity(iw, o)
		if a == nil {
			return ""
		}
		return a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Values[0]
	}
	iw := baseIW()
	if got := gtValue(iw, opts); got != "29999" {
		t.Errorf("model memory affinity Gt %q, want 29999", got)
	}
	pinnedMem := baseIW()
	pinnedMem.Spec.GPU.MinMemoryMiB = ptr.To[int64](16000)
	if got := gtValue(pinnedMem, opts); got != "15999" {
		t.Errorf("user's minMemoryMiB must win: Gt %q", got)
	}
	pinnedProduct := baseIW()
	pinnedProduct.Spec.GPU.Product = "NVIDIA-H100-80GB-HBM3"
	if got := gtValue(pinnedProduct, opts); got != "" {
		t.Errorf("user's gpu.product must win: Gt %q", got)
	}
	cpu := baseIW()
	cpu.Spec.GPU.Count = 0
	if got := gtValue(cpu, opts); got != "" {
		t.Errorf("CPU workers need no GPU memory: Gt %q", got)
	}
	if got := gtValue(iw, childOptions{}); got != "" {
		t.Errorf("unknown size: Gt %q", got)
	}
	d := desiredDeployment(iw, childOptions{ScaledToZero: true})
	if *d.Spec.Replicas != 0 {
		t.Errorf("ModelTooLarge replicas = %d", *d.Spec.Replicas)
	}
}
