// Command serving drives an OpenAI-compatible endpoint (a kubeinfer worker, or any peer that speaks
// the same API) with C concurrent streaming clients and prints, for each C, what users of a shared
// endpoint feel: aggregate output tok/s, requests/s, time to first token and inter-token latency
// (p50 and p99), and the errors by HTTP status.
//
//	go run ./test/bench/serving --url http://localhost:8000/v1 --model m --concurrency 1,8,32,64,128 \
//	    --prompt-tokens 128 --gen-tokens 256 --requests-per-client 4
//
// Prompts are token ids (the completions API takes them), so their length is exact whatever the
// tokenizer; --shared-prefix gives every prompt the same first tokens (a system prompt), and
// --mix sharegpt draws prompt and output lengths from a long-tailed mix like ShareGPT's instead of
// fixed ones. --long-prompt N sends, once the streams of a level are running, one more request with an
// N-token prompt, whose time to first token is printed apart and whose tokens the level's figures leave out:
// the other streams' inter-token latency with and without it shows what one long prompt costs them.
// Generation ignores end-of-sequence tokens (ignore_eos, as vLLM's benchmark does) so that
// every request produces its output length.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

type options struct {
	url, model        string
	concurrency       []int
	promptTokens      int
	genTokens         int
	sharedPrefix      int
	requestsPerClient int
	longPrompt        int
	mix               string
	vocab             int
	seed              uint64
	timeout           time.Duration
	ignoreEOS, greedy bool
	json              bool
}

func main() {
	var o options
	var conc string
	flag.StringVar(&o.url, "url", "http://localhost:8000/v1", "the endpoint's OpenAI base URL")
	flag.StringVar(&o.model, "model", "", "the model name to send (default: the first of GET /models)")
	flag.StringVar(&conc, "concurrency", "1,8,32,64,128", "concurrent clients, one run per value")
	flag.IntVar(&o.promptTokens, "prompt-tokens", 128, "prompt length in tokens (the mean, with --mix sharegpt)")
	flag.IntVar(&o.genTokens, "gen-tokens", 256, "tokens generated per request (the mean, with --mix sharegpt)")
	flag.IntVar(&o.sharedPrefix, "shared-prefix", 0, "the first N prompt tokens are the same in every request")
	flag.IntVar(&o.requestsPerClient, "requests-per-client", 4, "requests each client sends, one after another")
	flag.IntVar(&o.longPrompt, "long-prompt", 0, "tokens of one long prompt sent once each level's streams run (0: none)")
	flag.StringVar(&o.mix, "mix", "fixed", "fixed, or sharegpt (long-tailed prompt and output lengths)")
	flag.IntVar(&o.vocab, "vocab", 1000, "prompt token ids are drawn from [1, vocab)")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed of prompts and lengths")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "one request's limit")
	flag.BoolVar(&o.ignoreEOS, "ignore-eos", true, "ask for ignore_eos so every request generates its length")
	flag.BoolVar(&o.greedy, "greedy", true, "temperature 0 (else 0.8)")
	flag.BoolVar(&o.json, "json", false, "print one JSON object per concurrency level instead of the table")
	flag.Parse()
	for _, f := range strings.Split(conc, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			fmt.Fprintf(os.Stderr, "--concurrency: %q is not a positive integer\n", f)
			os.Exit(2)
		}
		o.concurrency = append(o.concurrency, c)
	}
	if o.mix != "fixed" && o.mix != "sharegpt" {
		fmt.Fprintln(os.Stderr, "--mix: want fixed or sharegpt")
		os.Exit(2)
	}
	if err := run(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "serving:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0}}
	if o.model == "" {
		m, err := firstModel(ctx, client, o.url)
		if err != nil {
			return err
		}
		o.model = m
	}
	if !o.json {
		fmt.Fprintf(out, "endpoint %s, model %s, prompts %d tokens (%d shared), %d generated, mix %s\n",
			o.url, o.model, o.promptTokens, o.sharedPrefix, o.genTokens, o.mix)
		if o.longPrompt > 0 {
			fmt.Fprintf(out, "with one %d-token prompt arriving once the streams run (its TTFT in the last column)\n", o.longPrompt)
		}
		fmt.Fprintf(out, "%6s %9s %10s %8s %10s %10s %9s %9s %s\n", "conc", "requests", "out tok/s", "req/s",
			"TTFT p50", "TTFT p99", "ITL p50", "ITL p99", "errors")
	}
	for _, c := range o.concurrency {
		before, _ := loopTimes(ctx, client, o.url)
		r := level(ctx, client, o, c)
		if after, ok := loopTimes(ctx, client, o.url); ok {
			r.Loop = after.since(before)
		}
		if o.json {
			if err := json.NewEncoder(out).Encode(r); err != nil {
				return err
			}
			continue
		}
		long := ""
		if o.longPrompt > 0 {
			long = fmt.Sprintf(" long prompt TTFT %.1fms", r.LongPromptTTFTMs)
		}
		fmt.Fprintf(out, "%6d %9d %10.0f %8.2f %9.1fms %9.1fms %8.2fms %8.2fms %s%s\n", c, r.Requests, r.OutputTokensPerSecond,
			r.RequestsPerSecond, r.TTFTP50Ms, r.TTFTP99Ms, r.ITLP50Ms, r.ITLP99Ms, r.errorText(), long)
		if l := r.Loop; l != nil && l.DecodeSteps > 0 {
			steps := float64(l.DecodeSteps)
			fmt.Fprintf(out, "%6s worker loop: %.0f decode steps, %.3f ms decode + %.3f ms host a step, prefill %.0f ms (%.0f%% of the loop)\n",
				"", steps, 1e3*l.DecodeSeconds/steps, 1e3*l.HostSeconds/steps, 1e3*l.PrefillSeconds,
				100*l.PrefillSeconds/(l.DecodeSeconds+l.PrefillSeconds+l.HostSeconds))
		}
	}
	return nil
}

