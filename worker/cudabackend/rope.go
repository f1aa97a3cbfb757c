package cudabackend

import (
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// ropeInvFreq is each layer's rotation frequencies (model.Hyper.RopeInvFreq),
// one table after another as kic_model_config.rope_inv_freq has them, so both
// engines rotate by the same angles; nil without RoPE.
func ropeInvFreq(h model.Hyper) []float32 {
	if h.RopeMode == model.RopeNone {
		return nil
	}
	out := make([]float32, 0, h.Blocks*h.RopeDim/2)
	for i := range h.Blocks {
		out = append(out, h.RopeInvFreq(i)...)
	}
	return out
}

// layerWindows is how many positions each layer attends to (model.Hyper.Window,
// 0 for all), as kic_model_config.layer_window has them; nil without a sliding
// window.
func layerWindows(h model.Hyper) []int32 {
	if h.SlidingWindow <= 0 {
		return nil
	}
	out := make([]int32, h.Blocks)
	for i := range out {
		out[i] = int32(h.Window(i))
	}
	return out
}
