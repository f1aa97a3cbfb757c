package controllers

import (
	"encoding/json"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// The desired children of an InferenceWorker, built by pure functions of it (no client,
// no context) so they can be table-tested and applied with server-side apply.

const (
	workerContainerName = "worker"
	fetchContainerName  = "fetch-model"
	modelVolumeName     = inferencev1alpha1.VolumeModel
	tmpVolumeName       = inferencev1alpha1.VolumeTmp
	modelMountPath      = inferencev1alpha1.MountModels
	// fetchedModelFile is where `kubeinfer-worker fetch --dest /models` writes a URL source.
	fetchedModelFile = "model.gguf"
	workerBinary     = "kubeinfer-worker"
	workerUID        = 65532
	httpPortName     = "http"
)

// childOptions are the operator-wide settings that shape every InferenceWorker's children.
type childOptions struct {
	// WorkerImage is used when spec.image is empty.
	WorkerImage string
	// RequiredGPUMemoryMiB, when not 0, is the GPU memory the model needs: the pods get a
	// node affinity on the GPU memory label for it, unless the user chose the GPUs
	// (gpu.product, gpu.minMemoryMiB or pod.affinity).
	RequiredGPUMemoryMiB int64
	// ReportedGPUMemory: RequiredGPUMemoryMiB is what the workers reported after loading,
	// not what the model's header said before scheduling.
	ReportedGPUMemory bool
	// ScaledToZero runs no workers: no node can hold the model, or no worker of this
	// version can run it, and pods that would wait in Pending or crash-loop help nobody.
	ScaledToZero bool
	// NodeCacheDir is the node directory of a Node model cache; empty means DefaultNodeCacheDir.
	NodeCacheDir string
}

func workerName(iw *inferencev1alpha1.InferenceWorker) string { return iw.Name }

// workerServiceAccountName names the ServiceAccount, Role and RoleBinding of the workers.
func workerServiceAccountName(iw *inferencev1alpha1.InferenceWorker) string {
	return iw.Name + "-worker"
}

// selectorLabels select the worker pods; they never change for the life of the object,
// since a Deployment's selector is immutable.
func selectorLabels(iw *inferencev1alpha1.InferenceWorker) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":      "kubeinfer-worker",
		inferencev1alpha1.LabelWorker: iw.Name,
	}
}

func childLabels(iw *inferencev1alpha1.InferenceWorker) map[string]string {
	l := selectorLabels(iw)
	l["app.kubernetes.io/instance"] = iw.Name
	l["app.kubernetes.io/managed-by"] = managedByValue
	l["app.kubernetes.io/component"] = "inference-worker"
	return l
}

// managedByValue marks the operator's children; the manager's pod cache is limited to it.
const managedByValue = "kubeinfer"

