package controllers

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// observed is what exists in the cluster for one InferenceWorker.
type observed struct {
	deployment *appsv1.Deployment // nil until created
	pods       []corev1.Pod
	// sourceProblem says why the model source cannot work (e.g. a missing PVC); empty if fine.
	sourceProblem string
	// lastLoad is what the newest ModelLoaded narration reported; nil if none.
	lastLoad *loadReport
	// loading is the progress of each worker still loading, from its ModelLoading Event.
	loading []loadingReport
	// downloading is the progress of each worker whose init container downloads the URL
	// model, from its ModelDownloading Event.
	downloading []loadingReport
	// fit is the model's GPU memory need and the cluster's GPU nodes.
	fit modelFit
}

// loadingReport is one loading (or downloading) worker's progress.
type loadingReport struct {
	pod      string
	progress inferencev1alpha1.LoadProgress
}

// slowest is the loading worker furthest from done: the one the InferenceWorker waits for.
func slowest(ls []loadingReport) *loadingReport {
	var s *loadingReport
	for i := range ls {
		l := &ls[i]
		if s == nil || l.progress.Percent() < s.progress.Percent() || (l.progress.Percent() == s.progress.Percent() && l.pod < s.pod) {
			s = l
		}
	}
	return s
}

// loadReport is a worker's account of its last model load.
type loadReport struct {
	device     string
	memoryMiB  int64
	memoryKind string // "VRAM" or "RAM"
	loadMillis int64
	parameters int64
	// requiredMiB and weightsBytes are the model's GPU memory plan, as the worker computed it.
	requiredMiB  int64
	weightsBytes int64
}

func parseLoadReport(ann map[string]string) *loadReport {
	num := func(key string) int64 {
		v, _ := strconv.ParseInt(ann[key], 10, 64)
		return v
	}
	lr := &loadReport{
		device:       ann[inferencev1alpha1.AnnotationDevice],
		loadMillis:   num(inferencev1alpha1.AnnotationDurationMS),
		parameters:   num(inferencev1alpha1.AnnotationParameters),
		requiredMiB:  num(inferencev1alpha1.AnnotationRequiredMiB),
		weightsBytes: num(inferencev1alpha1.AnnotationWeightsBytes),
	}
	if v := num(inferencev1alpha1.AnnotationVRAMMiB); v > 0 {
		lr.memoryMiB, lr.memoryKind = v, "VRAM"
	} else if v := num(inferencev1alpha1.AnnotationRAMMiB); v > 0 {
		lr.memoryMiB, lr.memoryKind = v, "RAM"
	}
	return lr
}

// String gives the figures as the ModelLoaded message shows them.
func (lr *loadReport) String() string {
	var parts []string
	if lr.memoryMiB > 0 {
		parts = append(parts, fmt.Sprintf("%d MB %s", lr.memoryMiB, lr.memoryKind))
	}
	if lr.device != "" {
		parts = append(parts, "on "+lr.device)
	}
	parts = append(parts, fmt.Sprintf("%d ms", lr.loadMillis))
	return strings.Join(parts, ", ")
}

// event is an Event to emit once the status write has succeeded.
type event struct {
	eventType string
	reason    string
	action    string
	note      string
}

// problem is a worker failure that needs a person: it makes the InferenceWorker Degraded.
type problem struct {
	reason  string
	message string
}

