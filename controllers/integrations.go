package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// The children that belong to other projects: Prometheus Operator's PodMonitor and the
// Gateway API Inference Extension's InferencePool. Their CRDs may not be installed, so the
// operator links none of their code: it builds them as unstructured objects (pure functions
// below, validated against the real CRDs by the envtest suite), asks discovery whether the
// cluster serves the kind, and says in a condition why one was not made.

// integration is one optional child kind.
type integration struct {
	gvk schema.GroupVersionKind
	// resource is the plural, for the messages and discovery.
	resource string
	// crd names the CRD to install and where it comes from, for the condition's message.
	crd string
	// condition is the condition type that reports it.
	condition string
	wanted    func(*inferencev1alpha1.InferenceWorker) bool
	desired   func(*inferencev1alpha1.InferenceWorker) *unstructured.Unstructured
	// statusName points at the status field that holds the child's name once it exists.
	statusName func(*inferencev1alpha1.InferenceWorkerStatus) *string
}

var (
	podMonitorGVK    = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "PodMonitor"}
	inferencePoolGVK = schema.GroupVersionKind{Group: "inference.networking.k8s.io", Version: "v1", Kind: "InferencePool"}
)

var integrations = []integration{
	{gvk: podMonitorGVK, resource: "podmonitors",
		crd:       "podmonitors.monitoring.coreos.com (Prometheus Operator)",
		condition: inferencev1alpha1.ConditionPodMonitorReady,
		wanted:    func(iw *inferencev1alpha1.InferenceWorker) bool { return iw.Spec.Monitoring.PodMonitor },
		desired:   desiredPodMonitor,
		statusName: func(st *inferencev1alpha1.InferenceWorkerStatus) *string {
			return &st.PodMonitor
		}},
	{gvk: inferencePoolGVK, resource: "inferencepools",
		crd:       "inferencepools.inference.networking.k8s.io (Gateway API Inference Extension v1.0 or later)",
		condition: inferencev1alpha1.ConditionInferencePoolReady,
		wanted:    func(iw *inferencev1alpha1.InferenceWorker) bool { return iw.Spec.Routing.InferencePool },
		desired:   desiredInferencePool,
		statusName: func(st *inferencev1alpha1.InferenceWorkerStatus) *string {
			return &st.InferencePool
		}},
}

// +kubebuilder:rbac:groups=monitoring.coreos.com,resources=podmonitors,verbs=get;create;patch;delete
// +kubebuilder:rbac:groups=inference.networking.k8s.io,resources=inferencepools,verbs=get;create;patch;delete

// metricsPath is where the worker serves Prometheus metrics.
const metricsPath = "/metrics"

// desiredPodMonitor scrapes every worker's /metrics on its HTTP port.
func desiredPodMonitor(iw *inferencev1alpha1.InferenceWorker) *unstructured.Unstructured {
	return childObject(iw, podMonitorGVK, map[string]any{
		"selector":            map[string]any{"matchLabels": stringMap(selectorLabels(iw))},
		"podMetricsEndpoints": []any{map[string]any{"port": httpPortName, "path": metricsPath}},
	})
}

// desiredInferencePool selects the workers on their HTTP port, behind the endpoint picker
// of spec.routing.endpointPicker if one is named.
func desiredInferencePool(iw *inferencev1alpha1.InferenceWorker) *unstructured.Unstructured {
	spec := map[string]any{
		"selector":    map[string]any{"matchLabels": stringMap(selectorLabels(iw))},
		"targetPorts": []any{map[string]any{"number": int64(servingPort(iw))}},
	}
	if ep := iw.Spec.Routing.EndpointPicker; ep != nil {
		port := ep.Port
		if port == 0 {
			port = 9002
		}
		spec["endpointPickerRef"] = map[string]any{"kind": "Service", "name": ep.Name, "port": map[string]any{"number": int64(port)}}
	}
	return childObject(iw, inferencePoolGVK, spec)
}

// childObject is an unstructured child of iw with its name, labels and owner.
func childObject(iw *inferencev1alpha1.InferenceWorker, gvk schema.GroupVersionKind, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(gvk)
	u.SetName(workerName(iw))
	u.SetNamespace(iw.Namespace)
	u.SetLabels(childLabels(iw))
	u.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: inferencev1alpha1.GroupVersion.String(), Kind: "InferenceWorker",
		Name: iw.Name, UID: iw.UID, Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(true)}})
	return u
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func ptrTo[T any](v T) *T { return &v }

// integrationResult is what became of one optional child in a reconcile.
type integrationResult struct {
	integration
	wanted, served bool
	created        bool
	name           string // the child's name once it exists
}

