package gguf

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkDot measures each type's dot product on a 4096-element row (the
// CPU engine's inner loop); it reports elements per second as MB/s x 1e6.
func BenchmarkDot(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 4096
	w, x := make([]float32, n), make([]float32, n)
	for i := range w {
		w[i] = float32(r.NormFloat64())
		x[i] = float32(r.NormFloat64())
	}
	for _, typ := range SupportedTypes() {
		row, _ := Quantize(typ, w)
		k, _ := typ.Kernels()
		sums := make([]float32, n/16)
		SumsOf16(sums, x)
		b.Run(typ.String(), func(b *testing.B) {
			b.SetBytes(n) // "MB/s" reads as millions of elements per second
			var s float32
			for b.Loop() {
				s += k.Dot(row, x, sums)
			}
			_ = s
		})
	}
}
