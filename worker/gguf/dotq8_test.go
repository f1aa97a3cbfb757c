package gguf

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomBlocks quantizes random values of a few magnitudes to typ, as a model's rows would be.
func randomBlocks(t *testing.T, typ GGMLType, n int, rng *rand.Rand) []byte {
	t.Helper()
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(i/qkK%3-1)))
	}
	raw, err := Quantize(typ, x)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// The AVX2 kernels compute what the Go ones compute: the same integer sums, weighed in float32 in another
// order, so equal to float32 rounding of the terms' magnitude.
func TestAVX2KernelsMatchGo(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2 here: the Go kernels are the only ones")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, blocks := range []int{1, 3, 16, 17, 56} {
		x := make([]float32, blocks*qkK)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		x[5] = 40 // a block whose quants reach 127
		var q Q8K
		QuantizeQ8K(&q, x)
		for _, c := range []struct {
			typ       GGMLType
			avx2, ref func([]byte, *Q8K) float32
		}{{TypeQ4_K, dotQ4_KQ8K, dotQ4_KQ8KGo}, {TypeQ5_K, dotQ5_KQ8K, dotQ5_KQ8KGo}, {TypeQ6_K, dotQ6_KQ8K, dotQ6_KQ8KGo},
			{TypeQ8_0, dotQ8_0Q8K, dotQ8_0Q8KGo}, {TypeQ4_0, dotQ4_0Q8K, dotQ4_0Q8KGo},
			{TypeIQ4_NL, dotIQ4_NLQ8K, dotIQ4_NLQ8KGo}, {TypeIQ4_XS, dotIQ4_XSQ8K, dotIQ4_XSQ8KGo},
			{TypeQ3_K, dotQ3_KQ8K, dotQ3_KQ8KGo}, {TypeQ2_K, dotQ2_KQ8K, dotQ2_KQ8KGo},
			{TypeQ4_1, dotQ4_1Q8K, dotQ4_1Q8KGo}, {TypeQ5_0, dotQ5_0Q8K, dotQ5_0Q8KGo}, {TypeQ5_1, dotQ5_1Q8K, dotQ5_1Q8KGo}} {
			for range 20 {
				row := randomBlocks(t, c.typ, blocks*qkK, rng)
				got, want := c.avx2(row, &q), c.ref(row, &q)
				mag := absDot(t, c.typ, row, &q)
				if d := math.Abs(float64(got - want)); d > 1e-6*mag || math.IsNaN(float64(got)) {
					t.Fatalf("%v, %d blocks: AVX2 %g, Go %g (magnitude %g)", c.typ, blocks, got, want, mag)
				}
			}
		}
	}
}

// absDot is sum |w| * |x| over the dequantized row and the rounded activations.
func absDot(t *testing.T, typ GGMLType, row []byte, q *Q8K) float64 {
	t.Helper()
	w := make([]float32, len(q.Q))
	k, _ := typ.Kernels()
	k.Dequantize(w, row)
	var s float64
	for i, v := range w {
		s += math.Abs(float64(v) * float64(q.D[i/qkK]) * float64(q.Q[i]))
	}
	return s
}

// DotQ8 is the dequantized row times the int8-rounded activations, to fp32 rounding; and it differs from the
// float dot product (Dot) by no more than rounding the activations can move it.
func TestDotQ8(t *testing.T) {
	avx2 := hasAVX2
	defer func() { hasAVX2 = avx2 }()
	for _, hasAVX2 = range []bool{false, avx2} {
		testDotQ8(t)
	}
}

func testDotQ8(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, typ := range []GGMLType{TypeQ4_K, TypeQ5_K, TypeQ6_K, TypeQ8_0, TypeQ4_0, TypeIQ4_NL, TypeIQ4_XS, TypeQ3_K, TypeQ2_K, TypeQ4_1, TypeQ5_0, TypeQ5_1} {
		k, _ := typ.Kernels()
		if k.DotQ8 == nil {
			t.Fatalf("%v has no DotQ8", typ)
		}
		for _, cols := range []int{256, 2048, 14336} {
			row := randomBlocks(t, typ, cols, rng)
			w := make([]float32, cols)
			k.Dequantize(w, row)
			x := make([]float32, cols)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			x[7] = 0
			clear(x[256:min(cols, 512)]) // an all-zero activation block
			var q Q8K
			QuantizeQ8K(&q, x)
			var exact, bound float64
			for i := range x {
				xr := float64(q.D[i/qkK]) * float64(q.Q[i])
				exact += float64(w[i]) * xr
				bound += math.Abs(float64(w[i])) * math.Abs(float64(x[i])-xr)
			}
			got := float64(k.DotQ8(row, &q))
			var mag float64
			for i := range x {
				mag += math.Abs(float64(w[i]) * float64(x[i]))
			}
			if d := math.Abs(got - exact); d > 1e-5*mag {
				t.Errorf("%v (AVX2 %v), %d columns: %g, the float64 product with the rounded activations %g", typ, hasAVX2, cols, got, exact)
			}
			sums := make([]float32, cols/16)
			SumsOf16(sums, x)
			float := float64(k.Dot(row, x, sums))
			if d := math.Abs(got - float); d > bound+1e-5*mag {
				t.Errorf("%v, %d columns: %g against the float dot %g: %g apart, rounding moves it at most %g", typ, cols, got, float, d, bound)
			}
		}
	}
}
