package engine

import (
	"math"
	"sort"
)

// MaxTopLogprobs is the most alternatives a token's logprobs list (the
// OpenAI API's top_logprobs limit), on the host and on a LogprobDecoder.
const MaxTopLogprobs = 20

// IDLogprob is one token id and its log-probability.
type IDLogprob struct {
	ID      int
	Logprob float32
}

// RowLogprobs is one decode row's logprobs: the picked token's and the best
// alternatives, best first.
type RowLogprobs struct {
	Chosen float32
	Top    []IDLogprob
}

// Logprobs is the log-softmax of logits at tok (float64 sums, as the values
// the API returns) and at the n tokens of the highest logits, best first,
// ties to the lower id; the reference a LogprobDecoder is checked against.
// NaN logits are left out of the sum and never among the best, as on the
// device (the sampler refuses such a row anyway).
func Logprobs(logits []float32, tok, n int) RowLogprobs {
	m := float32(math.Inf(-1))
	for _, l := range logits {
		if l > m { // false for NaN (the builtin max would return it)
			m = l
		}
	}
	var sum float64
	for _, l := range logits {
		if !math.IsNaN(float64(l)) {
			sum += math.Exp(float64(l - m))
		}
	}
	lse := float64(m) + math.Log(sum)
	lp := func(id int) float32 { return float32(float64(logits[id]) - lse) }
	out := RowLogprobs{Chosen: lp(tok)}
	if n <= 0 {
		return out
	}
	best := make([]int, 0, n+1)
	for id, l := range logits {
		if math.IsNaN(float64(l)) || len(best) == n && l <= logits[best[n-1]] {
			continue
		}
		i := sort.Search(len(best), func(i int) bool { return logits[best[i]] < l })
		best = append(best, 0)
		copy(best[i+1:], best[i:])
		best[i] = id
		if len(best) > n {
			best = best[:n]
		}
	}
	out.Top = make([]IDLogprob, len(best))
	for i, id := range best {
		out.Top[i] = IDLogprob{ID: id, Logprob: lp(id)}
	}
	return out
}
