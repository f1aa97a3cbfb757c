//go:build cgo && linux

package cudabackend

import (
	"os"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// BenchmarkMixedStep times what a 128-token prompt arriving among 64 decoding streams costs them: a decode step
// of the 64 and the prompt's prefill apart (DecodeSampled, then PrefillBatch), and the two in one StepMixed. The
// model is KUBEINFER_BENCH_MODEL (e.g. the file `kubeinfer-worker bench --synthetic llama3.2-1b` writes); run
// with -test.bench MixedStep -test.benchtime 200x (each iteration adds a token to every stream).
func BenchmarkMixedStep(b *testing.B) {
	path := os.Getenv("KUBEINFER_BENCH_MODEL")
	if path == "" {
		b.Skip("KUBEINFER_BENCH_MODEL is not set")
	}
	m, err := model.Load(path, "")
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	const streams, prompt = 64, 128
	gpu, err := Open(m, Options{Memory: memplan.Options{MaxContext: 4096, Concurrency: streams + 1}, MixedSteps: true})
	if err != nil {
		b.Fatal(err)
	}
	defer gpu.Close()
	tokens := func(n, salt int) []int {
		t := make([]int, n)
		for i := range t {
			t[i] = 1 + (i*31+salt*7)%1000
		}
		return t
	}
	batch := make([]engine.DecodeInput, streams)
	rows := make([]engine.RowSampling, streams)
	for i := range batch {
		s, err := gpu.NewSequence(0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := gpu.Prefill(s, tokens(prompt, i), false); err != nil {
			b.Fatal(err)
		}
		batch[i] = engine.DecodeInput{Seq: s, Token: 11}
	}
	for _, mixed := range []bool{false, true} {
		name := "apart"
		if mixed {
			name = "mixed"
		}
		b.Run(name, func(b *testing.B) {
			for i := range b.N {
				s, err := gpu.NewSequence(0)
				if err != nil {
					b.Fatal(err)
				}
				parts := []engine.PrefillPart{{Seq: s, Tokens: tokens(prompt, 1000+i)}}
				if mixed {
					_, _, err = gpu.StepMixed(batch, rows, parts)
				} else if _, err = gpu.DecodeSampled(batch, rows); err == nil {
					_, err = gpu.PrefillBatch(parts)
				}
				if err != nil {
					b.Fatal(err)
				}
				gpu.FreeSequence(s)
			}
		})
	}
}
