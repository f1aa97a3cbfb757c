package controllers

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// The operator's own metrics, next to controller-runtime's (controller_runtime_reconcile_total,
// controller_runtime_reconcile_time_seconds, workqueue_*) on the manager's metrics endpoint.
// They are read from the manager's cache when scraped, so they cost nothing between scrapes
// and cannot drift from the objects.

const operatorNamespace = "kubeinfer_operator"

// Metric names, for the dashboard's test.
var (
	descInferenceWorkers = prometheus.NewDesc(operatorNamespace+"_inferenceworkers",
		"InferenceWorkers by phase: the Ready condition's reason (Serving, ModelLoading, CrashLoopBackOff, ...).", []string{"phase"}, nil)
	descLoadSeconds = prometheus.NewDesc(operatorNamespace+"_model_load_seconds",
		"Seconds the last model load of an InferenceWorker's worker took, as the worker reported it.", []string{"namespace", "inferenceworker"}, nil)
	descWeightsBytes = prometheus.NewDesc(operatorNamespace+"_model_weights_bytes",
		"Bytes of model weights one worker of the InferenceWorker loads.", []string{"namespace", "inferenceworker"}, nil)
	descLoadProgress = prometheus.NewDesc(operatorNamespace+"_model_load_progress_ratio",
		"How far the slowest worker is with downloading or loading the model, 0 to 1; absent when none is.", []string{"namespace", "inferenceworker"}, nil)
	descInFlight = prometheus.NewDesc(operatorNamespace+"_inflight_requests",
		"Requests running and waiting on the ready workers of an autoscaled InferenceWorker, at the last load reading.", []string{"namespace", "inferenceworker"}, nil)
	descDesired = prometheus.NewDesc(operatorNamespace+"_desired_replicas",
		"Workers the InferenceWorker should run (spec.replicas, or the autoscaler's decision).", []string{"namespace", "inferenceworker"}, nil)
)

// loadReads counts the autoscaler's reads of a worker's /metrics by result (ok, error).
var loadReads = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: operatorNamespace, Name: "load_reads_total",
	Help: "Reads of a worker's load for spec.autoscaling, by result."}, []string{"result"})

// Metrics is the collector of the operator's metrics.
type Metrics struct {
	Reader client.Reader
	Load   *LoadProbe
}

// Register registers the operator's metrics with reg (controller-runtime's metrics.Registry
// in the manager) and has the load probe count its reads.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	if m.Load != nil {
		m.Load.reads = func(result string) { loadReads.WithLabelValues(result).Inc() }
	}
	if err := reg.Register(loadReads); err != nil {
		return err
	}
	return reg.Register(m)
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInferenceWorkers, descLoadSeconds, descWeightsBytes, descLoadProgress, descInFlight, descDesired} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var list inferencev1alpha1.InferenceWorkerList
	if err := m.Reader.List(ctx, &list); err != nil {
		ch <- prometheus.NewInvalidMetric(descInferenceWorkers, err)
		return
	}
	phases := map[string]int{}
	for i := range list.Items {
		iw := &list.Items[i]
		phase := "Unknown"
		if c := meta.FindStatusCondition(iw.Status.Conditions, inferencev1alpha1.ConditionReady); c != nil {
			phase = c.Reason
		}
		phases[phase]++
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, iw.Namespace, iw.Name)
		}
		gauge(descDesired, float64(desiredReplicas(iw)))
		if ms := iw.Status.Model.LoadMillis; ms > 0 {
			gauge(descLoadSeconds, float64(ms)/1000)
		}
		if b := iw.Status.Model.WeightsBytes; b > 0 {
			gauge(descWeightsBytes, float64(b))
		}
		if p, ok := parsePercent(iw.Status.Model.LoadProgress); ok {
			gauge(descLoadProgress, p)
		}
		if m.Load != nil && iw.Spec.Autoscaling != nil {
			if r, ok := m.Load.lastReading(iw.UID); ok {
				gauge(descInFlight, float64(r.inFlight))
			}
		}
	}
	for phase, n := range phases {
		ch <- prometheus.MustNewConstMetric(descInferenceWorkers, prometheus.GaugeValue, float64(n), phase)
	}
}

// parsePercent reads status.model.loadProgress ("50%") as a ratio.
func parsePercent(s string) (float64, bool) {
	var pct float64
	if s == "" {
		return 0, false
	}
	if _, err := fmt.Sscanf(s, "%g%%", &pct); err != nil {
		return 0, false
	}
	return pct / 100, true
}
