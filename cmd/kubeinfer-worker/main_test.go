package main

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
)

func tinyModel(t *testing.T, arch string) string {
	t.Helper()
	cfg := modeltest.Small(arch)
	if arch == "gpt2" {
		cfg.HeadsKV = 0
	}
	path := filepath.Join(t.TempDir(), arch+".gguf")
	if err := modeltest.WriteFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestInspect(t *testing.T) {
	path := tinyModel(t, "qwen2")
	code, out, errOut := runCLI("inspect", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"architecture:  qwen2 (llama family)", "context:       64", "tokenizer:     gpt2, 40 tokens",
		"rope:          neox", "blk.1.ffn_down.weight", "F32   [48 32]  6144"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestInspectArchitectures: inspect names each architecture's family and the parts of
// its block that differ (the fidelity fixtures).
func TestInspectArchitectures(t *testing.T) {
	for name, wants := range map[string][]string{
		"gemma3": {"architecture:  gemma3 (llama family)", "block:         rms norm, gelu-tanh, sequential residual, post-norms, embeddings × 8",
			"attention:     scale 0.25, sliding window 6 in 5 of 6 layers",
			"rope:          neox, 16 dims, base 1e+06, scale 0.125, freq factors false; windowed layers base 10000, scale 1"},
		"gemma2":     {"attention:     scale 0.25, soft-cap 10, sliding window 6 in 1 of 2 layers; logits soft-cap 30"},
		"phi3":       {"architecture:  phi3 (llama family)", "sliding window 6 in 2 of 2 layers", "rope:          neox, 12 dims"},
		"gptneox":    {"architecture:  gptneox (gpt family)", "block:         layer norm, gelu, parallel residual", "rope:          neox, 4 dims"},
		"phi2":       {"architecture:  phi2 (gpt family)", "parallel-shared residual", "rope:          neox, 8 dims"},
		"qwen3":      {"architecture:  qwen3 (llama family)", "shape:         2 layers, embedding 64, ffn 160, heads 4 (kv 2) × 32"},
		"starcoder2": {"architecture:  starcoder2 (gpt family)", "block:         layer norm, gelu-tanh, sequential residual"},
	} {
		code, out, errOut := runCLI("inspect", filepath.Join("..", "..", "worker", "testdata", "fidelity", name+".gguf"))
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errOut)
		}
		for _, want := range wants {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", name, want, out)
			}
		}
	}
}

func TestGenerate(t *testing.T) {
	path := tinyModel(t, "gpt2")
	args := []string{"generate", "--model", path, "--arch", "gpt", "--prompt", "AB!", "--max-tokens", "7", "--seed", "3"}
	code, out1, errOut := runCLI(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`generated: 7 tokens in .* tok/s\); finish: length`).MatchString(errOut) {
		t.Fatalf("stats missing: %s", errOut)
	}
	if _, out2, _ := runCLI(args...); out1 != out2 || len(strings.TrimSpace(out1)) == 0 {
		t.Fatalf("same seed, different text: %q vs %q", out1, out2)
	}
	code, _, errOut = runCLI("generate", "--model", path, "--arch", "llama", "--prompt", "x")
	if code != 1 || !strings.Contains(errOut, "file is gpt2 (gpt family) but llama was declared") {
		t.Fatalf("mismatch: exit %d %s", code, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"inspect"}, {"generate", "--model", "x"}, {"generate", "--bogus"}} {
		if code, _, _ := runCLI(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
