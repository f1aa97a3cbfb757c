package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
)

// Types for operating kubeinfer in front of users: API keys, private and gated model
// downloads, and the per-node download cache. The fields that use them sit in
// inferenceworker_types.go.

// SecretKeyRef names one key of a Secret in the InferenceWorker's namespace. The operator
// never reads the Secret itself: it mounts it into the pods that need it.
type SecretKeyRef struct {
	// name is the Secret's name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// key is the Secret's key that holds the value.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	// +kubebuilder:default=api-keys
	// +optional
	Key string `json:"key,omitempty"`
}

// SecretRef names a Secret in the InferenceWorker's namespace.
type SecretRef struct {
	// name is the Secret's name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// ModelCacheType says where downloaded model files are kept for the next pod.
// +kubebuilder:validation:Enum=Node;Claim
type ModelCacheType string

const (
	// ModelCacheNode keeps files in a directory on each node (the operator's --node-cache-dir,
	// mounted as a hostPath volume): pods on one node download a model once.
	ModelCacheNode ModelCacheType = "Node"
	// ModelCacheClaim keeps files on a ReadWriteMany PersistentVolumeClaim: pods on every node
	// that mounts it download a model once.
	ModelCacheClaim ModelCacheType = "Claim"
)

// ModelCache keeps a URL model's verified file, named by its sha256, where the next pod
// finds it: concurrent pods take a lock on the digest, so one downloads and the others
// wait and reuse the file.
// +kubebuilder:validation:XValidation:rule="(self.type == 'Claim') == has(self.claimName)",message="set claimName (a ReadWriteMany PersistentVolumeClaim) with type Claim, and only with it"
type ModelCache struct {
	// type is Node (a directory on each node, mounted as a hostPath volume: the namespace's
	// Pod Security level must allow hostPath volumes, which only "privileged" does) or Claim
	// (a ReadWriteMany PersistentVolumeClaim, allowed under "restricted").
	// +required
	Type ModelCacheType `json:"type"`

	// claimName is the ReadWriteMany PersistentVolumeClaim of type Claim, in the
	// InferenceWorker's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ClaimName string `json:"claimName,omitempty"`

	// sizeLimit bounds the cache: after a download, the least recently used files that no
	// pod on the node holds are removed until the cache fits. Empty keeps every file.
	// +optional
	SizeLimit *resource.Quantity `json:"sizeLimit,omitempty"`
}

// Names of the volumes and mount paths the operator gives worker pods; spec.pod.volumes and
// volumeMounts may not reuse them (the CRD's CEL rules list the same names, and a test
// checks that every volume of a built pod is among them).
const (
	VolumeModel         = "model"
	VolumeTmp           = "tmp"
	VolumeModelCache    = "model-cache"
	VolumeAPIKeys       = "api-keys"
	VolumeSourceHeaders = "source-headers"

	MountModels        = "/models"
	MountTmp           = "/tmp"
	MountModelCache    = "/var/cache/kubeinfer"
	MountAPIKeys       = "/var/run/kubeinfer/api-keys"
	MountSourceHeaders = "/var/run/kubeinfer/source-headers"
)
