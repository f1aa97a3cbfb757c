package controllers

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// Autoscaling on load. The data path, built so that a thousand InferenceWorkers cost the
// operator little:
//
//   - Reconcile asks LoadProbe for the in-flight requests (running + waiting, the model
//     server protocol's two gauges) of the InferenceWorker's ready workers. LoadProbe reads
//     each worker's /metrics over HTTP at most once per Interval per InferenceWorker (an
//     older reading is reused), with at most MaxConcurrent reads in flight across all
//     InferenceWorkers and a short timeout each.
//   - A reconcile of an autoscaled InferenceWorker ends with RequeueAfter(Interval), which
//     is what paces the readings; nothing else polls.
//   - decideReplicas is a pure function of the spec, the current decision, the reading and
//     the recent recommendations: up at once, down only when every recommendation of the
//     last scaleDownDelaySeconds asked for fewer workers (the most of them wins), so a steady
//     load does not flap.
//   - The decision lives in status.autoscaling.desiredReplicas (written only when it
//     changes); spec.replicas is never written, so Git stays the source of the spec.

// LoadProbe reads the workers' in-flight requests, bounded in rate and concurrency.
type LoadProbe struct {
	// Interval is the least time between two readings of one InferenceWorker's workers.
	Interval time.Duration
	// Timeout bounds one worker's answer.
	Timeout time.Duration
	// MaxConcurrent is the most worker reads in flight at once, over all InferenceWorkers.
	MaxConcurrent int
	// Client makes the requests; nil uses a client with Timeout, which like client-go honours
	// HTTP_PROXY and NO_PROXY (devcluster's pod proxy reaches the local node's pods this way).
	Client *http.Client

	once    sync.Once
	slots   chan struct{}
	mu      sync.Mutex
	history map[types.UID]*loadHistory
	reads   func(result string) // counts reads by result, for the operator's metrics
}

// loadHistory is what the probe and the autoscaler remember of one InferenceWorker.
type loadHistory struct {
	reading     loadReading
	recommended []recommendation // newest last, within the longest scale-down delay
}

// loadReading is the load of one InferenceWorker's ready workers at one time.
type loadReading struct {
	at       time.Time
	inFlight int // running + waiting, summed over the workers that answered
	workers  int // ready workers that answered
	ready    int // ready workers asked
}

// recommendation is the number of workers one reading asked for.
type recommendation struct {
	at       time.Time
	replicas int32
}

func (p *LoadProbe) init() {
	p.once.Do(func() {
		if p.Interval <= 0 {
			p.Interval = 10 * time.Second
		}
		if p.Timeout <= 0 {
			p.Timeout = 2 * time.Second
		}
		if p.MaxConcurrent <= 0 {
			p.MaxConcurrent = 32
		}
		if p.Client == nil {
			p.Client = &http.Client{Timeout: p.Timeout}
		}
		p.slots = make(chan struct{}, p.MaxConcurrent)
		p.history = map[types.UID]*loadHistory{}
	})
}

// read returns the load of iw's ready pods: the last reading if it is younger than
// Interval, else a new one.
func (p *LoadProbe) read(ctx context.Context, iw *inferencev1alpha1.InferenceWorker, pods []corev1.Pod, now time.Time) loadReading {
	p.init()
	p.mu.Lock()
	h := p.history[iw.UID]
	if h == nil {
		h = &loadHistory{}
		p.history[iw.UID] = h
	}
	last := h.reading
	p.mu.Unlock()
	if !last.at.IsZero() && now.Sub(last.at) < p.Interval {
		return last
	}
	var ready []corev1.Pod
	for _, pod := range activePods(pods) {
		if isReady(pod) && pod.Status.PodIP != "" {
			ready = append(ready, pod)
		}
	}
	r := loadReading{at: now, ready: len(ready)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, pod := range ready {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case p.slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			n, err := p.readWorker(ctx, pod.Status.PodIP, servingPort(iw))
			<-p.slots
			p.count(err)
			if err != nil {
				return
			}
			mu.Lock()
			r.inFlight += n
			r.workers++
			mu.Unlock()
		}()
	}
	wg.Wait()
	p.mu.Lock()
	h.reading = r
	p.mu.Unlock()
	return r
}

func (p *LoadProbe) count(err error) {
	if p.reads == nil {
		return
	}
	if err != nil {
		p.reads("error")
	} else {
		p.reads("ok")
	}
}

