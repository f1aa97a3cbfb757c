//go:build cgo && linux

package cudabackend

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
)

// TestEmbedAgainstCPU holds the CUDA engine's embeddings (the final normed hidden states the library returns
// for KIC_FORWARD_HIDDEN, pooled) to the CPU engine's on every fidelity fixture, for each pooling, in one
// prefill pass and in chunks of 3 tokens (a mean over more rows than one pass returns): the vectors are unit
// length, so an absolute bound per component. The fixtures' weights are f32, f16 or bf16, as the logits'
// tolerance in TestFidelityAgainstCPU; a 16-bit type's rounding moves a component by a few 1e-3 at most.
func TestEmbedAgainstCPU(t *testing.T) {
	needGPU(t)
	paths, _ := filepath.Glob(filepath.Join(fidelityDir, "*.json"))
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		fx := readFixture(t, path)
		tol := 1e-3
		if fx.DType == "bf16" || fx.DType == "f16" {
			tol = 5e-3
		}
		for _, v := range []struct {
			name string
			opts Options
		}{ // the KV cache in float32, as the CPU engine keeps it
			{"whole", Options{Memory: memplan.Options{KVType: kvcache.F32}}},
			{"chunked", Options{Memory: memplan.Options{KVType: kvcache.F32, MaxBatch: 3}}},
		} {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				m, cpu, gpu := openFixture(t, path, fx, v.opts)
				if gpu == nil {
					return
				}
				ids := fx.prompts()[0]
				for _, pool := range []engine.Pooling{engine.PoolingMean, engine.PoolingCLS, engine.PoolingLast} {
					want := embed(t, cpu, ids, pool)
					got := embed(t, gpu, ids, pool)
					if len(got) != m.Hyper.Embedding {
						t.Fatalf("%s: %d values, want %d", pool, len(got), m.Hyper.Embedding)
					}
					var worst, norm float64
					for i := range got {
						worst = max(worst, math.Abs(float64(got[i]-want[i])))
						norm += float64(got[i]) * float64(got[i])
					}
					if worst > tol || math.Abs(norm-1) > 1e-4 {
						t.Errorf("%s pooling over %d tokens: max |GPU - CPU| %.3g (tol %g), |GPU|² %.6f", pool, len(ids), worst, tol, norm)
					}
					t.Logf("%s pooling over %d tokens: max |GPU - CPU| %.2g", pool, len(ids), worst)
				}
			})
		}
	}
}

// embed embeds ids in a fresh sequence of b, freed after.
func embed(t *testing.T, b engine.Backend, ids []int, pool engine.Pooling) []float32 {
	t.Helper()
	e, ok := b.(engine.Embedder)
	if !ok {
		t.Fatalf("%s engine is not an Embedder", b.Name())
	}
	seq, err := b.NewSequence(len(ids))
	if err != nil {
		t.Fatal(err)
	}
	defer b.FreeSequence(seq)
	out, err := e.Embed(seq, ids, pool)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
