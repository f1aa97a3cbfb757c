package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Architecture is the model family the worker runs.
// +kubebuilder:validation:Enum=llama;gpt
type Architecture string

const (
	// ArchitectureLlama covers Llama-2/3, TinyLlama, Mistral-style and Qwen2 checkpoints:
	// RMSNorm, RoPE, SwiGLU and grouped-query attention.
	ArchitectureLlama Architecture = "llama"
	// ArchitectureGPT covers GPT-2 style checkpoints: LayerNorm, GELU, multi-head
	// attention and learned positions.
	ArchitectureGPT Architecture = "gpt"
)

// ModelFormat is the on-disk format of the model file.
// +kubebuilder:validation:Enum=gguf
type ModelFormat string

// ModelFormatGGUF is llama.cpp's GGUF container, the only format read today.
const ModelFormatGGUF ModelFormat = "gguf"

// InferenceEventsMode says which inference completions the worker narrates as Events.
// +kubebuilder:validation:Enum=All;Sampled;Off
type InferenceEventsMode string

const (
	// InferenceEventsAll emits an Event for every completed request.
	InferenceEventsAll InferenceEventsMode = "All"
	// InferenceEventsSampled emits at most one Event per minIntervalSeconds, summarising the requests in between.
	InferenceEventsSampled InferenceEventsMode = "Sampled"
	// InferenceEventsOff emits no inference Events; model load Events are still emitted.
	InferenceEventsOff InferenceEventsMode = "Off"
)

// InferenceWorkerSpec declares a model to serve and how its workers are scheduled.
// +kubebuilder:validation:XValidation:rule="!has(self.autoscaling) || !has(oldSelf.autoscaling) || self.replicas == oldSelf.replicas",message="spec.replicas is set by spec.autoscaling: remove spec.autoscaling to scale by hand, with a HorizontalPodAutoscaler or with KEDA"
type InferenceWorkerSpec struct {
	// model says which model file to serve and how to read it.
	// +required
	Model ModelSpec `json:"model"`

	// replicas is the number of worker pods, each holding a full copy of the model.
	// Changed by `kubectl scale` and HorizontalPodAutoscalers through the scale subresource.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// suspend scales the workers to zero without deleting anything, freeing their GPUs.
	// Set it back to false to resume.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// gpu says how many GPUs each worker needs and which ones.
	// +kubebuilder:default={}
	// +optional
	GPU GPUSpec `json:"gpu,omitempty"`

	// serving configures the worker's OpenAI-compatible HTTP API.
	// +kubebuilder:default={}
	// +optional
	Serving ServingSpec `json:"serving,omitempty"`

	// narration configures the Kubernetes Events that workers emit on this InferenceWorker.
	// +kubebuilder:default={}
	// +optional
	Narration NarrationSpec `json:"narration,omitempty"`

	// image overrides the worker container image. Empty uses the operator's default
	// (its --worker-image flag), which is what you want unless testing a custom build.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Image string `json:"image,omitempty"`

	// pod adds scheduling and environment settings to the worker pods.
	// +optional
	Pod PodOverlay `json:"pod,omitzero"`

	// monitoring creates a Prometheus Operator PodMonitor for the workers.
	// +optional
	Monitoring MonitoringSpec `json:"monitoring,omitzero"`

	// autoscaling sets the number of workers from their load, within bounds; spec.replicas
	// is then only the starting point.
	// +optional
	Autoscaling *AutoscalingSpec `json:"autoscaling,omitempty"`

	// routing puts the workers in a Gateway API Inference Extension InferencePool.
	// +optional
	Routing RoutingSpec `json:"routing,omitzero"`
}

