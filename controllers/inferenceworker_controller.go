// Package controllers holds the InferenceWorker reconciler.
package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/modelsize"
)

// requeueAfterConflict is when a status write that lost to a newer version is retried.
const requeueAfterConflict = time.Second

// FieldOwner is the server-side apply field manager of everything the operator writes.
// One owner for all children keeps the operator and GitOps tools (which own the
// InferenceWorker's spec) from fighting over fields.
const FieldOwner = "kubeinfer-operator"

// InferenceWorkerReconciler turns an InferenceWorker into the Deployment, Service and RBAC
// that run its workers, and reports what it sees back in status, conditions and Events.
type InferenceWorkerReconciler struct {
	client.Client
	// APIReader reads objects the manager does not cache (PersistentVolumeClaims).
	APIReader client.Reader
	Recorder  events.EventRecorder
	// WorkerImage is the worker image used when spec.image is empty.
	WorkerImage string
	// Sizer reads URL models' headers to learn their GPU memory need; nil skips that
	// (image and PVC models are sized by what their workers report).
	Sizer *modelsize.Sizer
	// Load reads the workers' load for spec.autoscaling; nil leaves the number of workers
	// at spec.replicas (within the autoscaling bounds).
	Load *LoadProbe
	// Kinds says whether the cluster serves the PodMonitor and InferencePool kinds; nil
	// answers no.
	Kinds *ServedKinds
	// NodeCacheDir is the node directory a Node model cache uses; empty: DefaultNodeCacheDir.
	NodeCacheDir string
}

// +kubebuilder:rbac:groups=inference.kubeinfer.dev,resources=inferenceworkers,verbs=get;list;watch
// +kubebuilder:rbac:groups=inference.kubeinfer.dev,resources=inferenceworkers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=inference.kubeinfer.dev,resources=inferenceworkers/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=services;serviceaccounts,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// The operator writes its Events through the core API (internal/coreevents), and grants the
// workers the same, which RBAC allows only to one that holds it.
// +kubebuilder:rbac:groups="",resources=events,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch

// Reconcile reads like a table of contents: get, apply the children, compute status, write
// status once, then tell people what happened.
func (r *InferenceWorkerReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	iw := &inferencev1alpha1.InferenceWorker{}
	if err := r.Get(ctx, req.NamespacedName, iw); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !iw.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // owner references let the garbage collector remove the children
	}
	log := ctrl.LoggerFrom(ctx).WithValues("inferenceworker", klog.KObj(iw))
	ctx = ctrl.LoggerInto(ctx, log)

	fit, err := r.observeModelFit(ctx, iw)
	if err != nil {
		return ctrl.Result{}, err
	}
	obs := observed{fit: fit}
	if obs.pods, err = r.listWorkerPods(ctx, iw); err != nil {
		return ctrl.Result{}, err
	}
	if obs.autoscale, err = r.autoscale(ctx, iw, obs.pods); err != nil {
		return ctrl.Result{}, err
	}
	// The status as read, for the comparison and the transitions; the children are built
	// from this reconcile's autoscaling decision.
	old := iw.Status.DeepCopy()
	iw.Status.Autoscaling = obs.autoscale.status
	evs, deploy, err := r.applyChildren(ctx, iw, childOptions{
		WorkerImage: r.WorkerImage, RequiredGPUMemoryMiB: fit.affinityMiB(), ReportedGPUMemory: !fit.fromHeader,
		ScaledToZero: fit.scaledToZero(), NodeCacheDir: r.NodeCacheDir,
	})
	if err != nil {
		if apierrors.IsInvalid(err) {
			// A spec the CRD admits but a child's validation refuses (say, a volumeMount of
			// spec.pod naming no volume): tell the people who look at the InferenceWorker.
			r.Recorder.Eventf(iw, nil, corev1.EventTypeWarning, inferencev1alpha1.ReasonWorkersRefused, "Apply",
				"the API server refuses the workers: %s: change spec.pod", err.Error())
		}
		return ctrl.Result{}, err
	}
	obs.deployment = deploy
	if obs.integrations, err = r.applyIntegrations(ctx, iw); err != nil {
		return ctrl.Result{}, err
	}
	evs = append(evs, integrationEvents(iw, obs.integrations)...)
	evs = append(evs, obs.autoscale.events...)
	if obs.sourceProblem, err = r.checkModelSource(ctx, iw); err != nil {
		return ctrl.Result{}, err
	}
	if obs.lastLoad, obs.loading, obs.downloading, obs.failing, err = r.modelLoads(ctx, iw, obs.pods); err != nil {
		return ctrl.Result{}, err
	}

	status := computeStatus(iw, obs)
	evs = append(evs, transitionEvents(old, &status)...)
	result := ctrl.Result{RequeueAfter: obs.autoscale.requeueAfter} // the next load reading
	if !equality.Semantic.DeepEqual(*old, status) {
		iw.Status = status
		if err := r.Status().Update(ctx, iw); err != nil {
			if apierrors.IsConflict(err) {
				// A newer InferenceWorker exists; its watch event reconciles it again, this is the fallback.
				return ctrl.Result{RequeueAfter: requeueAfterConflict}, nil
			}
			return ctrl.Result{}, fmt.Errorf("update status: %w", err)
		}
		log.V(2).Info("updated status", "ready", status.ReadyText)
	}
	for _, e := range evs {
		r.Recorder.Eventf(iw, nil, e.eventType, e.reason, e.action, "%s", e.note)
	}
	return result, nil
}

