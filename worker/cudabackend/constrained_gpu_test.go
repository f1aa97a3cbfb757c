//go:build cgo && linux

package cudabackend

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/grammar"
	"github.com/kubeinfer/kubeinfer/worker/grammar/grammartest"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

// constrainedSetup loads path with its tokenizer onto the GPU and builds schema's grammar over its vocabulary.
func constrainedSetup(t *testing.T, path, schema string) (*Backend, *model.Model, *tokenizer.Tokenizer, *grammar.Machine, [][]byte) {
	t.Helper()
	m, err := model.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	tok, err := tokenizer.FromGGUF(m.File)
	if err != nil {
		t.Fatal(err)
	}
	gpu, err := Open(m, Options{Memory: memplan.Options{KVCacheTokens: 4096}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gpu.Close() })
	pieces := make([][]byte, tok.VocabSize())
	for id := range pieces {
		pieces[id] = tok.Piece(id)
	}
	g, err := grammar.FromJSONSchema([]byte(schema))
	if err != nil {
		t.Fatal(err)
	}
	mach, err := grammar.NewMachine(g, grammar.NewVocab(pieces, tok.IsEOG, tok.IsControl), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	return gpu, m, tok, mach, pieces
}

// TestGPUConstrainedDecodeOverhead measures, on a GPU, what structured output
// costs per token at batch 1 against greedy decoding with the argmax on the
// GPU, both ways it can run: the matcher's mask uploaded and the masked argmax
// taken on the GPU (DecodeGreedyMasked, what the scheduler does), and the
// logits row brought to the host, where the mask and the masked argmax run
// (KUBEINFER_GPU_MASK=0). The model is $KUBEINFER_CONSTRAINED_MODEL (a GGUF
// with its tokenizer, e.g. a Llama-3.2-1B shape from hack/realshape), else
// the trained llama.
//
//	hack/cuda-device-test.sh run   (or: go test ./worker/cudabackend -run ConstrainedDecodeOverhead -v)
func TestGPUConstrainedDecodeOverhead(t *testing.T) {
	needGPU(t)
	path := os.Getenv("KUBEINFER_CONSTRAINED_MODEL")
	if path == "" {
		path = "../testdata/models/llama-go.gguf"
	}
	gpu, m, tok, mach, pieces := constrainedSetup(t, path, `{"type":"object","properties":{"name":{"type":"string","maxLength":24},
		"age":{"type":"integer","minimum":0,"maximum":120},"tags":{"type":"array","items":{"type":"string","maxLength":12},"maxItems":4},
		"kind":{"enum":["person","robot","other"]}},"required":["name","age","tags","kind"]}`)
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

	// Constrained: documents one after another. Each way runs twice: the first pass fills the mask cache, the
	// second is measured.
	sampler := engine.NewSampler(engine.SamplingParams{})
	constrained := func(onDevice bool) (time.Duration, int) {
		var took time.Duration
		var docs int
		for pass := range 2 {
			seq, err := gpu.NewSequence(len(prompt) + steps + 1)
			if err != nil {
				t.Fatal(err)
			}
			logits, err := gpu.Prefill(seq, prompt, false)
			if err != nil {
				t.Fatal(err)
			}
			d := newDocStream(t, mach, tok, pieces, nil)
			next := d.advance(sampler.SampleMasked(logits[0], nil, d.mask()))
			start := time.Now()
			for range steps {
				in := []engine.DecodeInput{{Seq: seq, Token: next}}
				if onDevice {
					toks, err := gpu.DecodeGreedyMasked(in, func() [][]uint64 { return [][]uint64{d.mask()} })
					if err != nil {
						t.Fatal(err)
					}
					next = d.advance(toks[0])
				} else {
					out, err := gpu.Decode(in)
					if err != nil {
						t.Fatal(err)
					}
					next = d.advance(sampler.SampleMasked(out[0], nil, d.mask()))
				}
			}
			if pass == 1 {
				took, docs = time.Since(start)/time.Duration(steps), d.docs
			}
			gpu.FreeSequence(seq)
		}
		return took, docs
	}
	onDevice, docs := constrained(true)
	onHost, hostDocs := constrained(false)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	over := func(d time.Duration) float64 { return float64(d-greedy) / float64(greedy) * 100 }
	t.Logf("%s (vocabulary %d) at batch 1: greedy on the GPU %.1f us/token; constrained, masked on the GPU %.1f us/token "+
		"(overhead %.1f%%), masked on the host %.1f us/token (overhead %.1f%%); %d documents, %d parse states",
		path, tok.VocabSize(), us(greedy), us(onDevice), over(onDevice), us(onHost), over(onHost), docs, mach.CachedStates())
	if docs == 0 || hostDocs == 0 {
		t.Errorf("documents completed: %d masked on the GPU, %d on the host; want some each way", docs, hostDocs)
	}
}

// docStream follows the constrained decode of one sequence: the matcher's mask for each token and, where a
// document ends (an end-of-generation token, or nothing may follow), a check of the document and a fresh
// matcher fed "{", so decoding goes on with the next one.
type docStream struct {
	t      *testing.T
	mach   *grammar.Machine
	mt     *grammar.Matcher
	tok    *tokenizer.Tokenizer
	pieces [][]byte
	valid  *jsonschema.Schema // nil: documents need only be JSON
	doc    []byte
	docs   int
}

func newDocStream(t *testing.T, mach *grammar.Machine, tok *tokenizer.Tokenizer, pieces [][]byte, valid *jsonschema.Schema) *docStream {
	return &docStream{t: t, mach: mach, mt: mach.NewMatcher(), tok: tok, pieces: pieces, valid: valid}
}

func (d *docStream) mask() []uint64 {
	m, err := d.mt.Allowed()
	if err != nil {
		d.t.Fatal(err)
	}
	return m
}

// advance takes the token picked under mask() and returns the one to decode next: it, or the next
// document's "{" when this one has ended.
func (d *docStream) advance(next int) int {
	d.t.Helper()
	if next < 0 {
		d.t.Fatalf("no token picked (%d) after %q", next, d.doc)
	}
	if !d.tok.IsEOG(next) && !d.mt.Done() {
		if err := d.mt.Accept(next); err != nil {
			d.t.Fatal(err)
		}
		d.doc = append(d.doc, d.pieces[next]...)
		return next
	}
	d.check(d.doc)
	d.docs++
	d.mt, d.doc = d.mach.NewMatcher(), nil
	next = slices.IndexFunc(d.pieces, func(b []byte) bool { return string(b) == "{" })
	if next < 0 || !d.mt.AcceptBytes(d.pieces[next]) {
		d.t.Fatal(`no token "{" starts a document`)
	}
	d.doc = append(d.doc, d.pieces[next]...)
	return next
}

// check fails the test unless doc is JSON (and valid, with a validator).
func (d *docStream) check(doc []byte) {
	d.t.Helper()
	var v map[string]any
	if err := json.Unmarshal(doc, &v); err != nil {
		d.t.Fatalf("constrained output %q is not JSON: %v", doc, err)
	}
	if d.valid == nil {
		return
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(doc)))
	if err == nil {
		err = d.valid.Validate(inst)
	}
	if err != nil {
		d.t.Errorf("constrained output %q does not validate: %v", doc, err)
	}
}

