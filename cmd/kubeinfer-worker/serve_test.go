package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeModelLoadFailureExits3(t *testing.T) {
	termLog := filepath.Join(t.TempDir(), "termination-log")
	if err := os.WriteFile(termLog, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"missing file": {"--model", filepath.Join(t.TempDir(), "nope.gguf"), "--arch", "llama"},
		"wrong family": {"--model", tinyModel(t, "gpt2"), "--arch", "llama"},
		"no cuda":      {"--model", tinyModel(t, "gpt2"), "--arch", "gpt", "--device", "cuda"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := runCLI(append([]string{"serve", "--port", "0", "--termination-log", termLog}, args...)...)
			if code != 3 {
				t.Fatalf("exit %d, want 3: %s", code, errOut)
			}
			msg, _ := os.ReadFile(termLog)
			if !strings.HasPrefix(string(msg), "model load failed: ") || strings.Count(string(msg), "\n") != 1 {
				t.Errorf("termination log %q", msg)
			}
			if name == "no cuda" && !strings.Contains(string(msg), "--device cuda:") {
				t.Errorf("termination log %q does not say CUDA is unavailable", msg)
			}
		})
	}
}

func TestServeFlagsFromEnv(t *testing.T) {
	t.Setenv("KUBEINFER_ARCH", "gpt")
	t.Setenv("KUBEINFER_MAX_CONTEXT", "512")
	t.Setenv("KUBEINFER_INFERENCE_EVENTS", "All")
	var c serveConfig
	fs := newFlagSet("serve", "", os.Stderr)
	c.flags(fs)
	if err := parseWithEnv(fs, []string{"--model", "/models/x.gguf", "--max-context", "1024"}); err != nil {
		t.Fatal(err)
	}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	if c.Arch != "gpt" || c.MaxContext != 1024 || c.InferenceEvents != "All" || c.ServedName != "x" || c.MaxQueue != -1 {
		t.Errorf("config %+v", c)
	}
}

func TestFetchDigestMismatchExits4(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("model")) }))
	defer srv.Close()
	wrong := strings.Repeat("ab", 32)
	code, _, errOut := runCLI("fetch", "--url", srv.URL, "--sha256", wrong, "--dest", t.TempDir(), "--attempts", "1")
	if code != 4 {
		t.Fatalf("exit %d, want 4: %s", code, errOut)
	}
	if !strings.Contains(errOut, wrong) || !strings.Contains(errOut, "got ") {
		t.Errorf("stderr %q does not show both digests", errOut)
	}
}

// TestServeAPIKeyFileMissing: an API key file that cannot be read stops serve before it
// listens, rather than serving without the authentication the operator asked for.
func TestServeAPIKeyFileMissing(t *testing.T) {
	code, _, errOut := runCLI("serve", "--port", "0", "--model", tinyModel(t, "gpt2"), "--arch", "gpt",
		"--api-key-file", filepath.Join(t.TempDir(), "absent"))
	if code == 0 || !strings.Contains(errOut, "--api-key-file") {
		t.Fatalf("exit %d, stderr %q: want a failure naming --api-key-file", code, errOut)
	}
}
