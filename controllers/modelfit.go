package controllers

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/modelsize"
)

// workerPlanOptions are the memory plan options of the worker args this
// InferenceWorker's pods run with (see workerArgs): the same KV cache sizing as serve.
func workerPlanOptions(iw *inferencev1alpha1.InferenceWorker) memplan.Options {
	maxContext := 0
	if mc := iw.Spec.Serving.MaxContextLength; mc != nil {
		maxContext = int(*mc)
	}
	return memplan.Options{MaxContext: maxContext, Concurrency: int(maxConcurrent(iw)), GPUs: int(iw.Spec.GPU.Count),
		KVType: kvcache.Type(iw.Spec.Serving.KVCacheType), GPUMemoryUtilization: iw.Spec.Serving.GPUMemoryUtilization}
}

// modelFit is what the operator knows about the model's size and the cluster's GPUs.
type modelFit struct {
	// requiredMiB is the GPU memory one worker needs on each of its GPUs (spec.gpu.count of
	// them, the model split over them); 0 when unknown (or a CPU worker).
	requiredMiB int64
	// fromHeader: requiredMiB was read from the model's header before any worker ran, rather
	// than reported by a worker after its load.
	fromHeader   bool
	weightsBytes int64
	plan         string // the plan in words, when read from the header
	// gpuNodes is the number of nodes with the GPU memory label, largestMiB the most memory among them.
	gpuNodes   int
	largestMiB int64
	// unsupported says why no worker of this version can run the model (its header names a
	// tensor type the worker lacks): the workers are scaled to zero instead of crash-looping.
	unsupported string
}

// scaledToZero says the workers must not run: no node can hold the model, or no worker can run it.
func (f modelFit) scaledToZero() bool { return f.tooLarge() || f.unsupported != "" }

func (f modelFit) unsupportedMessage(iw *inferencev1alpha1.InferenceWorker) string {
	return fmt.Sprintf("model %s cannot run on this worker version: %s; workers are scaled to 0 until spec.model "+
		"points at a file of supported types (llama-quantize can convert it, e.g. to Q4_K_M)", servedName(iw), f.unsupported)
}

// tooLarge says no labelled node can hold the model.
func (f modelFit) tooLarge() bool {
	return f.requiredMiB > 0 && f.gpuNodes > 0 && f.requiredMiB > f.largestMiB
}

// affinityMiB is the GPU memory the pods' node affinity should ask for: only when the
// cluster labels its GPUs' memory (gpu-feature-discovery), else no node would match.
func (f modelFit) affinityMiB() int64 {
	if f.gpuNodes == 0 {
		return 0
	}
	return f.requiredMiB
}

// memoryAffinityMiB reads back the minimum gpuMemoryAffinity asks for; 0 if there is none.
func memoryAffinityMiB(a *corev1.Affinity) int64 {
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return 0
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, e := range term.MatchExpressions {
			if e.Key == labelGPUMemory && e.Operator == corev1.NodeSelectorOpGt && len(e.Values) == 1 {
				if v, err := strconv.ParseInt(e.Values[0], 10, 64); err == nil {
					return v + 1
				}
			}
		}
	}
	return 0
}

func (f modelFit) tooLargeMessage(iw *inferencev1alpha1.InferenceWorker) string {
	need := fmt.Sprintf("%d MiB", f.requiredMiB)
	if n := iw.Spec.GPU.Count; n > 1 {
		need = fmt.Sprintf("%d × %d MiB per GPU", n, f.requiredMiB)
	}
	if f.plan != "" {
		need = f.plan
	}
	return fmt.Sprintf("model %s needs %s of GPU memory but the largest GPU on the cluster's %d GPU nodes has %d MiB (label %s): "+
		"workers are scaled to 0 until a node with enough GPU memory joins; raise spec.gpu.count to split the model over more "+
		"GPUs, lower spec.serving.maxContextLength or maxConcurrentRequests, raise gpuMemoryUtilization, or use a smaller model",
		servedName(iw), need, f.gpuNodes, f.largestMiB, labelGPUMemory)
}

// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch

// observeModelFit reads the model's size (a URL's header, else what a worker reported)
// and the GPU memory of the cluster's nodes. Only GPU workers are sized.
func (r *InferenceWorkerReconciler) observeModelFit(ctx context.Context, iw *inferencev1alpha1.InferenceWorker) (modelFit, error) {
	var fit modelFit
	if iw.Spec.GPU.Count == 0 {
		return fit, nil
	}
	// A gated model's header needs its header Secret, which the operator does not read (it
	// would need to read every Secret of the cluster): its workers report the size.
	if src := iw.Spec.Model.Source.URL; src != nil && r.Sizer != nil && src.HeadersSecretRef == nil {
		plan, err := r.Sizer.Plan(ctx, src.URL, src.SHA256, workerPlanOptions(iw))
		switch {
		case modelsize.Unsupported(err):
			fit.unsupported = err.Error()
		case err != nil:
			// Not knowing the size is not an error of the InferenceWorker: the workers
			// still start, and report the size after their first load.
			ctrl.LoggerFrom(ctx).V(2).Info("cannot read the model's header", "error", err.Error())
		default:
			fit.requiredMiB, fit.weightsBytes, fit.plan = plan.RequiredMiB(), int64(plan.Weights), plan.String()
			fit.fromHeader = true
		}
	}
	// A worker's figure is per GPU of the split it ran: after spec.gpu.count changed it is
	// another split's, until a worker reports the new one.
	if n := inferencev1alpha1.DeviceGPUs(iw.Status.Model.Device); fit.requiredMiB == 0 && (n == 0 || n == int(iw.Spec.GPU.Count)) {
		fit.requiredMiB, fit.weightsBytes = iw.Status.Model.RequiredMiB, iw.Status.Model.WeightsBytes
	}
	var nodes corev1.NodeList
	// Read-only scan of every GPU node on each reconcile: skip the cache's deep copy, which
	// was a sixth of the operator's CPU at 250 nodes (test/bench).
	if err := r.List(ctx, &nodes, client.HasLabels{labelGPUMemory}, client.UnsafeDisableDeepCopy); err != nil {
		return fit, fmt.Errorf("list GPU nodes: %w", err)
	}
	for _, n := range nodes.Items {
		mib, err := strconv.ParseInt(n.Labels[labelGPUMemory], 10, 64)
		if err != nil || mib <= 0 {
			continue
		}
		fit.gpuNodes++
		fit.largestMiB = max(fit.largestMiB, mib)
	}
	return fit, nil
}
