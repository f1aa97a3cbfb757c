package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/kubeinfer/kubeinfer/worker/load"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
	"github.com/kubeinfer/kubeinfer/worker/server"
)

// The load generator against a real worker (CPU engine, a tiny model): every request
// generates its length (ignore_eos), and the figures add up.
func TestLoadGeneratorAgainstAWorker(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	cfg := modeltest.Small("gpt2")
	cfg.Vocab, cfg.Context = 320, 256
	if err := modeltest.WriteFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	log := testr.New(t)
	m, err := load.Load(load.Options{Path: path, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	s := server.New(server.Config{ServedName: "tiny", MaxConcurrent: 4, MaxQueue: 8, Log: log})
	if err := s.Start(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	defer s.Shutdown(context.Background()) //nolint:errcheck // the test is over

	o := options{url: ts.URL + "/v1", promptTokens: 20, sharedPrefix: 8, genTokens: 12, requestsPerClient: 3,
		mix: "fixed", vocab: 300, seed: 1, timeout: time.Minute, ignoreEOS: true, greedy: true}
	client := &http.Client{}
	var err2 error
	if o.model, err2 = firstModel(context.Background(), client, o.url); err2 != nil || o.model != "tiny" {
		t.Fatalf("first model %q, %v", o.model, err2)
	}
	r := level(context.Background(), client, o, 3)
	if len(r.Errors) != 0 || r.Requests != 9 || r.OutputTokens != 9*12 {
		t.Fatalf("3 clients × 3 requests of 12 tokens: %+v", r)
	}
	if r.TTFTP50Ms <= 0 || r.TTFTP99Ms < r.TTFTP50Ms || r.ITLP50Ms <= 0 || r.OutputTokensPerSecond <= 0 {
		t.Errorf("figures: %+v", r)
	}
	if r.Seconds <= 0 || r.RequestsPerSecond <= 0 {
		t.Errorf("rates: %+v", r)
	}
	// A long prompt arriving while the streams run: timed apart, its tokens not counted.
	o.longPrompt = 150
	r = level(context.Background(), client, o, 3)
	if len(r.Errors) != 0 || r.Requests != 9 || r.OutputTokens != 9*12 || r.LongPromptTTFTMs <= 0 {
		t.Errorf("with a long prompt: %+v", r)
	}
	o.longPrompt = 0
	// The worker's loop counters around a level: its decode steps and where the time went.
	before, ok := loopTimes(context.Background(), client, o.url)
	level(context.Background(), client, o, 2)
	after, ok2 := loopTimes(context.Background(), client, o.url)
	if l := after.since(before); !ok || !ok2 || l.DecodeSteps < 11 || l.DecodeSeconds <= 0 || l.PrefillSeconds <= 0 || l.HostSeconds <= 0 {
		t.Errorf("worker loop over 2 clients x 3 requests of 12 tokens: %+v (read %v, %v)", l, ok, ok2)
	}
	// The sharegpt mix draws varied lengths around the means.
	o.mix = "sharegpt"
	r = level(context.Background(), client, o, 2)
	if len(r.Errors) != 0 || r.Requests != 6 || r.OutputTokens == 6*12 {
		t.Errorf("sharegpt mix: %+v (want varied output lengths)", r)
	}
}
