package engine

import (
	"math"
	"math/bits"
)

// SamplingParams chooses how the next token is picked from logits. The zero
// value is greedy decoding with no penalties.
type SamplingParams struct {
	// Temperature divides logits before softmax; <= 0 means greedy (argmax).
	Temperature float32
	// TopK keeps the K most likely tokens; 0 disables.
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability
	// reaches P; 0 or >= 1 disables.
	TopP float32
	// MinP drops tokens whose probability is below MinP times the most
	// likely token's; 0 disables.
	MinP float32
	// RepetitionPenalty divides positive and multiplies negative logits of
	// tokens already seen (CTRL-style, as llama.cpp and HF); 0 or 1 disables.
	RepetitionPenalty float32
	// PresencePenalty is subtracted once from each seen token's logit and
	// FrequencyPenalty once per occurrence (OpenAI semantics).
	PresencePenalty  float32
	FrequencyPenalty float32
	// PenaltyLastN limits the penalties to the last N tokens of the
	// history; 0 means the whole history.
	PenaltyLastN int
	// Seed makes sampling reproducible: the same seed, logits and history
	// give the same tokens.
	Seed uint64
	// LogitBias is added to the logits of the tokens it names before
	// anything else (OpenAI's logit_bias): -100 all but bans a token, 100 all
	// but forces it.
	LogitBias map[int]float32
}

// Greedy says whether the parameters pick the plain argmax of the logits:
// temperature <= 0 and no penalty that would move a logit first.
func (p SamplingParams) Greedy() bool {
	return p.Temperature <= 0 && (p.RepetitionPenalty == 0 || p.RepetitionPenalty == 1) &&
		p.PresencePenalty == 0 && p.FrequencyPenalty == 0 && len(p.LogitBias) == 0
}

// Constraint limits which tokens may come next (structured output: a
// grammar's matcher). Allowed is a bitset over the vocabulary (bit id of word
// id/64); Accept advances past the token picked; Done says nothing but the
// end may follow.
type Constraint interface {
	Allowed() ([]uint64, error)
	Accept(tok int) error
	Done() bool
}

func allowed(mask []uint64, id int) bool { return mask[id>>6]&(1<<(id&63)) != 0 }

// Sampler picks tokens. It owns its random state, so it is not safe for
// concurrent use; make one per request.
type Sampler struct {
	p   SamplingParams
	rng rng
	// scratch reused between calls: a vocabulary-sized copy of the logits and the candidates kept
	work []float32
	cand []candidate
}

type candidate struct {
	id int
	l  float32 // logit after bias and penalties: the order (higher first, then lower id)
	p  float64 // weight exp((l - best) / temperature), proportional to the probability
}

// better orders candidates as a stable sort by logit, highest first, would.
func better(a, b candidate) bool { return a.l > b.l || a.l == b.l && a.id < b.id }

// NewSampler returns a sampler for p.
func NewSampler(p SamplingParams) *Sampler {
	return &Sampler{p: p, rng: newRNG(p.Seed)}
}

// Sample returns the next token for logits given the tokens so far (prompt
// and generated; used only for penalties). logits is not modified.
//
// The order is penalties, temperature, top-k, top-p, min-p, then a draw, as
// in HF transformers and vLLM: temperature first means top-p and min-p see
// the distribution that is actually sampled from.
func (s *Sampler) Sample(logits []float32, history []int) int {
	return s.SampleMasked(logits, history, nil)
}

// sampleCutoff is how far below the best logit, in units of the temperature, a
// token is left out of sampling: its probability is under e^-40 (4e-18) of the
// best's, so a whole vocabulary of them moves no draw.
const sampleCutoff = 40

// SampleMasked is Sample among the tokens mask allows (nil: all). It
// returns -1 when the mask allows no token of logits.
//
// Every step is linear in the vocabulary: a sort of all of it took ~100 ms a
// token at Llama 3's 128k (the OpenAI default, temperature 1, sampled here
// whenever the logits come to the host). Top-k and top-p select their tokens
// by partitioning (nucleus, selectBest) instead, and the draw walks the kept
// tokens in the order that left them, which the same logits always give.
func (s *Sampler) SampleMasked(logits []float32, history []int, mask []uint64) int {
	c, pick := s.candidates(logits, history, mask)
	if c == nil {
		return pick
	}
	r := s.rng.float64() * weightSum(c)
	for _, x := range c {
		r -= x.p
		if r < 0 {
			return x.id
		}
	}
	return c[len(c)-1].id
}

// candidates is what SampleMasked draws from: the tokens kept, with their weights; or, when nothing is
// left to draw (greedy, or no token allowed), nil and the token.
func (s *Sampler) candidates(logits []float32, history []int, mask []uint64) ([]candidate, int) {
	p := s.p
	if p.Greedy() {
		return nil, argmaxMasked(logits, mask)
	}
	w := append(s.work[:0], logits...)
	s.work = w
	for id, b := range p.LogitBias {
		if id >= 0 && id < len(w) {
			w[id] += b
		}
	}
	applyPenalties(p, w, history)
	best := argmaxMasked(w, mask)
	// Nothing to draw from: greedy, no token allowed, or no finite best logit (callers check logits with
	// CheckFinite first; -Inf everywhere means every allowed token is banned).
	if best < 0 || p.Temperature <= 0 || math.IsInf(float64(w[best]), 0) || math.IsNaN(float64(w[best])) {
		return nil, best
	}
	top, t := float64(w[best]), float64(p.Temperature)
	cut := top - sampleCutoff*t
	s.cand = s.cand[:0]
	for id, l := range w {
		if float64(l) >= cut && (mask == nil || allowed(mask, id)) {
			s.cand = append(s.cand, candidate{id: id, l: l, p: math.Exp((float64(l) - top) / t)})
		}
	}
	c := s.cand
	if len(c) == 0 { // NaNs left none above the cutoff
		return nil, best
	}
	if p.TopK > 0 && p.TopK < len(c) {
		selectBest(c, p.TopK)
		c = c[:p.TopK]
	}
	if p.TopP > 0 && p.TopP < 1 {
		c = c[:nucleus(c, float64(p.TopP)*weightSum(c))]
	}
	if p.MinP > 0 {
		// The best token is still in c (top-k and top-p keep it): weights are relative to its 1.
		floor := float64(p.MinP)
		kept := c[:0]
		for _, x := range c {
			if x.p >= floor {
				kept = append(kept, x)
			}
		}
		c = kept
	}
	return c, -1
}

