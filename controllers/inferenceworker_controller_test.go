package controllers

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
)

func loadSample(t *testing.T, file string) *inferencev1alpha1.InferenceWorker {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "config", "samples", file))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	iw := &inferencev1alpha1.InferenceWorker{}
	if err := yaml.UnmarshalStrict(data, iw); err != nil {
		t.Fatalf("decode sample %s: %v", file, err)
	}
	return iw
}

func createIW(t *testing.T, ns string, iw *inferencev1alpha1.InferenceWorker) *inferencev1alpha1.InferenceWorker {
	t.Helper()
	iw.Namespace = ns
	if err := k8sClient.Create(context.Background(), iw); err != nil {
		t.Fatalf("create InferenceWorker: %v", err)
	}
	return iw
}

func (r *testReconciler) reconcile(t *testing.T, iw *inferencev1alpha1.InferenceWorker) {
	t.Helper()
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(iw)}); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
}

func getObj[T client.Object](t *testing.T, ns, name string, obj T) T {
	t.Helper()
	if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatalf("get %T %s/%s: %v", obj, ns, name, err)
	}
	return obj
}

func getIW(t *testing.T, iw *inferencev1alpha1.InferenceWorker) *inferencev1alpha1.InferenceWorker {
	return getObj(t, iw.Namespace, iw.Name, &inferencev1alpha1.InferenceWorker{})
}

func condition(t *testing.T, iw *inferencev1alpha1.InferenceWorker, condType string) metav1.Condition {
	t.Helper()
	c := meta.FindStatusCondition(iw.Status.Conditions, condType)
	if c == nil {
		t.Fatalf("condition %s missing; conditions: %+v", condType, iw.Status.Conditions)
	}
	return *c
}

func assertCondition(t *testing.T, iw *inferencev1alpha1.InferenceWorker, condType string, status metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	c := condition(t, iw, condType)
	if c.Status != status || c.Reason != reason {
		t.Fatalf("condition %s = %s/%s (%q), want %s/%s", condType, c.Status, c.Reason, c.Message, status, reason)
	}
	if c.ObservedGeneration != iw.Generation {
		t.Errorf("condition %s observedGeneration = %d, want %d", condType, c.ObservedGeneration, iw.Generation)
	}
	return c
}

func hasEvent(evs []recordedEvent, reason string) *recordedEvent {
	for i := range evs {
		if evs[i].Reason == reason {
			return &evs[i]
		}
	}
	return nil
}

func container(t *testing.T, spec corev1.PodSpec, name string, init bool) corev1.Container {
	t.Helper()
	list := spec.Containers
	if init {
		list = spec.InitContainers
	}
	for _, c := range list {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("container %s not found (init=%v)", name, init)
	return corev1.Container{}
}

func argValue(args []string, flag string) string {
	i := slices.Index(args, flag)
	if i < 0 || i+1 >= len(args) {
		return ""
	}
	return args[i+1]
}

func assertControllerOwner(t *testing.T, obj client.Object, iw *inferencev1alpha1.InferenceWorker) {
	t.Helper()
	ref := metav1.GetControllerOf(obj)
	if ref == nil || ref.UID != iw.UID || ref.Kind != "InferenceWorker" || !ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Errorf("%T %s: controller owner = %+v, want InferenceWorker %s (uid %s) with blockOwnerDeletion", obj, obj.GetName(), ref, iw.Name, iw.UID)
	}
}

