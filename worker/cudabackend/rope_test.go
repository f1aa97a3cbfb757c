package cudabackend

import (
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// Each layer's table, one after another: a windowed layer rotates with the window's base and scale (Gemma 3's
// local layers), the others with the model's.
func TestRopeInvFreqMatchesCPUFormula(t *testing.T) {
	h := model.Hyper{Family: model.FamilyLlama, Blocks: 2, RopeMode: model.RopeNorm, RopeDim: 8, RopeFreqBase: 10000,
		RopeFreqScale: 0.5, RopeFreqFactors: []float32{1, 2, 4, 8}, RopeFreqBaseSWA: 100, RopeFreqScaleSWA: 1,
		SlidingWindow: 6, SWALayers: []bool{false, true}}
	got := ropeInvFreq(h)
	want := []float32{1 * 0.5, 0.1 / 2 * 0.5, 0.01 / 4 * 0.5, 0.001 / 8 * 0.5, // base 10000: 10000^(-2i/8) / factor × scale
		1, 0.31622777 / 2, 0.1 / 4, 0.031622777 / 8} // base 100, scale 1
	if len(got) != len(want) {
		t.Fatalf("%d frequencies, want %d", len(got), len(want))
	}
	for i := range want {
		if d := (got[i] - want[i]) / want[i]; d > 1e-6 || d < -1e-6 {
			t.Errorf("inv_freq[%d] = %g, want %g", i, got[i], want[i])
		}
	}
	if w := layerWindows(h); len(w) != 2 || w[0] != 0 || w[1] != 6 {
		t.Errorf("layer windows %v, want [0 6]", w)
	}
	h.SlidingWindow = 0
	if w := layerWindows(h); w != nil {
		t.Errorf("layer windows %v without a sliding window, want none", w)
	}
}

// sameType skips absent tensors wherever they are (GPT-2 has no gate, llama no fused qkv).
func TestSameType(t *testing.T) {
	q8 := &model.Tensor{Info: gguf.TensorInfo{Type: gguf.TypeQ8_0}}
	q4 := &model.Tensor{Info: gguf.TensorInfo{Type: gguf.TypeQ4_K}}
	for _, c := range []struct {
		ts   []*model.Tensor
		want bool
	}{
		{[]*model.Tensor{nil, q4}, true}, {[]*model.Tensor{nil, nil, nil}, true}, {[]*model.Tensor{q4, nil, q4}, true},
		{[]*model.Tensor{q4, q8}, false}, {[]*model.Tensor{nil, q4, q8}, false},
	} {
		if got := sameType(c.ts...); got != c.want {
			t.Errorf("sameType(%v) = %v", c.ts, got)
		}
	}
}
