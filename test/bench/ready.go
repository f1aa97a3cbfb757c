package main

import (
	"context"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// readyTracker records when each object first turned ready, from a watch.
type readyTracker struct {
	mu    sync.Mutex
	want  int
	ready map[string]time.Time
	seen  map[string]bool
	done  chan struct{}
	// transitions counts how often an object went from ready back to not ready (churn).
	flaps int
}

func newReadyTracker(want int) *readyTracker {
	return &readyTracker{want: want, ready: map[string]time.Time{}, seen: map[string]bool{}, done: make(chan struct{})}
}

func (t *readyTracker) observe(name string, ready bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seen[name] = true
	_, was := t.ready[name]
	switch {
	case ready && !was:
		t.ready[name] = time.Now()
		if len(t.ready) == t.want {
			close(t.done)
		}
	case !ready && was && len(t.ready) < t.want:
		delete(t.ready, name)
		t.flaps++
	}
}

func (t *readyTracker) counts() (seen, ready int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.seen), len(t.ready)
}

// percentile returns when the given fraction of objects was ready.
func (t *readyTracker) percentile(start time.Time, p float64) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ds []time.Duration
	for _, at := range t.ready {
		ds = append(ds, at.Sub(start))
	}
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(p*float64(len(ds))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(ds) {
		i = len(ds) - 1
	}
	return ds[i]
}

// trackInferenceWorkers watches InferenceWorkers in ns for condition Ready=True.
func trackInferenceWorkers(ctx context.Context, dc dynamic.Interface, ns string, t *readyTracker) {
	f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dc, 0, ns, nil)
	inf := f.ForResource(iwResource).Informer()
	h := func(obj any) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return
		}
		t.observe(u.GetName(), conditionTrue(u, "Ready"))
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    h,
		UpdateFunc: func(_, obj any) { h(obj) },
	})
	f.Start(ctx.Done())
}

func conditionTrue(u *unstructured.Unstructured, condType string) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == condType {
			return m["status"] == string(metav1.ConditionTrue)
		}
	}
	return false
}

// trackDeployments watches Deployments in ns until each has its replica ready and up to date.
func trackDeployments(ctx context.Context, cs kubernetes.Interface, ns string, t *readyTracker) {
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	inf := f.Apps().V1().Deployments().Informer()
	h := func(obj any) {
		d, ok := obj.(*appsv1.Deployment)
		if !ok {
			return
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		ready := d.Status.ObservedGeneration >= d.Generation && d.Status.ReadyReplicas >= want &&
			d.Status.UpdatedReplicas >= want && d.Status.Replicas == want
		t.observe(d.Name, ready)
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    h,
		UpdateFunc: func(_, obj any) { h(obj) },
	})
	f.Start(ctx.Done())
}