// TestLlamaSampleCreatesChildren applies the llama sample and checks the fields of each
// child that decide whether the workers can run at all.
func TestLlamaSampleCreatesChildren(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_llama.yaml"))
	// The model's PVC exists, so the source is valid.
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "models", Namespace: ns},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadOnlyMany},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}},
		},
	}
	if err := k8sClient.Create(context.Background(), pvc); err != nil {
		t.Fatal(err)
	}
	r.reconcile(t, iw)
	iw = getIW(t, iw)

	// Defaults come from the CRD schema, so GitOps tools see them too.
	if *iw.Spec.Replicas != 1 || iw.Spec.GPU.ResourceName != "nvidia.com/gpu" || iw.Spec.Serving.Port != 8000 ||
		iw.Spec.Model.Format != inferencev1alpha1.ModelFormatGGUF || iw.Spec.Narration.InferenceEvents != inferencev1alpha1.InferenceEventsSampled ||
		iw.Spec.Serving.KVCacheType != inferencev1alpha1.KVCacheAuto || iw.Spec.Serving.GPUMemoryUtilization != memplan.DefaultGPUMemoryUtilization {
		t.Errorf("schema defaults not applied (or not the worker's own): %+v", iw.Spec)
	}

	d := getObj(t, ns, "llama-go", &appsv1.Deployment{})
	assertControllerOwner(t, d, iw)
	if *d.Spec.Replicas != 1 {
		t.Errorf("replicas = %d, want 1", *d.Spec.Replicas)
	}
	ru := d.Spec.Strategy.RollingUpdate
	if ru == nil || ru.MaxSurge.IntValue() != 0 || ru.MaxUnavailable.IntValue() != 1 {
		t.Errorf("GPU workers must roll without a surge pod, got %+v", ru)
	}
	pod := d.Spec.Template.Spec
	w := container(t, pod, workerContainerName, false)
	if w.Image != testWorkerImage || !slices.Equal(w.Command, []string{"kubeinfer-worker"}) || w.Args[0] != "serve" {
		t.Errorf("worker container image/command = %s %v %v", w.Image, w.Command, w.Args)
	}
	for flag, want := range map[string]string{
		"--model": "/models/demo/llama-go.gguf", "--arch": "llama", "--served-name": "llama-go",
		"--port": "8000", "--device": "cuda", "--max-context": "2048", "--max-concurrent": "8", "--inference-events": "Sampled",
		"--kv-cache-type": "auto", "--gpu-memory-utilization": "0.9", "--scheduling-policy": "fcfs",
	} {
		if got := argValue(w.Args, flag); got != want {
			t.Errorf("worker arg %s = %q, want %q (args %v)", flag, got, want, w.Args)
		}
	}
	if q := w.Resources.Limits["nvidia.com/gpu"]; q.Value() != 1 {
		t.Errorf("GPU limit = %v, want 1", w.Resources.Limits)
	}
	if w.ReadinessProbe == nil || w.ReadinessProbe.HTTPGet.Path != "/readyz" || w.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("probes: readiness %+v liveness %+v", w.ReadinessProbe, w.LivenessProbe)
	}
	if sp := w.StartupProbe; sp == nil || int(sp.PeriodSeconds)*int(sp.FailureThreshold) < 1800 {
		t.Errorf("startup probe must allow at least 30 minutes for a model load, got %+v", sp)
	}
	sc := w.SecurityContext
	if sc == nil || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container security context not restricted: %+v", sc)
	}
	if psc := pod.SecurityContext; psc == nil || !*psc.RunAsNonRoot || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context: %+v", psc)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range w.Env {
		env[e.Name] = e
	}
	if env[inferencev1alpha1.EnvInferenceWorkerName].Value != "llama-go" || env[inferencev1alpha1.EnvInferenceWorkerUID].Value != string(iw.UID) {
		t.Errorf("InferenceWorker env: %+v", env)
	}
	if e := env[inferencev1alpha1.EnvPodName]; e.ValueFrom == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("pod name must come from the downward API: %+v", e)
	}
	if e := env[inferencev1alpha1.EnvInferenceWorkerNamespace]; e.ValueFrom == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.namespace" {
		t.Errorf("namespace must come from the downward API: %+v", e)
	}
	var modelVol *corev1.Volume
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == modelVolumeName {
			modelVol = &pod.Volumes[i]
		}
	}
	if modelVol == nil || modelVol.PersistentVolumeClaim == nil || modelVol.PersistentVolumeClaim.ClaimName != "models" || !modelVol.PersistentVolumeClaim.ReadOnly {
		t.Errorf("model volume: %+v", modelVol)
	}
	if !slices.ContainsFunc(pod.Tolerations, func(tl corev1.Toleration) bool { return tl.Key == "nvidia.com/gpu" }) {
		t.Errorf("GPU taint not tolerated: %+v", pod.Tolerations)
	}
	if pod.ServiceAccountName != "llama-go-worker" {
		t.Errorf("service account = %q", pod.ServiceAccountName)
	}

	svc := getObj(t, ns, "llama-go", &corev1.Service{})
	assertControllerOwner(t, svc, iw)
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 8000 || svc.Spec.Ports[0].TargetPort.StrVal != "http" {
		t.Errorf("service ports: %+v", svc.Spec.Ports)
	}
	if svc.Spec.Selector[inferencev1alpha1.LabelWorker] != "llama-go" {
		t.Errorf("service selector: %v", svc.Spec.Selector)
	}

	sa := getObj(t, ns, "llama-go-worker", &corev1.ServiceAccount{})
	assertControllerOwner(t, sa, iw)
	role := getObj(t, ns, "llama-go-worker", &rbacv1.Role{})
	assertControllerOwner(t, role, iw)
	wantRules := []rbacv1.PolicyRule{{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}}}
	if len(role.Rules) != 1 || !slices.Equal(role.Rules[0].Verbs, wantRules[0].Verbs) || !slices.Equal(role.Rules[0].Resources, wantRules[0].Resources) ||
		!slices.Equal(role.Rules[0].APIGroups, wantRules[0].APIGroups) {
		t.Errorf("worker role must only create/patch Events: %+v", role.Rules)
	}
	rb := getObj(t, ns, "llama-go-worker", &rbacv1.RoleBinding{})
	assertControllerOwner(t, rb, iw)
	if rb.RoleRef.Name != "llama-go-worker" || len(rb.Subjects) != 1 || rb.Subjects[0].Name != "llama-go-worker" || rb.Subjects[0].Namespace != ns {
		t.Errorf("role binding: %+v %+v", rb.RoleRef, rb.Subjects)
	}

	if iw.Status.Endpoint != "http://llama-go."+ns+".svc:8000/v1" || iw.Status.Model.ServedName != "llama-go" || iw.Status.ReadyText != "0/1" {
		t.Errorf("status: endpoint %q served %q ready %q", iw.Status.Endpoint, iw.Status.Model.ServedName, iw.Status.ReadyText)
	}
	assertCondition(t, iw, inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonWorkersStarting)
	assertCondition(t, iw, inferencev1alpha1.ConditionDegraded, metav1.ConditionFalse, inferencev1alpha1.ReasonAsExpected)
	ev := hasEvent(r.recorder.take(), inferencev1alpha1.ReasonCreated)
	if ev == nil || !strings.Contains(ev.Note, "Deployment") || !strings.Contains(ev.Note, "Llama model llama-go") {
		t.Errorf("Created event: %+v", ev)
	}
}