// readWorker is one worker's running + waiting requests, from its /metrics.
func (p *LoadProbe) readWorker(ctx context.Context, ip string, port int32) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(ip, strconv.Itoa(int(port))) + "/metrics"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := p.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation) // the protocol's names have colons
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", url, err)
	}
	total := 0.0
	for _, name := range []string{inferencev1alpha1.MetricRequestsRunning, inferencev1alpha1.MetricRequestsWaiting} {
		f := families[name]
		if f == nil {
			return 0, fmt.Errorf("%s has no %s", url, name)
		}
		for _, m := range f.Metric {
			total += m.GetGauge().GetValue()
		}
	}
	return int(math.Round(total)), nil
}

// recommend records what a reading asks for and returns the recommendations of the
// window that ends now.
func (p *LoadProbe) recommend(uid types.UID, rec recommendation, window time.Duration) []recommendation {
	p.init()
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.history[uid]
	if h == nil {
		h = &loadHistory{}
		p.history[uid] = h
	}
	kept := h.recommended[:0]
	for _, r := range h.recommended {
		if rec.at.Sub(r.at) <= window {
			kept = append(kept, r)
		}
	}
	h.recommended = append(kept, rec)
	return append([]recommendation(nil), h.recommended...)
}

// forget drops what the probe remembers of an InferenceWorker that no longer autoscales.
func (p *LoadProbe) forget(uid types.UID) {
	p.init()
	p.mu.Lock()
	delete(p.history, uid)
	p.mu.Unlock()
}

// lastReading is the newest reading of uid, for the operator's metrics.
func (p *LoadProbe) lastReading(uid types.UID) (loadReading, bool) {
	p.init()
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.history[uid]
	if h == nil || h.reading.at.IsZero() {
		return loadReading{}, false
	}
	return h.reading, true
}

// isReady: the pod's worker container is ready, so it has the model loaded and serves.
func isReady(p corev1.Pod) bool {
	_, ready := countLoading([]corev1.Pod{p})
	return ready > 0
}

func clampReplicas(n int32, a *inferencev1alpha1.AutoscalingSpec) int32 {
	return max(a.MinReplicas, min(n, a.MaxReplicas))
}

// autoscaledReplicas is the number of workers while spec.autoscaling is set: the
// autoscaler's last decision, or spec.replicas before the first, within the bounds.
func autoscaledReplicas(iw *inferencev1alpha1.InferenceWorker) int32 {
	a := iw.Spec.Autoscaling
	if st := iw.Status.Autoscaling; st != nil {
		return clampReplicas(st.DesiredReplicas, a)
	}
	n := int32(1)
	if iw.Spec.Replicas != nil {
		n = *iw.Spec.Replicas
	}
	return clampReplicas(n, a)
}

// scaleDecision is the autoscaler's answer for one reconcile.
type scaleDecision struct {
	replicas int32
	// event is ScaledUp or ScaledDown with the load that asked, when replicas changed.
	event *event
}

// recommendedReplicas is what one reading asks for: ceil(in flight / target), within the bounds.
func recommendedReplicas(a *inferencev1alpha1.AutoscalingSpec, r loadReading) int32 {
	target := int(a.TargetInFlightPerReplica)
	return clampReplicas(int32((r.inFlight+target-1)/target), a)
}

// decideReplicas is the number of workers for a reading: ceil(in flight / target) within
// the bounds, raised at once, lowered to the most that any recommendation of the
// scale-down window asked for. window holds this reading's recommendation too.
func decideReplicas(a *inferencev1alpha1.AutoscalingSpec, current int32, r loadReading, window []recommendation) scaleDecision {
	want := recommendedReplicas(a, r)
	why := fmt.Sprintf("%d requests in flight on %d ready workers, target %d per worker", r.inFlight, r.workers, a.TargetInFlightPerReplica)
	switch {
	case want > current:
		return scaleDecision{replicas: want, event: &event{corev1.EventTypeNormal, inferencev1alpha1.ReasonScaledUp, "Scale",
			fmt.Sprintf("Scaled up from %d to %d workers: %s", current, want, why)}}
	case want < current:
		highest := want
		for _, rec := range window {
			highest = max(highest, rec.replicas)
		}
		if highest >= current {
			return scaleDecision{replicas: current}
		}
		return scaleDecision{replicas: highest, event: &event{corev1.EventTypeNormal, inferencev1alpha1.ReasonScaledDown, "Scale",
			fmt.Sprintf("Scaled down from %d to %d workers: %s, for %ds (spec.autoscaling.scaleDownDelaySeconds)",
				current, highest, why, a.ScaleDownDelaySeconds)}}
	}
	return scaleDecision{replicas: current}
}