func ownerReference(iw *inferencev1alpha1.InferenceWorker) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(inferencev1alpha1.GroupVersion.String()).
		WithKind("InferenceWorker").
		WithName(iw.Name).
		WithUID(iw.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// servedName is the OpenAI `model` name: spec.model.servedName or the object's name.
func servedName(iw *inferencev1alpha1.InferenceWorker) string {
	if iw.Spec.Model.ServedName != "" {
		return iw.Spec.Model.ServedName
	}
	return iw.Name
}

// desiredReplicas is what the Deployment should run: zero while suspended, the autoscaler's
// decision while spec.autoscaling is set, else spec.replicas.
func desiredReplicas(iw *inferencev1alpha1.InferenceWorker) int32 {
	switch {
	case iw.Spec.Suspend:
		return 0
	case iw.Spec.Autoscaling != nil:
		return autoscaledReplicas(iw)
	case iw.Spec.Replicas == nil: // only before the API server applied the schema default
		return 1
	default:
		return *iw.Spec.Replicas
	}
}

// deploymentReplicas is desiredReplicas, or zero while the model fits no node or no worker can run it.
func deploymentReplicas(iw *inferencev1alpha1.InferenceWorker, opts childOptions) int32 {
	if opts.ScaledToZero {
		return 0
	}
	return desiredReplicas(iw)
}

func servingPort(iw *inferencev1alpha1.InferenceWorker) int32 {
	if iw.Spec.Serving.Port == 0 {
		return 8000
	}
	return iw.Spec.Serving.Port
}

func gpuResourceName(iw *inferencev1alpha1.InferenceWorker) corev1.ResourceName {
	if iw.Spec.GPU.ResourceName == "" {
		return "nvidia.com/gpu"
	}
	return corev1.ResourceName(iw.Spec.GPU.ResourceName)
}

// endpointURL is the in-cluster base URL of the worker Service's OpenAI API.
func endpointURL(iw *inferencev1alpha1.InferenceWorker) string {
	return fmt.Sprintf("http://%s.%s.svc:%d/v1", workerName(iw), iw.Namespace, servingPort(iw))
}

// modelPath is the model file's path inside the worker container.
func modelPath(iw *inferencev1alpha1.InferenceWorker) string {
	src := iw.Spec.Model.Source
	switch {
	case src.PVC != nil:
		return modelMountPath + "/" + src.PVC.Path
	case src.Image != nil:
		return modelMountPath + "/" + src.Image.Path
	default:
		return modelMountPath + "/" + fetchedModelFile
	}
}

func desiredServiceAccount(iw *inferencev1alpha1.InferenceWorker) *corev1ac.ServiceAccountApplyConfiguration {
	return corev1ac.ServiceAccount(workerServiceAccountName(iw), iw.Namespace).
		WithLabels(childLabels(iw)).
		WithOwnerReferences(ownerReference(iw))
}

// desiredRole lets the workers narrate: create and patch Events in their namespace, nothing else.
// They write through the core API, whose legacy timestamps order `kubectl describe`
// (internal/coreevents); events.k8s.io stays for workers of an older image during a rollout.
func desiredRole(iw *inferencev1alpha1.InferenceWorker) *rbacv1ac.RoleApplyConfiguration {
	return rbacv1ac.Role(workerServiceAccountName(iw), iw.Namespace).
		WithLabels(childLabels(iw)).
		WithOwnerReferences(ownerReference(iw)).
		WithRules(rbacv1ac.PolicyRule().
			WithAPIGroups("", "events.k8s.io").
			WithResources("events").
			WithVerbs("create", "patch"))
}

func desiredRoleBinding(iw *inferencev1alpha1.InferenceWorker) *rbacv1ac.RoleBindingApplyConfiguration {
	name := workerServiceAccountName(iw)
	return rbacv1ac.RoleBinding(name, iw.Namespace).
		WithLabels(childLabels(iw)).
		WithOwnerReferences(ownerReference(iw)).
		WithRoleRef(rbacv1ac.RoleRef().
			WithAPIGroup("rbac.authorization.k8s.io").
			WithKind("Role").
			WithName(name)).
		WithSubjects(rbacv1ac.Subject().
			WithKind("ServiceAccount").
			WithName(podServiceAccountName(iw)).
			WithNamespace(iw.Namespace))
}

func desiredService(iw *inferencev1alpha1.InferenceWorker) *corev1ac.ServiceApplyConfiguration {
	return corev1ac.Service(workerName(iw), iw.Namespace).
		WithLabels(childLabels(iw)).
		WithOwnerReferences(ownerReference(iw)).
		WithSpec(corev1ac.ServiceSpec().
			WithType(corev1.ServiceTypeClusterIP).
			WithSelector(selectorLabels(iw)).
			WithPorts(corev1ac.ServicePort().
				WithName(httpPortName).
				WithProtocol(corev1.ProtocolTCP).
				WithAppProtocol("http").
				WithPort(servingPort(iw)).
				WithTargetPort(intstr.FromString(httpPortName))))
}

func desiredDeployment(iw *inferencev1alpha1.InferenceWorker, opts childOptions) *appsv1ac.DeploymentApplyConfiguration {
	return appsv1ac.Deployment(workerName(iw), iw.Namespace).
		WithLabels(childLabels(iw)).
		WithOwnerReferences(ownerReference(iw)).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(deploymentReplicas(iw, opts)).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(selectorLabels(iw))).
			WithStrategy(rolloutStrategy(iw)).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(podLabels(iw)).
				WithAnnotations(iw.Spec.Pod.Annotations).
				WithSpec(workerPodSpec(iw, opts))))
}