// applyChildren applies every child and returns the Events that describe what changed,
// plus the Deployment as it now exists.
func (r *InferenceWorkerReconciler) applyChildren(ctx context.Context, iw *inferencev1alpha1.InferenceWorker, opts childOptions) ([]event, *appsv1.Deployment, error) {
	var created []string
	steps := []struct {
		kind     string
		existing client.Object
		desired  runtime.ApplyConfiguration
		name     string
		extract  func(client.Object) (any, error)
	}{
		{"ServiceAccount", &corev1.ServiceAccount{}, desiredServiceAccount(iw), workerServiceAccountName(iw),
			func(o client.Object) (any, error) {
				return corev1ac.ExtractServiceAccount(o.(*corev1.ServiceAccount), FieldOwner)
			}},
		{"Role", &rbacv1.Role{}, desiredRole(iw), workerServiceAccountName(iw),
			func(o client.Object) (any, error) { return rbacv1ac.ExtractRole(o.(*rbacv1.Role), FieldOwner) }},
		{"RoleBinding", &rbacv1.RoleBinding{}, desiredRoleBinding(iw), workerServiceAccountName(iw),
			func(o client.Object) (any, error) {
				return rbacv1ac.ExtractRoleBinding(o.(*rbacv1.RoleBinding), FieldOwner)
			}},
		{"Service", &corev1.Service{}, desiredService(iw), workerName(iw),
			func(o client.Object) (any, error) { return corev1ac.ExtractService(o.(*corev1.Service), FieldOwner) }},
	}
	for _, s := range steps {
		key := client.ObjectKey{Namespace: iw.Namespace, Name: s.name}
		existed, err := r.getIfExists(ctx, key, s.existing)
		if err != nil {
			return nil, nil, fmt.Errorf("get %s %s: %w", s.kind, s.name, err)
		}
		changed, err := r.applyIfChanged(ctx, key, existed, s.existing, s.desired, s.extract)
		if err != nil {
			return nil, nil, fmt.Errorf("apply %s %s: %w", s.kind, s.name, err)
		}
		if changed && !existed {
			created = append(created, s.kind)
		}
	}

	// The Deployment is read once: for the placement rule, the comparison and the status.
	deploy := &appsv1.Deployment{}
	key := client.ObjectKey{Namespace: iw.Namespace, Name: workerName(iw)}
	existed, err := r.getIfExists(ctx, key, deploy)
	if err != nil {
		return nil, nil, fmt.Errorf("get Deployment %s: %w", key.Name, err)
	}
	var current *appsv1.Deployment
	if existed {
		current = deploy
	}
	opts, err = keepRunningPodsPlaced(current, iw, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("placement of Deployment %s: %w", key.Name, err)
	}
	desired := desiredDeployment(iw, opts)
	var before *appsv1ac.DeploymentApplyConfiguration
	changed, err := r.applyIfChanged(ctx, key, existed, deploy, desired, func(o client.Object) (any, error) {
		var err error
		before, err = appsv1ac.ExtractDeployment(o.(*appsv1.Deployment), FieldOwner)
		return before, err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("apply Deployment %s: %w", key.Name, err)
	}

	var evs []event
	switch {
	case changed && !existed:
		created = append(created, "Deployment")
	case changed:
		// Apply filled desired with the server's answer: the new generation, which the Deployment
		// controller has not observed yet, so the status shows the rollout starting at once.
		if desired.Generation != nil {
			deploy.Generation = *desired.Generation
		}
		// Apply fills desired with the server's response, so compare a fresh copy.
		for _, e := range deploymentChangeEvents(before, desiredDeployment(iw, opts)) {
			if e.reason == inferencev1alpha1.ReasonScaled && iw.Spec.Autoscaling != nil {
				continue // the autoscaler's ScaledUp or ScaledDown says it, with the load that asked
			}
			evs = append(evs, e)
		}
	}
	if len(created) > 0 {
		evs = append([]event{{corev1.EventTypeNormal, inferencev1alpha1.ReasonCreated, "Create",
			fmt.Sprintf("Created %s for %s model %s", strings.Join(created, ", "), archTitle(iw), servedName(iw))}}, evs...)
	}
	// A Deployment created just now has no status yet: as good as none.
	return evs, current, nil
}

// keepRunningPodsPlaced drops a GPU memory affinity that comes from the workers' own report
// (a PVC or image model, sized only once loaded) when it would be the pod template's only
// change: the pods already run where the model fits, and adding it would restart every
// worker to load the model a second time. The affinity joins the template with the next
// change that rolls the pods anyway, and a new Deployment gets it from the start.
// existing is the Deployment as it is, nil when there is none.
func keepRunningPodsPlaced(existing *appsv1.Deployment, iw *inferencev1alpha1.InferenceWorker, opts childOptions) (childOptions, error) {
	if !opts.ReportedGPUMemory || opts.RequiredGPUMemoryMiB == 0 || existing == nil {
		return opts, nil
	}
	owned, err := appsv1ac.ExtractDeployment(existing, FieldOwner)
	if err != nil || owned.Spec == nil {
		return opts, err
	}
	keep := opts
	keep.RequiredGPUMemoryMiB = memoryAffinityMiB(existing.Spec.Template.Spec.Affinity)
	if equality.Semantic.DeepEqual(owned.Spec.Template, desiredDeployment(iw, keep).Spec.Template) {
		return keep, nil
	}
	return opts, nil
}

// getIfExists reads key into obj (from the manager's cache) and says whether it exists.
func (r *InferenceWorkerReconciler) getIfExists(ctx context.Context, key client.ObjectKey, obj client.Object) (bool, error) {
	switch err := r.Get(ctx, key, obj); {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// applyIfChanged server-side applies desired unless the fields this operator owns in the
// existing object (read by the caller; existed says whether there was one) already hold
// exactly those values, so an unchanged world sees no writes.
func (r *InferenceWorkerReconciler) applyIfChanged(ctx context.Context, key client.ObjectKey, existed bool, existing client.Object,
	desired runtime.ApplyConfiguration, extract func(client.Object) (any, error)) (changed bool, err error) {
	if existed {
		owned, err := extract(existing)
		if err != nil {
			return false, fmt.Errorf("extract owned fields: %w", err)
		}
		if equality.Semantic.DeepEqual(owned, desired) {
			return false, nil
		}
	}
	ctrl.LoggerFrom(ctx).V(2).Info("applying", "kind", fmt.Sprintf("%T", existing), "name", key.Name, "existed", existed)
	if err := r.Apply(ctx, desired, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return false, err
	}
	return true, nil
}

// deploymentChangeEvents tells a scale apart from a change of the pods' template.
func deploymentChangeEvents(before, after *appsv1ac.DeploymentApplyConfiguration) []event {
	var evs []event
	var oldReplicas, newReplicas int32
	if before != nil && before.Spec != nil && before.Spec.Replicas != nil {
		oldReplicas = *before.Spec.Replicas
	}
	if after.Spec != nil && after.Spec.Replicas != nil {
		newReplicas = *after.Spec.Replicas
	}
	if oldReplicas != newReplicas {
		evs = append(evs, event{corev1.EventTypeNormal, inferencev1alpha1.ReasonScaled, "Scale",
			fmt.Sprintf("Scaled workers from %d to %d", oldReplicas, newReplicas)})
	}
	var oldTemplate, newTemplate any
	if before != nil && before.Spec != nil {
		oldTemplate = before.Spec.Template
	}
	if after.Spec != nil {
		newTemplate = after.Spec.Template
	}
	if !equality.Semantic.DeepEqual(oldTemplate, newTemplate) {
		evs = append(evs, event{corev1.EventTypeNormal, inferencev1alpha1.ReasonUpdated, "Update",
			"Updated the worker pod template: workers roll to the new spec"})
	}
	return evs
}

func (r *InferenceWorkerReconciler) listWorkerPods(ctx context.Context, iw *inferencev1alpha1.InferenceWorker) ([]corev1.Pod, error) {
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(iw.Namespace), client.MatchingLabels(selectorLabels(iw))); err != nil {
		return nil, fmt.Errorf("list worker pods: %w", err)
	}
	return pods.Items, nil
}

// checkModelSource reports a model source that cannot work, in words that say what to fix.
func (r *InferenceWorkerReconciler) checkModelSource(ctx context.Context, iw *inferencev1alpha1.InferenceWorker) (string, error) {
	src := iw.Spec.Model.Source
	switch {
	case src.PVC != nil:
		return r.checkClaim(ctx, iw, src.PVC.ClaimName, "spec.model.source.pvc.claimName")
	case src.URL != nil && src.URL.Cache != nil && src.URL.Cache.Type == inferencev1alpha1.ModelCacheClaim:
		return r.checkClaim(ctx, iw, src.URL.Cache.ClaimName, "spec.model.source.url.cache.claimName")
	}
	return "", nil
}

// checkClaim says, naming the field to change, when the claim does not exist.
func (r *InferenceWorkerReconciler) checkClaim(ctx context.Context, iw *inferencev1alpha1.InferenceWorker, claim, field string) (string, error) {
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: iw.Namespace, Name: claim}, &corev1.PersistentVolumeClaim{})
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("PersistentVolumeClaim %q does not exist in namespace %s: create it or change %s",
			claim, iw.Namespace, field), nil
	case err != nil:
		return "", fmt.Errorf("get PersistentVolumeClaim %s: %w", claim, err)
	}
	return "", nil
}