// ModelSpec names the model file and its architecture.
type ModelSpec struct {
	// architecture is the model family: llama (also Qwen2, Mistral-style) or gpt (GPT-2 style).
	// The worker checks it against the file and refuses a mismatch.
	// +required
	Architecture Architecture `json:"architecture"`

	// source is where the model file comes from: exactly one of pvc, url or image.
	// +required
	Source ModelSource `json:"source"`

	// servedName is the name clients pass as `model` in OpenAI API requests.
	// Defaults to the InferenceWorker's name.
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9._:/-]*$`
	// +optional
	ServedName string `json:"servedName,omitempty"`

	// format is the file format of the model.
	// +kubebuilder:default=gguf
	// +optional
	Format ModelFormat `json:"format,omitempty"`
}

// ModelSource locates the model file. Exactly one field must be set.
// +kubebuilder:validation:XValidation:rule="[has(self.pvc), has(self.url), has(self.image)].filter(x, x).size() == 1",message="set exactly one of pvc, url or image"
type ModelSource struct {
	// pvc reads the model from a PersistentVolumeClaim, mounted read-only.
	// +optional
	PVC *PVCModelSource `json:"pvc,omitempty"`

	// url downloads the model over HTTP(S) in an init container and checks its sha256.
	// +optional
	URL *URLModelSource `json:"url,omitempty"`

	// image mounts an OCI image (or artifact) holding the model as a read-only volume.
	// Needs Kubernetes 1.33 or later (image volumes).
	// +optional
	Image *ImageModelSource `json:"image,omitempty"`
}

// PVCModelSource reads the model from a file on a PersistentVolumeClaim.
type PVCModelSource struct {
	// claimName is the name of a PersistentVolumeClaim in the InferenceWorker's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	ClaimName string `json:"claimName"`

	// path is the model file's path inside the volume, relative, e.g. `llama/tinyllama.Q8_0.gguf`.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.matches('(^|/)[.][.](/|$)')",message="path must be relative to the volume and must not contain '..'"
	// +required
	Path string `json:"path"`
}

// URLModelSource downloads the model over HTTP(S).
type URLModelSource struct {
	// url is the http or https address of the model file, or a Hugging Face file as
	// hf://OWNER/REPO/PATH[@REVISION] (revision defaults to main), which the download resolves
	// to the hub's https://huggingface.co/OWNER/REPO/resolve/REVISION/PATH (the hub comes from
	// the HF_ENDPOINT environment variable where it is set, e.g. a mirror, through spec.pod.env).
	// Redirects are followed; a broken transfer resumes where it stopped.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('hf://') || (isURL(self) && url(self).getScheme() in ['http', 'https'])",message="url must be an http:// or https:// URL, or hf://OWNER/REPO/PATH[@REVISION]"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('hf://') || self.matches('^hf://[A-Za-z0-9][-A-Za-z0-9_.]*/[A-Za-z0-9][-A-Za-z0-9_.]*/[^@?#]*[^@?#/](@[-A-Za-z0-9_./]+)?$')",message="an hf:// url is hf://OWNER/REPO/PATH[@REVISION], e.g. hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q8_0.gguf@main"
	// +required
	URL string `json:"url"`

	// sha256 is the file's SHA-256 digest as 64 lower-case hex digits. The download is
	// refused if it does not match, so a changed file never starts serving silently.
	// +kubebuilder:validation:Pattern=`^[a-f0-9]{64}$`
	// +required
	SHA256 string `json:"sha256"`

	// headersSecretRef names a Secret whose keys are HTTP header names and values their
	// values, sent with the download to the URL's own host only (never to a host it
	// redirects to, such as the hub's CDN), e.g. for a gated Hugging Face model:
	// `kubectl create secret generic hf-token --from-literal=Authorization="Bearer hf_..."`.
	// The Secret is mounted into the download's init container; the operator does not read
	// it, so it cannot read a gated model's header to size it: the workers report the size
	// after their first load, as for pvc and image sources.
	// +optional
	HeadersSecretRef *SecretRef `json:"headersSecretRef,omitempty"`

	// cache keeps the downloaded file for the next pod, on the node or on a shared claim,
	// so that replicas download the model once. Empty downloads it in every pod.
	// +optional
	Cache *ModelCache `json:"cache,omitempty"`
}

// ImageModelSource mounts the model from an OCI image volume.
type ImageModelSource struct {
	// reference is the image reference, e.g. `registry.example.com/models/tinyllama:q8`.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +required
	Reference string `json:"reference"`

	// path is the model file's path inside the image, relative, e.g. `model.gguf`.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.matches('(^|/)[.][.](/|$)')",message="path must be relative to the image root and must not contain '..'"
	// +required
	Path string `json:"path"`

	// pullPolicy is the image volume's pull policy.
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	// +kubebuilder:default=IfNotPresent
	// +optional
	PullPolicy corev1.PullPolicy `json:"pullPolicy,omitempty"`
}

// GPUSpec says which GPUs each worker needs.
// +kubebuilder:validation:XValidation:rule="self.count > 0 || (!has(self.product) && !has(self.minMemoryMiB))",message="product and minMemoryMiB select GPUs, so they need count > 0"
type GPUSpec struct {
	// count is the number of GPUs per worker. 0 runs the pure-Go CPU engine, which is slow
	// but needs no accelerator (useful for tests and tiny models). Above 1, the worker splits
	// the model over all of them (tensor parallelism), so a model larger than one GPU runs.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=16
	// +optional
	Count int32 `json:"count"`

	// resourceName is the extended resource the device plugin advertises.
	// +kubebuilder:default="nvidia.com/gpu"
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`
	// +optional
	ResourceName string `json:"resourceName,omitempty"`

	// product restricts workers to nodes whose GPU feature discovery label
	// `nvidia.com/gpu.product` equals this value, e.g. `NVIDIA-H100-80GB-HBM3`.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`
	// +optional
	Product string `json:"product,omitempty"`

	// minMemoryMiB restricts workers to nodes whose GPUs have at least this much memory,
	// read from the GPU feature discovery label `nvidia.com/gpu.memory` (MiB).
	// +kubebuilder:validation:Minimum=1
	// +optional
	MinMemoryMiB *int64 `json:"minMemoryMiB,omitempty"`
}

