package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"sigs.k8s.io/yaml"

	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
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
		"unsupported":  {"--model", unsupportedModel(t), "--arch", "llama", "--device", "cpu"},
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
			if name == "unsupported" && !strings.Contains(string(msg), "tensor blk.0.attn_q.weight has type IQ2_XXS, "+
				"which this worker does not support (supported: F32, F16, Q4_0") {
				t.Errorf("termination log %q does not name the tensor, its type and the supported types", msg)
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

// syncBuffer is a bytes.Buffer for concurrent writers (the log).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServeExitsNonZeroWhenGraceCutsRequests: requests still running or queued when
// the shutdown grace period ends are cut, and the worker says how many with a non-zero
// exit and its termination message.
func TestServeExitsNonZeroWhenGraceCutsRequests(t *testing.T) {
	cfg := modeltest.Small("gpt2")
	cfg.HeadsKV, cfg.Vocab, cfg.Context = 0, 320, 2048
	path := filepath.Join(t.TempDir(), "long.gguf")
	if err := modeltest.WriteFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	termLog := filepath.Join(t.TempDir(), "termination-log")
	if err := os.WriteFile(termLog, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	log := funcr.NewJSON(func(obj string) { fmt.Fprintln(&logs, obj) }, funcr.Options{})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, &env{log: log, stdout: io.Discard, stderr: io.Discard}, []string{"--model", path, "--arch", "gpt",
			"--host", "127.0.0.1", "--port", "0", "--max-concurrent", "1", "--max-queue", "3", "--shutdown-grace", "1ms",
			"--inference-events", "Off", "--termination-log", termLog})
	}()
	addr := regexp.MustCompile(`"address":"([^"]+)"`)
	var base string
	for i := 0; i < 500 && base == ""; i++ {
		if m := addr.FindStringSubmatch(logs.String()); m != nil && strings.Contains(logs.String(), "model ready") {
			base = "http://" + m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	if base == "" {
		t.Fatalf("the worker did not become ready:\n%s", logs.String())
	}
	// One request runs (up to 2047 tokens), three wait in the queue.
	started := make(chan struct{}, 4)
	for range 4 {
		go func() {
			resp, err := http.Post(base+"/v1/completions", "application/json",
				strings.NewReader(`{"model":"long","prompt":"go on","stream":true,"temperature":0}`))
			started <- struct{}{}
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	for range 4 {
		<-started
	}
	stop() // SIGTERM
	err := <-done
	var ec exitCodeError
	if !errors.As(err, &ec) || ec.code != exitShutdownCut {
		t.Fatalf("serve returned %v, want exit code %d", err, exitShutdownCut)
	}
	msg, _ := os.ReadFile(termLog)
	cut := regexp.MustCompile(`ended before (\d+) requests finished`).FindSubmatch(msg)
	if cut == nil {
		t.Fatalf("termination message %q does not count the cut requests", msg)
	}
	if n, _ := strconv.Atoi(string(cut[1])); n < 3 || !strings.Contains(err.Error(), string(cut[0])) {
		t.Errorf("termination message %q, error %v: want the count of cut requests (at least the 3 queued)", msg, err)
	}
	t.Logf("exit %d: %v", ec.code, err)
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

// The KV cache fields of the InferenceWorker reach the memory plan as the operator writes
// them: every kvCacheType the CRD admits is a type the worker takes (and the reverse), and
// wrong values are refused with what to write instead.
func TestServeKVCacheFlags(t *testing.T) {
	raw, err := os.ReadFile("../../config/crd/bases/inference.kubeinfer.dev_inferenceworkers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Schema struct {
					OpenAPIV3Schema struct {
						Properties struct {
							Spec struct {
								Properties struct {
									Serving struct {
										Properties struct {
											KVCacheType struct {
												Enum []string `json:"enum"`
											} `json:"kvCacheType"`
											GPUMemoryUtilization struct {
												Default float64 `json:"default"`
											} `json:"gpuMemoryUtilization"`
											SchedulingPolicy struct {
												Enum    []string `json:"enum"`
												Default string   `json:"default"`
											} `json:"schedulingPolicy"`
										} `json:"properties"`
									} `json:"serving"`
								} `json:"properties"`
							} `json:"spec"`
						} `json:"properties"`
					} `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(raw, &crd); err != nil || len(crd.Spec.Versions) != 1 {
		t.Fatalf("%v, %d versions", err, len(crd.Spec.Versions))
	}
	serving := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties.Spec.Properties.Serving.Properties
	enum := slices.Clone(serving.KVCacheType.Enum)
	var types []string
	for _, kt := range kvcache.Types {
		types = append(types, string(kt))
	}
	slices.Sort(enum)
	slices.Sort(types)
	if !slices.Equal(enum, types) {
		t.Errorf("the CRD admits kvCacheType %v, the worker takes %v", enum, types)
	}
	if d := serving.GPUMemoryUtilization.Default; d != memplan.DefaultGPUMemoryUtilization {
		t.Errorf("the CRD's gpuMemoryUtilization default %g is not the worker's %g", d, memplan.DefaultGPUMemoryUtilization)
	}
	// Every scheduling policy the CRD admits is one the worker takes, and the defaults agree.
	if len(serving.SchedulingPolicy.Enum) != 2 {
		t.Errorf("the CRD admits schedulingPolicy %v", serving.SchedulingPolicy.Enum)
	}
	for _, p := range serving.SchedulingPolicy.Enum {
		var cfg serveConfig
		fs := newFlagSet("serve", "", os.Stderr)
		cfg.flags(fs)
		if err := parseWithEnv(fs, []string{"--model", "/models/x.gguf", "--arch", "llama", "--scheduling-policy", p}); err != nil {
			t.Fatal(err)
		}
		if err := cfg.validate(); err != nil {
			t.Errorf("the CRD's schedulingPolicy %q: %v", p, err)
		}
	}
	var defaults serveConfig
	defaults.flags(newFlagSet("serve", "", os.Stderr))
	if d := serving.SchedulingPolicy.Default; d != defaults.SchedulingPolicy {
		t.Errorf("the CRD's schedulingPolicy default %q is not the worker's %q", d, defaults.SchedulingPolicy)
	}

	for _, c := range []struct {
		args []string
		want memplan.Options
		err  string
	}{
		{nil, memplan.Options{KVType: kvcache.Auto, GPUMemoryUtilization: 0.9}, ""},
		{[]string{"--kv-cache-type", "q8_0", "--gpu-memory-utilization", "0.75"}, memplan.Options{KVType: kvcache.Q8_0, GPUMemoryUtilization: 0.75}, ""},
		{[]string{"--kv-cache-type", "q4_0"}, memplan.Options{}, `--kv-cache-type: KV cache type "q4_0": want one of auto, f32, f16, bf16, q8_0`},
		{[]string{"--gpu-memory-utilization", "90"}, memplan.Options{}, "--gpu-memory-utilization 90: want a fraction greater than 0 and at most 1, e.g. 0.9"},
		{[]string{"--scheduling-policy", "lifo"}, memplan.Options{}, `--scheduling-policy "lifo": want fcfs or priority`},
		{[]string{"--prefill-hold", "-2"}, memplan.Options{}, "--prefill-hold must be 0 or more"},
	} {
		var cfg serveConfig
		fs := newFlagSet("serve", "", os.Stderr)
		cfg.flags(fs)
		if err := parseWithEnv(fs, append([]string{"--model", "/models/x.gguf", "--arch", "llama"}, c.args...)); err != nil {
			t.Fatal(err)
		}
		err := cfg.validate()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: err %v, want %q", c.args, err, c.err)
			}
			continue
		}
		got := cfg.memoryOptions()
		if err != nil || got.KVType != c.want.KVType || got.GPUMemoryUtilization != c.want.GPUMemoryUtilization {
			t.Errorf("%v: %v, options %+v", c.args, err, got)
		}
	}
}