// modelLoads reads the workers' narration Events of this InferenceWorker (the workers
// may only write Events, so that is how they report): the newest ModelLoaded, whose
// annotations carry the load's figures, the progress of each pod still loading, from its
// ModelLoading Event, and of each pod still downloading a URL model, from the
// ModelDownloading Event of its init container; and, for pods running but not ready, the
// InferenceFailed Event after which the worker reported itself unready. The Events come from the manager's cache,
// which holds only Events labelled with an InferenceWorker (worker/narration sets the label).
func (r *InferenceWorkerReconciler) modelLoads(ctx context.Context, iw *inferencev1alpha1.InferenceWorker, pods []corev1.Pod) (
	last *loadReport, loading, downloading []loadingReport, failing map[string]string, err error) {
	loadingPods := map[string]bool{}
	downloadingPods := map[string]bool{}
	ready := 0
	for _, p := range activePods(pods) {
		switch l, rd := countLoading([]corev1.Pod{p}); {
		case rd > 0:
			ready++
		case l > 0:
			loadingPods[p.Name] = true
		case countDownloading([]corev1.Pod{p}) > 0:
			downloadingPods[p.Name] = true
		}
	}
	if ready == 0 && len(loadingPods) == 0 && len(downloadingPods) == 0 {
		return nil, nil, nil, nil, nil
	}
	var list corev1.EventList
	if err := r.List(ctx, &list, client.InNamespace(iw.Namespace), client.MatchingLabels{inferencev1alpha1.LabelWorker: iw.Name}); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("list worker events: %w", err)
	}
	unready := map[string]*corev1.Event{}
	var newest *corev1.Event
	// The newest ModelLoading Event per loading pod, and ModelDownloading per downloading pod.
	loadProgress, downloadProgress := map[string]*corev1.Event{}, map[string]*corev1.Event{}
	keepNewest := func(m map[string]*corev1.Event, pods map[string]bool, e *corev1.Event) {
		if e.Related == nil || !pods[e.Related.Name] {
			return
		}
		if old := m[e.Related.Name]; old == nil || eventTime(e).After(eventTime(old)) {
			m[e.Related.Name] = e
		}
	}
	for i := range list.Items {
		e := &list.Items[i]
		if e.ReportingController != inferencev1alpha1.EventReportingController || e.InvolvedObject.UID != iw.UID {
			continue
		}
		switch e.Reason {
		case inferencev1alpha1.ReasonModelLoaded:
			if ready > 0 && (newest == nil || eventTime(e).After(eventTime(newest))) {
				newest = e
			}
		case inferencev1alpha1.ReasonModelLoading:
			keepNewest(loadProgress, loadingPods, e)
		case inferencev1alpha1.ReasonModelDownloading:
			keepNewest(downloadProgress, downloadingPods, e)
		case inferencev1alpha1.ReasonInferenceFailed:
			if e.Annotations[inferencev1alpha1.AnnotationUnready] == "true" {
				keepNewest(unready, loadingPods, e) // running, not ready
			}
		}
	}
	for pod, e := range unready {
		if failing == nil {
			failing = map[string]string{}
		}
		failing[pod] = e.Message
	}
	reports := func(m map[string]*corev1.Event) []loadingReport {
		var out []loadingReport
		for pod, e := range m {
			if p, ok := inferencev1alpha1.ParseLoadProgress(e.Annotations); ok {
				out = append(out, loadingReport{pod: pod, progress: p})
			}
		}
		return out
	}
	if newest != nil {
		last = parseLoadReport(newest.Annotations)
	}
	return last, reports(loadProgress), reports(downloadProgress), failing, nil
}

