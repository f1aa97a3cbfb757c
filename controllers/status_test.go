package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// workerSim plays the parts envtest lacks (Deployment controller, scheduler, kubelet) by
// writing Deployment and pod status the way they would.
type workerSim struct {
	t    *testing.T
	ns   string
	name string
}

func newWorkerSim(t *testing.T, ns, name string) *workerSim {
	return &workerSim{t: t, ns: ns, name: name}
}

func (s *workerSim) setDeployment(replicas, ready, updated int32) {
	s.t.Helper()
	d := getObj(s.t, s.ns, s.name, &appsv1.Deployment{})
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation,
		Replicas:           replicas,
		ReadyReplicas:      ready,
		UpdatedReplicas:    updated,
		AvailableReplicas:  ready,
	}
	if err := k8sClient.Status().Update(context.Background(), d); err != nil {
		s.t.Fatalf("update deployment status: %v", err)
	}
}

// pod creates (or replaces the status of) a worker pod and gives it the status state sets.
func (s *workerSim) pod(name string, state func(*corev1.PodStatus)) {
	s.t.Helper()
	ctx := context.Background()
	p := &corev1.Pod{}
	err := k8sClient.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name}, p)
	if err != nil {
		d := getObj(s.t, s.ns, s.name, &appsv1.Deployment{})
		p = &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns, Labels: d.Spec.Template.Labels},
			Spec:       *d.Spec.Template.Spec.DeepCopy(),
		}
		if err := k8sClient.Create(ctx, p); err != nil {
			s.t.Fatalf("create pod: %v", err)
		}
	}
	p.Status = corev1.PodStatus{}
	state(&p.Status)
	if err := k8sClient.Status().Update(ctx, p); err != nil {
		s.t.Fatalf("update pod status: %v", err)
	}
}

func (s *workerSim) deletePod(name string) {
	s.t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns}}
	// No kubelet confirms the deletion, so force it.
	if err := k8sClient.Delete(context.Background(), p, client.GracePeriodSeconds(0)); err != nil {
		s.t.Fatalf("delete pod: %v", err)
	}
}

func scheduled(st *corev1.PodStatus) {
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue})
}

func readyPod(st *corev1.PodStatus) {
	scheduled(st)
	st.Phase = corev1.PodRunning
	st.ContainerStatuses = []corev1.ContainerStatus{{
		Name: workerContainerName, Ready: true, Image: testWorkerImage,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}},
	}}
}

func loadingPod(st *corev1.PodStatus) {
	readyPod(st)
	st.ContainerStatuses[0].Ready = false
}

func unschedulablePod(st *corev1.PodStatus) {
	st.Phase = corev1.PodPending
	st.Conditions = []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
		Message: "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
	}}
}

func crashingPod(exitCode int32, message string) func(*corev1.PodStatus) {
	return func(st *corev1.PodStatus) {
		scheduled(st)
		st.Phase = corev1.PodRunning
		st.ContainerStatuses = []corev1.ContainerStatus{{
			Name: workerContainerName, Image: testWorkerImage, RestartCount: 4,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 1m20s restarting failed container"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: exitCode, Reason: "Error", Message: message,
			}},
		}}
	}
}

func imagePullPod(st *corev1.PodStatus) {
	scheduled(st)
	st.Phase = corev1.PodPending
	st.ContainerStatuses = []corev1.ContainerStatus{{
		Name: workerContainerName, Image: "registry.test/missing:v9",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason: "ImagePullBackOff", Message: `Back-off pulling image "registry.test/missing:v9": not found`,
		}},
	}}
}

func fetchFailedPod(st *corev1.PodStatus) {
	scheduled(st)
	st.Phase = corev1.PodPending
	st.InitContainerStatuses = []corev1.ContainerStatus{{
		Name: fetchContainerName, Image: testWorkerImage, RestartCount: 2,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: inferencev1alpha1.FetchExitFailed, Reason: "Error",
			Message: "downloading model\nsha256 mismatch: want 4a2f…e1f0, got 9b1c…aa02",
		}},
	}}
}

