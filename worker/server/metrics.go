package server

import (
	"maps"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubeinfer/kubeinfer/worker/scheduler"
)

// LabelModelName is the constant label of every kubeinfer_worker_* series: the served
// name, as vLLM labels its own, so that series of several models can be told apart.
const LabelModelName = "model_name"

// metrics are the worker's Prometheus series, on the server's own registry. The names
// follow vLLM's where vLLM has the same series (README: "Monitoring" maps them), with
// kubeinfer's prefix; the Gateway API Inference Extension's own names are in protocol.go.
type metrics struct {
	reg              *prometheus.Registry
	requests         *prometheus.CounterVec
	promptTokens     prometheus.Counter
	generatedTokens  prometheus.Counter
	timeToFirstToken prometheus.Histogram
	interToken       prometheus.Histogram
	modelLoadSeconds prometheus.Gauge
	nonFinite        prometheus.Counter
	// Per finished request, as vLLM's e2e_request_latency_seconds, request_queue_time_seconds,
	// request_prompt_tokens and request_generation_tokens.
	e2eLatency       prometheus.Histogram
	queueTime        prometheus.Histogram
	promptLength     prometheus.Histogram
	generationLength prometheus.Histogram
}

func newMetrics(servedName string, stats func() (scheduler.Stats, bool)) *metrics {
	const ns = "kubeinfer_worker"
	model := prometheus.Labels{LabelModelName: servedName}
	// Request lengths in tokens, 1 to 32768 by powers of two (vLLM uses 1-2-5 steps up to the context).
	tokenBuckets := prometheus.ExponentialBuckets(1, 2, 16)
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "requests_total", ConstLabels: model,
			Help: "HTTP requests by endpoint and status code."}, []string{"endpoint", "code"}),
		promptTokens: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "prompt_tokens_total", ConstLabels: model,
			Help: "Prompt tokens of admitted requests."}),
		generatedTokens: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "generated_tokens_total", ConstLabels: model,
			Help: "Tokens generated."}),
		timeToFirstToken: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "time_to_first_token_seconds", ConstLabels: model,
			Help:    "Time from request arrival to its first generated token.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}),
		interToken: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "inter_token_latency_seconds", ConstLabels: model,
			Help:    "Time between consecutive generated tokens of a request.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		modelLoadSeconds: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "model_load_seconds", ConstLabels: model,
			Help: "Seconds the model took to load, warm-up included."}),
		nonFinite: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "nonfinite_logits_total", ConstLabels: model,
			Help: "Requests ended because the model produced non-finite logits (NaN or Inf)."}),
		e2eLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "e2e_request_latency_seconds", ConstLabels: model,
			Help:    "Time from request arrival to its last token, of requests that finished.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16)}),
		queueTime: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "request_queue_time_seconds", ConstLabels: model,
			Help:    "Time a finished request waited in the queue for a slot and KV space.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 18)}),
		promptLength: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "request_prompt_tokens", ConstLabels: model,
			Help: "Prompt tokens of a finished request.", Buckets: tokenBuckets}),
		generationLength: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "request_generation_tokens", ConstLabels: model,
			Help: "Tokens generated for a finished request.", Buckets: tokenBuckets}),
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
	m.reg.MustRegister(m.requests, m.promptTokens, m.generatedTokens, m.timeToFirstToken, m.interToken, m.modelLoadSeconds,
		m.nonFinite, m.e2eLatency, m.queueTime, m.promptLength, m.generationLength)
	m.reg.MustRegister(protocolCollectors(servedName, stats)...)
	// The scheduling loop's time by phase: decode and prefill are the backend's calls, host the loop's own work
	// between them, while the device waits (per decode step: host / decode_steps_total).
	for _, p := range []struct {
		phase string
		of    func(scheduler.Stats) time.Duration
	}{
		{"decode", func(s scheduler.Stats) time.Duration { return s.DecodeTime }},
		{"prefill", func(s scheduler.Stats) time.Duration { return s.PrefillTime }},
		{"host", func(s scheduler.Stats) time.Duration { return s.HostTime }},
	} {
		labels := prometheus.Labels{"phase": p.phase}
		maps.Copy(labels, model)
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: "scheduler_seconds_total",
			ConstLabels: labels, Help: "Time the scheduling loop spent, while it had work, by phase: decode and prefill " +
				"(the backend's calls) and host (its own work between them)."}, func() float64 {
			st, _ := stats()
			return p.of(st).Seconds()
		}))
	}
	gauge := func(opts prometheus.GaugeOpts, f func() float64) prometheus.Collector {
		opts.Namespace, opts.ConstLabels = ns, model
		return prometheus.NewGaugeFunc(opts, f)
	}
	m.reg.MustRegister(
		gauge(prometheus.GaugeOpts{Name: "queue_depth",
			Help: "Requests waiting for a slot."}, stat(func(s scheduler.Stats) int { return s.Queued })),
		gauge(prometheus.GaugeOpts{Name: "running_sequences",
			Help: "Requests admitted and not finished, preempted ones included."}, stat(func(s scheduler.Stats) int { return s.Running })),
		gauge(prometheus.GaugeOpts{Name: "preempted_sequences",
			Help: "Admitted requests waiting for KV space to resume."}, stat(func(s scheduler.Stats) int { return s.Preempted })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: "preemptions_total", ConstLabels: model,
			Help: "Sequences preempted for KV space (their tokens recomputed on resume)."}, func() float64 {
			st, _ := stats()
			return float64(st.Preemptions)
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: "prefix_cache_queried_tokens_total", ConstLabels: model,
			Help: "Prompt tokens looked up in the KV cache's blocks of earlier sequences."}, func() float64 {
			st, _ := stats()
			return float64(st.PrefixQueriedTokens)
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: "prefix_cache_hit_tokens_total", ConstLabels: model,
			Help: "Prompt tokens found there, whose keys and values were not computed again (hit rate: hit / queried)."}, func() float64 {
			st, _ := stats()
			return float64(st.PrefixHitTokens)
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: "decode_steps_total", ConstLabels: model,
			Help: "Decode steps the scheduler ran (a step advances every decoding sequence by a token)."}, func() float64 {
			st, _ := stats()
			return float64(st.DecodeSteps)
		}),
		gauge(prometheus.GaugeOpts{Name: "kv_cache_used_tokens",
			Help: "KV cache tokens in the blocks sequences hold."}, stat(func(s scheduler.Stats) int { return s.KVUsedTokens })),
		gauge(prometheus.GaugeOpts{Name: "kv_cache_capacity_tokens",
			Help: "KV cache tokens in all."}, stat(func(s scheduler.Stats) int { return s.KVCapacityTokens })),
		gauge(prometheus.GaugeOpts{Name: "kv_cache_usage_ratio",
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

// requestDone records a finished request: its lengths, its time end to end and in the queue.
func (m *metrics) requestDone(promptTokens, generatedTokens int, took, queued time.Duration) {
	m.e2eLatency.Observe(took.Seconds())
	m.queueTime.Observe(queued.Seconds())
	m.promptLength.Observe(float64(promptTokens))
	m.generationLength.Observe(float64(generatedTokens))
}
