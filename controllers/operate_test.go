package controllers

import (
	"context"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// operateIW uses every field for operating kubeinfer in front of users.
func operateIW(name string) *inferencev1alpha1.InferenceWorker {
	return &inferencev1alpha1.InferenceWorker{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: inferencev1alpha1.InferenceWorkerSpec{
			Model: inferencev1alpha1.ModelSpec{
				Architecture: inferencev1alpha1.ArchitectureLlama,
				Source: inferencev1alpha1.ModelSource{URL: &inferencev1alpha1.URLModelSource{
					URL: "hf://org/repo/model.gguf@main", SHA256: digestA,
					HeadersSecretRef: &inferencev1alpha1.SecretRef{Name: "hf-token"},
					Cache:            &inferencev1alpha1.ModelCache{Type: inferencev1alpha1.ModelCacheNode, SizeLimit: ptr.To(resource.MustParse("1Gi"))},
				}},
			},
			GPU:     inferencev1alpha1.GPUSpec{Count: 0},
			Serving: inferencev1alpha1.ServingSpec{APIKeySecretRef: &inferencev1alpha1.SecretKeyRef{Name: "keys"}},
			Pod: inferencev1alpha1.PodOverlay{
				ImagePullSecrets: []corev1.LocalObjectReference{{Name: "registry"}},
				Labels:           map[string]string{"team": "search"},
				Annotations:      map[string]string{"example.com/owner": "search"},
				Volumes:          []corev1.Volume{{Name: "ca", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "corp-ca"}}}}},
				VolumeMounts:     []corev1.VolumeMount{{Name: "ca", MountPath: "/etc/ssl/corp", ReadOnly: true}},
			},
		},
	}
}

func volume(t *testing.T, pod corev1.PodSpec, name string) corev1.Volume {
	t.Helper()
	for _, v := range pod.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %s in %v", name, pod.Volumes)
	return corev1.Volume{}
}

func mountPaths(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, vm := range c.VolumeMounts {
		m[vm.Name] = vm.MountPath
	}
	return m
}

