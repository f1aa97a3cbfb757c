package engine

import (
	"errors"
	"fmt"
	"math"
)

// ErrNonFinite marks logits with a NaN or an infinity: the forward pass broke
// (bad weights or hyperparameters, an overflow), and sampling from them would
// pick garbage.
var ErrNonFinite = errors.New("the model produced non-finite logits")

// CheckFinite returns an error wrapping ErrNonFinite that names the first NaN
// or infinite logit, or nil.
func CheckFinite(logits []float32) error {
	for i, l := range logits {
		if f := float64(l); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%w (%v for token %d)", ErrNonFinite, l, i)
		}
	}
	return nil
}