// rolloutStrategy replaces GPU workers one at a time without a surge pod, so a rollout
// never needs a spare GPU; CPU workers surge instead, so they keep serving.
func rolloutStrategy(iw *inferencev1alpha1.InferenceWorker) *appsv1ac.DeploymentStrategyApplyConfiguration {
	ru := appsv1ac.RollingUpdateDeployment()
	if iw.Spec.GPU.Count > 0 {
		ru.WithMaxSurge(intstr.FromInt32(0)).WithMaxUnavailable(intstr.FromInt32(1))
	} else {
		ru.WithMaxSurge(intstr.FromInt32(1)).WithMaxUnavailable(intstr.FromInt32(0))
	}
	return appsv1ac.DeploymentStrategy().WithType(appsv1.RollingUpdateDeploymentStrategyType).WithRollingUpdate(ru)
}

func workerPodSpec(iw *inferencev1alpha1.InferenceWorker, opts childOptions) *corev1ac.PodSpecApplyConfiguration {
	overlay := iw.Spec.Pod
	spec := corev1ac.PodSpec().
		WithServiceAccountName(podServiceAccountName(iw)).
		WithAutomountServiceAccountToken(true).
		WithEnableServiceLinks(false).
		WithTerminationGracePeriodSeconds(60).
		WithSecurityContext(corev1ac.PodSecurityContext().
			WithRunAsNonRoot(true).
			WithRunAsUser(workerUID).
			WithRunAsGroup(workerUID).
			WithFSGroup(workerUID).
			WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))).
		WithVolumes(modelVolume(iw), corev1ac.Volume().WithName(tmpVolumeName).WithEmptyDir(corev1ac.EmptyDirVolumeSource())).
		WithVolumes(operateVolumes(iw, opts)...).
		WithVolumes(overlayVolumes(iw)...).
		WithImagePullSecrets(imagePullSecrets(iw)...).
		WithContainers(workerContainer(iw, opts))

	if src := iw.Spec.Model.Source.URL; src != nil {
		spec.WithInitContainers(fetchContainer(iw, opts, src))
	}
	if ns := nodeSelector(iw); len(ns) > 0 {
		spec.WithNodeSelector(ns)
	}
	if aff := affinity(iw, opts); aff != nil {
		spec.WithAffinity(aff)
	}
	for _, t := range tolerations(iw) {
		spec.WithTolerations(tolerationApply(t))
	}
	if overlay.PriorityClassName != "" {
		spec.WithPriorityClassName(overlay.PriorityClassName)
	}
	if overlay.RuntimeClassName != nil {
		spec.WithRuntimeClassName(*overlay.RuntimeClassName)
	}
	return spec
}

func modelVolume(iw *inferencev1alpha1.InferenceWorker) *corev1ac.VolumeApplyConfiguration {
	v := corev1ac.Volume().WithName(modelVolumeName)
	src := iw.Spec.Model.Source
	switch {
	case src.PVC != nil:
		return v.WithPersistentVolumeClaim(corev1ac.PersistentVolumeClaimVolumeSource().
			WithClaimName(src.PVC.ClaimName).
			WithReadOnly(true))
	case src.Image != nil:
		policy := src.Image.PullPolicy
		if policy == "" {
			policy = corev1.PullIfNotPresent
		}
		return v.WithImage(corev1ac.ImageVolumeSource().
			WithReference(src.Image.Reference).
			WithPullPolicy(policy))
	default:
		return v.WithEmptyDir(corev1ac.EmptyDirVolumeSource())
	}
}

func workerImage(iw *inferencev1alpha1.InferenceWorker, opts childOptions) string {
	if iw.Spec.Image != "" {
		return iw.Spec.Image
	}
	return opts.WorkerImage
}

// restrictedSecurityContext meets the "restricted" Pod Security Standard.
func restrictedSecurityContext() *corev1ac.SecurityContextApplyConfiguration {
	return corev1ac.SecurityContext().
		WithAllowPrivilegeEscalation(false).
		WithReadOnlyRootFilesystem(true).
		WithRunAsNonRoot(true).
		WithCapabilities(corev1ac.Capabilities().WithDrop("ALL"))
}

