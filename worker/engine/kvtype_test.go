package engine

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// kvTypeLossTol is how much storing keys and values as each type may change the
// held-out loss of the project's trained models (TestTrainedModels), relative to
// float32 storage: about three times the worst measured, which was 2.6e-5 (f16),
// 1.9e-4 (bf16) and 2.9e-4 (q8_0). This is the fidelity cost a user sees.
var kvTypeLossTol = map[kvcache.Type]float64{kvcache.F16: 1e-4, kvcache.BF16: 6e-4, kvcache.Q8_0: 1e-3}

// kvTypeLogitTol is the largest logit difference, relative to max(1, |logit|),
// that each type may cause against float32 storage on the fidelity fixtures
// (every prompt position, then 16 decode steps fed the float32 engine's greedy
// tokens): about twice the worst measured, 0.024 (f16), 0.27 (bf16) and 0.74
// (q8_0). The fixtures' random weights give sharp attention and large logits,
// so these are far above what the trained models show; they bound the emulation
// that worker/cudabackend's TestKVTypesAgainstCPU compares the GPU with.
var kvTypeLogitTol = map[kvcache.Type]float64{kvcache.F16: 0.05, kvcache.BF16: 0.55, kvcache.Q8_0: 1.5}

// The CPU engine keeps the numerics of each KV storage type: within the stated
// tolerance of float32 storage, and as much further from it as the type is coarser.
func TestKVTypeFidelity(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(fidelityDir, "*.json"))
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var fx fidelityFixture
			if err := json.Unmarshal(raw, &fx); err != nil {
				t.Fatal(err)
			}
			m, err := model.Load(strings.TrimSuffix(path, ".json")+".gguf", model.Family(fx.Arch))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			ref, err := NewCPU(m, CPUOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			var worst []float64
			for _, kt := range []kvcache.Type{kvcache.F16, kvcache.BF16, kvcache.Q8_0} {
				b, err := NewCPU(m, CPUOptions{KVType: kt})
				if err != nil {
					t.Fatal(err)
				}
				var w float64
				for _, p := range fx.Prompts {
					w = max(w, kvDiff(t, ref, b, p.IDs, 16))
				}
				b.Close()
				t.Logf("KV stored as %s: max relative logit diff %.3g (limit %g)", kt, w, kvTypeLogitTol[kt])
				if w > kvTypeLogitTol[kt] {
					t.Errorf("KV stored as %s: max relative logit diff %.3g > %g", kt, w, kvTypeLogitTol[kt])
				}
				worst = append(worst, w)
			}
			if !(0 < worst[0] && worst[0] < worst[1] && worst[1] < worst[2]) {
				t.Errorf("differences %v for f16, bf16, q8_0: want each above zero and the coarser types further off", worst)
			}
		})
	}
}

// kvDiff is the largest relative logit difference between two engines over a
// prompt's positions and gen decode steps, both fed a's greedy tokens.
func kvDiff(t *testing.T, a, b Backend, ids []int, gen int) float64 {
	t.Helper()
	sa, err := a.NewSequence(len(ids) + gen)
	if err != nil {
		t.Fatal(err)
	}
	defer a.FreeSequence(sa)
	sb, err := b.NewSequence(len(ids) + gen)
	if err != nil {
		t.Fatal(err)
	}
	defer b.FreeSequence(sb)
	la, err := a.Prefill(sa, ids, true)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.Prefill(sb, ids, true)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i := range la {
		worst = max(worst, relDiff(la[i], lb[i]))
	}
	ra := la[len(la)-1]
	for range gen {
		tok := argmax(ra)
		oa, err := a.Decode([]DecodeInput{{Seq: sa, Token: tok}})
		if err != nil {
			t.Fatal(err)
		}
		ob, err := b.Decode([]DecodeInput{{Seq: sb, Token: tok}})
		if err != nil {
			t.Fatal(err)
		}
		ra = oa[0]
		worst = max(worst, relDiff(ra, ob[0]))
	}
	return worst
}

func relDiff(a, b []float32) float64 {
	var worst float64
	for i := range a {
		d := math.Abs(float64(a[i]-b[i])) / max(1, math.Abs(float64(a[i])))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = max(worst, d)
	}
	return worst
}
