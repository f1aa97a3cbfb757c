package controllers

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// The condition functions are pure: these tables drive them over pod and Deployment
// states without an API server (the envtests drive the same states end to end).

func tableIW(mutate ...func(*inferencev1alpha1.InferenceWorker)) *inferencev1alpha1.InferenceWorker {
	iw := &inferencev1alpha1.InferenceWorker{ObjectMeta: metav1.ObjectMeta{Name: "tiny", Namespace: "ns", Generation: 3}}
	iw.Spec.Model.Architecture = inferencev1alpha1.ArchitectureLlama
	iw.Spec.Replicas = ptr.To[int32](2)
	for _, m := range mutate {
		m(iw)
	}
	return iw
}

func pods(states ...func(*corev1.PodStatus)) []corev1.Pod {
	var out []corev1.Pod
	for i, state := range states {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("tiny-%d", i)}}
		state(&p.Status)
		out = append(out, p)
	}
	return out
}

func deployment(replicas, ready, updated int32) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 2},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: replicas, ReadyReplicas: ready, UpdatedReplicas: updated}}
}

func checkCondition(t *testing.T, got metav1.Condition, status metav1.ConditionStatus, reason, msgPart string) {
	t.Helper()
	if got.Status != status || got.Reason != reason || !strings.Contains(got.Message, msgPart) {
		t.Errorf("%s = %s/%s %q, want %s/%s containing %q", got.Type, got.Status, got.Reason, got.Message, status, reason, msgPart)
	}
}

var (
	loadFailed  = crashingPod(inferencev1alpha1.WorkerExitModelLoadFailed, "model load failed: unsupported tensor type IQ1_S")
	crashing    = crashingPod(2, "panic: runtime error")
	tooLargeFit = modelFit{requiredMiB: 90000, gpuNodes: 2, largestMiB: 81920}
)

func TestDegradedCondition(t *testing.T) {
	for _, c := range []struct {
		name     string
		obs      observed
		status   metav1.ConditionStatus
		reason   string
		contains string
	}{
		{"no pods", observed{}, metav1.ConditionFalse, inferencev1alpha1.ReasonAsExpected, "No worker problems"},
		{"serving", observed{pods: pods(readyPod, loadingPod)}, metav1.ConditionFalse, inferencev1alpha1.ReasonAsExpected, ""},
		{"crash loop", observed{pods: pods(readyPod, crashing)}, metav1.ConditionTrue, inferencev1alpha1.ReasonCrashLoopBackOff,
			"pod tiny-1: worker keeps crashing (4 restarts; last exit code 2: panic: runtime error)"},
		{"load failed", observed{pods: pods(loadFailed)}, metav1.ConditionTrue, inferencev1alpha1.ReasonModelLoadFailed,
			"could not load the model: model load failed: unsupported tensor type IQ1_S"},
		{"download failed", observed{pods: pods(fetchFailedPod)}, metav1.ConditionTrue, inferencev1alpha1.ReasonModelFetchFailed,
			"sha256 mismatch"},
		{"image pull", observed{pods: pods(imagePullPod)}, metav1.ConditionTrue, inferencev1alpha1.ReasonImagePullError,
			"cannot pull image registry.test/missing:v9"},
		{"missing PVC", observed{sourceProblem: "PersistentVolumeClaim \"models\" does not exist"}, metav1.ConditionTrue,
			inferencev1alpha1.ReasonInvalidModelSource, "does not exist"},
		{"non-finite logits", observed{pods: pods(readyPod, loadingPod), failing: map[string]string{"tiny-1": "GPT inference failed: NaN (3 in a row)"}},
			metav1.ConditionTrue, inferencev1alpha1.ReasonInferenceFailed, "pod tiny-1: GPT inference failed: NaN (3 in a row)"},
		{"a ready pod's old failure is none", observed{pods: pods(readyPod), failing: map[string]string{"tiny-0": "NaN"}},
			metav1.ConditionFalse, inferencev1alpha1.ReasonAsExpected, ""},
		{"too large wins", observed{pods: pods(crashing), fit: tooLargeFit}, metav1.ConditionTrue,
			inferencev1alpha1.ReasonModelTooLarge, "needs 90000 MiB"},
		{"a terminating pod is no problem", observed{pods: func() []corev1.Pod {
			p := pods(crashing)
			p[0].DeletionTimestamp = ptr.To(metav1.Now())
			return p
		}()}, metav1.ConditionFalse, inferencev1alpha1.ReasonAsExpected, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkCondition(t, degradedCondition(observeWorkers(tableIW(), c.obs)), c.status, c.reason, c.contains)
		})
	}
}

