package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The InferenceWorker in the cluster's own terms: Prometheus Operator, autoscaling on load,
// and the Gateway API Inference Extension.

// MonitoringSpec says how Prometheus finds the workers' metrics.
type MonitoringSpec struct {
	// podMonitor creates a Prometheus Operator PodMonitor (monitoring.coreos.com/v1) that
	// scrapes every worker's /metrics, when that CRD is installed; the PodMonitorReady
	// condition says why not otherwise.
	// +optional
	PodMonitor bool `json:"podMonitor,omitempty"`
}

// AutoscalingSpec lets the operator set the number of workers from their load: the requests
// each ready worker has in flight or queued, read from the worker a few times a minute.
// Use it or an external autoscaler (a HorizontalPodAutoscaler, KEDA), not both: while it is
// set, the API server refuses changes of spec.replicas, which is what those write.
// +kubebuilder:validation:XValidation:rule="self.minReplicas <= self.maxReplicas",message="minReplicas must not exceed maxReplicas"
type AutoscalingSpec struct {
	// minReplicas is the fewest workers, even without load. At least 1: the load is read
	// from running workers, so none would be left to tell that requests arrive.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	MinReplicas int32 `json:"minReplicas"`

	// maxReplicas is the most workers.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +required
	MaxReplicas int32 `json:"maxReplicas"`

	// targetInFlightPerReplica is the requests (running and queued) one worker should have:
	// the operator runs ceil(total in flight / target) workers, within the bounds. Around
	// serving.maxConcurrentRequests keeps each worker's batch full without a queue.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000
	// +required
	TargetInFlightPerReplica int32 `json:"targetInFlightPerReplica"`

	// scaleDownDelaySeconds is how long the load must have asked for fewer workers before
	// they are removed (the highest need of that window wins), so a dip does not stop a
	// worker that loads its model again a minute later. Scaling up is immediate.
	// +kubebuilder:default=300
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=86400
	// +optional
	ScaleDownDelaySeconds int32 `json:"scaleDownDelaySeconds"`
}

// RoutingSpec puts the workers behind the Gateway API Inference Extension.
type RoutingSpec struct {
	// inferencePool creates an InferencePool (inference.networking.k8s.io/v1) of the same
	// name that selects the workers on their HTTP port, when that CRD is installed; the
	// InferencePoolReady condition says why not otherwise. Route to it from an HTTPRoute.
	// +optional
	InferencePool bool `json:"inferencePool,omitempty"`

	// endpointPicker is the Service of the endpoint picker (for example the llm-d router)
	// that the pool's gateway asks which worker takes a request; it reads the workers'
	// load from their /metrics. Empty leaves the pool's endpointPickerRef unset.
	// +optional
	EndpointPicker *EndpointPickerService `json:"endpointPicker,omitempty"`
}

// EndpointPickerService is a Service in the InferenceWorker's namespace.
type EndpointPickerService struct {
	// name is the Service's name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// port is the Service port of the picker's ext-proc gRPC endpoint.
	// +kubebuilder:default=9002
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`
}

// AutoscalingStatus is the operator's autoscaler's decision.
type AutoscalingStatus struct {
	// desiredReplicas is the number of workers the autoscaler decided on, which the workers'
	// Deployment runs (spec.replicas is not written: Git stays the source of the spec).
	// +optional
	DesiredReplicas int32 `json:"desiredReplicas"`
	// lastScaleTime is when the autoscaler last changed desiredReplicas.
	// +optional
	LastScaleTime *metav1.Time `json:"lastScaleTime,omitempty"`
}

// Condition types of the integrations, present only when the spec asks for them.
const (
	// ConditionPodMonitorReady is True when the PodMonitor of spec.monitoring.podMonitor exists.
	ConditionPodMonitorReady = "PodMonitorReady"
	// ConditionInferencePoolReady is True when the InferencePool of spec.routing.inferencePool exists.
	ConditionInferencePoolReady = "InferencePoolReady"
	// ConditionAutoscalingActive is True while spec.autoscaling sets the number of workers
	// from their load, False when it cannot (no worker to read, an external autoscaler).
	ConditionAutoscalingActive = "AutoscalingActive"
)