// maskedSchema bounds every part of its documents, so a document ends within the trained model's context.
const maskedSchema = `{"type":"object","properties":{"name":{"type":"string","maxLength":8},
	"age":{"type":"integer","minimum":0,"maximum":120},"kind":{"enum":["person","robot","other"]}},
	"required":["name","age","kind"],"additionalProperties":false}`

// picker picks the next token of each row of a decode batch, the rows' masks (nil: none) from masks.
type picker func(t *testing.T, batch []engine.DecodeInput, masks func() [][]uint64) []int

// hostPick is the host's path (the scheduler's with KUBEINFER_GPU_MASK=0): the logits come back and
// SampleMasked masks them.
func hostPick(gpu *Backend) picker {
	return func(t *testing.T, batch []engine.DecodeInput, masks func() [][]uint64) []int {
		rows, err := gpu.Decode(batch)
		if err != nil {
			t.Fatal(err)
		}
		return hostPicks(t, rows, masks())
	}
}

func hostPicks(t *testing.T, rows [][]float32, masks [][]uint64) []int {
	out := make([]int, len(rows))
	for i, row := range rows {
		if err := engine.CheckFinite(row); err != nil {
			t.Fatal(err)
		}
		out[i] = engine.NewSampler(engine.SamplingParams{}).SampleMasked(row, nil, masks[i])
	}
	return out
}