func TestModelLoadedCondition(t *testing.T) {
	loads := []loadingReport{
		{pod: "tiny-0", progress: inferencev1alpha1.LoadProgress{Done: 6e8, Total: 1.2e9, BytesPerSecond: 3e8, ETA: 2e9}},
		{pod: "tiny-1", progress: inferencev1alpha1.LoadProgress{Done: 3e8, Total: 1.2e9, BytesPerSecond: 1e8, ETA: 9e9}},
	}
	last := &loadReport{device: "GPU0", memoryMiB: 2212, memoryKind: "VRAM", loadMillis: 834}
	for _, c := range []struct {
		name     string
		obs      observed
		status   metav1.ConditionStatus
		reason   string
		contains string
	}{
		{"no workers", observed{}, metav1.ConditionFalse, inferencev1alpha1.ReasonNoWorkers, "No worker is running"},
		{"loaded with the last load's figures", observed{pods: pods(readyPod, loadingPod), lastLoad: last}, metav1.ConditionTrue,
			inferencev1alpha1.ReasonModelLoaded, "Model tiny is loaded on 1 of 2 workers (last load: 2212 MB VRAM, on GPU0, 834 ms)"},
		{"loading: the slowest worker", observed{pods: pods(loadingPod, loadingPod), loading: loads}, metav1.ConditionFalse,
			inferencev1alpha1.ReasonModelLoading, "on pod tiny-1, the slowest of 2 loading workers"},
		{"loading without progress yet", observed{pods: pods(loadingPod)}, metav1.ConditionFalse,
			inferencev1alpha1.ReasonModelLoading, "1 workers are loading model tiny"},
		{"downloading", observed{pods: pods(downloadingPod), downloading: loads[:1]}, metav1.ConditionFalse,
			inferencev1alpha1.ReasonModelDownloading, "Downloading 0.6 of 1.2 GB (50%"},
		{"load failed", observed{pods: pods(loadFailed)}, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoadFailed,
			"unsupported tensor type IQ1_S"},
		{"a crash is not a load failure", observed{pods: pods(crashing)}, metav1.ConditionFalse, inferencev1alpha1.ReasonNoWorkers, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			iw := tableIW()
			checkCondition(t, modelLoadedCondition(iw, c.obs, observeWorkers(iw, c.obs)), c.status, c.reason, c.contains)
		})
	}
}

// Ready and Progressing over every stage, in the order the stages take precedence.
func TestReadyAndProgressingConditions(t *testing.T) {
	suspend := func(iw *inferencev1alpha1.InferenceWorker) { iw.Spec.Suspend = true }
	zero := func(iw *inferencev1alpha1.InferenceWorker) { iw.Spec.Replicas = ptr.To[int32](0) }
	T, F := metav1.ConditionTrue, metav1.ConditionFalse
	for _, c := range []struct {
		name                  string
		iw                    *inferencev1alpha1.InferenceWorker
		obs                   observed
		ready                 metav1.ConditionStatus
		readyReason, readyMsg string
		progressing           metav1.ConditionStatus
		progReason, progMsg   string
	}{
		{"suspended, pods stopping", tableIW(suspend), observed{deployment: deployment(1, 1, 1), pods: pods(crashing)},
			F, inferencev1alpha1.ReasonSuspended, "spec.suspend is true", T, inferencev1alpha1.ReasonSuspended, "(workers are stopping)"},
		{"suspended, stopped", tableIW(suspend), observed{deployment: deployment(0, 0, 0)},
			F, inferencev1alpha1.ReasonSuspended, "set it to false to resume", F, inferencev1alpha1.ReasonSuspended, "set it to false to resume"},
		{"problem", tableIW(), observed{deployment: deployment(2, 1, 2), pods: pods(readyPod, crashing)},
			F, inferencev1alpha1.ReasonCrashLoopBackOff, "keeps crashing", F, inferencev1alpha1.ReasonCrashLoopBackOff, "Stopped: pod tiny-1"},
		{"scaled to zero, pods stopping", tableIW(zero), observed{deployment: deployment(2, 2, 2)},
			F, inferencev1alpha1.ReasonScaledToZero, "spec.replicas is 0", T, inferencev1alpha1.ReasonScaledToZero, "(workers are stopping)"},
		{"serving", tableIW(), observed{deployment: deployment(2, 2, 2), pods: pods(readyPod, readyPod)},
			T, inferencev1alpha1.ReasonServing, "2 of 2 workers serve model tiny at http://tiny.ns.svc:8000/v1",
			F, inferencev1alpha1.ReasonRolloutComplete, "All workers run the current spec"},
		{"rollout not observed yet", tableIW(), observed{deployment: func() *appsv1.Deployment {
			d := deployment(2, 2, 2)
			d.Generation = 3
			return d
		}(), pods: pods(readyPod, readyPod)},
			F, inferencev1alpha1.ReasonWorkersStarting, "2 of 2 workers ready, 2 up to date", T, inferencev1alpha1.ReasonWorkersStarting, ""},
		{"unschedulable", tableIW(), observed{deployment: deployment(2, 1, 2), pods: pods(readyPod, unschedulablePod)},
			F, inferencev1alpha1.ReasonUnschedulable, "Insufficient nvidia.com/gpu", T, inferencev1alpha1.ReasonUnschedulable, "pod tiny-1 cannot be scheduled"},
		{"downloading", tableIW(), observed{deployment: deployment(2, 0, 2), pods: pods(downloadingPod, loadingPod)},
			F, inferencev1alpha1.ReasonModelDownloading, "0 of 2 workers ready; 1 downloading model tiny", T, inferencev1alpha1.ReasonModelDownloading, ""},
		{"loading", tableIW(), observed{deployment: deployment(2, 1, 2), pods: pods(readyPod, loadingPod)},
			F, inferencev1alpha1.ReasonModelLoading, "1 of 2 workers ready; 1 loading model tiny", T, inferencev1alpha1.ReasonModelLoading, ""},
		{"starting", tableIW(), observed{},
			F, inferencev1alpha1.ReasonWorkersStarting, "0 of 2 workers ready, 0 up to date", T, inferencev1alpha1.ReasonWorkersStarting, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := observeWorkers(c.iw, c.obs)
			checkCondition(t, readyCondition(c.iw, w), c.ready, c.readyReason, c.readyMsg)
			checkCondition(t, progressingCondition(c.iw, w), c.progressing, c.progReason, c.progMsg)
		})
	}
}