// TestGPTSampleFetchesModelOnCPU applies the gpt sample: a URL source becomes an init
// container that downloads into an emptyDir, and gpu.count 0 runs the CPU engine.
func TestGPTSampleFetchesModelOnCPU(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	r.reconcile(t, iw)

	d := getObj(t, ns, "gpt-go", &appsv1.Deployment{})
	pod := d.Spec.Template.Spec
	fetch := container(t, pod, fetchContainerName, true)
	src := iw.Spec.Model.Source.URL
	if !slices.Equal(fetch.Args, []string{"fetch", "--url", src.URL, "--sha256", src.SHA256, "--dest", "/models", "--served-name", "gpt-go"}) {
		t.Errorf("fetch args = %v", fetch.Args)
	}
	// The download narrates its progress on the InferenceWorker, as the worker does its load.
	var fetchEnv []string
	for _, e := range fetch.Env {
		fetchEnv = append(fetchEnv, e.Name)
	}
	if want := []string{inferencev1alpha1.EnvInferenceWorkerName, inferencev1alpha1.EnvInferenceWorkerNamespace,
		inferencev1alpha1.EnvInferenceWorkerUID, inferencev1alpha1.EnvPodName, inferencev1alpha1.EnvPodUID}; !slices.Equal(fetchEnv, want) {
		t.Errorf("fetch env %v, want %v", fetchEnv, want)
	}
	w := container(t, pod, workerContainerName, false)
	if got := argValue(w.Args, "--model"); got != "/models/model.gguf" {
		t.Errorf("--model = %q, want the fetched file", got)
	}
	if argValue(w.Args, "--device") != "cpu" || argValue(w.Args, "--arch") != "gpt" || argValue(w.Args, "--inference-events") != "All" {
		t.Errorf("worker args = %v", w.Args)
	}
	if _, ok := w.Resources.Limits["nvidia.com/gpu"]; ok {
		t.Errorf("CPU worker must not ask for a GPU: %v", w.Resources.Limits)
	}
	for _, v := range pod.Volumes {
		if v.Name == modelVolumeName && v.EmptyDir == nil {
			t.Errorf("URL model volume must be an emptyDir: %+v", v)
		}
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru.MaxSurge.IntValue() != 1 || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("CPU workers should surge to keep serving: %+v", ru)
	}
}

