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
	// failing is, for each running worker that is not ready because its model produced
	// non-finite logits, the message of its InferenceFailed Event.
	failing map[string]string
	// fit is the model's GPU memory need and the cluster's GPU nodes.
	fit modelFit
	// integrations are the optional children (PodMonitor, InferencePool) as this reconcile left them.
	integrations []integrationResult
	// autoscale is spec.autoscaling's decision; zero when not set.
	autoscale autoscaleOutcome
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
	gpus       int    // the GPUs the model is split over, memoryMiB on each; 0 or 1 is one
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
		lr.memoryMiB, lr.memoryKind, lr.gpus = v, "VRAM", int(num(inferencev1alpha1.AnnotationGPUs))
	} else if v := num(inferencev1alpha1.AnnotationRAMMiB); v > 0 {
		lr.memoryMiB, lr.memoryKind = v, "RAM"
	}
	return lr
}

// String gives the figures as the ModelLoaded message shows them.
func (lr *loadReport) String() string {
	var parts []string
	if lr.memoryMiB > 0 && lr.gpus > 1 {
		parts = append(parts, fmt.Sprintf("%d × %d MB %s", lr.gpus, lr.memoryMiB, lr.memoryKind))
	} else if lr.memoryMiB > 0 {
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

// workers is what the Deployment and the pods say, the input of every condition.
type workers struct {
	desired, replicas, ready, updated int32
	// rolledOut: the Deployment's controller has seen its current spec.
	rolledOut bool
	pods      []corev1.Pod // active pods, by name
	// loading pods run the worker, not yet ready; readyPods are ready; downloading pods run
	// the model download init container.
	loading, readyPods, downloading int
	unschedulable                   string // the scheduler's message for the first unschedulable pod
	problem                         *problem
}

// observeWorkers summarises the Deployment and pods, and finds the problem that needs a person.
func observeWorkers(iw *inferencev1alpha1.InferenceWorker, obs observed) workers {
	w := workers{desired: desiredReplicas(iw)}
	if d := obs.deployment; d != nil {
		w.replicas, w.ready, w.updated = d.Status.Replicas, d.Status.ReadyReplicas, d.Status.UpdatedReplicas
		w.rolledOut = d.Status.ObservedGeneration >= d.Generation
	}
	w.pods = activePods(obs.pods)
	w.problem = workerProblem(w.pods)
	if w.problem == nil {
		w.problem = podsRefused(iw, obs.deployment)
	}
	if obs.sourceProblem != "" {
		w.problem = &problem{reason: inferencev1alpha1.ReasonInvalidModelSource, message: obs.sourceProblem}
	}
	if w.problem == nil {
		w.problem = inferenceProblem(w.pods, obs.failing)
	}
	if obs.fit.tooLarge() {
		w.problem = &problem{reason: inferencev1alpha1.ReasonModelTooLarge, message: obs.fit.tooLargeMessage(iw)}
	}
	if obs.fit.unsupported != "" {
		w.problem = &problem{reason: inferencev1alpha1.ReasonModelLoadFailed, message: obs.fit.unsupportedMessage(iw)}
	}
	w.unschedulable = unschedulableMessage(w.pods)
	w.loading, w.readyPods = countLoading(w.pods)
	w.downloading = countDownloading(w.pods)
	return w
}

// computeStatus derives the whole status from the InferenceWorker and what exists. It is
// pure: the same inputs give the same status, and so a reconcile of an unchanged world
// writes nothing. Condition transition times are kept by meta.SetStatusCondition.
func computeStatus(iw *inferencev1alpha1.InferenceWorker, obs observed) inferencev1alpha1.InferenceWorkerStatus {
	st := *iw.Status.DeepCopy()
	w := observeWorkers(iw, obs)
	st.ObservedGeneration = iw.Generation
	st.Endpoint = endpointURL(iw)
	st.Selector = metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: selectorLabels(iw)})
	st.Replicas, st.ReadyReplicas, st.UpdatedReplicas = w.replicas, w.ready, w.updated
	st.ReadyText = fmt.Sprintf("%d/%d", w.ready, w.desired)
	st.Model = modelStatus(iw, obs, w, st.Model)
	for _, c := range []metav1.Condition{
		degradedCondition(w),
		modelLoadedCondition(iw, obs, w),
		readyCondition(iw, w),
		progressingCondition(iw, w),
	} {
		c.ObservedGeneration = iw.Generation
		meta.SetStatusCondition(&st.Conditions, c)
	}
	setClusterStatus(iw, obs, &st)
	return st
}

