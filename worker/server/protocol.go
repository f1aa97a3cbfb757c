package server

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/scheduler"
)

// The model server protocol of the Gateway API Inference Extension
// (sigs.k8s.io/gateway-api-inference-extension, docs/proposals/003-model-server-protocol):
// the series an endpoint picker scrapes to route a request to the least loaded worker.
// The protocol fixes their types and meaning; the names are vLLM's, because a picker reads
// vLLM's names from a pod with no `inference.networking.k8s.io/engine-type` label (the
// default engine of the llm-d router's core metrics extractor, which the extension's
// endpoint picker became). LoRA adapters (vllm:lora_requests_info) are left out: the
// worker serves none.
const (
	// MetricQueuedRequests (TotalQueuedRequests, a gauge): requests waiting to run. The
	// scheduler's preempted sequences are waiting too, as vLLM puts them back in its queue.
	MetricQueuedRequests = v1alpha1.MetricRequestsWaiting
	// MetricRunningRequests (TotalRunningRequests, a gauge): requests in the running batch.
	MetricRunningRequests = v1alpha1.MetricRequestsRunning
	// MetricKVCacheUsage (KVCacheUtilization, a gauge): the KV pool's used share, 0 to 1
	// (vLLM's "perc" is a fraction too).
	MetricKVCacheUsage = "vllm:kv_cache_usage_perc"
	// MetricCacheConfig (optional, an info gauge): the KV block size in tokens and the
	// pool's blocks, in its labels, for the picker's prefix-cache scorer.
	MetricCacheConfig = "vllm:cache_config_info"
)

// protocolCollectors are the protocol's series over the scheduler's stats, labelled with
// the served name as vLLM labels them.
func protocolCollectors(servedName string, stats func() (scheduler.Stats, bool)) []prometheus.Collector {
	model := prometheus.Labels{LabelModelName: servedName}
	gauge := func(name, help string, f func(scheduler.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: model}, func() float64 {
			st, ok := stats()
			if !ok {
				return 0
			}
			return f(st)
		})
	}
	return []prometheus.Collector{
		gauge(MetricQueuedRequests, "Requests waiting to run: queued for a slot, or preempted for KV space (Gateway API Inference Extension model server protocol).",
			func(s scheduler.Stats) float64 { return float64(s.Queued + s.Preempted) }),
		gauge(MetricRunningRequests, "Requests in the running batch (Gateway API Inference Extension model server protocol).",
			func(s scheduler.Stats) float64 { return float64(s.Running - s.Preempted) }),
		gauge(MetricKVCacheUsage, "KV cache used, 0 to 1 (Gateway API Inference Extension model server protocol).",
			func(s scheduler.Stats) float64 {
				if s.KVCapacityTokens == 0 {
					return 0
				}
				return float64(s.KVUsedTokens) / float64(s.KVCapacityTokens)
			}),
		cacheConfig{desc: prometheus.NewDesc(MetricCacheConfig, "KV cache configuration: block size in tokens and number of blocks.",
			[]string{"block_size", "num_gpu_blocks"}, model), stats: stats},
	}
}

// cacheConfig is the info gauge of the KV pool's shape, known once the model is loaded.
type cacheConfig struct {
	desc  *prometheus.Desc
	stats func() (scheduler.Stats, bool)
}

func (c cacheConfig) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c cacheConfig) Collect(ch chan<- prometheus.Metric) {
	st, ok := c.stats()
	if !ok || st.KVBlockTokens == 0 {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1,
		strconv.Itoa(st.KVBlockTokens), strconv.Itoa(st.KVCapacityTokens/st.KVBlockTokens))
}
