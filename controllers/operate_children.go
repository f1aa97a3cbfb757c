package controllers

import (
	"maps"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// The parts of the worker pods that operating kubeinfer in front of users adds: API keys,
// the download's header Secret and cache, and the overlay fields users of other operators
// expect. Pure functions of the InferenceWorker, like the rest of children.go.

// DefaultNodeCacheDir is where a Node cache keeps model files on each node, unless the
// operator's --node-cache-dir says otherwise.
const DefaultNodeCacheDir = "/var/cache/kubeinfer/models"

// apiKeyFile is the worker's --api-key-file inside the container.
const apiKeyFile = inferencev1alpha1.MountAPIKeys + "/keys"

// podServiceAccountName is the ServiceAccount the worker pods run as: the overlay's, else
// the one the operator creates.
func podServiceAccountName(iw *inferencev1alpha1.InferenceWorker) string {
	if sa := iw.Spec.Pod.ServiceAccountName; sa != "" {
		return sa
	}
	return workerServiceAccountName(iw)
}

// podLabels are the overlay's labels under the operator's own, which win (the CRD refuses
// overlay labels with the operator's keys; this keeps the selector safe regardless).
func podLabels(iw *inferencev1alpha1.InferenceWorker) map[string]string {
	l := maps.Clone(iw.Spec.Pod.Labels)
	if l == nil {
		l = map[string]string{}
	}
	maps.Copy(l, childLabels(iw))
	return l
}

// operateVolumes are the pod volumes for API keys, the download's headers and its cache.
func operateVolumes(iw *inferencev1alpha1.InferenceWorker, opts childOptions) []*corev1ac.VolumeApplyConfiguration {
	var vs []*corev1ac.VolumeApplyConfiguration
	if ref := iw.Spec.Serving.APIKeySecretRef; ref != nil {
		// Only the one key, as a file named "keys": the Secret may hold other keys.
		vs = append(vs, corev1ac.Volume().WithName(inferencev1alpha1.VolumeAPIKeys).
			WithSecret(corev1ac.SecretVolumeSource().
				WithSecretName(ref.Name).
				WithItems(corev1ac.KeyToPath().WithKey(apiKeySecretKey(ref)).WithPath("keys")).
				WithDefaultMode(0o440)))
	}
	src := iw.Spec.Model.Source.URL
	if src == nil {
		return vs
	}
	if ref := src.HeadersSecretRef; ref != nil {
		vs = append(vs, corev1ac.Volume().WithName(inferencev1alpha1.VolumeSourceHeaders).
			WithSecret(corev1ac.SecretVolumeSource().WithSecretName(ref.Name).WithDefaultMode(0o440)))
	}
	if c := src.Cache; c != nil {
		v := corev1ac.Volume().WithName(inferencev1alpha1.VolumeModelCache)
		switch c.Type {
		case inferencev1alpha1.ModelCacheClaim:
			v.WithPersistentVolumeClaim(corev1ac.PersistentVolumeClaimVolumeSource().WithClaimName(c.ClaimName))
		default:
			v.WithHostPath(corev1ac.HostPathVolumeSource().WithPath(nodeCacheDir(opts)).WithType(corev1.HostPathDirectoryOrCreate))
		}
		vs = append(vs, v)
	}
	return vs
}

func nodeCacheDir(opts childOptions) string {
	if opts.NodeCacheDir == "" {
		return DefaultNodeCacheDir
	}
	return opts.NodeCacheDir
}

func apiKeySecretKey(ref *inferencev1alpha1.SecretKeyRef) string {
	if ref.Key == "" {
		return "api-keys" // before the API server applied the schema default
	}
	return ref.Key
}

// fetchSourceArgs are the download's flags for the header Secret and the cache.
func fetchSourceArgs(src *inferencev1alpha1.URLModelSource) []string {
	var args []string
	if src.HeadersSecretRef != nil {
		args = append(args, "--headers-dir", inferencev1alpha1.MountSourceHeaders)
	}
	if c := src.Cache; c != nil {
		args = append(args, "--cache-dir", inferencev1alpha1.MountModelCache)
		if c.SizeLimit != nil {
			args = append(args, "--cache-size-limit", strconv.FormatInt(c.SizeLimit.Value(), 10))
		}
	}
	return args
}

// fetchSourceMounts mount the header Secret and the cache into the download's container.
func fetchSourceMounts(src *inferencev1alpha1.URLModelSource) []*corev1ac.VolumeMountApplyConfiguration {
	var ms []*corev1ac.VolumeMountApplyConfiguration
	if src.HeadersSecretRef != nil {
		ms = append(ms, corev1ac.VolumeMount().WithName(inferencev1alpha1.VolumeSourceHeaders).
			WithMountPath(inferencev1alpha1.MountSourceHeaders).WithReadOnly(true))
	}
	if src.Cache != nil {
		ms = append(ms, corev1ac.VolumeMount().WithName(inferencev1alpha1.VolumeModelCache).
			WithMountPath(inferencev1alpha1.MountModelCache))
	}
	return ms
}

// apiKeyArgs and apiKeyMounts give the worker container its key file. The mount has no
// subPath, so the kubelet updates the file in place when the Secret changes.
func apiKeyArgs(iw *inferencev1alpha1.InferenceWorker) []string {
	if iw.Spec.Serving.APIKeySecretRef == nil {
		return nil
	}
	return []string{"--api-key-file", apiKeyFile}
}

func apiKeyMounts(iw *inferencev1alpha1.InferenceWorker) []*corev1ac.VolumeMountApplyConfiguration {
	if iw.Spec.Serving.APIKeySecretRef == nil {
		return nil
	}
	return []*corev1ac.VolumeMountApplyConfiguration{corev1ac.VolumeMount().WithName(inferencev1alpha1.VolumeAPIKeys).
		WithMountPath(inferencev1alpha1.MountAPIKeys).WithReadOnly(true)}
}

// overlayVolumes and overlayMounts are spec.pod.volumes and volumeMounts.
func overlayVolumes(iw *inferencev1alpha1.InferenceWorker) []*corev1ac.VolumeApplyConfiguration {
	var vs []*corev1ac.VolumeApplyConfiguration
	for i := range iw.Spec.Pod.Volumes {
		vs = append(vs, asApplyConfiguration[corev1ac.VolumeApplyConfiguration](iw.Spec.Pod.Volumes[i]))
	}
	return vs
}

func overlayMounts(iw *inferencev1alpha1.InferenceWorker) []*corev1ac.VolumeMountApplyConfiguration {
	var ms []*corev1ac.VolumeMountApplyConfiguration
	for i := range iw.Spec.Pod.VolumeMounts {
		ms = append(ms, asApplyConfiguration[corev1ac.VolumeMountApplyConfiguration](iw.Spec.Pod.VolumeMounts[i]))
	}
	return ms
}

func imagePullSecrets(iw *inferencev1alpha1.InferenceWorker) []*corev1ac.LocalObjectReferenceApplyConfiguration {
	var refs []*corev1ac.LocalObjectReferenceApplyConfiguration
	for _, s := range iw.Spec.Pod.ImagePullSecrets {
		refs = append(refs, corev1ac.LocalObjectReference().WithName(s.Name))
	}
	return refs
}