// devicePick masks on the GPU (DecodeGreedyMasked).
func devicePick(gpu *Backend) picker {
	return func(t *testing.T, batch []engine.DecodeInput, masks func() [][]uint64) []int {
		out, err := gpu.DecodeGreedyMasked(batch, masks)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// bothPick picks both ways from the same logits (copied to the host and left on the device for the masked
// sample), failing the test where they differ, so a difference is the sampler's and never the forward pass's.
func bothPick(gpu *Backend) picker {
	return func(t *testing.T, batch []engine.DecodeInput, masks func() [][]uint64) []int {
		gpu.mu.Lock()
		defer gpu.mu.Unlock()
		var host []int
		err := gpu.decode(batch, func(tok, pos, seq, tables []int32, want []uint8) error {
			rows, err := gpu.forward(tok, pos, seq, len(tok), tables, 0, want, true)
			if err != nil {
				return err
			}
			ms := masks()[len(host) : len(host)+len(tok)]
			dev, err := gpu.sampleLast(len(tok), make([]Sampling, len(tok)), gpu.flatMasks(ms))
			if err != nil {
				return err
			}
			for i, h := range hostPicks(t, rows, ms) {
				if dev[i] != h {
					t.Errorf("row %d of a step of %d: masked on the GPU %d, on the host %d (logits %g, %g)", len(host)+i,
						len(batch), dev[i], h, rows[i][max(dev[i], 0)], rows[i][max(h, 0)])
				}
				host = append(host, h)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return host
	}
}

// generated is one row of generateRows: its tokens, its text and whether it ended by itself (an
// end-of-generation token, or its constraint done) rather than at the length limit.
type generated struct {
	tokens []int
	text   string
	ended  bool
}

// generateRows decodes one sequence per prompt in one batch, greedily, each under its matcher (nil: free),
// until every one has ended or maxNew tokens, picking with pick; the first token comes from the prefill's
// logits on the host, as the scheduler takes it.
func generateRows(t *testing.T, gpu *Backend, tok *tokenizer.Tokenizer, prompts [][]int, mts []*grammar.Matcher, maxNew int,
	pick picker) []generated {
	t.Helper()
	type row struct {
		seq  engine.SeqID
		mt   *grammar.Matcher
		last int
		out  generated
	}
	rows := make([]*row, len(prompts))
	// take handles a picked token: the row ends at an end-of-generation token, else it takes it.
	take := func(r *row, p int) {
		switch {
		case p < 0:
			t.Fatalf("no token picked (%d) after %v", p, r.out.tokens)
		case tok.IsEOG(p):
			r.out.ended = true
			return
		case r.mt != nil:
			if err := r.mt.Accept(p); err != nil {
				t.Fatalf("picked %d after %q: %v", p, r.out.text, err)
			}
		}
		r.last, r.out.tokens = p, append(r.out.tokens, p)
		r.out.text = tok.Decode(r.out.tokens)
		r.out.ended = r.mt != nil && r.mt.Done()
	}
	maskOf := func(r *row) []uint64 {
		if r.mt == nil {
			return nil
		}
		m, err := r.mt.Allowed()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for i, p := range prompts {
		seq, err := gpu.NewSequence(len(p) + maxNew + 1)
		if err != nil {
			t.Fatal(err)
		}
		defer gpu.FreeSequence(seq)
		logits, err := gpu.Prefill(seq, p, false)
		if err != nil {
			t.Fatal(err)
		}
		rows[i] = &row{seq: seq, mt: mts[i]}
		take(rows[i], hostPicks(t, logits, [][]uint64{maskOf(rows[i])})[0])
	}
	for step := 1; step < maxNew; step++ {
		var live []*row
		for _, r := range rows {
			if !r.out.ended {
				live = append(live, r)
			}
		}
		if len(live) == 0 {
			break
		}
		batch := make([]engine.DecodeInput, len(live))
		for i, r := range live {
			batch[i] = engine.DecodeInput{Seq: r.seq, Token: r.last}
		}
		picks := pick(t, batch, func() [][]uint64 {
			ms := make([][]uint64, len(live))
			for i, r := range live {
				ms[i] = maskOf(r)
			}
			return ms
		})
		for i, r := range live {
			take(r, picks[i])
		}
	}
	out := make([]generated, len(rows))
	for i, r := range rows {
		out[i] = r.out
	}
	return out
}

// TestGPUMaskedGreedyMatchesHost holds structured output masked on the GPU to the host's path on the trained
// llama: a batch of JSON-schema-constrained sequences and a free one decoded together gives, token for token,
// what SampleMasked picks from the copied logits, and every document parses and validates. The two ways are
// also compared on the same logits at every step, which tells a sampler difference from a forward pass's.
func TestGPUMaskedGreedyMatchesHost(t *testing.T) {
	needGPU(t)
	gpu, m, tok, mach, _ := constrainedSetup(t, "../testdata/models/llama-go.gguf", maskedSchema)
	valid := grammartest.Validator(t, maskedSchema)
	texts := []string{"// A person, as JSON:\n", "package main\n\nvar robot = `", "{", "func main() {\n"}
	prompts := make([][]int, len(texts))
	longest := 0
	for i, s := range texts {
		prompts[i] = tok.EncodeText(s, true)
		longest = max(longest, len(prompts[i]))
	}
	maxNew := m.Hyper.ContextLength - longest - 1
	matchers := func() []*grammar.Matcher { // the last row is free
		return []*grammar.Matcher{mach.NewMatcher(), mach.NewMatcher(), mach.NewMatcher(), nil}
	}
	host := generateRows(t, gpu, tok, prompts, matchers(), maxNew, hostPick(gpu))
	device := generateRows(t, gpu, tok, prompts, matchers(), maxNew, devicePick(gpu))
	both := generateRows(t, gpu, tok, prompts, matchers(), maxNew, bothPick(gpu))
	for i := range prompts {
		if !slices.Equal(device[i].tokens, host[i].tokens) || !slices.Equal(both[i].tokens, host[i].tokens) {
			n := 0
			for n < min(len(device[i].tokens), len(host[i].tokens)) && device[i].tokens[n] == host[i].tokens[n] {
				n++
			}
			t.Errorf("row %d: masked on the GPU %q, on the host %q (first difference at token %d; both ways on the same "+
				"logits %q)", i, device[i].text, host[i].text, n, both[i].text)
		}
		if i == len(prompts)-1 {
			continue // the free row
		}
		if !device[i].ended {
			t.Errorf("row %d: the document %q did not end within %d tokens", i, device[i].text, maxNew)
			continue
		}
		d := docStream{t: t, valid: valid}
		d.check([]byte(device[i].text))
		t.Logf("row %d: %q", i, device[i].text)
	}
}

// TestGPUMaskedSamplingWritesValidDocuments: JSON-schema-constrained rows at temperature 0.8 drawn on the GPU among
// their masks' tokens (DecodeSampledMasked) on the trained llama: every document ends and validates, and rows of
// other seeds write other documents.
func TestGPUMaskedSamplingWritesValidDocuments(t *testing.T) {
	needGPU(t)
	gpu, m, tok, mach, _ := constrainedSetup(t, "../testdata/models/llama-go.gguf", maskedSchema)
	valid := grammartest.Validator(t, maskedSchema)
	prompt := tok.EncodeText("// A person, as JSON:\n", true)
	const rows = 4
	prompts := make([][]int, rows)
	mts := make([]*grammar.Matcher, rows)
	for i := range prompts {
		prompts[i], mts[i] = prompt, mach.NewMatcher()
	}
	step := 0
	sampled := func(t *testing.T, batch []engine.DecodeInput, masks func() [][]uint64) []int {
		rs := make([]engine.RowSampling, len(batch))
		for i := range rs {
			rs[i] = engine.RowSampling{Temperature: 0.8, TopP: 0.95, Seed: uint64(60 + i), Step: uint64(step)}
		}
		step++
		out, err := gpu.DecodeSampledMasked(batch, rs, masks)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := generateRows(t, gpu, tok, prompts, mts, m.Hyper.ContextLength-len(prompt)-1, sampled)
	texts := map[string]bool{}
	for i, g := range got {
		if !g.ended {
			t.Errorf("row %d: the document %q did not end", i, g.text)
			continue
		}
		d := docStream{t: t, valid: valid}
		d.check([]byte(g.text))
		texts[g.text] = true
		t.Logf("row %d: %q", i, g.text)
	}
	if len(texts) < 2 {
		t.Errorf("%d seeds wrote %d distinct documents", rows, len(texts))
	}
}