// TestOperateChildren: API keys, the header Secret, the node cache and the overlay fields
// reach the Deployment the API server stores, and a second reconcile writes nothing.
func TestOperateChildren(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	r.NodeCacheDir = "/srv/kubeinfer-cache"
	iw := createIW(t, ns, operateIW("operated"))
	r.reconcile(t, iw)

	d := getObj(t, ns, "operated", &appsv1.Deployment{})
	pod := d.Spec.Template.Spec

	// API keys: one key of the Secret, as a file the worker re-reads (no subPath, so the
	// kubelet updates it in place).
	keys := volume(t, pod, inferencev1alpha1.VolumeAPIKeys)
	if keys.Secret == nil || keys.Secret.SecretName != "keys" || len(keys.Secret.Items) != 1 ||
		keys.Secret.Items[0].Key != "api-keys" || keys.Secret.Items[0].Path != "keys" {
		t.Errorf("api-keys volume %+v", keys.VolumeSource)
	}
	w := container(t, pod, workerContainerName, false)
	if got := argValue(w.Args, "--api-key-file"); got != "/var/run/kubeinfer/api-keys/keys" {
		t.Errorf("--api-key-file %q in %v", got, w.Args)
	}
	for _, vm := range w.VolumeMounts {
		if vm.SubPath != "" {
			t.Errorf("worker mount %s uses subPath: a Secret there would never be updated", vm.Name)
		}
	}
	if got := mountPaths(w); got[inferencev1alpha1.VolumeAPIKeys] != inferencev1alpha1.MountAPIKeys || got["ca"] != "/etc/ssl/corp" {
		t.Errorf("worker mounts %v", got)
	}
	if _, ok := mountPaths(w)[inferencev1alpha1.VolumeSourceHeaders]; ok {
		t.Errorf("the worker must not see the download's header Secret")
	}

	// The download: headers from the mounted Secret, the cache on the node directory.
	fetch := container(t, pod, fetchContainerName, true)
	if argValue(fetch.Args, "--url") != "hf://org/repo/model.gguf@main" || argValue(fetch.Args, "--headers-dir") != inferencev1alpha1.MountSourceHeaders ||
		argValue(fetch.Args, "--cache-dir") != inferencev1alpha1.MountModelCache || argValue(fetch.Args, "--cache-size-limit") != "1073741824" {
		t.Errorf("fetch args %v", fetch.Args)
	}
	if got := mountPaths(fetch); got[inferencev1alpha1.VolumeSourceHeaders] != inferencev1alpha1.MountSourceHeaders ||
		got[inferencev1alpha1.VolumeModelCache] != inferencev1alpha1.MountModelCache || got["ca"] != "/etc/ssl/corp" {
		t.Errorf("fetch mounts %v", got)
	}
	if _, ok := mountPaths(fetch)[inferencev1alpha1.VolumeAPIKeys]; ok {
		t.Errorf("the download must not see the API keys")
	}
	headers := volume(t, pod, inferencev1alpha1.VolumeSourceHeaders)
	if headers.Secret == nil || headers.Secret.SecretName != "hf-token" {
		t.Errorf("source-headers volume %+v", headers.VolumeSource)
	}
	cache := volume(t, pod, inferencev1alpha1.VolumeModelCache)
	if cache.HostPath == nil || cache.HostPath.Path != "/srv/kubeinfer-cache" || ptr.Deref(cache.HostPath.Type, "") != corev1.HostPathDirectoryOrCreate {
		t.Errorf("model-cache volume %+v", cache.VolumeSource)
	}
	// No Secret's value is in the pod spec: only references.
	for _, c := range append(pod.InitContainers, pod.Containers...) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				t.Errorf("container %s reads a Secret into env %s", c.Name, e.Name)
			}
		}
	}

	// The overlay.
	if !slices.Equal(pod.ImagePullSecrets, []corev1.LocalObjectReference{{Name: "registry"}}) {
		t.Errorf("imagePullSecrets %v", pod.ImagePullSecrets)
	}
	if l := d.Spec.Template.Labels; l["team"] != "search" || l[inferencev1alpha1.LabelWorker] != "operated" {
		t.Errorf("pod labels %v", l)
	}
	if d.Spec.Selector.MatchLabels["team"] != "" {
		t.Errorf("overlay labels must stay out of the immutable selector: %v", d.Spec.Selector.MatchLabels)
	}
	if d.Spec.Template.Annotations["example.com/owner"] != "search" {
		t.Errorf("pod annotations %v", d.Spec.Template.Annotations)
	}
	if v := volume(t, pod, "ca"); v.ConfigMap == nil || v.ConfigMap.Name != "corp-ca" {
		t.Errorf("overlay volume %+v", v)
	}

	r.writes.n.Store(0)
	r.reconcile(t, iw)
	if n := r.writes.n.Load(); n != 0 {
		t.Errorf("second reconcile made %d writes, want 0", n)
	}

	// A ReadWriteMany claim instead of the node directory.
	iw = getIW(t, iw)
	iw.Spec.Model.Source.URL.Cache = &inferencev1alpha1.ModelCache{Type: inferencev1alpha1.ModelCacheClaim, ClaimName: "shared-models"}
	if err := k8sClient.Update(context.Background(), iw); err != nil {
		t.Fatal(err)
	}
	r.reconcile(t, iw)
	d = getObj(t, ns, "operated", &appsv1.Deployment{})
	if v := volume(t, d.Spec.Template.Spec, inferencev1alpha1.VolumeModelCache); v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "shared-models" || v.HostPath != nil {
		t.Errorf("claim cache volume %+v", v.VolumeSource)
	}
	if args := container(t, d.Spec.Template.Spec, fetchContainerName, true).Args; argValue(args, "--cache-size-limit") != "" {
		t.Errorf("no sizeLimit, no --cache-size-limit: %v", args)
	}
}

// TestOverlayServiceAccount: pods run as the overlay's ServiceAccount, which the operator
// binds to its narration Role so the workers can still report.
func TestOverlayServiceAccount(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := operateIW("own-sa")
	iw.Spec.Pod.ServiceAccountName = "search-workers"
	iw = createIW(t, ns, iw)
	r.reconcile(t, iw)
	d := getObj(t, ns, "own-sa", &appsv1.Deployment{})
	if sa := d.Spec.Template.Spec.ServiceAccountName; sa != "search-workers" {
		t.Errorf("serviceAccountName %q", sa)
	}
	rb := getObj(t, ns, workerServiceAccountName(iw), &rbacv1.RoleBinding{})
	if len(rb.Subjects) != 1 || rb.Subjects[0].Name != "search-workers" || rb.Subjects[0].Namespace != ns {
		t.Errorf("RoleBinding subjects %+v", rb.Subjects)
	}
}

// TestOperatorVolumesAreReserved: the API server refuses an overlay volume with the name of
// any volume the operator gives a pod, so the CRD's list cannot fall behind the builders.
func TestOperatorVolumesAreReserved(t *testing.T) {
	ns := newNamespace(t)
	iw := operateIW("all")
	iw.Namespace = ns
	iw.Spec.Pod = inferencev1alpha1.PodOverlay{}
	names := map[string]bool{}
	for _, cache := range []inferencev1alpha1.ModelCacheType{inferencev1alpha1.ModelCacheNode, inferencev1alpha1.ModelCacheClaim} {
		iw.Spec.Model.Source.URL.Cache.Type = cache
		for _, v := range workerPodSpec(iw, childOptions{WorkerImage: "w"}).Volumes {
			names[*v.Name] = true
		}
	}
	if len(names) != 5 {
		t.Fatalf("operator volumes %v: a new one must be added to the CRD's rule", names)
	}
	for name := range names {
		err := createSpec(t, ns, validSpec+`
pod:
  volumes: [{name: `+name+`, emptyDir: {}}]`)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "rename yours") {
			t.Errorf("overlay volume %q: %v, want it refused", name, err)
		}
	}
}

