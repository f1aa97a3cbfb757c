package v1alpha1

import "strings"

// Reasons for conditions and Events. An Event that tells the same story as a condition
// uses the condition's reason, so `kubectl describe` and `kubectl get -o yaml` agree.
const (
	// ReasonServing: every desired worker is up to date, has the model loaded and serves it.
	ReasonServing = "Serving"
	// ReasonSuspended: spec.suspend is true, so the workers are scaled to zero.
	ReasonSuspended = "Suspended"
	// ReasonScaledToZero: spec.replicas is 0.
	ReasonScaledToZero = "ScaledToZero"
	// ReasonWorkersStarting: worker pods are being created, scheduled or started.
	ReasonWorkersStarting = "WorkersStarting"
	// ReasonModelDownloading: the init container of a worker downloads the URL model.
	ReasonModelDownloading = "ModelDownloading"
	// ReasonModelLoading: worker containers run but have not loaded the model yet.
	ReasonModelLoading = "ModelLoading"
	// ReasonModelLoaded: at least one worker has the model loaded.
	ReasonModelLoaded = "ModelLoaded"
	// ReasonNoWorkers: no worker pod exists, so no model is loaded.
	ReasonNoWorkers = "NoWorkers"
	// ReasonRolloutComplete: nothing is progressing, all workers run the current spec.
	ReasonRolloutComplete = "RolloutComplete"
	// ReasonAsExpected: nothing is degraded.
	ReasonAsExpected = "AsExpected"

	// ReasonUnschedulable: a worker pod cannot be placed; the message says what is missing.
	ReasonUnschedulable = "Unschedulable"
	// ReasonCrashLoopBackOff: a worker container keeps exiting.
	ReasonCrashLoopBackOff = "CrashLoopBackOff"
	// ReasonImagePullError: the worker image cannot be pulled.
	ReasonImagePullError = "ImagePullError"
	// ReasonModelFetchFailed: the init container could not download or verify the model.
	ReasonModelFetchFailed = "ModelFetchFailed"
	// ReasonModelLoadFailed: the worker could not load the model file (missing, corrupt,
	// wrong architecture, too large); the worker exits with WorkerExitModelLoadFailed. A URL
	// model whose header names a tensor type the worker lacks is refused by the operator
	// before any pod runs, and its workers are scaled to zero.
	ReasonModelLoadFailed = "ModelLoadFailed"
	// ReasonInvalidModelSource: the model source refers to something that does not exist.
	ReasonInvalidModelSource = "InvalidModelSource"
	// ReasonWorkersRefused: the API server refuses to create the worker pods (Pod Security
	// admission, a quota, a webhook); the message is its answer, with what to change.
	ReasonWorkersRefused = "WorkersRefused"
	// ReasonModelTooLarge: the model needs more GPU memory (weights + KV cache + buffers) than
	// any node's GPUs have (label nvidia.com/gpu.memory), so the workers are scaled to zero
	// instead of waiting in Pending; a node that fits brings them back.
	ReasonModelTooLarge = "ModelTooLarge"
	// ReasonInferenceFailed: a worker's model produced non-finite logits (NaN or Inf) while
	// serving a request (a Warning Event from the worker; the message names the cause). After
	// several in a row the worker's /readyz answers 503 with the reason.
	ReasonInferenceFailed = "InferenceFailed"

	// ReasonApplied: the PodMonitor or InferencePool the spec asks for exists as asked.
	ReasonApplied = "Applied"
	// ReasonCRDNotInstalled: the spec asks for a PodMonitor or InferencePool, but the
	// cluster does not serve that kind; the message names the CRD to install.
	ReasonCRDNotInstalled = "CRDNotInstalled"
	// ReasonScalingOnLoad: spec.autoscaling sets the workers from the load it reads.
	ReasonScalingOnLoad = "ScalingOnLoad"
	// ReasonNoLoadReading: no ready worker answered the load probe, so the number of
	// workers is held.
	ReasonNoLoadReading = "NoLoadReading"
	// ReasonExternalAutoscaler: a HorizontalPodAutoscaler (KEDA makes one too) targets this
	// InferenceWorker while spec.autoscaling is set; the API server refuses its scale writes.
	ReasonExternalAutoscaler = "ExternalAutoscaler"
	// ReasonScaledUp and ReasonScaledDown: Events of the autoscaler, with the load that asked.
	ReasonScaledUp   = "ScaledUp"
	ReasonScaledDown = "ScaledDown"

	// Event-only reasons for what the operator did.
	ReasonCreated = "Created"
	ReasonUpdated = "Updated"
	ReasonScaled  = "Scaled"
)