// TestSecondReconcileWritesNothing: with nothing changed, a reconcile sends no request that
// writes and emits no Event, both right after creation and in the steady serving state.
func TestSecondReconcileWritesNothing(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	r.reconcile(t, iw)
	if r.writes.n.Load() == 0 {
		t.Fatal("first reconcile wrote nothing: the counter does not count")
	}
	r.writes.n.Store(0)
	r.recorder.take()
	r.reconcile(t, iw)
	if n := r.writes.n.Load(); n != 0 {
		t.Errorf("second reconcile of an unchanged object made %d writes, want 0", n)
	}
	if evs := r.recorder.take(); len(evs) != 0 {
		t.Errorf("second reconcile emitted events: %+v", evs)
	}

	// Steady state: the worker serves.
	sim := newWorkerSim(t, ns, "gpt-go")
	sim.setDeployment(1, 1, 1)
	sim.pod("gpt-go-0", readyPod)
	r.reconcile(t, iw)
	assertCondition(t, getIW(t, iw), inferencev1alpha1.ConditionReady, metav1.ConditionTrue, inferencev1alpha1.ReasonServing)
	r.writes.n.Store(0)
	r.recorder.take()
	for range 3 {
		r.reconcile(t, iw)
	}
	if n := r.writes.n.Load(); n != 0 {
		t.Errorf("reconciles of a serving, unchanged worker made %d writes, want 0", n)
	}
	if evs := r.recorder.take(); len(evs) != 0 {
		t.Errorf("steady-state reconciles emitted events: %+v", evs)
	}
}

// TestScaleSubresource: `kubectl scale` (and HPAs) go through the scale subresource.
func TestScaleSubresource(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	r.reconcile(t, iw)
	r.recorder.take()

	scale := &autoscalingv1.Scale{}
	if err := k8sClient.SubResource("scale").Get(context.Background(), iw, scale); err != nil {
		t.Fatalf("get scale: %v", err)
	}
	if scale.Spec.Replicas != 1 || !strings.Contains(scale.Status.Selector, "inference.kubeinfer.dev/worker=gpt-go") {
		t.Errorf("scale = %+v", scale)
	}
	scale.Spec.Replicas = 3
	if err := k8sClient.SubResource("scale").Update(context.Background(), iw, client.WithSubResourceBody(scale)); err != nil {
		t.Fatalf("update scale: %v", err)
	}
	r.reconcile(t, iw)
	if d := getObj(t, ns, "gpt-go", &appsv1.Deployment{}); *d.Spec.Replicas != 3 {
		t.Errorf("deployment replicas = %d after scaling to 3", *d.Spec.Replicas)
	}
	evs := r.recorder.take()
	if ev := hasEvent(evs, inferencev1alpha1.ReasonScaled); ev == nil || ev.Note != "Scaled workers from 1 to 3" {
		t.Errorf("Scaled event: %+v", evs)
	}
	if hasEvent(evs, inferencev1alpha1.ReasonUpdated) != nil {
		t.Errorf("a scale must not look like a template change: %+v", evs)
	}
	if got := getIW(t, iw).Status.ReadyText; got != "0/3" {
		t.Errorf("readyText = %q, want 0/3", got)
	}
}

