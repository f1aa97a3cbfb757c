package modeltest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

// QuantFixture is the JSON beside each model in worker/testdata/quant (hack/quant/make-fixtures.sh): the prompt
// llama-quantize's model was run on and two independent references for it, llama.cpp's own logits
// (llama-logits) and a float64 forward over ggml's dequantization of the weights.
type QuantFixture struct {
	Name     string `json:"name"`
	Arch     string `json:"arch"`
	FileType string `json:"file_type"`
	IDs      []int  `json:"ids"`
	Float64  struct {
		LastLogits []float32 `json:"last_logits"`
		Greedy     []int     `json:"greedy"`
	} `json:"float64"`
	LlamaCpp struct {
		LastLogits  []float32 `json:"last_logits"`
		Greedy      []int     `json:"greedy"`
		DiffOverStd float64   `json:"diff_over_std"`
	} `json:"llamacpp"`
	TensorTypes map[string]string `json:"tensor_types"`
}

// ReadQuantFixture reads one fixture's JSON.
func ReadQuantFixture(path string) (QuantFixture, error) {
	var fx QuantFixture
	raw, err := os.ReadFile(path)
	if err != nil {
		return fx, err
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		return fx, fmt.Errorf("%s: %w", path, err)
	}
	return fx, nil
}

// QuantTol bounds an engine's logits on a quantized fixture against its references, as DiffOverStd.
//
// llama.cpp's CPU kernels round activations to 8 bits (Q8_0 or Q8_K) before each product with quantized weights,
// and its GELU (gpt2) rounds the input to fp16 and reads a table; the fixtures' prompts are chosen so that its
// logits stay within 0.045 of the float64 reference (each JSON's llamacpp.diff_over_std: 0.015-0.034). An engine
// in float32 is held to this bound against both references; one that rounds activations to int8 blocks as
// llama.cpp does (the CUDA decode matvec) is held to it against the float64 one.
const QuantTol = 0.05

// DiffOverStd is max |got - ref| / std(ref): a logit error in units of the spread of the reference's logits, the
// measure for models whose logits are tens (a difference relative to each logit would judge the ones near zero
// by their absolute error alone).
func DiffOverStd(got, ref []float32) float64 {
	var d float64
	for i, v := range ref {
		diff := math.Abs(float64(got[i]) - float64(v))
		if math.IsNaN(diff) {
			return math.Inf(1)
		}
		d = max(d, diff)
	}
	return d / Std(ref)
}

// Std is the standard deviation of logits.
func Std(logits []float32) float64 {
	var mean, ss float64
	for _, v := range logits {
		mean += float64(v)
	}
	mean /= float64(len(logits))
	for _, v := range logits {
		ss += (float64(v) - mean) * (float64(v) - mean)
	}
	return math.Sqrt(ss / float64(len(logits)))
}

// FollowGreedy walks a reference's greedy continuation ref from logits, an engine's at the last prompt
// position: each step's argmax must be the reference's token unless the engine's logits hold that token within
// QuantTol of their spread of their best (a near-tie, which rounding may break either way: counted in flips).
// The reference's token is fed on either way; next returns the logits after it.
func FollowGreedy(t testing.TB, logits []float32, ref []int, next func(tok int) []float32) (flips int) {
	t.Helper()
	for i, want := range ref {
		if got := argmax(logits); got != want {
			if gap := float64(logits[got] - logits[want]); gap > QuantTol*Std(logits) {
				t.Errorf("greedy step %d: %d, reference %d (%.3g apart, std %.3g)", i, got, want, gap, Std(logits))
			}
			flips++
		}
		if i < len(ref)-1 {
			logits = next(want)
		}
	}
	return flips
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
