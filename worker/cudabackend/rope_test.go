package cudabackend

import (
	"testing"

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
