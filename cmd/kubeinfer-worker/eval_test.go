package main

import (
	"encoding/json"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestEval scores the held-out sample with the trained GPT-2 and compares the figure
// with the one PyTorch recorded (worker/testdata/models, made by hack/train).
func TestEval(t *testing.T) {
	const dir = "../../worker/testdata/models/"
	raw, err := os.ReadFile(dir + "gpt-go.json")
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Sample struct {
			File     string  `json:"file"`
			Window   int     `json:"window"`
			LossFP32 float64 `json:"loss_fp32"`
		} `json:"sample"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	args := []string{"eval", "--model", dir + "gpt-go.gguf", "--arch", "gpt", "--text", dir + rec.Sample.File, "--window", "256"}
	code, out, errOut := runCLI(append(args, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r evalReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Window != rec.Sample.Window || r.Predictions != r.Tokens-r.Windows || math.Abs(r.Loss-rec.Sample.LossFP32) > 1e-4*rec.Sample.LossFP32 ||
		math.Abs(r.Perplexity-math.Exp(r.Loss)) > 1e-9*r.Perplexity {
		t.Errorf("eval %+v; PyTorch recorded loss %.6f with windows of %d", r, rec.Sample.LossFP32, rec.Sample.Window)
	}

	code, out, errOut = runCLI(append(args, "--max-tokens", "100")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`: 100 tokens in 1 windows of up to 256, 99 predictions\nloss \d+\.\d{6} nats/token, perplexity \d+\.\d{4} \(`).MatchString(out) {
		t.Errorf("text output:\n%s", out)
	}

	code, _, errOut = runCLI("eval", "--model", dir+"gpt-go.gguf", "--text", dir+rec.Sample.File, "--window", "600")
	if code != 1 || !strings.Contains(errOut, "window of 600 tokens needs 599 positions; the model's context has 512") {
		t.Errorf("window past the context: exit %d, %s", code, errOut)
	}
	if code, _, _ = runCLI("eval", "--model", dir+"gpt-go.gguf"); code != 2 {
		t.Errorf("missing --text: exit %d, want 2", code)
	}
}
