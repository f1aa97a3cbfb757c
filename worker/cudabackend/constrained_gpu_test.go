//go:build cgo && linux

package cudabackend

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/grammar"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

// TestGPUConstrainedDecodeOverhead measures, on a GPU, what structured output
// costs per token at batch 1: a constrained token's logits row comes back to
// the host, where the matcher's mask, the masked argmax and its advance run,
// against greedy decoding with the argmax on the GPU. The model is
// $KUBEINFER_CONSTRAINED_MODEL (a GGUF with its tokenizer, e.g. a
// Llama-3.2-1B shape from hack/realshape), else the trained llama.
//
//	hack/cuda-device-test.sh run   (or: go test ./worker/cudabackend -run ConstrainedDecodeOverhead -v)
func TestGPUConstrainedDecodeOverhead(t *testing.T) {
	needGPU(t)
	path := os.Getenv("KUBEINFER_CONSTRAINED_MODEL")
	if path == "" {
		path = "../testdata/models/llama-go.gguf"
	}
	m, err := model.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tok, err := tokenizer.FromGGUF(m.File)
	if err != nil {
		t.Fatal(err)
	}
	gpu, err := Open(m, Options{Memory: memplan.Options{KVCacheTokens: 4096}})
	if err != nil {
		t.Fatal(err)
	}
	defer gpu.Close()
	pieces := make([][]byte, tok.VocabSize())
	for id := range pieces {
		pieces[id] = tok.Piece(id)
	}
	g, err := grammar.FromJSONSchema([]byte(`{"type":"object","properties":{"name":{"type":"string","maxLength":24},
		"age":{"type":"integer","minimum":0,"maximum":120},"tags":{"type":"array","items":{"type":"string","maxLength":12},"maxItems":4},
		"kind":{"enum":["person","robot","other"]}},"required":["name","age","tags","kind"]}`))
	if err != nil {
		t.Fatal(err)
	}
	mach, err := grammar.NewMachine(g, grammar.NewVocab(pieces, tok.IsEOG, tok.IsControl), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	prompt := tok.EncodeText("Describe a person as JSON: ", true)
	steps := min(512, m.Hyper.ContextLength-len(prompt)-1) // the trained model's context is short

	// Greedy, the argmax on the GPU.
	seq, err := gpu.NewSequence(len(prompt) + steps + 1)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := gpu.Prefill(seq, prompt, false)
	if err != nil {
		t.Fatal(err)
	}
	next := argmax(logits[0])
	start := time.Now()
	for range steps {
		toks, err := gpu.DecodeGreedy([]engine.DecodeInput{{Seq: seq, Token: next}})
		if err != nil {
			t.Fatal(err)
		}
		next = toks[0]
	}
	greedy := time.Since(start) / time.Duration(steps)
	gpu.FreeSequence(seq)

	// Constrained: documents one after another, each token masked on the host.
	// The first pass fills the mask cache; the second is measured.
	sampler := engine.NewSampler(engine.SamplingParams{})
	var constrained time.Duration
	docs := 0
	for pass := range 2 {
		seq, err := gpu.NewSequence(len(prompt) + steps + 1)
		if err != nil {
			t.Fatal(err)
		}
		logits, err := gpu.Prefill(seq, prompt, false)
		if err != nil {
			t.Fatal(err)
		}
		row := logits[0]
		mt := mach.NewMatcher()
		var doc []byte
		start := time.Now()
		for range steps {
			mask, err := mt.Allowed()
			if err != nil {
				t.Fatal(err)
			}
			next := sampler.SampleMasked(row, nil, mask)
			if tok.IsEOG(next) || mt.Done() {
				var v map[string]any
				if err := json.Unmarshal(doc, &v); err != nil {
					t.Fatalf("constrained output %q is not JSON: %v", doc, err)
				}
				docs++
				mt, doc = mach.NewMatcher(), nil
				next = slices.IndexFunc(pieces, func(b []byte) bool { return string(b) == "{" }) // keep decoding: the next document
				if !mt.AcceptBytes(pieces[next]) {
					t.Fatalf("%q does not start a document", pieces[next])
				}
			} else if err := mt.Accept(next); err != nil {
				t.Fatal(err)
			}
			doc = append(doc, pieces[next]...)
			out, err := gpu.Decode([]engine.DecodeInput{{Seq: seq, Token: next}})
			if err != nil {
				t.Fatal(err)
			}
			row = out[0]
		}
		if pass == 1 {
			constrained = time.Since(start) / time.Duration(steps)
		}
		gpu.FreeSequence(seq)
	}
	over := float64(constrained-greedy) / float64(greedy) * 100
	t.Logf("%s (vocabulary %d) at batch 1: greedy on the GPU %.1f us/token, constrained %.1f us/token: overhead %.1f%% (%d documents, %d parse states)",
		path, tok.VocabSize(), float64(greedy.Nanoseconds())/1e3, float64(constrained.Nanoseconds())/1e3, over, docs, mach.CachedStates())
	if docs == 0 {
		t.Error("no document completed")
	}
}
