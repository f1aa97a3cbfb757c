package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubeinfer/kubeinfer/worker/scheduler"
)

// metrics are the worker's Prometheus series, on the server's own registry.
type metrics struct {
	reg              *prometheus.Registry
	requests         *prometheus.CounterVec
	promptTokens     prometheus.Counter
	generatedTokens  prometheus.Counter
	timeToFirstToken prometheus.Histogram
	interToken       prometheus.Histogram
	modelLoadSeconds prometheus.Gauge
	nonFinite        prometheus.Counter
}

func newMetrics(stats func() (scheduler.Stats, bool)) *metrics {
	const ns = "kubeinfer_worker"
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "requests_total",
			Help: "HTTP requests by endpoint and status code."}, []string{"endpoint", "code"}),
		promptTokens: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "prompt_tokens_total",
			Help: "Prompt tokens of admitted requests."}),
		generatedTokens: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "generated_tokens_total",
			Help: "Tokens generated."}),
		timeToFirstToken: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "time_to_first_token_seconds",
			Help:    "Time from request arrival to its first generated token.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}),
		interToken: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "inter_token_latency_seconds",
			Help:    "Time between consecutive generated tokens of a request.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		modelLoadSeconds: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "model_load_seconds",
			Help: "Seconds the model took to load, warm-up included."}),
		nonFinite: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "nonfinite_logits_total",
			Help: "Requests ended because the model produced non-finite logits (NaN or Inf)."}),
	}
	stat := func(f func(scheduler.Stats) int) func() float64 {
		return func() float64 {
			st, ok := stats()
			if !ok {
				return 0
			}
			return float64(f(st))
		}
	}
	m.reg.MustRegister(m.requests, m.promptTokens, m.generatedTokens, m.timeToFirstToken, m.interToken, m.modelLoadSeconds, m.nonFinite,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "queue_depth",
			Help: "Requests waiting for a slot."}, stat(func(s scheduler.Stats) int { return s.Queued })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "running_sequences",
			Help: "Requests admitted and not finished, preempted ones included."}, stat(func(s scheduler.Stats) int { return s.Running })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "preempted_sequences",
			Help: "Admitted requests waiting for KV space to resume."}, stat(func(s scheduler.Stats) int { return s.Preempted })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: "preemptions_total",
			Help: "Sequences preempted for KV space (their tokens recomputed on resume)."}, func() float64 {
			st, _ := stats()
			return float64(st.Preemptions)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "kv_cache_used_tokens",
			Help: "KV cache tokens in the blocks sequences hold."}, stat(func(s scheduler.Stats) int { return s.KVUsedTokens })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "kv_cache_capacity_tokens",
			Help: "KV cache tokens in all."}, stat(func(s scheduler.Stats) int { return s.KVCapacityTokens })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "kv_cache_usage_ratio",
			Help: "Used over capacity, 0 to 1."}, func() float64 {
			st, ok := stats()
			if !ok || st.KVCapacityTokens == 0 {
				return 0
			}
			return float64(st.KVUsedTokens) / float64(st.KVCapacityTokens)
		}),
	)
	return m
}