// TestSpecChangeRollsPods: a change that affects the pods changes the pod template (which
// makes the Deployment roll them); suspend scales to zero and back.
func TestSpecChangeRollsPodsAndSuspend(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	r.reconcile(t, iw)
	before := getObj(t, ns, "gpt-go", &appsv1.Deployment{})
	r.recorder.take()

	iw = getIW(t, iw)
	iw.Spec.Serving.MaxConcurrentRequests = 16
	iw.Spec.Serving.KVCacheType = inferencev1alpha1.KVCacheQ8_0
	iw.Spec.Serving.GPUMemoryUtilization = 0.75
	iw.Spec.Serving.SchedulingPolicy = inferencev1alpha1.SchedulingPriority
	iw.Spec.Image = "registry.test/kubeinfer:v2"
	if err := k8sClient.Update(context.Background(), iw); err != nil {
		t.Fatal(err)
	}
	checkArgoCDSample(t, "generation-ahead", getIW(t, iw))
	r.reconcile(t, iw)
	after := getObj(t, ns, "gpt-go", &appsv1.Deployment{})
	if after.Generation == before.Generation {
		t.Errorf("deployment generation unchanged (%d): the pods would not roll", after.Generation)
	}
	w := container(t, after.Spec.Template.Spec, workerContainerName, false)
	if argValue(w.Args, "--max-concurrent") != "16" || w.Image != "registry.test/kubeinfer:v2" ||
		argValue(w.Args, "--kv-cache-type") != "q8_0" || argValue(w.Args, "--gpu-memory-utilization") != "0.75" ||
		argValue(w.Args, "--scheduling-policy") != "priority" {
		t.Errorf("template not updated: %s %v", w.Image, w.Args)
	}
	if ev := hasEvent(r.recorder.take(), inferencev1alpha1.ReasonUpdated); ev == nil {
		t.Error("no Updated event for a template change")
	}
	if got := getIW(t, iw); got.Status.ObservedGeneration != got.Generation {
		t.Errorf("observedGeneration %d, generation %d", got.Status.ObservedGeneration, got.Generation)
	}

	iw = getIW(t, iw)
	iw.Spec.Suspend = true
	if err := k8sClient.Update(context.Background(), iw); err != nil {
		t.Fatal(err)
	}
	r.reconcile(t, iw)
	if d := getObj(t, ns, "gpt-go", &appsv1.Deployment{}); *d.Spec.Replicas != 0 {
		t.Errorf("suspended deployment replicas = %d", *d.Spec.Replicas)
	}
	iw = getIW(t, iw)
	checkArgoCDSample(t, "suspended", iw)
	assertCondition(t, iw, inferencev1alpha1.ConditionReady, metav1.ConditionFalse, inferencev1alpha1.ReasonSuspended)
	assertCondition(t, iw, inferencev1alpha1.ConditionProgressing, metav1.ConditionFalse, inferencev1alpha1.ReasonSuspended)
	if ev := hasEvent(r.recorder.take(), inferencev1alpha1.ReasonScaled); ev == nil || ev.Note != "Scaled workers from 1 to 0" {
		t.Errorf("suspend should be reported as a scale to 0: %+v", ev)
	}

	iw.Spec.Suspend = false
	if err := k8sClient.Update(context.Background(), iw); err != nil {
		t.Fatal(err)
	}
	r.reconcile(t, iw)
	if d := getObj(t, ns, "gpt-go", &appsv1.Deployment{}); *d.Spec.Replicas != 1 {
		t.Errorf("resumed deployment replicas = %d", *d.Spec.Replicas)
	}
}

