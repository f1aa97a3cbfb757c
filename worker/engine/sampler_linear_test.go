package engine

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// refKept is what the sampler keeps, written the plain way: bias and penalties, temperature, a stable sort of
// the whole vocabulary by logit, top-k, softmax, the top-p prefix, min-p. It returns each kept token's
// probability.
func refKept(p SamplingParams, logits []float32, history []int, mask []uint64) map[int]float64 {
	w := append([]float32(nil), logits...)
	for id, b := range p.LogitBias {
		w[id] += b
	}
	applyPenalties(p, w, history)
	var c []candidate
	for id, l := range w {
		if mask == nil || allowed(mask, id) {
			c = append(c, candidate{id: id, l: l})
		}
	}
	sort.SliceStable(c, func(a, b int) bool { return c[a].l > c[b].l })
	if p.TopK > 0 && p.TopK < len(c) {
		c = c[:p.TopK]
	}
	var sum float64
	for i := range c {
		c[i].p = math.Exp((float64(c[i].l) - float64(c[0].l)) / float64(p.Temperature))
		sum += c[i].p
	}
	for i := range c {
		c[i].p /= sum
	}
	if p.TopP > 0 && p.TopP < 1 {
		var cum float64
		for i := range c {
			if cum += c[i].p; cum >= float64(p.TopP) {
				c = c[:i+1]
				break
			}
		}
	}
	if p.MinP > 0 {
		floor := c[0].p * float64(p.MinP)
		n := 1
		for n < len(c) && c[n].p >= floor {
			n++
		}
		c = c[:n]
	}
	out := map[int]float64{}
	sum = 0
	for _, x := range c {
		sum += x.p
	}
	for _, x := range c {
		out[x.id] = x.p / sum
	}
	return out
}

// TestSamplerKeepsWhatASortKeeps holds the linear-time sampler to the sort-based definition over random
// vocabularies (ties included), temperatures, top-k, top-p, min-p, masks, penalties and biases: the same tokens
// with the same probabilities, but for those the cutoff leaves out (under e^-40 of the best, by design).
func TestSamplerKeepsWhatASortKeeps(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	temps := []float32{0.3, 0.7, 1, 1.5}
	topKs := []int{0, 1, 2, 7, 60, 1999, 2500}
	topPs := []float32{0, 0.05, 0.5, 0.9, 0.99, 1}
	minPs := []float32{0, 0.02, 0.3}
	cut := 0
	for trial := range 400 {
		vocab := 2000
		logits := make([]float32, vocab)
		for i := range logits {
			logits[i] = float32(math.Round(rng.NormFloat64()*30) / 10) // rounded: many equal logits, ties broken by id
		}
		p := SamplingParams{Temperature: temps[trial%4], TopK: topKs[rng.IntN(len(topKs))], TopP: topPs[rng.IntN(len(topPs))],
			MinP: minPs[rng.IntN(len(minPs))], Seed: uint64(trial)}
		var history []int
		if trial%3 == 0 {
			p.RepetitionPenalty, p.PresencePenalty = 1.3, 0.2
			for range 30 {
				history = append(history, rng.IntN(vocab))
			}
		}
		if trial%5 == 0 {
			p.LogitBias = map[int]float32{rng.IntN(vocab): 5, rng.IntN(vocab): -100}
		}
		var mask []uint64
		if trial%4 == 1 {
			mask = make([]uint64, (vocab+63)/64)
			for id := range vocab {
				if rng.IntN(3) > 0 {
					mask[id>>6] |= 1 << (id & 63)
				}
			}
		}
		want := refKept(p, logits, history, mask)
		s := NewSampler(p)
		c, pick := s.candidates(logits, history, mask)
		if c == nil {
			t.Fatalf("trial %d: nothing to draw from (picked %d) with %+v", trial, pick, p)
		}
		var sum float64
		for _, x := range c {
			sum += x.p
		}
		got := map[int]float64{}
		for _, x := range c {
			if _, dup := got[x.id]; dup {
				t.Fatalf("trial %d: token %d kept twice", trial, x.id)
			}
			got[x.id] = x.p / sum
		}
		for id, pr := range got {
			w, ok := want[id]
			if !ok || math.Abs(pr-w) > 1e-12+1e-9*w {
				t.Fatalf("trial %d (%+v): token %d has probability %g, the sort gives %g (kept %v)", trial, p, id, pr, w, ok)
			}
		}
		for id, w := range want {
			if _, ok := got[id]; !ok {
				if w > 1e-15 {
					t.Fatalf("trial %d (%+v): token %d (probability %g) left out", trial, p, id, w)
				}
				cut++
			}
		}
		// Draws come from the kept tokens.
		if tok := s.SampleMasked(logits, history, mask); want[tok] == 0 {
			t.Fatalf("trial %d: drew token %d, which the sort does not keep", trial, tok)
		}
	}
	if cut == 0 {
		t.Fatalf("no token fell under the cutoff: the comparison did not cover it")
	}
}

// BenchmarkSample128k is one sampled token from a Llama 3-sized vocabulary with the host sampler.
func BenchmarkSample128k(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	logits := make([]float32, 128256)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 3)
	}
	for _, c := range []struct {
		name string
		p    SamplingParams
	}{{"temperature=1", SamplingParams{Temperature: 1}}, {"top_p=0.9", SamplingParams{Temperature: 0.7, TopP: 0.9}},
		{"top_k=40", SamplingParams{Temperature: 0.8, TopK: 40}}} {
		s := NewSampler(c.p)
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				s.Sample(logits, nil)
			}
		})
	}
}

// Rows a caller should have refused (NaN, +Inf) or that ban every token (-Inf) still give a token id, not a
// panic: the best one, as greedy picks it.
func TestSamplerSurvivesNonFiniteRows(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, logits := range [][]float32{{nan, 1, 2}, {1, inf, 2}, {-inf, -inf, -inf}, {nan, nan, nan}} {
		tok := NewSampler(SamplingParams{Temperature: 1, TopP: 0.9, Seed: 1}).Sample(logits, nil)
		if tok < 0 || tok >= len(logits) {
			t.Errorf("%v: token %d", logits, tok)
		}
	}
}
