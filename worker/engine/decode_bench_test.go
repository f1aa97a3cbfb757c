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
