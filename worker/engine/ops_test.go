package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
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

// testMatrix encodes values (rows × cols) as typ.
func testMatrix(t *testing.T, typ gguf.GGMLType, rows, cols int, values []float32) *matrix {
	t.Helper()
	data, err := gguf.Quantize(typ, values)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := typ.Kernels()
	if !ok {
		t.Fatalf("%s has no kernels", typ)
	}
	return &matrix{name: "w", typ: typ, rows: rows, cols: cols, rowBytes: len(data) / rows, data: data, k: k}
}

func TestMatmulBias(t *testing.T) {
	// x: 2 tokens × 3; w: 2 rows × 3.
	x := []float32{1, 2, 3, -1, 0, 1}
	w := testMatrix(t, gguf.TypeF32, 2, 3, []float32{1, 0, 1, 0.5, 0.5, 0.5})
	out := make([]float32, 4)
	mm := newMatmul(2, 3, false)
	defer mm.close()
	mm.run(out, x, w, []float32{10, 20}, 2)
	near(t, "matmul", out, []float32{14, 23, 10, 20}, 0)
}

// For every supported type, the parallel product (fused kernel for few tokens,
// a decoded row for more) equals the serial one exactly and a float64 product
// of the decoded weights up to float32 rounding.
func TestMatmulParallelMatchesSerial(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	in, rows := 512, 301 // an odd row count exercises the chunk edges
	for _, typ := range gguf.SupportedTypes() {
		values := make([]float32, rows*in)
		for i := range values {
			values[i] = float32(r.NormFloat64())
		}
		w := testMatrix(t, typ, rows, in, values)
		deq := make([]float32, rows*in)
		if err := gguf.DequantizeInto(typ, deq, w.data); err != nil {
			t.Fatal(err)
		}
		par, ser := newMatmul(3, in, false), newMatmul(1, in, false)
		for _, n := range []int{1, fusedTokens, fusedTokens + 1, 5} {
			x := make([]float32, n*in)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			got, want := make([]float32, n*rows), make([]float32, n*rows)
			par.run(got, x, w, nil, n)
			ser.run(want, x, w, nil, n)
			near(t, typ.String()+" parallel", got, want, 0)
			for t0 := range n {
				for r0 := range rows {
					var s, mag float64
					for k := range in {
						p := float64(x[t0*in+k]) * float64(deq[r0*in+k])
						s += p
						mag += math.Abs(p)
					}
					if math.Abs(s-float64(got[t0*rows+r0])) > 1e-5*mag {
						t.Fatalf("%s n=%d: out[%d][%d] = %v, want %v", typ, n, t0, r0, got[t0*rows+r0], s)
					}
				}
			}
		}
		par.close()
		ser.close()
	}
}

func TestRope(t *testing.T) {
	h := model.Hyper{RopeDim: 4, RopeFreqBase: 10000, RopeFreqScale: 1}
	// Pair frequencies: 1 and 10000^(-2/4) = 0.01. At pos 1 the angles are 1 and 0.01 rad.
	c1, s1 := float32(math.Cos(1)), float32(math.Sin(1))
	c2, s2 := float32(math.Cos(0.01)), float32(math.Sin(0.01))

	h.RopeMode = model.RopeNorm // pairs (0,1), (2,3)
	x := []float32{1, 2, 3, 4}
	newRopeTable(&h, 0).apply(x, 1)
	near(t, "norm", x, []float32{1*c1 - 2*s1, 1*s1 + 2*c1, 3*c2 - 4*s2, 3*s2 + 4*c2}, opTol)

	h.RopeMode = model.RopeNeox // pairs (0,2), (1,3)
	x = []float32{1, 2, 3, 4}
	newRopeTable(&h, 0).apply(x, 1)
	near(t, "neox", x, []float32{1*c1 - 3*s1, 2*c2 - 4*s2, 1*s1 + 3*c1, 2*s2 + 4*c2}, opTol)

	// Llama-3 factors divide each pair's frequency; linear scaling multiplies positions.
	h.RopeMode = model.RopeNorm
	h.RopeFreqFactors = []float32{2, 1}
	h.RopeFreqScale = 0.5
	tab := newRopeTable(&h, 0)
	near(t, "inv freq", tab.invFreq, []float32{0.25, 0.005}, 1e-9)

	x = []float32{1, 2, 3, 4}
	newRopeTable(&h, 0).apply(x, 0)
	near(t, "pos 0 is identity", x, []float32{1, 2, 3, 4}, 0)

	// A windowed layer rotates with its own base and scale (Gemma 3's local layers);
	// the global layer keeps the file's.
	h.RopeFreqFactors, h.RopeFreqScale = nil, 0.5
	h.SlidingWindow, h.SWALayers = 8, []bool{true, false}
	h.RopeFreqBaseSWA, h.RopeFreqScaleSWA = 100, 1
	near(t, "local inv freq", newRopeTable(&h, 0).invFreq, []float32{1, 0.1}, 1e-9)
	near(t, "global inv freq", newRopeTable(&h, 1).invFreq, []float32{0.5, 0.005}, 1e-9)

	// LongRoPE's attention factor scales cos and sin.
	h.SlidingWindow, h.RopeAttnFactor = 0, 2
	x = []float32{1, 2, 3, 4}
	newRopeTable(&h, 0).apply(x, 0)
	near(t, "attn factor at pos 0", x, []float32{2, 4, 6, 8}, 0)
}
