package engine

import (
	"os"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/model"
)

// BenchmarkDecode decodes one token at a time on the model named by
// KUBEINFER_BENCH_MODEL (e.g. written by kubeinfer-worker bench --synthetic),
// for profiles of the CPU engine: go test ./worker/engine -run - -bench Decode -cpuprofile cpu.out
// (float: float32 activations; int8: CPUOptions.MatvecInt8).
func BenchmarkDecode(b *testing.B) {
	for _, c := range []struct {
		name string
		int8 bool
	}{{"float", false}, {"int8", true}} {
		b.Run(c.name, func(b *testing.B) { benchmarkDecode(b, c.int8) })
	}
}

func benchmarkDecode(b *testing.B, int8 bool) {
	c, _ := benchCPU(b, int8)
	seq, err := c.NewSequence(4096)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Prefill(seq, []int{1, 2, 3, 4}, false); err != nil {
		b.Fatal(err)
	}
	tok := 5
	for b.Loop() {
		out, err := c.Decode([]DecodeInput{{Seq: seq, Token: tok}})
		if err != nil {
			b.Fatal(err)
		}
		tok = argmax(out[0])
	}
}

// BenchmarkPrefill prefills a 64-token prompt into a new sequence on the model
// named by KUBEINFER_BENCH_MODEL, with the int8 products (the default), for
// profiles of the prefill path: go test ./worker/engine -run - -bench Prefill -cpuprofile cpu.out
func BenchmarkPrefill(b *testing.B) {
	c, m := benchCPU(b, true)
	prompt := make([]int, 64)
	for i := range prompt {
		prompt[i] = (i*7919 + 1) % m.Hyper.VocabSize
	}
	for b.Loop() {
		seq, err := c.NewSequence(len(prompt))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Prefill(seq, prompt, false); err != nil {
			b.Fatal(err)
		}
		c.FreeSequence(seq)
	}
}

// BenchmarkPrefillBatch prefills 8 prompts of 16 tokens (a burst of short chat turns) on the model named by
// KUBEINFER_BENCH_MODEL, one Prefill call each (separate) or one PrefillBatch call (batched), and reports
// prompt tokens a second: go test ./worker/engine -run - -bench PrefillBatch
func BenchmarkPrefillBatch(b *testing.B) {
	c, m := benchCPU(b, true)
	const prompts, length = 8, 16
	parts := make([]PrefillPart, prompts)
	for p := range parts {
		parts[p].Tokens = make([]int, length)
		for i := range parts[p].Tokens {
			parts[p].Tokens[i] = (p*length*7919 + i*31 + 1) % m.Hyper.VocabSize
		}
	}
	for _, batched := range []bool{false, true} {
		name := map[bool]string{false: "separate", true: "batched"}[batched]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				for p := range parts {
					seq, err := c.NewSequence(length)
					if err != nil {
						b.Fatal(err)
					}
					parts[p].Seq = seq
				}
				if batched {
					if _, err := c.PrefillBatch(parts); err != nil {
						b.Fatal(err)
					}
				} else {
					for _, p := range parts {
						if _, err := c.Prefill(p.Seq, p.Tokens, false); err != nil {
							b.Fatal(err)
						}
					}
				}
				for _, p := range parts {
					c.FreeSequence(p.Seq)
				}
			}
			b.ReportMetric(float64(prompts*length)*float64(b.N)/b.Elapsed().Seconds(), "prompt-tok/s")
		})
	}
}

// benchCPU is a CPU engine (closed with the benchmark) on the model named by KUBEINFER_BENCH_MODEL.
func benchCPU(b *testing.B, int8 bool) (*CPU, *model.Model) {
	path := os.Getenv("KUBEINFER_BENCH_MODEL")
	if path == "" {
		b.Skip("KUBEINFER_BENCH_MODEL is not set")
	}
	m, err := model.Load(path, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	c, err := NewCPU(m, CPUOptions{KVCacheTokens: 4096, MatvecInt8: int8})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c, m
}