func eventTime(e *corev1.Event) time.Time {
	if !e.EventTime.IsZero() {
		return e.EventTime.Time
	}
	return e.LastTimestamp.Time
}

// archTitle is the architecture as people write it in sentences.
func archTitle(iw *inferencev1alpha1.InferenceWorker) string {
	if iw.Spec.Model.Architecture == inferencev1alpha1.ArchitectureGPT {
		return "GPT"
	}
	return "Llama"
}

// SetupWithManager watches InferenceWorkers, their children, and their pods (which carry
// the InferenceWorker's name in a label, since the ReplicaSet sits between them).
func (r *InferenceWorkerReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&inferencev1alpha1.InferenceWorker{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ServiceAccount{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToInferenceWorker)).
		// An external autoscaler targeting an autoscaled InferenceWorker is reported on it.
		Watches(&autoscalingv2.HorizontalPodAutoscaler{}, handler.EnqueueRequestsFromMapFunc(hpaToInferenceWorker)).
		// The workers' download and load Events: progress, loaded, failed. Their label names the
		// InferenceWorker, as on pods.
		Watches(&corev1.Event{}, handler.EnqueueRequestsFromMapFunc(podToInferenceWorker),
			builder.WithPredicates(predicate.NewPredicateFuncs(isLoadEvent))).
		// A GPU node that joins, leaves or is relabelled may fit a model that fit nowhere.
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(r.nodeToInferenceWorkers),
			builder.WithPredicates(nodeChanged())).
		Named("inferenceworker").
		Complete(r)
}