// computeStatus derives the whole status from the InferenceWorker and what exists. It is
// pure: the same inputs give the same status, and so a reconcile of an unchanged world
// writes nothing. Condition transition times are kept by meta.SetStatusCondition.
func computeStatus(iw *inferencev1alpha1.InferenceWorker, obs observed) inferencev1alpha1.InferenceWorkerStatus {
	st := *iw.Status.DeepCopy()
	st.ObservedGeneration = iw.Generation
	st.Endpoint = endpointURL(iw)
	st.Selector = metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: selectorLabels(iw)})
	st.Model.ServedName = servedName(iw)

	desired := desiredReplicas(iw)
	var replicas, ready, updated int32
	rolloutObserved := false
	if d := obs.deployment; d != nil {
		replicas, ready, updated = d.Status.Replicas, d.Status.ReadyReplicas, d.Status.UpdatedReplicas
		rolloutObserved = d.Status.ObservedGeneration >= d.Generation
	}
	st.Replicas, st.ReadyReplicas, st.UpdatedReplicas = replicas, ready, updated
	st.ReadyText = fmt.Sprintf("%d/%d", ready, desired)

	pods := activePods(obs.pods)
	prob := workerProblem(pods)
	if obs.sourceProblem != "" {
		prob = &problem{reason: inferencev1alpha1.ReasonInvalidModelSource, message: obs.sourceProblem}
	}
	if obs.fit.plan != "" { // read from the model's header
		st.Model.RequiredMiB, st.Model.WeightsBytes = obs.fit.requiredMiB, obs.fit.weightsBytes
	}
	if obs.fit.tooLarge() {
		prob = &problem{reason: inferencev1alpha1.ReasonModelTooLarge, message: obs.fit.tooLargeMessage(iw)}
	}
	unschedulable := unschedulableMessage(pods)
	loading, readyPods := countLoading(pods)
	downloading := countDownloading(pods)

	set := func(condType string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{
			Type: condType, Status: status, Reason: reason, Message: msg, ObservedGeneration: iw.Generation,
		})
	}

	// Degraded: something needs a person.
	if prob != nil {
		set(inferencev1alpha1.ConditionDegraded, metav1.ConditionTrue, prob.reason, prob.message)
	} else {
		set(inferencev1alpha1.ConditionDegraded, metav1.ConditionFalse, inferencev1alpha1.ReasonAsExpected, "No worker problems observed")
	}

	// The Progress column: how far the slowest worker is, downloading before loading.
	st.Model.LoadProgress = ""
	switch {
	case downloading > 0:
		if s := slowest(obs.downloading); s != nil {
			st.Model.LoadProgress = s.progress.Short()
		}
	case loading > 0:
		if s := slowest(obs.loading); s != nil {
			st.Model.LoadProgress = s.progress.Short()
		}
	}

	// ModelLoaded: from the workers' readiness, which the worker only reports after loading.
	switch {
	case readyPods > 0:
		msg := fmt.Sprintf("Model %s is loaded on %d of %d workers", servedName(iw), readyPods, len(pods))
		if lr := obs.lastLoad; lr != nil {
			msg += " (last load: " + lr.String() + ")"
			st.Model.Device, st.Model.MemoryMiB, st.Model.LoadMillis = lr.device, lr.memoryMiB, lr.loadMillis
			if lr.parameters > 0 {
				st.Model.Parameters = lr.parameters
			}
			if lr.requiredMiB > 0 {
				st.Model.RequiredMiB, st.Model.WeightsBytes = lr.requiredMiB, lr.weightsBytes
			}
		}
		set(inferencev1alpha1.ConditionModelLoaded, metav1.ConditionTrue, inferencev1alpha1.ReasonModelLoaded, msg)
	case prob != nil && (prob.reason == inferencev1alpha1.ReasonModelLoadFailed || prob.reason == inferencev1alpha1.ReasonModelFetchFailed):
		set(inferencev1alpha1.ConditionModelLoaded, metav1.ConditionFalse, prob.reason, prob.message)
	case downloading > 0:
		msg := fmt.Sprintf("%d workers are downloading model %s", downloading, servedName(iw))
		if s := slowest(obs.downloading); s != nil {
			msg = s.progress.Sentence("Downloading")
			if downloading > 1 {
				msg += fmt.Sprintf(" on pod %s, the slowest of %d downloading workers", s.pod, downloading)
			}
		}
		set(inferencev1alpha1.ConditionModelLoaded, metav1.ConditionFalse, inferencev1alpha1.ReasonModelDownloading, msg)
	case loading > 0:
		msg := fmt.Sprintf("%d workers are loading model %s", loading, servedName(iw))
		if s := slowest(obs.loading); s != nil {
			msg = s.progress.String()
			if loading > 1 {
				msg += fmt.Sprintf(" on pod %s, the slowest of %d loading workers", s.pod, loading)
			}
		}
		set(inferencev1alpha1.ConditionModelLoaded, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoading, msg)
	default:
		set(inferencev1alpha1.ConditionModelLoaded, metav1.ConditionFalse, inferencev1alpha1.ReasonNoWorkers,
			"No worker is running, so no model is loaded")
	}

	// Ready and Progressing tell one story; the first matching case wins.
	allReady := obs.deployment != nil && rolloutObserved && ready >= desired && updated >= desired && replicas == desired
	switch {
	case iw.Spec.Suspend:
		msg := "spec.suspend is true: workers are scaled to zero; set it to false to resume"
		set(inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonSuspended, msg)
		progressing(set, replicas > 0, inferencev1alpha1.ReasonSuspended, msg)
	case prob != nil:
		set(inferencev1alpha1.ConditionReady, metav1.ConditionFalse, prob.reason, prob.message)
		set(inferencev1alpha1.ConditionProgressing, metav1.ConditionFalse, prob.reason, "Stopped: "+prob.message)
	case desired == 0:
		msg := "spec.replicas is 0: no workers run"
		set(inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonScaledToZero, msg)
		progressing(set, replicas > 0, inferencev1alpha1.ReasonScaledToZero, msg)
	case allReady:
		set(inferencev1alpha1.ConditionReady, metav1.ConditionTrue, inferencev1alpha1.ReasonServing,
			fmt.Sprintf("%d of %d workers serve model %s at %s", ready, desired, servedName(iw), st.Endpoint))
		set(inferencev1alpha1.ConditionProgressing, metav1.ConditionFalse, inferencev1alpha1.ReasonRolloutComplete,
			"All workers run the current spec")
	case unschedulable != "":
		// Waiting for capacity is progress that may yet complete (an autoscaler may add a node).
		set(inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonUnschedulable, unschedulable)
		set(inferencev1alpha1.ConditionProgressing, metav1.ConditionTrue, inferencev1alpha1.ReasonUnschedulable, unschedulable)
	case downloading > 0:
		msg := fmt.Sprintf("%d of %d workers ready; %d downloading model %s", ready, desired, downloading, servedName(iw))
		set(inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonModelDownloading, msg)
		set(inferencev1alpha1.ConditionProgressing, metav1.ConditionTrue, inferencev1alpha1.ReasonModelDownloading, msg)
	case loading > 0:
		msg := fmt.Sprintf("%d of %d workers ready; %d loading model %s", ready, desired, loading, servedName(iw))
		set(inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoading, msg)
		set(inferencev1alpha1.ConditionProgressing, metav1.ConditionTrue, inferencev1alpha1.ReasonModelLoading, msg)
	default:
		msg := fmt.Sprintf("%d of %d workers ready, %d up to date; waiting for workers to start", ready, desired, updated)
		set(inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonWorkersStarting, msg)
		set(inferencev1alpha1.ConditionProgressing, metav1.ConditionTrue, inferencev1alpha1.ReasonWorkersStarting, msg)
	}
	return st
}

