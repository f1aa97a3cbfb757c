package engine

import (
	"math"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// The ops work on float32 slices with float32 accumulation, as the reference
// implementations (PyTorch fp32, ggml CPU) do; norms and softmax accumulate
// in float64 because they are cheap and that keeps them closest to exact.

// dot is a·b in float32 (gguf's kernel: AVX2 where the processor has it).
func dot(a, b []float32) float32 { return gguf.DotF32(a, b) }

// rmsNorm writes x / sqrt(mean(x²) + eps) * w.
func rmsNorm(out, x, w []float32, eps float32) {
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	scale := float32(1 / math.Sqrt(ss/float64(len(x))+float64(eps)))
	for i, v := range x {
		out[i] = v * scale * w[i]
	}
}

// layerNorm writes (x - mean) / sqrt(var + eps) * w + b (biased variance, as torch).
func layerNorm(out, x, w, b []float32, eps float32) {
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := sum / float64(len(x))
	var ss float64
	for _, v := range x {
		d := float64(v) - mean
		ss += d * d
	}
	inv := 1 / math.Sqrt(ss/float64(len(x))+float64(eps))
	for i, v := range x {
		out[i] = float32((float64(v)-mean)*inv)*w[i] + b[i]
	}
}

// softmax normalizes x in place.
func softmax(x []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	var sum float64
	for i, v := range x {
		e := math.Exp(float64(v - m))
		x[i] = float32(e)
		sum += e
	}
	inv := 1 / sum
	for i := range x {
		x[i] = float32(float64(x[i]) * inv)
	}
}

func silu(x float32) float32 { return x / (1 + float32(math.Exp(-float64(x)))) }

// geluErf is the exact GELU, x·Φ(x), as torch's "gelu" computes it.
func geluErf(x float32) float32 {
	xf := float64(x)
	return float32(0.5 * xf * (1 + math.Erf(xf/math.Sqrt2)))
}

// activation returns the MLP nonlinearity a of the model.
func activation(a model.Activation) func(float32) float32 {
	switch a {
	case model.ActGELUTanh:
		return gelu
	case model.ActGELU:
		return geluErf
	}
	return silu
}

// softcap squashes x to (-limit, limit): limit·tanh(x/limit).
func softcap(x, limit float32) float32 {
	return float32(float64(limit) * math.Tanh(float64(x)/float64(limit)))
}

// gelu is the tanh approximation GPT-2 ("gelu_new") and ggml use.
func gelu(x float32) float32 {
	const c = 0.7978845608028654 // sqrt(2/pi)
	xf := float64(x)
	return float32(0.5 * xf * (1 + math.Tanh(c*(xf+0.044715*xf*xf*xf))))
}

// ropeTable is one layer's rotation: each rotated pair's inverse frequency
// (model.Hyper.RopeInvFreq) and the factor on cos and sin.
type ropeTable struct {
	mode    model.RopeMode
	dim     int       // rotated dimensions per head
	invFreq []float32 // per pair
	mscale  float32
}

func newRopeTable(h *model.Hyper, layer int) ropeTable {
	t := ropeTable{mode: h.RopeMode, dim: h.RopeDim, invFreq: h.RopeInvFreq(layer), mscale: h.RopeAttnFactor}
	if t.mscale == 0 { // a Hyper made by hand
		t.mscale = 1
	}
	return t
}

// apply rotates one head vector in place for position pos.
func (t ropeTable) apply(head []float32, pos int) {
	half := t.dim / 2
	for i, f := range t.invFreq {
		theta := float64(float32(pos) * f)
		sin, cos := math.Sincos(theta)
		c, s := float32(cos), float32(sin)
		if t.mscale != 1 {
			c, s = c*t.mscale, s*t.mscale
		}
		var a, b int
		if t.mode == model.RopeNorm {
			a, b = 2*i, 2*i+1
		} else {
			a, b = i, i+half
		}
		x0, x1 := head[a], head[b]
		head[a] = x0*c - x1*s
		head[b] = x0*s + x1*c
	}
}