// fetchContainer downloads a URL model and narrates its progress (a ModelDownloading
// Event the operator shows), so it gets the environment the worker has: the narration's,
// and the overlay's (a proxy or CA setting is for the download first of all).
func fetchContainer(iw *inferencev1alpha1.InferenceWorker, opts childOptions, src *inferencev1alpha1.URLModelSource) *corev1ac.ContainerApplyConfiguration {
	return corev1ac.Container().
		WithName(fetchContainerName).
		WithImage(workerImage(iw, opts)).
		WithCommand(workerBinary).
		WithArgs("fetch", "--url", src.URL, "--sha256", src.SHA256, "--dest", modelMountPath, "--served-name", servedName(iw)).
		WithArgs(fetchSourceArgs(src)...).
		WithEnv(workerEnv(iw)...).
		WithTerminationMessagePolicy(corev1.TerminationMessageFallbackToLogsOnError).
		WithSecurityContext(restrictedSecurityContext()).
		WithVolumeMounts(
			corev1ac.VolumeMount().WithName(modelVolumeName).WithMountPath(modelMountPath),
			corev1ac.VolumeMount().WithName(tmpVolumeName).WithMountPath(inferencev1alpha1.MountTmp)).
		WithVolumeMounts(fetchSourceMounts(src)...).
		WithVolumeMounts(overlayMounts(iw)...)
}

// maxConcurrent is the worker's --max-concurrent.
func maxConcurrent(iw *inferencev1alpha1.InferenceWorker) int32 {
	if iw.Spec.Serving.MaxConcurrentRequests == 0 {
		return 8
	}
	return iw.Spec.Serving.MaxConcurrentRequests
}

// workerArgs is the `kubeinfer-worker serve` command line for this InferenceWorker.
func workerArgs(iw *inferencev1alpha1.InferenceWorker) []string {
	device := "cuda"
	if iw.Spec.GPU.Count == 0 {
		device = "cpu"
	}
	maxConcurrent := maxConcurrent(iw)
	events := iw.Spec.Narration.InferenceEvents
	if events == "" {
		events = inferencev1alpha1.InferenceEventsSampled
	}
	interval := iw.Spec.Narration.MinIntervalSeconds
	if interval == 0 {
		interval = 30
	}
	args := []string{
		"serve",
		"--model", modelPath(iw),
		"--arch", string(iw.Spec.Model.Architecture),
		"--served-name", servedName(iw),
		"--port", strconv.Itoa(int(servingPort(iw))),
		"--max-concurrent", strconv.Itoa(int(maxConcurrent)),
		"--device", device,
		"--inference-events", string(events),
		"--inference-events-interval", fmt.Sprintf("%ds", interval),
	}
	if mc := iw.Spec.Serving.MaxContextLength; mc != nil {
		args = append(args, "--max-context", strconv.Itoa(int(*mc)))
	}
	if n := iw.Spec.GPU.Count; n > 1 {
		// Every GPU the pod is given runs a shard of the model (tensor parallelism).
		args = append(args, "--gpus", strconv.Itoa(int(n)))
	}
	// The API server fills both in; an object read from elsewhere (a unit test) may lack them,
	// and then the worker's own defaults, the same as the CRD's, apply.
	if t := iw.Spec.Serving.KVCacheType; t != "" {
		args = append(args, "--kv-cache-type", string(t))
	}
	if u := iw.Spec.Serving.GPUMemoryUtilization; u > 0 {
		args = append(args, "--gpu-memory-utilization", strconv.FormatFloat(u, 'g', -1, 64))
	}
	if p := iw.Spec.Serving.SchedulingPolicy; p != "" {
		args = append(args, "--scheduling-policy", string(p))
	}
	return args
}