// setClusterStatus writes the status of the integrations and of autoscaling: their
// conditions while the spec asks for them, removed once it does not.
func setClusterStatus(iw *inferencev1alpha1.InferenceWorker, obs observed, st *inferencev1alpha1.InferenceWorkerStatus) {
	st.Autoscaling = obs.autoscale.status
	conds := integrationConditions(obs.integrations)
	for _, res := range obs.integrations {
		*res.statusName(st) = res.name
		if !res.wanted {
			meta.RemoveStatusCondition(&st.Conditions, res.condition)
		}
	}
	if c := obs.autoscale.condition; c != nil {
		conds = append(conds, *c)
	} else {
		meta.RemoveStatusCondition(&st.Conditions, inferencev1alpha1.ConditionAutoscalingActive)
	}
	for _, c := range conds {
		c.ObservedGeneration = iw.Generation
		meta.SetStatusCondition(&st.Conditions, c)
	}
}

// modelStatus is status.model: the served name, the memory plan read from the model's header,
// the figures of the last load a worker reported, and the slowest worker's progress.
func modelStatus(iw *inferencev1alpha1.InferenceWorker, obs observed, w workers, m inferencev1alpha1.ModelStatus) inferencev1alpha1.ModelStatus {
	m.ServedName = servedName(iw)
	if obs.fit.plan != "" { // read from the model's header
		m.RequiredMiB, m.WeightsBytes = obs.fit.requiredMiB, obs.fit.weightsBytes
	}
	if lr := obs.lastLoad; lr != nil && w.readyPods > 0 {
		m.Device, m.MemoryMiB, m.LoadMillis = lr.device, lr.memoryMiB, lr.loadMillis
		if lr.parameters > 0 {
			m.Parameters = lr.parameters
		}
		// A worker's plan is per GPU of its split: one of another spec.gpu.count is stale.
		if n := inferencev1alpha1.DeviceGPUs(lr.device); lr.requiredMiB > 0 && (n == 0 || n == int(iw.Spec.GPU.Count)) {
			m.RequiredMiB, m.WeightsBytes = lr.requiredMiB, lr.weightsBytes
		}
	}
	// The Progress column: how far the slowest worker is, downloading before loading.
	m.LoadProgress = ""
	switch {
	case w.downloading > 0:
		if s := slowest(obs.downloading); s != nil {
			m.LoadProgress = s.progress.Short()
		}
	case w.loading > 0:
		if s := slowest(obs.loading); s != nil {
			m.LoadProgress = s.progress.Short()
		}
	}
	return m
}

func newCondition(t string, status metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: t, Status: status, Reason: reason, Message: msg}
}

// degradedCondition: something needs a person.
func degradedCondition(w workers) metav1.Condition {
	if p := w.problem; p != nil {
		return newCondition(inferencev1alpha1.ConditionDegraded, metav1.ConditionTrue, p.reason, p.message)
	}
	return newCondition(inferencev1alpha1.ConditionDegraded, metav1.ConditionFalse, inferencev1alpha1.ReasonAsExpected,
		"No worker problems observed")
}

// modelLoadedCondition follows the workers' readiness, which a worker only reports after loading.
func modelLoadedCondition(iw *inferencev1alpha1.InferenceWorker, obs observed, w workers) metav1.Condition {
	const t = inferencev1alpha1.ConditionModelLoaded
	switch p := w.problem; {
	case w.readyPods > 0:
		msg := fmt.Sprintf("Model %s is loaded on %d of %d workers", servedName(iw), w.readyPods, len(w.pods))
		if lr := obs.lastLoad; lr != nil {
			msg += " (last load: " + lr.String() + ")"
		}
		return newCondition(t, metav1.ConditionTrue, inferencev1alpha1.ReasonModelLoaded, msg)
	case p != nil && (p.reason == inferencev1alpha1.ReasonModelLoadFailed || p.reason == inferencev1alpha1.ReasonModelFetchFailed):
		return newCondition(t, metav1.ConditionFalse, p.reason, p.message)
	case w.downloading > 0:
		msg := fmt.Sprintf("%d workers are downloading model %s", w.downloading, servedName(iw))
		if s := slowest(obs.downloading); s != nil {
			msg = s.progress.Sentence("Downloading")
			if w.downloading > 1 {
				msg += fmt.Sprintf(" on pod %s, the slowest of %d downloading workers", s.pod, w.downloading)
			}
		}
		return newCondition(t, metav1.ConditionFalse, inferencev1alpha1.ReasonModelDownloading, msg)
	case w.loading > 0:
		msg := fmt.Sprintf("%d workers are loading model %s", w.loading, servedName(iw))
		if s := slowest(obs.loading); s != nil {
			msg = s.progress.String()
			if w.loading > 1 {
				msg += fmt.Sprintf(" on pod %s, the slowest of %d loading workers", s.pod, w.loading)
			}
		}
		return newCondition(t, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoading, msg)
	}
	return newCondition(t, metav1.ConditionFalse, inferencev1alpha1.ReasonNoWorkers, "No worker is running, so no model is loaded")
}

