package cudabackend

import (
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

func TestRopeInvFreqMatchesCPUFormula(t *testing.T) {
	h := model.Hyper{Family: model.FamilyLlama, RopeMode: model.RopeNorm, RopeDim: 8, RopeFreqBase: 10000,
		RopeFreqScale: 0.5, RopeFreqFactors: []float32{1, 2, 4, 8}}
	got := ropeInvFreq(h)
	want := []float32{1 * 0.5, 0.1 / 2 * 0.5, 0.01 / 4 * 0.5, 0.001 / 8 * 0.5}
	for i := range want {
		if d := got[i] - want[i]; d > 1e-9 || d < -1e-9 {
			t.Errorf("inv_freq[%d] = %g, want %g", i, got[i], want[i])
		}
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
