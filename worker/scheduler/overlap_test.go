package scheduler

import (
	"context"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/engine"
)

// waitFor polls cond for up to 10 s; it reports whether cond came true.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(50 * time.Microsecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// The host emits a step's tokens while the next step decodes: emit k runs inside decode k (which computes the
// token after it), and the request's last token, which nothing follows, is emitted with no decode in flight.
// Config.Serial emits every token before the decode that follows it. The tokens are the same.
func TestEmitRunsWhileTheNextStepDecodes(t *testing.T) {
	cpu, tok := load(t)
	const n = 12
	prompt := tok.Encode("overlapped steps", true)
	var tokens [2][]int
	for mode, serial := range []bool{false, true} {
		g := &greedyCPU{CPU: cpu}
		var entered, emits atomic.Int32
		var stuck atomic.Bool
		// Decode k waits until token k is emitted: overlapped, that is the emit running beside it; serial, it was
		// emitted before the decode began.
		g.during = func([]engine.DecodeInput) {
			k := entered.Add(1)
			if !stuck.Load() && !waitFor(func() bool { return emits.Load() >= k }) {
				stuck.Store(true)
				t.Errorf("serial=%v: decode %d began and token %d was not emitted within 10 s", serial, k, k)
			}
		}
		var seen []int32 // decodes begun as each token is emitted
		cfg := Config{MaxConcurrent: 1, Serial: serial, testHookEmit: func() {
			k := emits.Load() + 1
			if !serial && k < n && !stuck.Load() && !waitFor(func() bool { return entered.Load() >= k }) {
				stuck.Store(true)
				t.Errorf("token %d was emitted and decode %d did not begin within 10 s", k, k)
			}
			seen = append(seen, entered.Load())
			emits.Add(1)
		}}
		s := New(g, tok, cfg)
		h, err := s.Submit(context.Background(), Request{Prompt: prompt, MaxTokens: n, IgnoreEOS: true})
		if err != nil {
			t.Fatal(err)
		}
		_, res := collect(t, h)
		s.Drain(context.Background())
		if res.Err != nil || len(res.Tokens) != n {
			t.Fatalf("serial=%v: %d tokens, %v", serial, len(res.Tokens), res.Err)
		}
		tokens[mode] = res.Tokens
		want := make([]int32, n)
		for k := range want {
			switch {
			case serial:
				want[k] = int32(k) // emit k+1 comes before decode k+1
			case k < n-1:
				want[k] = int32(k + 1) // emit k+1 runs inside decode k+1
			default:
				want[k] = int32(n - 1) // the last token: no decode follows
			}
		}
		if !reflect.DeepEqual(seen, want) {
			t.Errorf("serial=%v: decodes begun at each emit %v, want %v", serial, seen, want)
		}
	}
	if !reflect.DeepEqual(tokens[0], tokens[1]) {
		t.Errorf("overlapped %v, serial %v", tokens[0], tokens[1])
	}
}

// Overlapped steps give every request the events and result it gets with Config.Serial, through every decode
// path (greedy, drawn on the device, logprobs on the device, rows whose logits come to the host): the same
// tokens, text, logprobs, finish reasons and stop sequences. A request that a stop sequence ends before its
// last token has had one more row decoded, dropped; one ended by its length or an end-of-generation token has
// not; every KV block is free after.
func TestOverlappedStepsMatchSerial(t *testing.T) {
	cpu, tok := load(t)
	prompt := func(i int) []int { return tok.Encode(fmt.Sprintf("request %d of the overlap check", i), true) }
	// A stop sequence the greedy text reaches by its second half: a printable byte there (the random model's
	// text is mostly other bytes).
	stopHalfway := func(p []int) []string {
		res, err := engine.Generate(context.Background(), cpu, tok, engine.Request{Prompt: p, MaxTokens: 30}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []byte(res.Text[len(res.Text)/2:]) {
			if c > ' ' && c < 0x7f {
				return []string{string(c)}
			}
		}
		t.Fatalf("greedy text %q: no printable byte in its second half to stop at", res.Text)
		return nil
	}
	var reqs []Request
	for i := range 4 {
		reqs = append(reqs,
			Request{Prompt: prompt(i), MaxTokens: 10 + 3*i},
			Request{Prompt: prompt(i), MaxTokens: 30, Stop: stopHalfway(prompt(i))},
			Request{Prompt: prompt(i), MaxTokens: 16, Sampling: engine.SamplingParams{Temperature: 0.8, Seed: uint64(7 + i)}, Stop: []string{"i"}},
			Request{Prompt: prompt(i), MaxTokens: 12, Logprobs: true, TopLogprobs: 3},
			Request{Prompt: prompt(i), MaxTokens: 12, Sampling: engine.SamplingParams{Temperature: 0.7, Seed: uint64(i), PresencePenalty: 0.5}},
			Request{Prompt: prompt(i), MaxTokens: 1},
		)
	}
	type outcome struct {
		events  [][]Event
		results []Result
		rows    int64
	}
	run := func(serial bool) outcome {
		g := &logprobCPU{mixedCPU: mixedCPU{sampledCPU: sampledCPU{greedyCPU: greedyCPU{CPU: cpu}, steps: map[uint64][]uint64{}}}}
		var rows atomic.Int64
		g.during = func(batch []engine.DecodeInput) { rows.Add(int64(len(batch))) }
		s := New(g, tok, Config{MaxConcurrent: 8, MaxQueue: len(reqs), Serial: serial})
		var hs []*Handle
		for _, r := range reqs {
			h, err := s.Submit(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		var o outcome
		for i, h := range hs {
			evs, res := collect(t, h)
			if res.Err != nil {
				t.Fatalf("serial=%v request %d: %v", serial, i, res.Err)
			}
			o.events, o.results = append(o.events, evs), append(o.results, res)
		}
		if st := s.Stats(); st.KVUsedTokens != 0 || st.Running != 0 {
			t.Errorf("serial=%v: %d KV tokens held, %d running after every request ended", serial, st.KVUsedTokens, st.Running)
		}
		s.Drain(context.Background())
		o.rows = rows.Load()
		return o
	}
	over, serial := run(false), run(true)
	stopped := 0
	for i := range reqs {
		if !reflect.DeepEqual(over.events[i], serial.events[i]) || !reflect.DeepEqual(over.results[i], serial.results[i]) {
			t.Errorf("request %d (%+v): overlapped %+v %+v, serial %+v %+v", i, reqs[i], over.results[i], over.events[i],
				serial.results[i], serial.events[i])
		}
		if res := serial.results[i]; res.StopSequence != "" && len(res.Tokens) < reqs[i].MaxTokens {
			stopped++
		}
	}
	if stopped == 0 {
		t.Fatal("no request ended by a stop sequence before its last token: the check lost its subject")
	}
	if over.rows-serial.rows != int64(stopped) {
		t.Errorf("overlapped steps decoded %d rows, serial %d: want %d more (one for each request a stop sequence ended)",
			over.rows, serial.rows, stopped)
	}
}