// The contract between the operator and the worker pods it creates.
const (
	// LabelWorker holds the InferenceWorker's name on every child object and worker pod.
	LabelWorker = "inference.kubeinfer.dev/worker"

	// Environment of the worker container (and of the fetch init container of a URL model),
	// filled from the InferenceWorker and the downward API, so a worker knows which object
	// to narrate its Events on.
	EnvInferenceWorkerName      = "KUBEINFER_INFERENCEWORKER_NAME"
	EnvInferenceWorkerNamespace = "KUBEINFER_INFERENCEWORKER_NAMESPACE"
	EnvInferenceWorkerUID       = "KUBEINFER_INFERENCEWORKER_UID"
	EnvPodName                  = "KUBEINFER_POD_NAME"
	EnvPodUID                   = "KUBEINFER_POD_UID"

	// WorkerExitModelLoadFailed is the worker's exit code when the model cannot be loaded,
	// so the operator can tell a bad model from a crash.
	WorkerExitModelLoadFailed = 3
	// EventReportingController names the worker as the source of its narration Events.
	EventReportingController = "kubeinfer.dev/worker"

	// LabelWorker is also set on the workers' narration Events, so the operator caches
	// and watches only those.

	// Annotations carrying the machine fields of a worker's narration Events; the
	// operator reads the ModelLoaded ones into status.model.
	AnnotationAction        = "kubeinfer.dev/action"
	AnnotationDurationMS    = "kubeinfer.dev/duration-ms"
	AnnotationTokensIn      = "kubeinfer.dev/tokens-in"
	AnnotationTokensOut     = "kubeinfer.dev/tokens-out"
	AnnotationCorrelationID = "kubeinfer.dev/correlation-id"
	AnnotationDevice        = "kubeinfer.dev/device"
	AnnotationModel         = "kubeinfer.dev/model"
	AnnotationParameters    = "kubeinfer.dev/parameters"
	// AnnotationVRAMMiB is the GPU memory the worker holds for the model: on each GPU (the
	// most of any) when the model is split over several, AnnotationGPUs of them.
	AnnotationVRAMMiB = "kubeinfer.dev/vram-mib"
	AnnotationGPUs    = "kubeinfer.dev/gpus"
	AnnotationRAMMiB  = "kubeinfer.dev/ram-mib"
	// AnnotationUnready ("true") is on the InferenceFailed Event after which the worker
	// reports itself not ready: the operator shows it as Degraded with that Event's message.
	AnnotationUnready = "kubeinfer.dev/unready"
	// AnnotationRequiredMiB is the GPU memory plan (weights + KV cache + buffers) of the
	// loaded model at the worker's context and concurrency, on ModelLoaded Events.
	AnnotationRequiredMiB = "kubeinfer.dev/required-mib"
	// AnnotationWeightsBytes is the device bytes of the weights, on ModelLoaded Events.
	AnnotationWeightsBytes = "kubeinfer.dev/weights-bytes"
	// Load progress, on the one ModelLoading Event of a load (or ModelDownloading Event of
	// a download), patched as it goes.
	AnnotationLoadedBytes    = "kubeinfer.dev/loaded-bytes"
	AnnotationTotalBytes     = "kubeinfer.dev/total-bytes"
	AnnotationBytesPerSecond = "kubeinfer.dev/bytes-per-second"
	AnnotationETASeconds     = "kubeinfer.dev/eta-seconds"
	// AnnotationStalledSince (RFC 3339) is when data last arrived, while a download gets none.
	AnnotationStalledSince = "kubeinfer.dev/stalled-since"

	// FetchExitFailed is the exit code of `kubeinfer-worker fetch` on a failed download or digest mismatch.
	FetchExitFailed = 4

	// The model server protocol of the Gateway API Inference Extension: gauges every worker
	// serves on /metrics under vLLM's names, which endpoint pickers read, and from which the
	// operator's autoscaler reads a worker's in-flight requests (running + waiting).
	MetricRequestsWaiting = "vllm:num_requests_waiting"
	MetricRequestsRunning = "vllm:num_requests_running"
)

// DeviceGPUs is how many GPUs a worker's device string names: "GPU0" is one, a model split
// over several GPUs is on "GPU0,GPU1", and "CPU" (or nothing) names none.
func DeviceGPUs(device string) int {
	n := 0
	for _, d := range strings.Split(device, ",") {
		if strings.HasPrefix(d, "GPU") {
			n++
		}
	}
	return n
}
