package main

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

var iwResource = schema.GroupVersionResource{Group: "inference.kubeinfer.dev", Version: "v1alpha1", Resource: "inferenceworkers"}

const (
	modelURL    = "https://models.example.com/tinyllama/tinyllama-1.1b-chat.Q8_0.gguf"
	modelSHA256 = "4a2f6e5d0c1b3a9e8f7d6c5b4a3928170f1e2d3c4b5a69788796a5b4c3d2e1f0"
	workerImage = "ghcr.io/kubeinfer/kubeinfer-worker:dev" // the manager's --worker-image default
	claimName   = "models"
	modelPath   = "tinyllama/tinyllama-1.1b-chat.Q8_0.gguf"
)

func workerNameOf(i int) string { return fmt.Sprintf("w%04d", i) }

// inferenceWorker is the bench's InferenceWorker: one replica on one GPU, its model from a
// URL (an init container fetches it) or a PVC. Unstructured, so the bench does not
// depend on the Go types another change may be editing.
func inferenceWorker(ns, name, source string) *unstructured.Unstructured {
	src := map[string]any{"url": map[string]any{"url": modelURL, "sha256": modelSHA256}}
	if source == "pvc" {
		src = map[string]any{"pvc": map[string]any{"claimName": claimName, "path": modelPath}}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "inference.kubeinfer.dev/v1alpha1",
		"kind":       "InferenceWorker",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"model": map[string]any{
				"architecture": "llama",
				"source":       src,
			},
			"replicas": int64(1),
			"gpu":      map[string]any{"count": int64(1)},
		},
	}}
}

// The floor's objects: what the operator applies for the InferenceWorker above
// (controllers/children.go, which exports no builder), created directly. The fields that
// shape scheduling and the pod's lifecycle are the same: labels, selector, rollout
// strategy, GPU request and toleration, init container, volumes, probes, service account.

func selectorLabels(name string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":         "kubeinfer-worker",
		"inference.kubeinfer.dev/worker": name,
	}
}

func childLabels(name string) map[string]string {
	l := selectorLabels(name)
	l["app.kubernetes.io/instance"] = name
	l["app.kubernetes.io/managed-by"] = "kubeinfer"
	l["app.kubernetes.io/component"] = "inference-worker"
	return l
}

func floorServiceAccount(ns, name string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name + "-worker", Namespace: ns, Labels: childLabels(name)}}
}

func floorRole(ns, name string) *rbacv1.Role {
	return &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-worker", Namespace: ns, Labels: childLabels(name)},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}}},
	}
}

func floorRoleBinding(ns, name string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-worker", Namespace: ns, Labels: childLabels(name)},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name + "-worker"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name + "-worker", Namespace: ns}},
	}
}

func floorService(ns, name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: childLabels(name)},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: selectorLabels(name),
			Ports: []corev1.ServicePort{{
				Name: "http", Protocol: corev1.ProtocolTCP, AppProtocol: ptr.To("http"),
				Port: 8000, TargetPort: intstr.FromString("http"),
			}},
		},
	}
}

func floorDeployment(ns, name, source string) *appsv1.Deployment {
	restricted := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		RunAsNonRoot:             ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	probe := func(path string, period, failures int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http")}},
			PeriodSeconds: period, TimeoutSeconds: 2, FailureThreshold: failures,
		}
	}
	fieldEnv := func(n, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: n, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}}
	}
	gpu := corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}
	model := corev1.Volume{Name: "model", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	modelFile := "/models/model.gguf"
	narrationEnv := []corev1.EnvVar{
		{Name: "KUBEINFER_INFERENCEWORKER_NAME", Value: name},
		fieldEnv("KUBEINFER_INFERENCEWORKER_NAMESPACE", "metadata.namespace"),
		{Name: "KUBEINFER_INFERENCEWORKER_UID", Value: "00000000-0000-0000-0000-000000000000"},
		fieldEnv("KUBEINFER_POD_NAME", "metadata.name"),
		fieldEnv("KUBEINFER_POD_UID", "metadata.uid"),
	}
	var initContainers []corev1.Container
	if source == "pvc" {
		model.VolumeSource = corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName, ReadOnly: true}}
		modelFile = "/models/" + modelPath
	} else {
		initContainers = []corev1.Container{{
			Name: "fetch-model", Image: workerImage, Command: []string{"kubeinfer-worker"},
			Args:                     []string{"fetch", "--url", modelURL, "--sha256", modelSHA256, "--dest", "/models", "--served-name", name},
			Env:                      narrationEnv,
			TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
			SecurityContext:          restricted,
			VolumeMounts:             []corev1.VolumeMount{{Name: "model", MountPath: "/models"}, {Name: "tmp", MountPath: "/tmp"}},
		}}
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: childLabels(name)},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: selectorLabels(name)},
			Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxSurge: ptr.To(intstr.FromInt32(0)), MaxUnavailable: ptr.To(intstr.FromInt32(1)),
				},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: childLabels(name)},
				Spec: corev1.PodSpec{
					ServiceAccountName:            name + "-worker",
					AutomountServiceAccountToken:  ptr.To(true),
					EnableServiceLinks:            ptr.To(false),
					TerminationGracePeriodSeconds: ptr.To[int64](60),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65532), RunAsGroup: ptr.To[int64](65532),
						FSGroup: ptr.To[int64](65532), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Volumes:        []corev1.Volume{model, {Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
					InitContainers: initContainers,
					Containers: []corev1.Container{{
						Name: "worker", Image: workerImage, Command: []string{"kubeinfer-worker"},
						Args: []string{"serve", "--model", modelFile, "--arch", "llama", "--served-name", name,
							"--port", "8000", "--max-concurrent", "8", "--device", "cuda",
							"--inference-events", "Sampled", "--inference-events-interval", "30s"},
						Ports:                    []corev1.ContainerPort{{Name: "http", ContainerPort: 8000, Protocol: corev1.ProtocolTCP}},
						Env:                      narrationEnv,
						Resources:                corev1.ResourceRequirements{Limits: gpu, Requests: gpu},
						StartupProbe:             probe("/readyz", 10, 180),
						ReadinessProbe:           probe("/readyz", 5, 2),
						LivenessProbe:            probe("/healthz", 10, 3),
						TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
						SecurityContext:          restricted,
						VolumeMounts: []corev1.VolumeMount{
							{Name: "model", MountPath: "/models", ReadOnly: true},
							{Name: "tmp", MountPath: "/tmp"},
						},
					}},
					Tolerations: []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
				},
			},
		},
	}
}

// modelsVolume is a PersistentVolume already bound to the "models" claim, for the pvc
// source: devcluster runs no PV controller, so the claim is created bound (volumeName plus
// the bind-completed annotation the scheduler's volume binding checks).
func modelsVolume(ns string) (*corev1.PersistentVolume, *corev1.PersistentVolumeClaim) {
	size := resource.MustParse("10Gi")
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "bench-models"},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadOnlyMany},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/models"}},
			ClaimRef:               &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: ns, Name: claimName},
			StorageClassName:       "",
		},
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: claimName, Namespace: ns, Annotations: map[string]string{
			"pv.kubernetes.io/bind-completed": "yes",
		}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadOnlyMany},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
			VolumeName:       "bench-models",
			StorageClassName: ptr.To(""),
		},
	}
	return pv, pvc
}