func workerContainer(iw *inferencev1alpha1.InferenceWorker, opts childOptions) *corev1ac.ContainerApplyConfiguration {
	c := corev1ac.Container().
		WithName(workerContainerName).
		WithImage(workerImage(iw, opts)).
		WithCommand(workerBinary).
		WithArgs(workerArgs(iw)...).
		WithArgs(apiKeyArgs(iw)...).
		WithPorts(corev1ac.ContainerPort().WithName(httpPortName).WithContainerPort(servingPort(iw)).WithProtocol(corev1.ProtocolTCP)).
		WithEnv(workerEnv(iw)...).
		WithResources(workerResources(iw)).
		// A model load can take many minutes for large files: the startup probe allows 30
		// minutes before liveness takes over, and only then is a stuck load restarted.
		WithStartupProbe(httpProbe("/readyz", 10, 180)).
		WithReadinessProbe(httpProbe("/readyz", 5, 2)).
		WithLivenessProbe(httpProbe("/healthz", 10, 3)).
		WithTerminationMessagePolicy(corev1.TerminationMessageFallbackToLogsOnError).
		WithSecurityContext(restrictedSecurityContext()).
		WithVolumeMounts(
			corev1ac.VolumeMount().WithName(modelVolumeName).WithMountPath(modelMountPath).WithReadOnly(true),
			corev1ac.VolumeMount().WithName(tmpVolumeName).WithMountPath(inferencev1alpha1.MountTmp)).
		WithVolumeMounts(apiKeyMounts(iw)...).
		WithVolumeMounts(overlayMounts(iw)...)
	return c
}

func httpProbe(path string, periodSeconds, failureThreshold int32) *corev1ac.ProbeApplyConfiguration {
	return corev1ac.Probe().
		WithHTTPGet(corev1ac.HTTPGetAction().WithPath(path).WithPort(intstr.FromString(httpPortName))).
		WithPeriodSeconds(periodSeconds).
		WithTimeoutSeconds(2).
		WithFailureThreshold(failureThreshold)
}

// narrationEnv tells a worker process which InferenceWorker and Pod it narrates about.
func narrationEnv(iw *inferencev1alpha1.InferenceWorker) []*corev1ac.EnvVarApplyConfiguration {
	fieldRef := func(name, path string) *corev1ac.EnvVarApplyConfiguration {
		return corev1ac.EnvVar().WithName(name).WithValueFrom(corev1ac.EnvVarSource().
			WithFieldRef(corev1ac.ObjectFieldSelector().WithAPIVersion("v1").WithFieldPath(path)))
	}
	return []*corev1ac.EnvVarApplyConfiguration{
		corev1ac.EnvVar().WithName(inferencev1alpha1.EnvInferenceWorkerName).WithValue(iw.Name),
		fieldRef(inferencev1alpha1.EnvInferenceWorkerNamespace, "metadata.namespace"),
		corev1ac.EnvVar().WithName(inferencev1alpha1.EnvInferenceWorkerUID).WithValue(string(iw.UID)),
		fieldRef(inferencev1alpha1.EnvPodName, "metadata.name"),
		fieldRef(inferencev1alpha1.EnvPodUID, "metadata.uid"),
	}
}

// workerEnv is the narration environment plus the overlay's.
func workerEnv(iw *inferencev1alpha1.InferenceWorker) []*corev1ac.EnvVarApplyConfiguration {
	env := narrationEnv(iw)
	for i := range iw.Spec.Pod.Env {
		env = append(env, envVarApply(iw.Spec.Pod.Env[i]))
	}
	return env
}

// workerResources merges the overlay's CPU/memory with the GPU limit from spec.gpu.
// Extended resources must have request == limit, so the GPU goes in both.
func workerResources(iw *inferencev1alpha1.InferenceWorker) *corev1ac.ResourceRequirementsApplyConfiguration {
	limits := corev1.ResourceList{}
	requests := corev1.ResourceList{}
	for k, v := range iw.Spec.Pod.Resources.Limits {
		limits[k] = v
	}
	for k, v := range iw.Spec.Pod.Resources.Requests {
		requests[k] = v
	}
	if n := iw.Spec.GPU.Count; n > 0 {
		q := *resource.NewQuantity(int64(n), resource.DecimalSI)
		limits[gpuResourceName(iw)] = q
		requests[gpuResourceName(iw)] = q
	}
	r := corev1ac.ResourceRequirements()
	if len(limits) > 0 {
		r.WithLimits(limits)
	}
	if len(requests) > 0 {
		r.WithRequests(requests)
	}
	return r
}