func isLoadEvent(o client.Object) bool {
	e, ok := o.(*corev1.Event)
	if !ok || e.ReportingController != inferencev1alpha1.EventReportingController {
		return false
	}
	switch e.Reason {
	case inferencev1alpha1.ReasonModelDownloading, inferencev1alpha1.ReasonModelLoading, inferencev1alpha1.ReasonModelLoaded,
		inferencev1alpha1.ReasonModelLoadFailed, inferencev1alpha1.ReasonInferenceFailed:
		return true
	}
	return false
}

// nodeChanged passes node creations, deletions and label changes, not the status
// heartbeats that update every node every few seconds.
func nodeChanged() predicate.Predicate {
	return predicate.Or(predicate.LabelChangedPredicate{}, predicate.Funcs{
		CreateFunc:  func(crevent.CreateEvent) bool { return true },
		DeleteFunc:  func(crevent.DeleteEvent) bool { return true },
		UpdateFunc:  func(crevent.UpdateEvent) bool { return false },
		GenericFunc: func(crevent.GenericEvent) bool { return false },
	})
}

// nodeToInferenceWorkers enqueues the InferenceWorkers whose scheduling depends on the
// GPU nodes: those in ModelTooLarge, and those whose pods carry a GPU memory affinity.
func (r *InferenceWorkerReconciler) nodeToInferenceWorkers(ctx context.Context, _ client.Object) []reconcile.Request {
	var list inferencev1alpha1.InferenceWorkerList
	if err := r.List(ctx, &list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "list InferenceWorkers for a node change")
		return nil
	}
	var reqs []reconcile.Request
	for _, iw := range list.Items {
		ready := meta.FindStatusCondition(iw.Status.Conditions, inferencev1alpha1.ConditionReady)
		if (ready != nil && ready.Reason == inferencev1alpha1.ReasonModelTooLarge) || iw.Status.Model.RequiredMiB > 0 {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&iw)})
		}
	}
	return reqs
}

func podToInferenceWorker(_ context.Context, o client.Object) []reconcile.Request {
	name, ok := o.GetLabels()[inferencev1alpha1.LabelWorker]
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
}

func hpaToInferenceWorker(_ context.Context, o client.Object) []reconcile.Request {
	h, ok := o.(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok || !targetsInferenceWorker(h, h.Spec.ScaleTargetRef.Name) {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: h.Namespace, Name: h.Spec.ScaleTargetRef.Name}}}
}

// integrationEvents tells of the optional children created in this reconcile.
func integrationEvents(iw *inferencev1alpha1.InferenceWorker, results []integrationResult) []event {
	var evs []event
	for _, res := range results {
		if res.created {
			evs = append(evs, event{corev1.EventTypeNormal, inferencev1alpha1.ReasonCreated, "Create",
				fmt.Sprintf("Created %s %s for the workers of model %s", res.gvk.Kind, res.name, servedName(iw))})
		}
	}
	return evs
}
