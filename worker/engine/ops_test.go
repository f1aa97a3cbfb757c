package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/model"
)

// Tolerance for hand-computed float32 results: a few ulps at magnitude ~1.
const opTol = 1e-6

func near(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > tol {
			t.Fatalf("%s[%d] = %v, want %v (all: %v)", what, i, got[i], want[i], got)
		}
	}
}

func TestRMSNorm(t *testing.T) {
	// mean(x²) = (9+16)/2 = 12.5; 1/sqrt(12.5) = 0.28284271
	out := make([]float32, 2)
	rmsNorm(out, []float32{3, 4}, []float32{1, 2}, 0)
	near(t, "rmsnorm", out, []float32{0.84852814, 2.2627417}, opTol)
}

func TestLayerNorm(t *testing.T) {
	// mean 2, var 2/3 → (x-2)/0.81649658; then *w + b
	out := make([]float32, 3)
	layerNorm(out, []float32{1, 2, 3}, []float32{1, 1, 2}, []float32{0, 0.5, 1}, 0)
	near(t, "layernorm", out, []float32{-1.2247449, 0.5, 3.4494897}, opTol)
}

func TestSoftmax(t *testing.T) {
	x := []float32{1, 2, 3}
	softmax(x)
	near(t, "softmax", x, []float32{0.09003057, 0.24472847, 0.66524096}, opTol)
}

func TestActivations(t *testing.T) {
	// silu(1) = 1/(1+e^-1); gelu_tanh(1) = 0.5(1+tanh(0.79788456*1.044715))
	near(t, "silu", []float32{silu(1), silu(-2)}, []float32{0.7310586, -0.23840584}, opTol)
	near(t, "gelu", []float32{gelu(1), gelu(-1), gelu(0)}, []float32{0.8411920, -0.1588080, 0}, opTol)
}

func TestMatmulBias(t *testing.T) {
	// x: 2 tokens × 3; w: 2 rows × 3.
	x := []float32{1, 2, 3, -1, 0, 1}
	w := []float32{1, 0, 1, 0.5, 0.5, 0.5}
	out := make([]float32, 4)
	matmul(out, x, w, []float32{10, 20}, 2, 3, 2)
	near(t, "matmul", out, []float32{14, 23, 10, 20}, 0)
}

func TestMatmulParallelMatchesSerial(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n, in, rows := 3, 37, 301 // odd sizes exercise the chunk edges
	x := make([]float32, n*in)
	w := make([]float32, rows*in)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	par := make([]float32, n*rows)
	ser := make([]float32, n*rows)
	matmul(par, x, w, nil, n, in, rows)
	matmulRows(ser, x, w, nil, n, in, rows, 0, rows)
	near(t, "parallel", par, ser, 0)
	// And against a float64 reference.
	for t0 := range n {
		for r0 := range rows {
			var s float64
			for k := range in {
				s += float64(x[t0*in+k]) * float64(w[r0*in+k])
			}
			if math.Abs(s-float64(par[t0*rows+r0])) > 1e-4 {
				t.Fatalf("out[%d][%d] = %v, want %v", t0, r0, par[t0*rows+r0], s)
			}
		}
	}
}

func TestRope(t *testing.T) {
	h := model.Hyper{RopeDim: 4, RopeFreqBase: 10000, RopeFreqScale: 1}
	// Pair frequencies: 1 and 10000^(-2/4) = 0.01. At pos 1 the angles are 1 and 0.01 rad.
	c1, s1 := float32(math.Cos(1)), float32(math.Sin(1))
	c2, s2 := float32(math.Cos(0.01)), float32(math.Sin(0.01))

	h.RopeMode = model.RopeNorm // pairs (0,1), (2,3)
	x := []float32{1, 2, 3, 4}
	newRopeTable(h).apply(x, 1)
	near(t, "norm", x, []float32{1*c1 - 2*s1, 1*s1 + 2*c1, 3*c2 - 4*s2, 3*s2 + 4*c2}, opTol)

	h.RopeMode = model.RopeNeox // pairs (0,2), (1,3)
	x = []float32{1, 2, 3, 4}
	newRopeTable(h).apply(x, 1)
	near(t, "neox", x, []float32{1*c1 - 3*s1, 2*c2 - 4*s2, 1*s1 + 3*c1, 2*s2 + 4*c2}, opTol)

	// Llama-3 factors divide each pair's frequency; linear scaling multiplies positions.
	h.RopeMode = model.RopeNorm
	h.RopeFreqFactors = []float32{2, 1}
	h.RopeFreqScale = 0.5
	tab := newRopeTable(h)
	near(t, "inv freq", tab.invFreq, []float32{0.25, 0.005}, 1e-9)

	x = []float32{1, 2, 3, 4}
	newRopeTable(h).apply(x, 0)
	near(t, "pos 0 is identity", x, []float32{1, 2, 3, 4}, 0)
}