// TestStatusFollowsWorkers walks one InferenceWorker through the lives of its pods and
// checks the conditions and Events at each step.
func TestStatusFollowsWorkers(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	checkArgoCDSample(t, "no-status", getIW(t, iw))
	r.reconcile(t, iw)
	checkArgoCDSample(t, "workers-starting", getIW(t, iw))
	r.recorder.take()
	sim := newWorkerSim(t, ns, "gpt-go")
	sim.setDeployment(1, 0, 1)

	type step struct {
		name      string
		pod       func(*corev1.PodStatus)
		ready     int32
		readyCond metav1.ConditionStatus
		reason    string // Ready's reason
		degraded  metav1.ConditionStatus
		modelCond metav1.ConditionStatus
		modelWhy  string
		event     string // expected Event reason ("" = none)
		msgHas    string // expected in Ready's message
	}
	steps := []step{
		{"unschedulable", unschedulablePod, 0, metav1.ConditionFalse, inferencev1alpha1.ReasonUnschedulable,
			metav1.ConditionFalse, metav1.ConditionFalse, inferencev1alpha1.ReasonNoWorkers,
			inferencev1alpha1.ReasonUnschedulable, "Insufficient nvidia.com/gpu"},
		{"loading", loadingPod, 0, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoading,
			metav1.ConditionFalse, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoading, "", "loading model gpt-go"},
		{"serving", readyPod, 1, metav1.ConditionTrue, inferencev1alpha1.ReasonServing,
			metav1.ConditionFalse, metav1.ConditionTrue, inferencev1alpha1.ReasonModelLoaded,
			inferencev1alpha1.ReasonServing, "serve model gpt-go"},
		{"crash loop", crashingPod(2, "panic: runtime error: index out of range"), 0, metav1.ConditionFalse, inferencev1alpha1.ReasonCrashLoopBackOff,
			metav1.ConditionTrue, metav1.ConditionFalse, inferencev1alpha1.ReasonNoWorkers,
			inferencev1alpha1.ReasonCrashLoopBackOff, "panic: runtime error"},
		{"model load failed", crashingPod(inferencev1alpha1.WorkerExitModelLoadFailed, "load /models/model.gguf: gguf: offset 0: bad magic"), 0,
			metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoadFailed,
			metav1.ConditionTrue, metav1.ConditionFalse, inferencev1alpha1.ReasonModelLoadFailed,
			inferencev1alpha1.ReasonModelLoadFailed, "bad magic"},
		{"image pull", imagePullPod, 0, metav1.ConditionFalse, inferencev1alpha1.ReasonImagePullError,
			metav1.ConditionTrue, metav1.ConditionFalse, inferencev1alpha1.ReasonNoWorkers,
			inferencev1alpha1.ReasonImagePullError, "registry.test/missing:v9"},
		{"fetch failed", fetchFailedPod, 0, metav1.ConditionFalse, inferencev1alpha1.ReasonModelFetchFailed,
			metav1.ConditionTrue, metav1.ConditionFalse, inferencev1alpha1.ReasonModelFetchFailed,
			inferencev1alpha1.ReasonModelFetchFailed, "sha256 mismatch"},
	}
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			podName := "gpt-go-" + strings.ReplaceAll(s.name, " ", "-")
			if i > 0 {
				sim.deletePod("gpt-go-" + strings.ReplaceAll(steps[i-1].name, " ", "-"))
			}
			sim.setDeployment(1, s.ready, 1)
			sim.pod(podName, s.pod)
			r.reconcile(t, iw)
			got := getIW(t, iw)
			checkArgoCDSample(t, strings.ReplaceAll(s.name, " ", "-"), got)
			c := assertCondition(t, got, inferencev1alpha1.ConditionReady, s.readyCond, s.reason)
			if !strings.Contains(c.Message, s.msgHas) {
				t.Errorf("Ready message %q does not contain %q", c.Message, s.msgHas)
			}
			if d := condition(t, got, inferencev1alpha1.ConditionDegraded); d.Status != s.degraded {
				t.Errorf("Degraded = %s (%s)", d.Status, d.Reason)
			}
			assertCondition(t, got, inferencev1alpha1.ConditionModelLoaded, s.modelCond, s.modelWhy)
			evs := r.recorder.take()
			if s.event == "" {
				if len(evs) != 0 {
					t.Errorf("unexpected events %+v", evs)
				}
				return
			}
			ev := hasEvent(evs, s.event)
			if ev == nil {
				t.Fatalf("no %s event; got %+v", s.event, evs)
			}
			if !strings.Contains(ev.Note, s.msgHas) {
				t.Errorf("event note %q does not contain %q", ev.Note, s.msgHas)
			}
			wantType := corev1.EventTypeWarning
			if s.readyCond == metav1.ConditionTrue {
				wantType = corev1.EventTypeNormal
			}
			if ev.Type != wantType {
				t.Errorf("event type %s, want %s", ev.Type, wantType)
			}
		})
	}
}

