// Package v1alpha1 contains the InferenceWorker API of the inference.kubeinfer.dev group.
// +kubebuilder:object:generate=true
// +groupName=inference.kubeinfer.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "inference.kubeinfer.dev", Version: "v1alpha1"}

	// schemeBuilder adds the types of this group-version to a scheme (apimachinery's
	// builder: an API package should depend on apimachinery alone, not controller-runtime).
	schemeBuilder = runtime.NewSchemeBuilder(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, &InferenceWorker{}, &InferenceWorkerList{})
		metav1.AddToGroupVersion(s, GroupVersion)
		return nil
	})

	// AddToScheme adds the types in this group-version to the given scheme.
	AddToScheme = schemeBuilder.AddToScheme
)
