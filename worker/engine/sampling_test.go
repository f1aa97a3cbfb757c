package engine

import (
	"context"
	"math"
	"slices"
	"testing"
)

func TestGreedyPicksArgmaxLowestIDOnTie(t *testing.T) {
	s := NewSampler(SamplingParams{})
	if got := s.Sample([]float32{0, 3, 1, 3}, nil); got != 1 {
		t.Fatalf("greedy = %d, want 1", got)
	}
}

func TestSeedDeterminism(t *testing.T) {
	logits := []float32{1, 1.2, 0.8, 1.1, 0.9, 1.05}
	draw := func(seed uint64) []int {
		s := NewSampler(SamplingParams{Temperature: 1, Seed: seed})
		var out []int
		for range 50 {
			out = append(out, s.Sample(logits, nil))
		}
		return out
	}
	if a, b := draw(7), draw(7); !slices.Equal(a, b) {
		t.Fatalf("same seed differs: %v vs %v", a, b)
	}
	if a, b := draw(7), draw(8); slices.Equal(a, b) {
		t.Fatal("different seeds gave identical 50-token draws")
	}
	// The generator is ours: pin its first outputs so a change is noticed.
	r := newRNG(0)
	if got := [2]uint64{r.next(), r.next()}; got == [2]uint64{} || got[0] == got[1] {
		t.Fatalf("rng outputs %v", got)
	}
}

func TestSamplingFrequenciesFollowSoftmax(t *testing.T) {
	logits := []float32{0, float32(math.Log(2)), float32(math.Log(3))} // p = 1/6, 2/6, 3/6
	s := NewSampler(SamplingParams{Temperature: 1, Seed: 1})
	counts := make([]int, 3)
	const n = 60000
	for range n {
		counts[s.Sample(logits, nil)]++
	}
	for i, want := range []float64{1.0 / 6, 2.0 / 6, 3.0 / 6} {
		if got := float64(counts[i]) / n; math.Abs(got-want) > 0.01 {
			t.Fatalf("token %d frequency %.3f, want %.3f", i, got, want)
		}
	}
}