// TestModelLoadedCarriesWorkerFigures: the worker reports its load in a ModelLoaded
// narration Event (it may only write Events); the operator copies the figures into
// status.model and the ModelLoaded condition's message.
func TestModelLoadedCarriesWorkerFigures(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	r.reconcile(t, iw)
	iw = getIW(t, iw)
	sim := newWorkerSim(t, ns, "gpt-go")
	sim.setDeployment(1, 1, 1)
	sim.pod("gpt-go-0", readyPod)

	now := time.Now()
	for i, ms := range []string{"900", "1500"} { // the newer one wins
		ev := &eventsv1.Event{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("gpt-go.load%d", i), Namespace: ns,
				Labels: map[string]string{inferencev1alpha1.LabelWorker: iw.Name}, Annotations: map[string]string{
					inferencev1alpha1.AnnotationDurationMS: ms, inferencev1alpha1.AnnotationDevice: "CPU",
					inferencev1alpha1.AnnotationRAMMiB: "310", inferencev1alpha1.AnnotationParameters: "7012352",
				}},
			EventTime:           metav1.NewMicroTime(now.Add(time.Duration(i) * time.Second)),
			ReportingController: inferencev1alpha1.EventReportingController,
			ReportingInstance:   "gpt-go-0",
			Action:              "model_load",
			Reason:              inferencev1alpha1.ReasonModelLoaded,
			Type:                corev1.EventTypeNormal,
			Note:                "Loaded GPT model gpt-go on CPU (310 MB RAM, " + ms + " ms)",
			Regarding: corev1.ObjectReference{APIVersion: inferencev1alpha1.GroupVersion.String(), Kind: "InferenceWorker",
				Name: iw.Name, Namespace: ns, UID: iw.UID},
		}
		if err := k8sClient.Create(context.Background(), ev); err != nil {
			t.Fatalf("create event: %v", err)
		}
	}
	r.reconcile(t, iw)
	got := getIW(t, iw)
	c := assertCondition(t, got, inferencev1alpha1.ConditionModelLoaded, metav1.ConditionTrue, inferencev1alpha1.ReasonModelLoaded)
	if want := "Model gpt-go is loaded on 1 of 1 workers (last load: 310 MB RAM, on CPU, 1500 ms)"; c.Message != want {
		t.Errorf("ModelLoaded message = %q, want %q", c.Message, want)
	}
	m := got.Status.Model
	if m.LoadMillis != 1500 || m.MemoryMiB != 310 || m.Device != "CPU" || m.Parameters != 7012352 {
		t.Errorf("status.model = %+v", m)
	}
}