// autoscaleOutcome is what one reconcile's autoscaling decided and tells.
type autoscaleOutcome struct {
	status    *inferencev1alpha1.AutoscalingStatus
	condition *metav1.Condition
	events    []event
	// requeueAfter paces the next reading.
	requeueAfter time.Duration
}

// autoscale reads the load of iw's workers and decides their number. It returns a zero
// outcome when spec.autoscaling is not set.
func (r *InferenceWorkerReconciler) autoscale(ctx context.Context, iw *inferencev1alpha1.InferenceWorker, pods []corev1.Pod) (autoscaleOutcome, error) {
	a := iw.Spec.Autoscaling
	if a == nil || r.Load == nil {
		if r.Load != nil {
			r.Load.forget(iw.UID)
		}
		return autoscaleOutcome{}, nil
	}
	now := time.Now()
	current := autoscaledReplicas(iw)
	st := &inferencev1alpha1.AutoscalingStatus{DesiredReplicas: current}
	if old := iw.Status.Autoscaling; old != nil {
		st.LastScaleTime = old.LastScaleTime
	}
	out := autoscaleOutcome{status: st, requeueAfter: r.Load.Interval}
	hpa, err := r.externalAutoscaler(ctx, iw)
	if err != nil {
		return out, err
	}
	if iw.Spec.Suspend {
		c := newCondition(inferencev1alpha1.ConditionAutoscalingActive, metav1.ConditionFalse, inferencev1alpha1.ReasonSuspended,
			"spec.suspend is true: no workers run, so there is no load to read")
		out.condition, out.requeueAfter = &c, 0
		return out, nil
	}
	reading := r.Load.read(ctx, iw, pods, now)
	if reading.workers == 0 {
		msg := fmt.Sprintf("No ready worker answered the load probe (%d ready): holding %d workers", reading.ready, current)
		c := newCondition(inferencev1alpha1.ConditionAutoscalingActive, metav1.ConditionFalse, inferencev1alpha1.ReasonNoLoadReading, msg)
		out.condition = &c
		return out, nil
	}
	window := r.Load.recommend(iw.UID, recommendation{at: now, replicas: recommendedReplicas(a, reading)},
		time.Duration(a.ScaleDownDelaySeconds)*time.Second)
	d := decideReplicas(a, current, reading, window)
	if d.replicas != current {
		st.DesiredReplicas = d.replicas
		t := metav1.NewTime(now)
		st.LastScaleTime = &t
		out.events = append(out.events, *d.event)
	}
	c := newCondition(inferencev1alpha1.ConditionAutoscalingActive, metav1.ConditionTrue, inferencev1alpha1.ReasonScalingOnLoad,
		fmt.Sprintf("Scaling between %d and %d workers at %d requests in flight each; %d now", a.MinReplicas, a.MaxReplicas,
			a.TargetInFlightPerReplica, st.DesiredReplicas))
	if hpa != "" {
		c = newCondition(inferencev1alpha1.ConditionAutoscalingActive, metav1.ConditionTrue, inferencev1alpha1.ReasonExternalAutoscaler,
			fmt.Sprintf("HorizontalPodAutoscaler %s also targets this InferenceWorker: the API server refuses its changes of spec.replicas "+
				"while spec.autoscaling is set, and spec.autoscaling keeps scaling; delete the HorizontalPodAutoscaler (or its KEDA ScaledObject), "+
				"or remove spec.autoscaling to let it scale", hpa))
	}
	out.condition = &c
	return out, nil
}

// externalAutoscaler names a HorizontalPodAutoscaler in iw's namespace whose target is
// iw (KEDA's ScaledObjects make one), or "".
func (r *InferenceWorkerReconciler) externalAutoscaler(ctx context.Context, iw *inferencev1alpha1.InferenceWorker) (string, error) {
	var list autoscalingv2.HorizontalPodAutoscalerList
	if err := r.List(ctx, &list, client.InNamespace(iw.Namespace)); err != nil {
		return "", fmt.Errorf("list HorizontalPodAutoscalers: %w", err)
	}
	for _, h := range list.Items {
		if targetsInferenceWorker(&h, iw.Name) {
			return h.Name, nil
		}
	}
	return "", nil
}

func targetsInferenceWorker(h *autoscalingv2.HorizontalPodAutoscaler, name string) bool {
	ref := h.Spec.ScaleTargetRef
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == inferencev1alpha1.GroupVersion.Group && ref.Kind == "InferenceWorker" && ref.Name == name
}