// result is one concurrency level's figures.
type result struct {
	Concurrency           int            `json:"concurrency"`
	Requests              int            `json:"requests"`
	OutputTokens          int            `json:"outputTokens"`
	Seconds               float64        `json:"seconds"`
	OutputTokensPerSecond float64        `json:"outputTokensPerSecond"`
	RequestsPerSecond     float64        `json:"requestsPerSecond"`
	TTFTP50Ms, TTFTP99Ms  float64        `json:"-"`
	ITLP50Ms, ITLP99Ms    float64        `json:"-"`
	TTFT                  [2]float64     `json:"ttftMsP50P99"`
	LongPromptTTFTMs      float64        `json:"longPromptTtftMs,omitempty"`
	ITL                   [2]float64     `json:"itlMsP50P99"`
	Errors                map[string]int `json:"errors,omitempty"`
	Loop                  *loop          `json:"workerLoop,omitempty"`
}

// loop is where the worker's scheduling loop spent a level's time (its kubeinfer_worker_scheduler_seconds_total
// by phase and kubeinfer_worker_decode_steps_total, differences over the level): what a step costs on the device
// and what the device waits for the host between steps.
type loop struct {
	DecodeSeconds  float64 `json:"decodeSeconds"`
	PrefillSeconds float64 `json:"prefillSeconds"`
	HostSeconds    float64 `json:"hostSeconds"`
	DecodeSteps    float64 `json:"decodeSteps"`
}

func (l loop) since(b loop) *loop {
	return &loop{l.DecodeSeconds - b.DecodeSeconds, l.PrefillSeconds - b.PrefillSeconds, l.HostSeconds - b.HostSeconds,
		l.DecodeSteps - b.DecodeSteps}
}

// loopTimes reads the worker's loop counters from its /metrics (beside the API's /v1); false when it has none.
func loopTimes(ctx context.Context, client *http.Client, url string) (loop, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(url, "/v1")+"/metrics", nil)
	if err != nil {
		return loop{}, false
	}
	resp, err := client.Do(req)
	if err != nil {
		return loop{}, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return loop{}, false
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil || families["kubeinfer_worker_decode_steps_total"] == nil {
		return loop{}, false
	}
	l := loop{DecodeSteps: families["kubeinfer_worker_decode_steps_total"].GetMetric()[0].GetCounter().GetValue()}
	for _, m := range families["kubeinfer_worker_scheduler_seconds_total"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() != "phase" {
				continue
			}
			switch v := m.GetCounter().GetValue(); lp.GetValue() {
			case "decode":
				l.DecodeSeconds = v
			case "prefill":
				l.PrefillSeconds = v
			case "host":
				l.HostSeconds = v
			}
		}
	}
	return l, true
}

