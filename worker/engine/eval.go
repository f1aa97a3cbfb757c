package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// Score is how well a model predicts a token sequence: the summed negative
// log-likelihood of every predicted token, in nats.
type Score struct {
	NLL         float64
	Predictions int
	Windows     int
}

// Loss is the mean cross-entropy in nats per predicted token.
func (s Score) Loss() float64 { return s.NLL / float64(s.Predictions) }

// Perplexity is exp(Loss).
func (s Score) Perplexity() float64 { return math.Exp(s.Loss()) }

// CrossEntropy scores ids the way hack/train/train.py does: ids are cut into
// consecutive windows of window tokens (the last may be shorter), each window
// runs from position 0 in a fresh sequence, and every token after the first
// of its window is predicted from the ones before it. The last token of a
// window is only predicted, never fed, so a window may be one token longer
// than the context. A last window of one token predicts nothing and is
// skipped. window <= 0 means the context length plus one.
func CrossEntropy(ctx context.Context, b Backend, ids []int, window int) (Score, error) {
	var s Score
	ctxLen := b.Model().Hyper.ContextLength
	if window <= 0 {
		window = ctxLen + 1
	}
	if window > ctxLen+1 {
		return s, fmt.Errorf("window of %d tokens needs %d positions; the model's context has %d", window, window-1, ctxLen)
	}
	if window < 2 {
		return s, errors.New("window must be at least 2 tokens")
	}
	for start := 0; start < len(ids); start += window {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		w := ids[start:min(start+window, len(ids))]
		if len(w) < 2 {
			break
		}
		nll, err := windowNLL(b, w)
		if err != nil {
			return s, err
		}
		s.NLL += nll
		s.Predictions += len(w) - 1
		s.Windows++
	}
	if s.Predictions == 0 {
		return s, fmt.Errorf("%d tokens: nothing to predict", len(ids))
	}
	return s, nil
}

// windowNLL feeds w but its last token and sums -log p(w[i+1] | w[:i+1]).
func windowNLL(b Backend, w []int) (float64, error) {
	in := w[:len(w)-1]
	seq, err := b.NewSequence(len(in))
	if err != nil {
		return 0, err
	}
	defer b.FreeSequence(seq)
	logits, err := b.Prefill(seq, in, true)
	if err != nil {
		return 0, err
	}
	var nll float64
	for i := range in {
		nll += logSumExp(logits[i]) - float64(logits[i][w[i+1]])
	}
	return nll, nil
}

// logSumExp is log(sum(exp(x))) in float64.
func logSumExp(x []float32) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, float64(v))
	}
	var sum float64
	for _, v := range x {
		sum += math.Exp(float64(v) - m)
	}
	return m + math.Log(sum)
}