// stage is where the InferenceWorker is on its way to serving. Ready and Progressing tell
// its one story; the first stage that applies wins.
type stage struct {
	reason, message string
	serving         bool // Ready
	moving          bool // Progressing: still on the way (or, scaled down, pods still stopping)
}

func currentStage(iw *inferencev1alpha1.InferenceWorker, w workers) stage {
	name := servedName(iw)
	switch {
	case iw.Spec.Suspend:
		return scaledDown(inferencev1alpha1.ReasonSuspended, "spec.suspend is true: workers are scaled to zero; set it to false to resume", w)
	case w.problem != nil:
		return stage{reason: w.problem.reason, message: w.problem.message}
	case w.desired == 0:
		return scaledDown(inferencev1alpha1.ReasonScaledToZero, "spec.replicas is 0: no workers run", w)
	case w.rolledOut && w.ready >= w.desired && w.updated >= w.desired && w.replicas == w.desired:
		return stage{reason: inferencev1alpha1.ReasonServing, serving: true,
			message: fmt.Sprintf("%d of %d workers serve model %s at %s", w.ready, w.desired, name, endpointURL(iw))}
	case w.unschedulable != "":
		// Waiting for capacity is progress that may yet complete (an autoscaler may add a node).
		return stage{reason: inferencev1alpha1.ReasonUnschedulable, message: w.unschedulable, moving: true}
	case w.downloading > 0:
		return stage{reason: inferencev1alpha1.ReasonModelDownloading, moving: true,
			message: fmt.Sprintf("%d of %d workers ready; %d downloading model %s", w.ready, w.desired, w.downloading, name)}
	case w.loading > 0:
		return stage{reason: inferencev1alpha1.ReasonModelLoading, moving: true,
			message: fmt.Sprintf("%d of %d workers ready; %d loading model %s", w.ready, w.desired, w.loading, name)}
	}
	return stage{reason: inferencev1alpha1.ReasonWorkersStarting, moving: true,
		message: fmt.Sprintf("%d of %d workers ready, %d up to date; waiting for workers to start", w.ready, w.desired, w.updated)}
}

// scaledDown is a stage with no workers wanted: still moving while pods terminate.
func scaledDown(reason, msg string, w workers) stage {
	return stage{reason: reason, message: msg, moving: w.replicas > 0}
}

func readyCondition(iw *inferencev1alpha1.InferenceWorker, w workers) metav1.Condition {
	s := currentStage(iw, w)
	status := metav1.ConditionFalse
	if s.serving {
		status = metav1.ConditionTrue
	}
	return newCondition(inferencev1alpha1.ConditionReady, status, s.reason, s.message)
}

func progressingCondition(iw *inferencev1alpha1.InferenceWorker, w workers) metav1.Condition {
	const t = inferencev1alpha1.ConditionProgressing
	s := currentStage(iw, w)
	switch {
	case s.serving:
		return newCondition(t, metav1.ConditionFalse, inferencev1alpha1.ReasonRolloutComplete, "All workers run the current spec")
	case w.problem != nil && !iw.Spec.Suspend:
		return newCondition(t, metav1.ConditionFalse, s.reason, "Stopped: "+s.message)
	case s.moving && (iw.Spec.Suspend || w.desired == 0):
		return newCondition(t, metav1.ConditionTrue, s.reason, s.message+" (workers are stopping)")
	case s.moving:
		return newCondition(t, metav1.ConditionTrue, s.reason, s.message)
	}
	return newCondition(t, metav1.ConditionFalse, s.reason, s.message)
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

// inferenceProblem is the first running, unready worker that said (InferenceFailed) its model
// produces non-finite logits: it stays unready until restarted, which a person must decide.
func inferenceProblem(pods []corev1.Pod, failing map[string]string) *problem {
	for _, p := range pods {
		msg, ok := failing[p.Name]
		if !ok {
			continue
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name == workerContainerName && !cs.Ready && cs.State.Running != nil {
				return &problem{reason: inferencev1alpha1.ReasonInferenceFailed,
					message: fmt.Sprintf("pod %s: %s: check the model file, then delete the pod to restart the worker", p.Name, msg)}
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
	for _, t := range []string{inferencev1alpha1.ConditionPodMonitorReady, inferencev1alpha1.ConditionInferencePoolReady,
		inferencev1alpha1.ConditionAutoscalingActive} {
		o, n := meta.FindStatusCondition(old.Conditions, t), meta.FindStatusCondition(cur.Conditions, t)
		if n != nil && (n.Reason == inferencev1alpha1.ReasonCRDNotInstalled || n.Reason == inferencev1alpha1.ReasonExternalAutoscaler) &&
			(o == nil || o.Reason != n.Reason) {
			evs = append(evs, event{corev1.EventTypeWarning, n.Reason, "Observe", n.Message})
		}
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
