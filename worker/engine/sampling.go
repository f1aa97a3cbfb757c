package engine

import (
	"math"
	"math/bits"
	"sort"
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
	// scratch reused between calls to avoid a vocab-sized allocation per token
	cand []candidate
}

type candidate struct {
	id int
	p  float32 // logit, then probability
}

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

// SampleMasked is Sample among the tokens mask allows (nil: all). It
// returns -1 when the mask allows no token of logits.
func (s *Sampler) SampleMasked(logits []float32, history []int, mask []uint64) int {
	p := s.p
	if p.Greedy() {
		return argmaxMasked(logits, mask)
	}
	s.cand = s.cand[:0]
	for id, l := range logits {
		s.cand = append(s.cand, candidate{id: id, p: l})
	}
	for id, b := range p.LogitBias {
		if id >= 0 && id < len(s.cand) {
			s.cand[id].p += b
		}
	}
	s.applyPenalties(history)
	if mask != nil {
		kept := s.cand[:0]
		for _, c := range s.cand {
			if allowed(mask, c.id) {
				kept = append(kept, c)
			}
		}
		s.cand = kept
		if len(kept) == 0 {
			return -1
		}
	}
	if p.Temperature <= 0 {
		best := 0
		for i, c := range s.cand {
			// ties go to the lowest id, as torch.argmax does
			if c.p > s.cand[best].p {
				best = i
			}
		}
		return s.cand[best].id
	}
	for i := range s.cand {
		s.cand[i].p /= p.Temperature
	}
	// Sorting by logit (stable on id) makes filtering and the draw
	// independent of map or scheduling order, which determinism needs.
	sort.SliceStable(s.cand, func(a, b int) bool { return s.cand[a].p > s.cand[b].p })
	if p.TopK > 0 && p.TopK < len(s.cand) {
		s.cand = s.cand[:p.TopK]
	}
	softmaxCandidates(s.cand)
	if p.TopP > 0 && p.TopP < 1 {
		var cum float32
		for i, c := range s.cand {
			cum += c.p
			if cum >= p.TopP {
				s.cand = s.cand[:i+1]
				break
			}
		}
	}
	if p.MinP > 0 {
		floor := s.cand[0].p * p.MinP
		keep := 1
		for keep < len(s.cand) && s.cand[keep].p >= floor {
			keep++
		}
		s.cand = s.cand[:keep]
	}
	var total float64
	for _, c := range s.cand {
		total += float64(c.p)
	}
	r := s.rng.float64() * total
	for _, c := range s.cand {
		r -= float64(c.p)
		if r < 0 {
			return c.id
		}
	}
	return s.cand[len(s.cand)-1].id
}

func (s *Sampler) applyPenalties(history []int) {
	p := s.p
	rep := p.RepetitionPenalty != 0 && p.RepetitionPenalty != 1
	if !rep && p.PresencePenalty == 0 && p.FrequencyPenalty == 0 {
		return
	}
	if p.PenaltyLastN > 0 && len(history) > p.PenaltyLastN {
		history = history[len(history)-p.PenaltyLastN:]
	}
	counts := map[int]int{}
	for _, id := range history {
		if id >= 0 && id < len(s.cand) {
			counts[id]++
		}
	}
	// cand is still indexed by token id here.
	for id, n := range counts {
		l := s.cand[id].p
		if rep {
			if l > 0 {
				l /= p.RepetitionPenalty
			} else {
				l *= p.RepetitionPenalty
			}
		}
		l -= float32(n)*p.FrequencyPenalty + p.PresencePenalty
		s.cand[id].p = l
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

// softmaxCandidates turns logits into probabilities, in place.
func softmaxCandidates(c []candidate) {
	m := float32(math.Inf(-1))
	for _, x := range c {
		m = max(m, x.p)
	}
	var sum float64
	for i := range c {
		e := math.Exp(float64(c[i].p - m))
		c[i].p = float32(e)
		sum += e
	}
	for i := range c {
		c[i].p = float32(float64(c[i].p) / sum)
	}
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
