package engine

import (
	"errors"
	"fmt"
	"math"
)

// Pooling is how the hidden states of an input's tokens become one
// embedding, with llama.cpp's numbering of the GGUF key {arch}.pooling_type.
type Pooling int

const (
	PoolingNone Pooling = 0 // generation, not embedding
	PoolingMean Pooling = 1
	PoolingCLS  Pooling = 2 // the first token's
	PoolingLast Pooling = 3
)

func (p Pooling) String() string {
	switch p {
	case PoolingMean:
		return "mean"
	case PoolingCLS:
		return "cls"
	case PoolingLast:
		return "last"
	}
	return "none"
}

// Reads says whether pooling reads the hidden state of token i of n: every token's for mean, the first's for
// CLS, the last's for last (a backend computes only those).
func (p Pooling) Reads(i, n int) bool {
	return p == PoolingMean || (p == PoolingCLS && i == 0) || (p == PoolingLast && i == n-1)
}

// Embedder is implemented by backends that return hidden states. Embed
// appends tokens to a new sequence (as Prefill does) and returns the final
// normed hidden states (what the output projection would read) pooled by
// pool and scaled to unit length.
type Embedder interface {
	Embed(seq SeqID, tokens []int, pool Pooling) ([]float32, error)
}

// ErrNoEmbeddings is returned for a backend that is not an Embedder.
var ErrNoEmbeddings = errors.New("the engine does not compute embeddings")

// PoolRows pools rows (one hidden state per token, each dim floats) and
// normalizes the result to unit L2 norm.
func PoolRows(rows []float32, dim int, pool Pooling) ([]float32, error) {
	n := len(rows) / dim
	if n == 0 || len(rows)%dim != 0 {
		return nil, fmt.Errorf("pool: %d floats are not rows of %d", len(rows), dim)
	}
	out := make([]float32, dim)
	switch pool {
	case PoolingMean:
		acc := make([]float64, dim)
		for r := range n {
			for i, v := range rows[r*dim : (r+1)*dim] {
				acc[i] += float64(v)
			}
		}
		for i := range out {
			out[i] = float32(acc[i] / float64(n))
		}
	case PoolingCLS:
		copy(out, rows[:dim])
	case PoolingLast:
		copy(out, rows[(n-1)*dim:])
	default:
		return nil, fmt.Errorf("pool: pooling %s gives no single embedding", pool)
	}
	var ss float64
	for _, v := range out {
		ss += float64(v) * float64(v)
	}
	if math.IsNaN(ss) || math.IsInf(ss, 0) {
		return nil, fmt.Errorf("pool: %w (in the hidden states)", ErrNonFinite)
	}
	if ss == 0 {
		return nil, errors.New("pool: the embedding is zero")
	}
	inv := float32(1 / math.Sqrt(ss))
	for i := range out {
		out[i] *= inv
	}
	return out, nil
}
