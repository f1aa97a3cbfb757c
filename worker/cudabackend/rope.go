package cudabackend

import (
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// ropeInvFreq is the model's rotation frequencies (model.Hyper.RopeInvFreq), so
// both engines rotate by the same angles.
func ropeInvFreq(h model.Hyper) []float32 {
	return h.RopeInvFreq(0)
}