// ServingSpec configures the worker's HTTP API.
type ServingSpec struct {
	// port is the container and Service port of the OpenAI-compatible API.
	// +kubebuilder:default=8000
	// +kubebuilder:validation:Minimum=1024
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`

	// maxContextLength caps the tokens (prompt + completion) of one request, and so the
	// KV cache each sequence reserves. Empty uses the model's trained context length.
	// +kubebuilder:validation:Minimum=16
	// +kubebuilder:validation:Maximum=1048576
	// +optional
	MaxContextLength *int32 `json:"maxContextLength,omitempty"`

	// maxConcurrentRequests is how many requests one worker decodes at once; more wait in
	// a bounded queue and past it get HTTP 429.
	// +kubebuilder:default=8
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1024
	// +optional
	MaxConcurrentRequests int32 `json:"maxConcurrentRequests,omitempty"`

	// kvCacheType is how workers store the KV cache (each request's keys and values) on the
	// GPU: `auto` (f16), `f16`, `bf16`, `f32` (twice f16's memory) or `q8_0` (llama.cpp's 8-bit
	// blocks, 32 values and one scale in 34 bytes: about half of f16's memory, so about twice the
	// tokens in the same memory). The README states what each costs in fidelity. A CPU worker keeps
	// float32 storage and rounds to the type as a GPU stores it, so its answers match.
	// +kubebuilder:default=auto
	// +kubebuilder:validation:Enum=auto;f16;bf16;f32;q8_0
	// +optional
	KVCacheType KVCacheType `json:"kvCacheType,omitempty"`

	// gpuMemoryUtilization is the share of each GPU's memory a worker takes: the model's weights,
	// its buffers, and one KV cache that fills the rest and that all requests share, so more memory
	// serves more concurrent requests and keeps more shared prompt prefixes. A node's GPU needs the
	// model's requirement divided by this share (status.model.requiredMiB).
	// +kubebuilder:default=0.9
	// +kubebuilder:validation:XValidation:rule="self > 0.0 && self <= 1.0",message="gpuMemoryUtilization is a share of the GPU's memory, greater than 0 and at most 1: e.g. 0.9 for 90%"
	// +optional
	GPUMemoryUtilization float64 `json:"gpuMemoryUtilization,omitempty"`

	// schedulingPolicy is the order in which a worker serves waiting requests: `fcfs`, first come
	// first served, or `priority`, by the request's `priority` field (vLLM's extension of the
	// OpenAI API: lower is served first, 0 by default; first come first served within one
	// priority), which also decides whose sequence makes way when the KV cache runs out. Under
	// `fcfs` a request with a priority other than 0 is refused (HTTP 400), as vLLM does: any
	// client could otherwise put itself ahead of the others.
	// +kubebuilder:default=fcfs
	// +kubebuilder:validation:Enum=fcfs;priority
	// +optional
	SchedulingPolicy SchedulingPolicy `json:"schedulingPolicy,omitempty"`

	// apiKeySecretRef names a Secret key holding the API keys clients must send as
	// `Authorization: Bearer <key>`, one key per line (several during a rotation). Requests
	// without a valid key get HTTP 401; /healthz, /readyz and /metrics stay open. The
	// Secret is mounted into the workers, which reload it when it changes: keys rotate
	// without a restart. Empty serves without authentication.
	// +optional
	APIKeySecretRef *SecretKeyRef `json:"apiKeySecretRef,omitempty"`
}

// SchedulingPolicy is the order in which a worker serves waiting requests.
type SchedulingPolicy string

const (
	SchedulingFCFS     SchedulingPolicy = "fcfs"
	SchedulingPriority SchedulingPolicy = "priority"
)

// KVCacheType is a storage type of the KV cache.
type KVCacheType string

// The KV cache types; each is a ggml type of the same name.
const (
	KVCacheAuto KVCacheType = "auto"
	KVCacheF16  KVCacheType = "f16"
	KVCacheBF16 KVCacheType = "bf16"
	KVCacheF32  KVCacheType = "f32"
	KVCacheQ8_0 KVCacheType = "q8_0"
)

// NarrationSpec configures the Events workers emit on the InferenceWorker.
type NarrationSpec struct {
	// inferenceEvents says which completed requests become InferenceComplete Events:
	// All, Sampled (at most one per minIntervalSeconds, summarising the rest) or Off.
	// ModelLoaded and ModelLoadFailed Events are always emitted.
	// +kubebuilder:default=Sampled
	// +optional
	InferenceEvents InferenceEventsMode `json:"inferenceEvents,omitempty"`

	// minIntervalSeconds is the least time between two InferenceComplete Events of one
	// worker when inferenceEvents is Sampled.
	// +kubebuilder:default=30
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=86400
	// +optional
	MinIntervalSeconds int32 `json:"minIntervalSeconds,omitempty"`
}

// PodOverlay adds settings to the worker pods. The operator's own settings (GPU limits,
// probes, security context) are kept; these are merged on top.
type PodOverlay struct {
	// nodeSelector is added to the operator's own node selector.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// tolerations are added to the operator's own (which tolerate the GPU resource taint).
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// affinity replaces the operator's node affinity for GPU selection when set.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// resources are the worker container's CPU and memory requests and limits.
	// GPU limits come from spec.gpu and need not be repeated here.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitzero"`

	// env adds environment variables to the worker container and to the init container
	// that downloads a URL model (proxy settings, for example).
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`

	// priorityClassName is the worker pods' PriorityClass.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// runtimeClassName is the worker pods' RuntimeClass, e.g. `nvidia` where the GPU
	// runtime is not the default.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	RuntimeClassName *string `json:"runtimeClassName,omitempty"`

	// imagePullSecrets are the worker pods' Secrets for pulling a private worker image.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// labels are added to the worker pods (not to the Deployment's selector).
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k in ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/component', 'inference.kubeinfer.dev/worker'])",message="spec.pod.labels may not set app.kubernetes.io/name, instance, managed-by or component, or inference.kubeinfer.dev/worker: the operator selects its pods by them"
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// annotations are added to the worker pods.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// volumes are added to the worker pods, next to the operator's own (model, tmp,
	// model-cache, api-keys, source-headers), whose names they may not reuse.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(v, !(v.name in ['model', 'tmp', 'model-cache', 'api-keys', 'source-headers']))",message="spec.pod.volumes may not be named model, tmp, model-cache, api-keys or source-headers: the operator's own volumes have those names; rename yours"
	// +listType=map
	// +listMapKey=name
	// +optional
	Volumes []corev1.Volume `json:"volumes,omitempty"`

	// volumeMounts are added to the worker container and to the init container that
	// downloads a URL model (a CA bundle is for the download first of all). They may not
	// mount at or below /models, /tmp, /var/cache/kubeinfer or /var/run/kubeinfer, where the
	// operator mounts its own. Each names a volume of spec.pod.volumes; one that does not
	// is refused by the Deployment's validation, which a WorkersRefused Warning Event shows.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(m, !['/models', '/tmp', '/var/cache/kubeinfer', '/var/run/kubeinfer'].exists(p, m.mountPath == p || m.mountPath.startsWith(p + '/')))",message="spec.pod.volumeMounts may not mount at or below /models, /tmp, /var/cache/kubeinfer or /var/run/kubeinfer: the operator mounts its own volumes there; choose another mountPath"
	// +optional
	VolumeMounts []corev1.VolumeMount `json:"volumeMounts,omitempty"`

	// serviceAccountName runs the worker pods as this ServiceAccount instead of the one the
	// operator creates (<name>-worker); the operator binds its narration Role (create and
	// patch Events) to it.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
}

// Condition types reported on an InferenceWorker.
const (
	// ConditionReady is True when every desired worker is up to date and serving.
	ConditionReady = "Ready"
	// ConditionProgressing is True while workers are being created, rolled, scaled or loading the model.
	ConditionProgressing = "Progressing"
	// ConditionModelLoaded is True when at least one worker has the model loaded and serves it.
	ConditionModelLoaded = "ModelLoaded"
	// ConditionDegraded is True when something needs a person: crash loops, image pull errors,
	// failed model downloads or loads, an invalid model source.
	ConditionDegraded = "Degraded"
)

// ModelStatus is what the workers report about the loaded model.
type ModelStatus struct {
	// servedName is the name clients pass as `model` in API requests.
	// +optional
	ServedName string `json:"servedName,omitempty"`
	// parameters is the model's parameter count, as reported by a worker after loading.
	// +optional
	Parameters int64 `json:"parameters,omitempty"`
	// memoryMiB is the accelerator (or host, on the CPU engine) memory a worker used for the model,
	// on each GPU (the most of any) when the model is split over several.
	// +optional
	MemoryMiB int64 `json:"memoryMiB,omitempty"`
	// device is where the last load ran, e.g. `GPU0`, `GPU0,GPU1` (a model split over two GPUs) or `CPU`.
	// +optional
	Device string `json:"device,omitempty"`
	// loadMillis is how long the last load took, in milliseconds.
	// +optional
	LoadMillis int64 `json:"loadMillis,omitempty"`
	// requiredMiB is the GPU memory one worker needs for the model on each of its GPUs (weights +
	// KV cache + buffers at the configured context and concurrency), by the plan the CUDA loader
	// allocates with: read from a URL source's header, or reported by a worker after a load.
	// The operator schedules workers only onto nodes whose GPUs have this much.
	// +optional
	RequiredMiB int64 `json:"requiredMiB,omitempty"`
	// weightsBytes is the device memory the model's weights take, in bytes.
	// +optional
	WeightsBytes int64 `json:"weightsBytes,omitempty"`
	// loadProgress is how far the slowest worker is with downloading (a URL source) or
	// loading the model, e.g. `50%` (the Ready reason says which); empty when no worker
	// downloads or loads.
	// +optional
	LoadProgress string `json:"loadProgress,omitempty"`
}

// InferenceWorkerStatus is the observed state of an InferenceWorker.
type InferenceWorkerStatus struct {
	// observedGeneration is the metadata.generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// replicas is the number of worker pods that exist (the scale subresource reads it).
	// +optional
	Replicas int32 `json:"replicas"`
	// readyReplicas is the number of workers serving requests.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`
	// updatedReplicas is the number of workers running the current spec.
	// +optional
	UpdatedReplicas int32 `json:"updatedReplicas,omitempty"`
	// readyText is readyReplicas/desired replicas, for kubectl's Ready column.
	// +optional
	ReadyText string `json:"readyText,omitempty"`
	// selector is the label selector of the worker pods (the scale subresource and HPAs read it).
	// +optional
	Selector string `json:"selector,omitempty"`
	// endpoint is the in-cluster base URL of the OpenAI-compatible API.
	// +optional
	Endpoint string `json:"endpoint,omitempty"`
	// model is what the workers report about the model.
	// +optional
	Model ModelStatus `json:"model,omitempty"`
	// autoscaling is the decision of spec.autoscaling.
	// +optional
	Autoscaling *AutoscalingStatus `json:"autoscaling,omitempty"`
	// podMonitor is the name of the PodMonitor of spec.monitoring.podMonitor, once it exists.
	// +optional
	PodMonitor string `json:"podMonitor,omitempty"`
	// inferencePool is the name of the InferencePool of spec.routing.inferencePool, once it exists.
	// +optional
	InferencePool string `json:"inferencePool,omitempty"`
	// conditions are Ready, Progressing, ModelLoaded and Degraded, and PodMonitorReady,
	// InferencePoolReady and AutoscalingActive when the spec asks for those.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// InferenceWorker runs an LLM on GPUs (or the CPU engine) behind an OpenAI-compatible API.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=iw,categories=kubeinfer
// +kubebuilder:printcolumn:name="Arch",type=string,JSONPath=`.spec.model.architecture`
// +kubebuilder:printcolumn:name="Model",type=string,JSONPath=`.status.model.servedName`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.readyText`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Progress",type=string,JSONPath=`.status.model.loadProgress`
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.status.endpoint`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type InferenceWorker struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state: which model, on which GPUs, how many replicas.
	// +required
	Spec InferenceWorkerSpec `json:"spec"`
	// status is what the operator and the workers observed.
	// +optional
	Status InferenceWorkerStatus `json:"status,omitempty"`
}

// InferenceWorkerList is a list of InferenceWorkers.
// +kubebuilder:object:root=true
type InferenceWorkerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []InferenceWorker `json:"items"`
}