// sampleSet returns which tokens a configuration can produce.
func sampleSet(p SamplingParams, logits []float32) []int {
	seen := map[int]bool{}
	for seed := range uint64(2000) {
		p.Seed = seed
		seen[NewSampler(p).Sample(logits, nil)] = true
	}
	var out []int
	for id := range seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func TestTopKTopPMinP(t *testing.T) {
	// Probabilities at temperature 1: 0.5, 0.25, 0.125, 0.0625, 0.0625.
	l := func(p float64) float32 { return float32(math.Log(p)) }
	logits := []float32{l(0.0625), l(0.5), l(0.125), l(0.25), l(0.0625)}
	cases := []struct {
		name string
		p    SamplingParams
		want []int
	}{
		{"none", SamplingParams{Temperature: 1}, []int{0, 1, 2, 3, 4}},
		{"top-k 2", SamplingParams{Temperature: 1, TopK: 2}, []int{1, 3}},
		{"top-k 1 is greedy", SamplingParams{Temperature: 1, TopK: 1}, []int{1}},
		{"top-p 0.7", SamplingParams{Temperature: 1, TopP: 0.7}, []int{1, 3}},    // 0.5+0.25 ≥ 0.7
		{"top-p 0.8", SamplingParams{Temperature: 1, TopP: 0.8}, []int{1, 2, 3}}, // needs 0.875
		{"min-p 0.2", SamplingParams{Temperature: 1, MinP: 0.2}, []int{1, 2, 3}}, // ≥ 0.1
		{"min-p 0.6", SamplingParams{Temperature: 1, MinP: 0.6}, []int{1}},
	}
	for _, c := range cases {
		if got := sampleSet(c.p, logits); !slices.Equal(got, c.want) {
			t.Errorf("%s: can sample %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPenalties(t *testing.T) {
	logits := []float32{2, -1, 1.9, 0}
	// Repetition 2: token 0 (positive) 2 → 1, so token 2 wins greedily.
	if got := NewSampler(SamplingParams{RepetitionPenalty: 2}).Sample(logits, []int{0}); got != 2 {
		t.Fatalf("repetition: %d", got)
	}
	// Negative logits are multiplied: token 1 -1 → -2 stays below token 3.
	w := slices.Clone(logits)
	applyPenalties(SamplingParams{RepetitionPenalty: 2}, w, []int{1, 0})
	if w[1] != -2 || w[0] != 1 || w[2] != 1.9 {
		t.Fatalf("repetition applied: %v", w)
	}
	// Frequency 0.3 per occurrence plus presence 0.5: token 0 seen twice → 2-0.6-0.5 = 0.9.
	w = slices.Clone(logits)
	applyPenalties(SamplingParams{FrequencyPenalty: 0.3, PresencePenalty: 0.5}, w, []int{0, 3, 0})
	if math.Abs(float64(w[0]-0.9)) > 1e-6 || math.Abs(float64(w[3]+0.8)) > 1e-6 {
		t.Fatalf("frequency/presence applied: %v", w)
	}
	// PenaltyLastN 1 only sees the last token.
	if got := NewSampler(SamplingParams{RepetitionPenalty: 10, PenaltyLastN: 1}).Sample(logits, []int{0, 3}); got != 0 {
		t.Fatalf("last-n window: %d", got)
	}
}

func TestStopSequences(t *testing.T) {
	b := newBackend(t, variants()["gpt2"], nil)
	base, _ := Generate(context.Background(), b, fakeText{eog: -1}, Request{Prompt: prompt[:3], MaxTokens: 10}, nil)
	if len(base.Text) < 6 {
		t.Fatalf("greedy text too short: %q", base.Text)
	}
	stop := base.Text[3:5]
	var streamed string
	r, err := Generate(context.Background(), b, fakeText{eog: -1},
		Request{Prompt: prompt[:3], MaxTokens: 10, Stop: []string{"\x00never", stop}},
		func(e Event) error { streamed += e.Text; return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := base.Text[:3]
	if i := indexOf(base.Text, stop); i < 3 {
		want = base.Text[:i]
	}
	if r.Text != want || streamed != want || r.Finish != FinishStop || r.StopSequence != stop {
		t.Fatalf("stop %q in %q: got %+v, streamed %q, want %q", stop, base.Text, r, streamed, want)
	}
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// bytesText decodes each token as one raw byte, to exercise UTF-8 hold-back.
type bytesText struct{}

func (bytesText) Decode(ids []int) string {
	b := make([]byte, len(ids))
	for i, id := range ids {
		b[i] = byte(id)
	}
	return string(b)
}
func (bytesText) IsEOG(int) bool { return false }

func TestTextTrackerHoldsBackPartialRunesAndStopPrefixes(t *testing.T) {
	tr := NewTextTracker(bytesText{}, []int{'>'}, []string{"ab"})
	var got []string
	for _, b := range []byte("x\xc3\xa9a") {
		piece, stop := tr.Add(int(b))
		if stop != "" {
			t.Fatalf("unexpected stop")
		}
		got = append(got, piece)
	}
	// "é" is two bytes: nothing after the first; "a" may start "ab".
	if want := []string{"x", "", "é", ""}; !slices.Equal(got, want) {
		t.Fatalf("pieces %q, want %q", got, want)
	}
	if piece, stop := tr.Add('b'); piece != "" || stop != "ab" || tr.EmittedText() != "xé" {
		t.Fatalf("stop: %q %q %q", piece, stop, tr.EmittedText())
	}
	tr = NewTextTracker(bytesText{}, []int{'>'}, []string{"ab"})
	tr.Add('a')
	if rest := tr.Flush(); rest != "a" {
		t.Fatalf("flush = %q", rest)
	}
}