// progressing sets Progressing for the scaled-down states: True while pods still terminate.
func progressing(set func(string, metav1.ConditionStatus, string, string), stillRunning bool, reason, msg string) {
	if stillRunning {
		set(inferencev1alpha1.ConditionProgressing, metav1.ConditionTrue, reason, msg+" (workers are stopping)")
		return
	}
	set(inferencev1alpha1.ConditionProgressing, metav1.ConditionFalse, reason, msg)
}

// activePods drops pods that are terminating or finished, which say nothing about the
// current workers, and sorts by name so messages are stable.
func activePods(pods []corev1.Pod) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func countLoading(pods []corev1.Pod) (loading, ready int) {
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name != workerContainerName {
				continue
			}
			switch {
			case cs.Ready:
				ready++
			case cs.State.Running != nil:
				loading++
			}
		}
	}
	return loading, ready
}

// countDownloading counts the pods whose fetch init container runs: downloading the URL model.
func countDownloading(pods []corev1.Pod) int {
	n := 0
	for _, p := range pods {
		for _, cs := range p.Status.InitContainerStatuses {
			if cs.Name == fetchContainerName && cs.State.Running != nil {
				n++
			}
		}
	}
	return n
}

// workerProblem finds the first failure among the pods that a person must act on.
func workerProblem(pods []corev1.Pod) *problem {
	for _, p := range pods {
		for _, cs := range p.Status.InitContainerStatuses {
			if cs.Name != fetchContainerName {
				continue
			}
			if pr := imagePullProblem(p.Name, cs); pr != nil {
				return pr
			}
			if t := lastTermination(cs); t != nil && t.ExitCode != 0 {
				return &problem{
					reason: inferencev1alpha1.ReasonModelFetchFailed,
					message: fmt.Sprintf("pod %s: model download failed (exit code %d, %d restarts): %s",
						p.Name, t.ExitCode, cs.RestartCount, terminationDetail(t)),
				}
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name != workerContainerName {
				continue
			}
			if pr := imagePullProblem(p.Name, cs); pr != nil {
				return pr
			}
			t := lastTermination(cs)
			if t != nil && t.ExitCode == inferencev1alpha1.WorkerExitModelLoadFailed {
				return &problem{
					reason:  inferencev1alpha1.ReasonModelLoadFailed,
					message: fmt.Sprintf("pod %s: the worker could not load the model: %s", p.Name, terminationDetail(t)),
				}
			}
			if w := cs.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
				detail := "no termination message"
				if t != nil {
					detail = fmt.Sprintf("last exit code %d: %s", t.ExitCode, terminationDetail(t))
				}
				return &problem{
					reason: inferencev1alpha1.ReasonCrashLoopBackOff,
					message: fmt.Sprintf("pod %s: worker keeps crashing (%d restarts; %s)",
						p.Name, cs.RestartCount, detail),
				}
			}
		}
	}
	return nil
}