// TestWorkerCannotReadSecrets: the workers' ServiceAccount, with the Role and RoleBinding
// the operator made, may create and patch Events and nothing else: not read Secrets
// (the API keys and header tokens live there), pods, or anything cluster-wide.
func TestWorkerCannotReadSecrets(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := createIW(t, ns, operateIW("least"))
	r.reconcile(t, iw)
	if err := k8sClient.Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "keys", Namespace: ns},
		StringData: map[string]string{"api-keys": "sk-secret"}}); err != nil {
		t.Fatal(err)
	}

	restCfg, err := clientcmd.BuildConfigFromFlags("", serviceAccountKubeconfig(t, ns, workerServiceAccountName(iw)))
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(restCfg)
	ctx := context.Background()
	forbidden := map[string]error{}
	_, forbidden["get the API key Secret"] = cs.CoreV1().Secrets(ns).Get(ctx, "keys", metav1.GetOptions{})
	_, forbidden["list Secrets"] = cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	_, forbidden["list Secrets cluster-wide"] = cs.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
	_, forbidden["list pods"] = cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	_, forbidden["get the InferenceWorker's Deployment"] = cs.AppsV1().Deployments(ns).Get(ctx, "least", metav1.GetOptions{})
	_, forbidden["list nodes"] = cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	for what, err := range forbidden {
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v, want Forbidden", what, err)
		}
	}
	// What it may do: narrate.
	_, err = cs.EventsV1().Events(ns).Create(ctx, &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "least-"}, EventTime: metav1.NowMicro(),
		ReportingController: inferencev1alpha1.EventReportingController, ReportingInstance: "test", Action: "Load", Reason: "ModelLoaded",
		Regarding: corev1.ObjectReference{Kind: "InferenceWorker", Namespace: ns, Name: "least", APIVersion: inferencev1alpha1.GroupVersion.String()},
		Type:      corev1.EventTypeNormal, Note: "narrating is allowed",
	}, metav1.CreateOptions{})
	if err != nil {
		t.Errorf("create an Event: %v", err)
	}
}

// TestMissingCacheClaimIsReported: a Claim cache whose claim does not exist is reported as
// the model source's problem, naming the field to change.
func TestMissingCacheClaimIsReported(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := operateIW("claim-cache")
	iw.Spec.Model.Source.URL.Cache = &inferencev1alpha1.ModelCache{Type: inferencev1alpha1.ModelCacheClaim, ClaimName: "shared-models"}
	iw = createIW(t, ns, iw)
	r.reconcile(t, iw)
	c := assertCondition(t, getIW(t, iw), inferencev1alpha1.ConditionDegraded, metav1.ConditionTrue, inferencev1alpha1.ReasonInvalidModelSource)
	if !strings.Contains(c.Message, `PersistentVolumeClaim "shared-models" does not exist`) || !strings.Contains(c.Message, "spec.model.source.url.cache.claimName") {
		t.Errorf("message does not say what to fix: %q", c.Message)
	}

	if err := k8sClient.Create(context.Background(), &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "shared-models", Namespace: ns},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}}},
	}); err != nil {
		t.Fatal(err)
	}
	r.reconcile(t, iw)
	if c := condition(t, getIW(t, iw), inferencev1alpha1.ConditionDegraded); c.Reason == inferencev1alpha1.ReasonInvalidModelSource {
		t.Errorf("still %s after the claim was created: %q", c.Reason, c.Message)
	}
}

// TestInvalidOverlayIsTold: a volumeMount of spec.pod that names no volume passes the CRD
// (the rule would cost too much for CEL) but not the Deployment's validation: the
// reconcile fails and a Warning Event says what the API server refused.
func TestInvalidOverlayIsTold(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	iw := operateIW("bad-mount")
	iw.Spec.Pod.VolumeMounts = append(iw.Spec.Pod.VolumeMounts, corev1.VolumeMount{Name: "nowhere", MountPath: "/data"})
	iw = createIW(t, ns, iw)
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(iw)}); !apierrors.IsInvalid(err) {
		t.Fatalf("reconcile: %v, want the Deployment's Invalid error", err)
	}
	ev := hasEvent(r.recorder.take(), inferencev1alpha1.ReasonWorkersRefused)
	if ev == nil || ev.Type != corev1.EventTypeWarning || !strings.Contains(ev.Note, `"nowhere"`) || !strings.Contains(ev.Note, "change spec.pod") {
		t.Errorf("event %+v, want a WorkersRefused warning naming the mount", ev)
	}
}
