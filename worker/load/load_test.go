package load

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr/testr"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
)

// The prewarm (the GPU context on the serve path) has finished before the
// backend is built, and the tokenizer built beside the backend is the model's.
func TestLoadPrewarmsBeforeTheBackend(t *testing.T) {
	modelPath := filepath.Join(t.TempDir(), "tiny.gguf")
	cfg := modeltest.Small("gpt2")
	cfg.Vocab = 320 // a byte-level vocabulary: every byte encodes
	if err := modeltest.WriteFile(modelPath, cfg); err != nil {
		t.Fatal(err)
	}
	var prewarmed, sawPrewarmed atomic.Bool
	m, err := Load(Options{
		Path: modelPath, Log: testr.New(t),
		Prewarm: func() { prewarmed.Store(true) },
		Backend: func(m *model.Model) (engine.Backend, error) {
			sawPrewarmed.Store(prewarmed.Load())
			return engine.NewCPU(m, engine.CPUOptions{})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !sawPrewarmed.Load() {
		t.Error("the backend was built before the prewarm finished")
	}
	if m.Tokenizer == nil || m.Template == nil || len(m.Tokenizer.Encode("hello", false)) == 0 {
		t.Errorf("tokenizer %v, template %v", m.Tokenizer, m.Template)
	}
}

// A failed parse still waits for the prewarm, so no goroutine outlives Load.
func TestLoadFailureWaitsForThePrewarm(t *testing.T) {
	var done atomic.Bool
	_, err := Load(Options{Path: t.TempDir() + "/missing.gguf", Log: testr.New(t), Prewarm: func() { done.Store(true) }})
	if err == nil {
		t.Fatal("loaded a missing file")
	}
	if !done.Load() {
		t.Error("Load returned before its prewarm finished")
	}
}

// A model whose hyperparameters pass but whose forward pass produces NaN does
// not load: the self-check names the cause.
func TestLoadSelfCheckRejectsNonFiniteLogits(t *testing.T) {
	for _, arch := range []string{"gpt2", "llama"} {
		t.Run(arch, func(t *testing.T) {
			modelPath := filepath.Join(t.TempDir(), "nan.gguf")
			cfg := modeltest.Small(arch)
			cfg.Vocab = 320
			tensors := modeltest.Tensors(cfg)
			for _, tn := range tensors {
				if tn.Name == "output_norm.weight" {
					tn.Values[3] = float32(math.Inf(1))
				}
			}
			if err := modeltest.WriteTensors(modelPath, cfg, tensors); err != nil {
				t.Fatal(err)
			}
			_, err := Load(Options{Path: modelPath, Log: testr.New(t)})
			if err == nil || !strings.Contains(err.Error(), "self-check: the prefill of a") || !strings.Contains(err.Error(), "non-finite logits") {
				t.Fatalf("err = %v, want the self-check's non-finite logit", err)
			}
		})
	}
}

// warmingCPU is the CPU engine with engine.Warmer on top: it records the batch it was asked to warm, and fails
// when told to.
type warmingCPU struct {
	*engine.CPU
	asked int
	fail  bool
}

func (w *warmingCPU) Warmup(maxBatch int) (int, error) {
	w.asked = maxBatch
	if w.fail {
		return 3, errors.New("no graphs today")
	}
	return maxBatch, nil
}

// A backend that warms up is asked to, for the server's concurrency, after the self-check; a warm-up that fails
// still loads the model (its batch sizes prepare on their first step), and WarmBatch 0 skips it.
func TestLoadWarmsUpTheBackend(t *testing.T) {
	modelPath := filepath.Join(t.TempDir(), "tiny.gguf")
	cfg := modeltest.Small("gpt2")
	cfg.Vocab = 320
	if err := modeltest.WriteFile(modelPath, cfg); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		batch, want int
		fail        bool
	}{{64, 64, false}, {8, 8, true}, {0, 0, false}} {
		var w *warmingCPU
		m, err := Load(Options{Path: modelPath, Log: testr.New(t), WarmBatch: tc.batch,
			Backend: func(m *model.Model) (engine.Backend, error) {
				cpu, err := engine.NewCPU(m, engine.CPUOptions{})
				w = &warmingCPU{CPU: cpu, fail: tc.fail}
				return w, err
			}})
		if err != nil {
			t.Fatalf("WarmBatch %d (warm-up fails: %v): %v", tc.batch, tc.fail, err)
		}
		m.Close()
		if w.asked != tc.want {
			t.Errorf("WarmBatch %d: warm-up asked for %d sequences, want %d", tc.batch, w.asked, tc.want)
		}
	}
}
