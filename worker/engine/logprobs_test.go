package engine

import (
	"math"
	"testing"
)

// Logprobs is the log-softmax at the token and at the best n, best first with ties to the lower id, and no
// more alternatives than the vocabulary has.
func TestLogprobsOrderAndValues(t *testing.T) {
	logits := []float32{1, 3, 2, 3, -1}
	var sum float64
	for _, l := range logits {
		sum += math.Exp(float64(l))
	}
	lse := math.Log(sum)
	got := Logprobs(logits, 4, 3)
	if want := float32(-1 - lse); got.Chosen != want {
		t.Errorf("chosen %v, want %v", got.Chosen, want)
	}
	wantIDs := []int{1, 3, 2}
	if len(got.Top) != 3 {
		t.Fatalf("%d alternatives, want 3", len(got.Top))
	}
	for i, id := range wantIDs {
		if got.Top[i].ID != id || math.Abs(float64(got.Top[i].Logprob)-(float64(logits[id])-lse)) > 1e-6 {
			t.Errorf("alternative %d: %+v, want id %d logprob %v", i, got.Top[i], id, float64(logits[id])-lse)
		}
	}
	if all := Logprobs(logits, 0, 9); len(all.Top) != len(logits) {
		t.Errorf("9 alternatives of 5 tokens: %d", len(all.Top))
	}
	if none := Logprobs(logits, 0, 0); none.Top != nil {
		t.Errorf("0 alternatives: %+v", none.Top)
	}
}

// A NaN logit is left out, as the device kernel leaves it: the others keep
// their log-softmax over the rest, and it is never an alternative.
func TestLogprobsLeaveNaNOut(t *testing.T) {
	nan := float32(math.NaN())
	with := Logprobs([]float32{nan, 1, 3, nan, 2}, 2, 5)
	without := Logprobs([]float32{1, 3, 2}, 1, 5)
	if with.Chosen != without.Chosen {
		t.Errorf("chosen %v with NaNs beside, %v without", with.Chosen, without.Chosen)
	}
	wantIDs := []int{2, 4, 1}
	if len(with.Top) != len(wantIDs) {
		t.Fatalf("alternatives %+v, want ids %v", with.Top, wantIDs)
	}
	for i, id := range wantIDs {
		if with.Top[i].ID != id || with.Top[i].Logprob != without.Top[i].Logprob {
			t.Errorf("alternative %d: %+v, want id %d logprob %v", i, with.Top[i], id, without.Top[i].Logprob)
		}
	}
}