func weightSum(c []candidate) float64 {
	var sum float64
	for _, x := range c {
		sum += x.p
	}
	return sum
}

// partition orders c around a pivot (the median of its first, middle and last
// candidates): the candidates better than the pivot, the pivot at the index
// returned, then the worse ones.
func partition(c []candidate) int {
	last, mid := len(c)-1, len(c)/2
	if better(c[mid], c[0]) {
		c[mid], c[0] = c[0], c[mid]
	}
	if better(c[last], c[0]) {
		c[last], c[0] = c[0], c[last]
	}
	if better(c[last], c[mid]) {
		c[last], c[mid] = c[mid], c[last]
	}
	c[mid], c[last] = c[last], c[mid] // the median is the pivot, at the end
	i := 0
	for k := range last {
		if better(c[k], c[last]) {
			c[i], c[k] = c[k], c[i]
			i++
		}
	}
	c[i], c[last] = c[last], c[i]
	return i
}

// selectBest moves the k best candidates of c to its front (in no order).
func selectBest(c []candidate, k int) {
	lo, hi := 0, len(c)
	for hi-lo > 1 {
		j := lo + partition(c[lo:hi])
		switch {
		case j == k || j+1 == k:
			return
		case j < k:
			lo = j + 1
		default:
			hi = j
		}
	}
}

// nucleus reorders c so that its first n candidates are the best ones whose
// weights first reach target in order from the best (the smallest such
// prefix of a sort), and returns n; all of c when the weights never do.
func nucleus(c []candidate, target float64) int {
	lo, hi := 0, len(c) // the answer is in (lo, hi]; c[:lo] are the best lo, with their weight taken off target
	for lo < hi {
		j := lo + partition(c[lo:hi])
		above := weightSum(c[lo:j])
		if above >= target {
			hi = j
			continue
		}
		target -= above
		if c[j].p >= target {
			return j + 1
		}
		target -= c[j].p
		lo = j + 1
	}
	return hi
}

// applyPenalties moves the logits w of the tokens in history (the last
// PenaltyLastN of them, when set) by p's repetition, presence and frequency
// penalties, in place.
func applyPenalties(p SamplingParams, w []float32, history []int) {
	rep := p.RepetitionPenalty != 0 && p.RepetitionPenalty != 1
	if !rep && p.PresencePenalty == 0 && p.FrequencyPenalty == 0 {
		return
	}
	if p.PenaltyLastN > 0 && len(history) > p.PenaltyLastN {
		history = history[len(history)-p.PenaltyLastN:]
	}
	counts := map[int]int{}
	for _, id := range history {
		if id >= 0 && id < len(w) {
			counts[id]++
		}
	}
	for id, n := range counts {
		l := w[id]
		if rep {
			if l > 0 {
				l /= p.RepetitionPenalty
			} else {
				l *= p.RepetitionPenalty
			}
		}
		l -= float32(n)*p.FrequencyPenalty + p.PresencePenalty
		w[id] = l
	}
}

// argmaxMasked is the id of the largest logit the mask allows (nil: any),
// the lowest on ties as torch.argmax; -1 when none is allowed. Greedy
// decoding takes this path: no candidate list, one pass over the row.
func argmaxMasked(logits []float32, mask []uint64) int {
	if mask == nil {
		if len(logits) == 0 {
			return -1
		}
		best, bv := 0, logits[0]
		for id, l := range logits {
			if l > bv {
				best, bv = id, l
			}
		}
		return best
	}
	best, bv := -1, float32(math.Inf(-1))
	for w, word := range mask {
		base := w * 64
		if word == ^uint64(0) && base+64 <= len(logits) {
			for id, l := range logits[base : base+64] {
				if l > bv {
					best, bv = base+id, l
				}
			}
			continue
		}
		for word != 0 {
			id := base + bits.TrailingZeros64(word)
			word &= word - 1
			if id >= len(logits) {
				break
			}
			if l := logits[id]; l > bv || best < 0 {
				best, bv = id, l
			}
		}
	}
	if best < 0 { // every allowed logit is -Inf: the first allowed id
		for w, word := range mask {
			if word != 0 && w*64+bits.TrailingZeros64(word) < len(logits) {
				return w*64 + bits.TrailingZeros64(word)
			}
		}
	}
	return best
}

// rng is xoshiro256** seeded through splitmix64. It is implemented here, not
// taken from math/rand, so a seed's token sequence can never change with a
// Go release.
type rng struct{ s [4]uint64 }

func newRNG(seed uint64) rng {
	var r rng
	for i := range r.s {
		seed += 0x9e3779b97f4a7c15
		z := seed
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		r.s[i] = z ^ z>>31
	}
	return r
}

func rotl(x uint64, k uint) uint64 { return x<<k | x>>(64-k) }

func (r *rng) next() uint64 {
	s := &r.s
	result := rotl(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = rotl(s[3], 45)
	return result
}

// float64 returns a uniform value in [0, 1).
func (r *rng) float64() float64 { return float64(r.next()>>11) / (1 << 53) }