// TestOwnerReferencesAndDeletion: every child is owned by the InferenceWorker, so the
// garbage collector removes them; reconciling a deleted object is not an error.
func TestOwnerReferencesAndDeletion(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	r.reconcile(t, iw)
	for _, obj := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}} {
		assertControllerOwner(t, getObj(t, ns, "gpt-go", obj), iw)
	}
	for _, obj := range []client.Object{&corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}} {
		assertControllerOwner(t, getObj(t, ns, "gpt-go-worker", obj), iw)
	}
	if err := k8sClient.Delete(context.Background(), iw); err != nil {
		t.Fatal(err)
	}
	r.writes.n.Store(0)
	r.reconcile(t, iw)
	if n := r.writes.n.Load(); n != 0 {
		t.Errorf("reconcile after deletion wrote %d times", n)
	}
}

// TestMissingPVCIsReported: a PVC that does not exist is an InvalidModelSource, not a pod
// pending forever without explanation.
func TestMissingPVCIsReported(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_llama.yaml"))
	r.reconcile(t, iw)
	iw = getIW(t, iw)
	checkArgoCDSample(t, "invalid-model-source", iw)
	c := assertCondition(t, iw, inferencev1alpha1.ConditionDegraded, metav1.ConditionTrue, inferencev1alpha1.ReasonInvalidModelSource)
	if !strings.Contains(c.Message, `PersistentVolumeClaim "models" does not exist`) || !strings.Contains(c.Message, "spec.model.source.pvc.claimName") {
		t.Errorf("message does not say what to fix: %q", c.Message)
	}
	if ev := hasEvent(r.recorder.take(), inferencev1alpha1.ReasonInvalidModelSource); ev == nil || ev.Type != corev1.EventTypeWarning {
		t.Errorf("no InvalidModelSource warning: %+v", ev)
	}
}

// TestManagerReconcilesThroughWatches runs the controller in a real manager (cache,
// watches, Event broadcaster) to show the wiring: children appear, status follows the
// Deployment, and Events reach the API server as events.k8s.io/v1 Events.
func TestManagerReconcilesThroughWatches(t *testing.T) {
	ns := newNamespace(t)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 testScheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := (&InferenceWorkerReconciler{
		Client:      mgr.GetClient(),
		APIReader:   mgr.GetAPIReader(),
		Recorder:    mgr.GetEventRecorder("kubeinfer-operator"),
		WorkerImage: testWorkerImage,
	}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})

	iw := createIW(t, ns, loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml"))
	eventually(t, "deployment created", func() bool {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "gpt-go"}, &appsv1.Deployment{}) == nil
	})
	sim := newWorkerSim(t, ns, "gpt-go")
	sim.setDeployment(1, 1, 1)
	sim.pod("gpt-go-0", readyPod)
	eventually(t, "Ready=True", func() bool {
		got := &inferencev1alpha1.InferenceWorker{}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(iw), got); err != nil {
			return false
		}
		return meta.IsStatusConditionTrue(got.Status.Conditions, inferencev1alpha1.ConditionReady)
	})
	eventually(t, "Created and Serving events in the API", func() bool {
		var list eventsv1.EventList
		if err := k8sClient.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false
		}
		var reasons []string
		for _, e := range list.Items {
			if e.Regarding.Name == "gpt-go" && e.Regarding.Kind == "InferenceWorker" && e.ReportingController == "kubeinfer-operator" {
				reasons = append(reasons, e.Reason)
			}
		}
		return slices.Contains(reasons, inferencev1alpha1.ReasonCreated) && slices.Contains(reasons, inferencev1alpha1.ReasonServing)
	})
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
