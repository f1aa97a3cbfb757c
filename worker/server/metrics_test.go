package server

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kubeinfer/kubeinfer/internal/extmodules"
)

// scrape reads the worker's /metrics over HTTP, as Prometheus or an endpoint picker does.
func scrape(t *testing.T, h *harness) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(h.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// Legacy name validation accepts the colons of the protocol's vLLM names, as Prometheus does.
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

func complete(t *testing.T, h *harness, prompt string, maxTokens int64) *openai.Completion {
	t.Helper()
	c, err := h.client.Completions.New(context.Background(), openai.CompletionNewParams{Model: servedName,
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String(prompt)}, MaxTokens: openai.Int(maxTokens), Temperature: openai.Float(0)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEveryWorkerMetricCarriesModelName: every kubeinfer_worker_* series is labelled with
// the served name, and the request histograms count what the API answered.
func TestEveryWorkerMetricCarriesModelName(t *testing.T) {
	h := start(t, Config{MaxConcurrent: 2, MaxQueue: 2})
	c := complete(t, h, "hello there", 5)
	families := scrape(t, h)
	n := 0
	for name, f := range families {
		if !strings.HasPrefix(name, "kubeinfer_worker_") {
			continue
		}
		n++
		for _, m := range f.Metric {
			if got := labelValue(m, LabelModelName); got != servedName {
				t.Errorf("%s has model_name %q, want %q", name, got, servedName)
			}
		}
	}
	if n < 15 {
		t.Errorf("%d kubeinfer_worker_* families, want the 15 or more the worker registers", n)
	}
	for name, want := range map[string]float64{
		"kubeinfer_worker_request_prompt_tokens":     float64(c.Usage.PromptTokens),
		"kubeinfer_worker_request_generation_tokens": float64(c.Usage.CompletionTokens),
	} {
		f := families[name]
		if f == nil || f.GetType() != dto.MetricType_HISTOGRAM {
			t.Errorf("%s: missing or not a histogram", name)
			continue
		}
		if hist := f.Metric[0].GetHistogram(); hist.GetSampleCount() != 1 || hist.GetSampleSum() != want {
			t.Errorf("%s: %d samples summing to %v, want 1 of %v", name, hist.GetSampleCount(), hist.GetSampleSum(), want)
		}
	}
	for _, name := range []string{"kubeinfer_worker_e2e_request_latency_seconds", "kubeinfer_worker_request_queue_time_seconds"} {
		if f := families[name]; f == nil || f.Metric[0].GetHistogram().GetSampleCount() != 1 {
			t.Errorf("%s: want one observation", name)
		}
	}
}

// TestSchedulerTimeByPhase: after a request the loop's time shows in the decode and prefill phases and on the
// host, and the decode steps count the request's steps (a token each after the first, which the prefill gives).
func TestSchedulerTimeByPhase(t *testing.T) {
	h := start(t, Config{MaxConcurrent: 2, MaxQueue: 2})
	c := complete(t, h, "hello there", 6)
	waitFor(t, "the request to finish", func() bool { st := h.s.Stats(); return st.Running == 0 && st.Queued == 0 })
	families := scrape(t, h)
	phases := map[string]float64{}
	for _, m := range families["kubeinfer_worker_scheduler_seconds_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "phase" {
				phases[l.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if len(phases) != 3 || phases["decode"] <= 0 || phases["prefill"] <= 0 || phases["host"] <= 0 {
		t.Errorf("scheduler seconds by phase %v, want decode, prefill and host, each above 0", phases)
	}
	steps := families["kubeinfer_worker_decode_steps_total"].GetMetric()
	if len(steps) != 1 || steps[0].GetCounter().GetValue() < float64(c.Usage.CompletionTokens-1) {
		t.Errorf("decode steps %v for %d generated tokens", steps, c.Usage.CompletionTokens)
	}
}

// TestQueueTimeCountsTheWait: a request that waits for the only slot reports its wait.
func TestQueueTimeCountsTheWait(t *testing.T) {
	h := start(t, Config{MaxConcurrent: 1, MaxQueue: 2})
	h.gate.hold()
	done := make(chan struct{})
	go func() { defer close(done); complete(t, h, "first", 3) }()
	waitFor(t, "the first request to run", func() bool { return h.s.Stats().Running == 1 })
	go func() { complete(t, h, "second", 3) }()
	waitFor(t, "the second request to queue", func() bool { return h.s.Stats().Queued == 1 })
	h.gate.release()
	<-done
	waitFor(t, "both requests to finish", func() bool { st := h.s.Stats(); return st.Running == 0 && st.Queued == 0 })
	hist := scrape(t, h)["kubeinfer_worker_request_queue_time_seconds"].Metric[0].GetHistogram()
	waitFor(t, "two queue time observations", func() bool {
		hist = scrape(t, h)["kubeinfer_worker_request_queue_time_seconds"].Metric[0].GetHistogram()
		return hist.GetSampleCount() == 2
	})
	if hist.GetSampleSum() <= 0 {
		t.Errorf("queue time sum %v: the second request waited", hist.GetSampleSum())
	}
}

// TestModelServerProtocol: the worker serves the series the Gateway API Inference
// Extension's model server protocol asks for, under the vLLM names its document gives (read
// from the module go.mod requires), as gauges, with the values of a request in flight.
func TestModelServerProtocol(t *testing.T) {
	doc, err := extmodules.File(extmodules.GatewayAPIInferenceExtension, "docs/proposals/003-model-server-protocol/README.md")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	// | TotalQueuedRequests | Gauge | ... | `vllm:num_requests_waiting`| ...
	row := regexp.MustCompile("(?m)^\\|\\s*(TotalQueuedRequests|TotalRunningRequests|KVCacheUtilization)\\s*\\|\\s*(\\w+)\\s*\\|[^|]*\\|\\s*`([^`]+)`")
	rows := row.FindAllStringSubmatch(string(data), -1)
	if len(rows) != 3 {
		t.Fatalf("found %d of the protocol's 3 required metrics in %s: the document changed", len(rows), doc)
	}
	ours := map[string]string{"TotalQueuedRequests": MetricQueuedRequests, "TotalRunningRequests": MetricRunningRequests,
		"KVCacheUtilization": MetricKVCacheUsage}
	for _, r := range rows {
		if ours[r[1]] != r[3] || r[2] != "Gauge" {
			t.Errorf("protocol %s is a %s named %s; the worker serves %s", r[1], r[2], r[3], ours[r[1]])
		}
	}

	h := start(t, Config{MaxConcurrent: 1, MaxQueue: 2})
	h.gate.hold()
	defer h.gate.release()
	go func() { _, _ = h.client.Completions.New(context.Background(), completionParams("running", 4)) }()
	waitFor(t, "a running request", func() bool { return h.s.Stats().Running == 1 })
	go func() { _, _ = h.client.Completions.New(context.Background(), completionParams("waiting", 4)) }()
	waitFor(t, "a queued request", func() bool { return h.s.Stats().Queued == 1 })
	families := scrape(t, h)
	for name, check := range map[string]func(float64) bool{
		MetricQueuedRequests:  func(v float64) bool { return v == 1 },
		MetricRunningRequests: func(v float64) bool { return v == 1 },
		MetricKVCacheUsage:    func(v float64) bool { return v > 0 && v <= 1 },
	} {
		f := families[name]
		if f == nil || f.GetType() != dto.MetricType_GAUGE || len(f.Metric) != 1 {
			t.Errorf("%s: missing, not a gauge, or not one series: %v", name, f)
			continue
		}
		if v := f.Metric[0].GetGauge().GetValue(); !check(v) {
			t.Errorf("%s = %v with one request running and one queued", name, v)
		}
	}
	info := families[MetricCacheConfig]
	if info == nil || labelValue(info.Metric[0], "block_size") != "16" || labelValue(info.Metric[0], "num_gpu_blocks") != "16" {
		t.Errorf("%s = %v, want block_size 16 and the pool's 256 tokens in 16 blocks", MetricCacheConfig, info)
	}
}

func completionParams(prompt string, maxTokens int64) openai.CompletionNewParams {
	return openai.CompletionNewParams{Model: servedName, Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String(prompt)},
		MaxTokens: openai.Int(maxTokens), Temperature: openai.Float(0)}
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