// GPU feature discovery labels, see https://github.com/NVIDIA/k8s-device-plugin (gpu-feature-discovery).
const (
	labelGPUProduct = "nvidia.com/gpu.product"
	labelGPUMemory  = "nvidia.com/gpu.memory"
)

func nodeSelector(iw *inferencev1alpha1.InferenceWorker) map[string]string {
	ns := map[string]string{}
	for k, v := range iw.Spec.Pod.NodeSelector {
		ns[k] = v
	}
	if iw.Spec.GPU.Count > 0 && iw.Spec.GPU.Product != "" {
		ns[labelGPUProduct] = iw.Spec.GPU.Product
	}
	return ns
}

// affinity is the overlay's affinity if set, else a node affinity on the GPU memory
// label for spec.gpu.minMemoryMiB, else (unless gpu.product pins the GPU) for the
// memory the model needs.
func affinity(iw *inferencev1alpha1.InferenceWorker, opts childOptions) *corev1ac.AffinityApplyConfiguration {
	if iw.Spec.Pod.Affinity != nil {
		return affinityApply(iw.Spec.Pod.Affinity)
	}
	if iw.Spec.GPU.Count == 0 {
		return nil
	}
	switch {
	case iw.Spec.GPU.MinMemoryMiB != nil:
		return gpuMemoryAffinity(*iw.Spec.GPU.MinMemoryMiB)
	case iw.Spec.GPU.Product == "" && opts.RequiredGPUMemoryMiB > 0:
		return gpuMemoryAffinity(opts.RequiredGPUMemoryMiB)
	}
	return nil
}

// gpuMemoryAffinity requires nodes whose GPUs have at least minMiB.
func gpuMemoryAffinity(minMiB int64) *corev1ac.AffinityApplyConfiguration {
	// Node affinity has no "greater or equal": Gt min-1 says the same for integers.
	return corev1ac.Affinity().WithNodeAffinity(corev1ac.NodeAffinity().
		WithRequiredDuringSchedulingIgnoredDuringExecution(corev1ac.NodeSelector().
			WithNodeSelectorTerms(corev1ac.NodeSelectorTerm().
				WithMatchExpressions(corev1ac.NodeSelectorRequirement().
					WithKey(labelGPUMemory).
					WithOperator(corev1.NodeSelectorOpGt).
					WithValues(strconv.FormatInt(minMiB-1, 10))))))
}

// tolerations: GPU nodes are commonly tainted with the GPU resource name so that only
// pods asking for GPUs land there; tolerate that taint, plus whatever the overlay adds.
func tolerations(iw *inferencev1alpha1.InferenceWorker) []corev1.Toleration {
	var ts []corev1.Toleration
	if iw.Spec.GPU.Count > 0 {
		ts = append(ts, corev1.Toleration{
			Key:      string(gpuResourceName(iw)),
			Operator: corev1.TolerationOpExists,
			Effect:   corev1.TaintEffectNoSchedule,
		})
	}
	return append(ts, iw.Spec.Pod.Tolerations...)
}

// asApplyConfiguration converts a typed API value from the overlay into its apply
// configuration; both share the JSON form, so a round trip is exact.
func asApplyConfiguration[AC any](v any) *AC {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err)) // typed API values always marshal
	}
	ac := new(AC)
	if err := json.Unmarshal(data, ac); err != nil {
		panic(fmt.Sprintf("unmarshal %T into %T: %v", v, ac, err))
	}
	return ac
}

func tolerationApply(t corev1.Toleration) *corev1ac.TolerationApplyConfiguration {
	return asApplyConfiguration[corev1ac.TolerationApplyConfiguration](t)
}

func envVarApply(e corev1.EnvVar) *corev1ac.EnvVarApplyConfiguration {
	return asApplyConfiguration[corev1ac.EnvVarApplyConfiguration](e)
}

func affinityApply(a *corev1.Affinity) *corev1ac.AffinityApplyConfiguration {
	return asApplyConfiguration[corev1ac.AffinityApplyConfiguration](a)
}