// applyIntegrations applies each optional child the spec asks for and the cluster serves,
// and deletes one the spec no longer asks for (status remembers its name).
func (r *InferenceWorkerReconciler) applyIntegrations(ctx context.Context, iw *inferencev1alpha1.InferenceWorker) ([]integrationResult, error) {
	var out []integrationResult
	for _, in := range integrations {
		res := integrationResult{integration: in, wanted: in.wanted(iw)}
		had := *in.statusName(&iw.Status)
		if !res.wanted && had == "" {
			out = append(out, res)
			continue
		}
		served, err := r.Kinds.served(in.gvk, in.resource)
		if err != nil {
			return nil, fmt.Errorf("discover %s: %w", in.gvk.GroupVersion(), err)
		}
		res.served = served
		switch {
		case !served:
		case !res.wanted:
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(in.gvk)
			u.SetNamespace(iw.Namespace)
			u.SetName(had)
			if err := r.Delete(ctx, u); err != nil && !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("delete %s %s: %w", in.gvk.Kind, had, err)
			}
		default:
			created, err := r.applyUnstructured(ctx, in.desired(iw))
			if err != nil {
				return nil, fmt.Errorf("apply %s %s: %w", in.gvk.Kind, workerName(iw), err)
			}
			res.created, res.name = created, workerName(iw)
		}
		out = append(out, res)
	}
	return out, nil
}

// applyUnstructured server-side applies desired unless the existing object already holds
// its spec, labels and owner (read straight from the API server: the operator watches no
// kind it may not find installed). created says the object did not exist.
func (r *InferenceWorkerReconciler) applyUnstructured(ctx context.Context, desired *unstructured.Unstructured) (created bool, err error) {
	existing := &unstructured.Unstructured{}
	existing.SetGroupVersionKind(desired.GroupVersionKind())
	err = r.APIReader.Get(ctx, client.ObjectKeyFromObject(desired), existing)
	switch {
	case apierrors.IsNotFound(err):
		created = true
	case err != nil:
		return false, err
	case equality.Semantic.DeepDerivative(desired.Object["spec"], existing.Object["spec"]) &&
		equality.Semantic.DeepDerivative(desired.GetLabels(), existing.GetLabels()) &&
		equality.Semantic.DeepEqual(desired.GetOwnerReferences(), existing.GetOwnerReferences()):
		return false, nil
	}
	return created, r.Apply(ctx, client.ApplyConfigurationFromUnstructured(desired), client.FieldOwner(FieldOwner), client.ForceOwnership)
}

// integrationConditions are the conditions of the optional children the spec asks for.
func integrationConditions(results []integrationResult) []metav1.Condition {
	var cs []metav1.Condition
	for _, res := range results {
		if !res.wanted {
			continue
		}
		if !res.served {
			cs = append(cs, newCondition(res.condition, metav1.ConditionFalse, inferencev1alpha1.ReasonCRDNotInstalled,
				fmt.Sprintf("The cluster does not serve %s: install the CRD %s, and the operator creates it within %s",
					res.gvk.GroupVersion().WithResource(res.resource).GroupResource().String()+" "+res.gvk.Version, res.crd, kindsTTL)))
			continue
		}
		cs = append(cs, newCondition(res.condition, metav1.ConditionTrue, inferencev1alpha1.ReasonApplied,
			fmt.Sprintf("%s %s selects the workers", res.gvk.Kind, res.name)))
	}
	return cs
}

// kindsTTL is how long a discovery answer is kept: a CRD installed later is found within it.
const kindsTTL = time.Minute

// ServedKinds answers "does the cluster serve this kind?" from discovery, one question per
// group version per kindsTTL however many InferenceWorkers ask.
type ServedKinds struct {
	disco discovery.DiscoveryInterface
	mu    sync.Mutex
	seen  map[schema.GroupVersion]servedAnswer
	now   func() time.Time
}

type servedAnswer struct {
	resources map[string]bool
	at        time.Time
}

// NewServedKinds asks d.
func NewServedKinds(d discovery.DiscoveryInterface) *ServedKinds { return &ServedKinds{disco: d} }

func (s *ServedKinds) served(gvk schema.GroupVersionKind, resource string) (bool, error) {
	if s == nil || s.disco == nil {
		return false, nil
	}
	now := time.Now()
	if s.now != nil {
		now = s.now()
	}
	gv := gvk.GroupVersion()
	s.mu.Lock()
	a, ok := s.seen[gv]
	s.mu.Unlock()
	if ok && now.Sub(a.at) < kindsTTL {
		return a.resources[resource], nil
	}
	a = servedAnswer{resources: map[string]bool{}, at: now}
	list, err := s.disco.ServerResourcesForGroupVersion(gv.String())
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return false, err
	default:
		for _, res := range list.APIResources {
			a.resources[res.Name] = true
		}
	}
	s.mu.Lock()
	if s.seen == nil {
		s.seen = map[schema.GroupVersion]servedAnswer{}
	}
	s.seen[gv] = a
	s.mu.Unlock()
	return a.resources[resource], nil
}
