package cudabackend

import (
	"math"

	"github.com/kubeinfer/kubeinfer/worker/model"
)

// ropeInvFreq computes each rotated pair's inverse frequency exactly as the
// CPU engine's rope table does, so both engines rotate by the same angles.
func ropeInvFreq(h model.Hyper) []float32 {
	if h.RopeMode == model.RopeNone || h.Family == model.FamilyGPT {
		return nil
	}
	inv := make([]float32, h.RopeDim/2)
	for i := range inv {
		f := float32(1 / math.Pow(float64(h.RopeFreqBase), float64(2*i)/float64(h.RopeDim)))
		if h.RopeFreqFactors != nil {
			f /= h.RopeFreqFactors[i]
		}
		inv[i] = f * h.RopeFreqScale
	}
	return inv
}