func imagePullProblem(pod string, cs corev1.ContainerStatus) *problem {
	w := cs.State.Waiting
	if w == nil {
		return nil
	}
	switch w.Reason {
	case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
		return &problem{
			reason:  inferencev1alpha1.ReasonImagePullError,
			message: fmt.Sprintf("pod %s: cannot pull image %s for container %s: %s", pod, cs.Image, cs.Name, firstNonEmpty(w.Message, w.Reason)),
		}
	}
	return nil
}

// lastTermination is the container's current or previous termination, whichever exists.
func lastTermination(cs corev1.ContainerStatus) *corev1.ContainerStateTerminated {
	if cs.State.Terminated != nil {
		return cs.State.Terminated
	}
	return cs.LastTerminationState.Terminated
}

// terminationDetail keeps the last line of the termination message: the worker writes its
// error there, and with FallbackToLogsOnError it is the tail of the log.
func terminationDetail(t *corev1.ContainerStateTerminated) string {
	msg := strings.TrimSpace(t.Message)
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = strings.TrimSpace(msg[i+1:])
	}
	const maxLen = 512
	if len(msg) > maxLen {
		msg = msg[:maxLen] + "…"
	}
	return firstNonEmpty(msg, t.Reason, "no message")
}

// unschedulableMessage is the scheduler's explanation for the first unschedulable pod,
// e.g. "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
func unschedulableMessage(pods []corev1.Pod) string {
	for _, p := range pods {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return fmt.Sprintf("pod %s cannot be scheduled: %s", p.Name, firstNonEmpty(c.Message, "no node fits"))
			}
		}
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// transitionEvents tells people what changed between two statuses: a new failure, a new
// scheduling shortage, or serving again. Unchanged conditions produce no Event.
func transitionEvents(old, cur *inferencev1alpha1.InferenceWorkerStatus) []event {
	var evs []event
	oldDegraded := meta.FindStatusCondition(old.Conditions, inferencev1alpha1.ConditionDegraded)
	newDegraded := meta.FindStatusCondition(cur.Conditions, inferencev1alpha1.ConditionDegraded)
	// Restart counts change the message on every crash; only a new kind of failure is news.
	if newDegraded != nil && newDegraded.Status == metav1.ConditionTrue &&
		(oldDegraded == nil || oldDegraded.Status != metav1.ConditionTrue || oldDegraded.Reason != newDegraded.Reason) {
		evs = append(evs, event{corev1.EventTypeWarning, newDegraded.Reason, "Observe", newDegraded.Message})
	}
	oldReady := meta.FindStatusCondition(old.Conditions, inferencev1alpha1.ConditionReady)
	newReady := meta.FindStatusCondition(cur.Conditions, inferencev1alpha1.ConditionReady)
	if newReady == nil {
		return evs
	}
	switch {
	case newReady.Reason == inferencev1alpha1.ReasonUnschedulable && !sameCondition(oldReady, newReady):
		evs = append(evs, event{corev1.EventTypeWarning, inferencev1alpha1.ReasonUnschedulable, "Schedule", newReady.Message})
	case newReady.Status == metav1.ConditionTrue && (oldReady == nil || oldReady.Status != metav1.ConditionTrue):
		evs = append(evs, event{corev1.EventTypeNormal, inferencev1alpha1.ReasonServing, "Serve", newReady.Message})
	}
	return evs
}

func sameCondition(a, b *metav1.Condition) bool {
	return a != nil && b != nil && a.Status == b.Status && a.Reason == b.Reason && a.Message == b.Message
}