func (r result) errorText() string {
	if len(r.Errors) == 0 {
		return "none"
	}
	var parts []string
	for k, v := range r.Errors {
		parts = append(parts, fmt.Sprintf("%s×%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// sample is one request's timing.
type sample struct {
	ttft   time.Duration
	gaps   []time.Duration
	tokens int
	err    string
}

func level(ctx context.Context, client *http.Client, o options, clients int) result {
	rng := rand.New(rand.NewPCG(o.seed, uint64(clients)))
	shared := randomTokens(rng, o.sharedPrefix, o.vocab)
	type job struct {
		prompt []int
		gen    int
	}
	jobs := make([][]job, clients)
	for c := range jobs {
		for range o.requestsPerClient {
			p, g := o.promptTokens, o.genTokens
			if o.mix == "sharegpt" {
				p, g = shareGPTLengths(rng, o.promptTokens, o.genTokens)
			}
			prompt := append(append([]int(nil), shared...), randomTokens(rng, max(p-len(shared), 1), o.vocab)...)
			jobs[c] = append(jobs[c], job{prompt, g})
		}
	}
	samples := make(chan sample, clients*o.requestsPerClient)
	var wg sync.WaitGroup
	running := make(chan struct{})
	firstToken := sync.OnceFunc(func() { close(running) })
	var long sample
	if o.longPrompt > 0 {
		prompt := randomTokens(rng, o.longPrompt, o.vocab)
		wg.Go(func() {
			select {
			case <-running:
				long = request(ctx, client, o, prompt, 16, nil)
			case <-ctx.Done():
			}
		})
	}
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, j := range jobs[c] {
				samples <- request(ctx, client, o, j.prompt, j.gen, firstToken)
			}
		}()
	}
	wg.Wait()
	close(samples)
	elapsed := time.Since(start)
	r := result{Concurrency: clients, Seconds: elapsed.Seconds(), Errors: map[string]int{}}
	var ttfts, gaps []float64
	for s := range samples {
		r.Requests++
		if s.err != "" {
			r.Errors[s.err]++
			continue
		}
		r.OutputTokens += s.tokens
		ttfts = append(ttfts, ms(s.ttft))
		for _, g := range s.gaps {
			gaps = append(gaps, ms(g))
		}
	}
	r.OutputTokensPerSecond = float64(r.OutputTokens) / elapsed.Seconds()
	r.RequestsPerSecond = float64(r.Requests-errorCount(r.Errors)) / elapsed.Seconds()
	r.TTFTP50Ms, r.TTFTP99Ms = percentile(ttfts, 50), percentile(ttfts, 99)
	r.ITLP50Ms, r.ITLP99Ms = percentile(gaps, 50), percentile(gaps, 99)
	r.TTFT, r.ITL = [2]float64{r.TTFTP50Ms, r.TTFTP99Ms}, [2]float64{r.ITLP50Ms, r.ITLP99Ms}
	if o.longPrompt > 0 {
		if long.err != "" {
			r.Errors["long prompt "+long.err]++
		}
		r.LongPromptTTFTMs = ms(long.ttft)
	}
	return r
}

func errorCount(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// request sends one streaming completion and times its tokens as they arrive. A chunk may carry
// more than one token's text; usage (include_usage) gives the exact count at the end. first, when
// set, is called at the first token.
func request(ctx context.Context, client *http.Client, o options, prompt []int, gen int, first func()) sample {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	body := map[string]any{"model": o.model, "prompt": prompt, "max_tokens": gen, "stream": true,
		"stream_options": map[string]bool{"include_usage": true}}
	if o.ignoreEOS {
		body["ignore_eos"] = true
	}
	if o.greedy {
		body["temperature"] = 0
	} else {
		body["temperature"] = 0.8
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(o.url, "/")+"/completions", bytes.NewReader(b))
	if err != nil {
		return sample{err: "request"}
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return sample{err: "connect"}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // draining for reuse only
		return sample{err: strconv.Itoa(resp.StatusCode)}
	}
	var s sample
	last := start
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	chunks := 0
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || line == "[DONE]" {
			continue
		}
		var ev struct {
			Choices []struct {
				Text string `json:"text"`
			} `json:"choices"`
			Usage *struct {
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		if ev.Usage != nil {
			s.tokens = ev.Usage.CompletionTokens
		}
		if len(ev.Choices) == 0 || ev.Choices[0].Text == "" {
			continue
		}
		now := time.Now()
		if chunks == 0 {
			s.ttft = now.Sub(start)
			if first != nil {
				first()
			}
		} else {
			s.gaps = append(s.gaps, now.Sub(last))
		}
		last = now
		chunks++
	}
	if err := sc.Err(); err != nil || chunks == 0 {
		return sample{err: "stream"}
	}
	if s.tokens == 0 {
		s.tokens = chunks
	}
	return s
}

func randomTokens(rng *rand.Rand, n, vocab int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 1 + rng.IntN(max(vocab-1, 1))
	}
	return out
}

// shareGPTLengths draws a prompt and an output length from log-normal distributions with the given
// means and the spread of ShareGPT conversations (most short, a long tail: sigma ≈ 1).
func shareGPTLengths(rng *rand.Rand, promptMean, genMean int) (int, int) {
	const sigma = 1.0
	draw := func(mean int) int {
		mu := math.Log(float64(mean)) - sigma*sigma/2
		return max(4, min(int(math.Exp(mu+sigma*rng.NormFloat64())), 8*mean))
	}
	return draw(promptMean), draw(genMean)
}

func firstModel(ctx context.Context, client *http.Client, base string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/models", nil)
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("list models: %w", err)
	}
	defer resp.Body.Close()
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list.Data) == 0 {
		return "", fmt.Errorf("list models: no model in the answer (%v)", err)
	}
	return list.Data[0].ID, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile is the p-th percentile (nearest rank) of v, 0 when empty.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	i := int(math.Ceil(p/100*float64(len(v)))) - 1
	return v[max(0, min(i, len(v)-1))]
}
