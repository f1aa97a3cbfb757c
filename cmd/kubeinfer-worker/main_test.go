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
