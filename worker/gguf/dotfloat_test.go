package gguf

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// The float kernels (AVX2 where the processor has it, Go for the rest of a row) against the Go ones alone:
// conversions bit for bit (every 16-bit pattern but NaNs, which stay NaN), dot products to float32 rounding of
// the sum of |w·x|, at lengths around the 32-value vectors and a long row.
func TestFloatKernelsMatchGo(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2 here: the Go kernels are the only ones")
	}
	all := make([]byte, 2<<16)
	for i := range 1 << 16 {
		binary.LittleEndian.PutUint16(all[2*i:], uint16(i))
	}
	for _, c := range []struct {
		name      string
		fast, ref func([]float32, []byte)
	}{{"F16", dequantF16, dequantF16Go}, {"BF16", dequantBF16, dequantBF16Go}} {
		got, want := make([]float32, 1<<16), make([]float32, 1<<16)
		c.fast(got, all)
		c.ref(want, all)
		for i := range got {
			g, w := got[i], want[i]
			if math.IsNaN(float64(w)) != math.IsNaN(float64(g)) || (!math.IsNaN(float64(w)) && math.Float32bits(g) != math.Float32bits(w)) {
				t.Fatalf("%s %#04x: %g (%#08x), Go %g (%#08x)", c.name, i, g, math.Float32bits(g), w, math.Float32bits(w))
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 31, 32, 33, 64, 100, 4103} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		for _, c := range []struct {
			typ       GGMLType
			fast, ref func([]byte, []float32, []float32) float32
		}{{TypeF32, dotF32, dotF32Go}, {TypeF16, dotF16, dotF16Go}, {TypeBF16, dotBF16, dotBF16Go}} {
			k, _ := c.typ.Kernels()
			w := make([]float32, n)
			for i := range w {
				w[i] = float32(rng.NormFloat64())
			}
			row := make([]byte, n*int(c.typ.BlockBytes()))
			c.typ.row().quantize(row, w)
			k.Dequantize(w, row) // the values the row holds
			var mag float64
			for i := range w {
				mag += math.Abs(float64(w[i]) * float64(x[i]))
			}
			got, want := c.fast(row, x, nil), c.ref(row, x, nil)
			if d := math.Abs(float64(got - want)); d > 1e-6*mag || math.IsNaN(float64(got)) {
				t.Fatalf("%v, %d values: AVX2 %g, Go %g (magnitude %g)", c.typ, n, got, want, mag)
			}
			if c.typ == TypeF32 {
				if d := math.Abs(float64(DotF32(w, x) - want)); d > 1e-6*mag {
					t.Fatalf("DotF32, %d values: %g, Go %g", n, DotF32(w, x), want)
				}
			}
		}
	}
}
