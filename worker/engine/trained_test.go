package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"go/scanner"
	"go/token"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kubeinfer/kubeinfer/worker/chattemplate"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

// modelsDir holds the project's trained small models (hack/train): each
// <name>.gguf with <name>.json, the figures PyTorch computed for it.
const modelsDir = "../testdata/models"

// lossRelTol is how far the engine's held-out loss may be from PyTorch's
// fp32 figure, relatively. Both run fp32 on the same (f16-stored) weights, so
// only summation order differs.
const lossRelTol = 1e-4

// maxModelBytes is the size limit of a committed model file.
const maxModelBytes = 10_000_000

type trainedModel struct {
	Name   string `json:"name"`
	File   string `json:"file"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	Arch   string `json:"arch"`

	Tokenizer struct {
		EOS    int `json:"eos"`
		Checks []struct {
			Text string `json:"text"`
			IDs  []int  `json:"ids"`
		} `json:"checks"`
	} `json:"tokenizer"`
	Heldout struct {
		Predictions int     `json:"predictions"`
		Loss        float64 `json:"loss"`
		Perplexity  float64 `json:"perplexity"`
	} `json:"heldout"`
	Sample struct {
		File        string  `json:"file"`
		Source      string  `json:"source"`
		Window      int     `json:"window"`
		IDs         []int   `json:"ids"`
		Predictions int     `json:"predictions"`
		LossFP32    float64 `json:"loss_fp32"`
		LossFP64    float64 `json:"loss_fp64"`
	} `json:"sample"`
	Greedy []struct {
		Name     string                 `json:"name"`
		Messages []chattemplate.Message `json:"messages"`
		Prompt   string                 `json:"prompt"`
		IDs      []int                  `json:"prompt_ids"`
		Greedy   []int                  `json:"greedy"`
		Gaps     []float64              `json:"gaps"`
	} `json:"greedy"`
}

func TestTrainedModels(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(modelsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var tm trainedModel
		if err := json.Unmarshal(raw, &tm); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if tm.File == "" {
			continue // not a model's figures
		}
		n++
		t.Run(tm.Name, func(t *testing.T) { checkTrained(t, tm) })
	}
	if n < 2 {
		t.Fatalf("%d trained models in %s, want the llama and the gpt one (hack/train makes them)", n, modelsDir)
	}
}

func checkTrained(t *testing.T, tm trainedModel) {
	path := filepath.Join(modelsDir, tm.File)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != tm.SHA256 || int64(len(data)) != tm.Bytes {
		t.Fatalf("%s: %d bytes, sha256 %s; the JSON says %d bytes, %s", path, len(data), got, tm.Bytes, tm.SHA256)
	}
	if len(data) > maxModelBytes {
		t.Errorf("%s is %d bytes, over the %d limit", path, len(data), maxModelBytes)
	}
	family, err := model.ParseFamily(tm.Arch)
	if err != nil {
		t.Fatal(err)
	}
	m, tok := loadServable(t, path, family)
	if tok.EOS() != tm.Tokenizer.EOS {
		t.Errorf("EOS %d, want %d", tok.EOS(), tm.Tokenizer.EOS)
	}

	// The Go tokenizer gives the ids the Python encoder of hack/train gave.
	for _, c := range tm.Tokenizer.Checks {
		if got := tok.Encode(c.Text, false); !slices.Equal(got, c.IDs) {
			t.Errorf("Encode(%q) = %v, Python gave %v", c.Text, got, c.IDs)
		}
	}
	text, err := os.ReadFile(filepath.Join(modelsDir, tm.Sample.File))
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode(string(text), false)
	if !slices.Equal(ids, tm.Sample.IDs) {
		t.Fatalf("the held-out sample encodes to %d ids that differ from Python's %d", len(ids), len(tm.Sample.IDs))
	}
	if tok.Decode(ids) != string(text) {
		t.Error("the held-out sample does not decode to itself")
	}

	b, err := NewCPU(m, CPUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	// Held-out loss: the engine agrees with PyTorch.
	s, err := CrossEntropy(context.Background(), b, ids, tm.Sample.Window)
	if err != nil {
		t.Fatal(err)
	}
	if s.Predictions != tm.Sample.Predictions {
		t.Fatalf("%d predictions, PyTorch made %d", s.Predictions, tm.Sample.Predictions)
	}
	rel := math.Abs(s.Loss()-tm.Sample.LossFP32) / tm.Sample.LossFP32
	t.Logf("held-out sample (%s, %d tokens, windows of %d): loss %.6f, PyTorch fp32 %.6f, fp64 %.6f (rel diff %.1e); perplexity %.3f",
		tm.Sample.Source, len(ids), tm.Sample.Window, s.Loss(), tm.Sample.LossFP32, tm.Sample.LossFP64, rel, s.Perplexity())
	if rel > lossRelTol {
		t.Errorf("loss %.6f differs from PyTorch's %.6f by %.1e relative (limit %.0e)", s.Loss(), tm.Sample.LossFP32, rel, lossRelTol)
	}
	// A trained model, not noise: far below the uniform guess.
	if uniform := math.Log(float64(tok.VocabSize())); s.Loss() > uniform/2 {
		t.Errorf("held-out loss %.3f is not below half the uniform %.3f: is this model trained?", s.Loss(), uniform)
	}

	for _, g := range tm.Greedy {
		t.Run(g.Name, func(t *testing.T) { checkGreedy(t, m, tok, b, g.Messages, g.Prompt, g.IDs, g.Greedy, g.Gaps) })
	}
	t.Run("kv-types", func(t *testing.T) { checkKVTypeLoss(t, m, ids, tm.Sample.Window, s.Loss()) })
}

// checkKVTypeLoss: storing keys and values at each type costs at most kvTypeLossTol of
// the held-out loss at float32.
func checkKVTypeLoss(t *testing.T, m *model.Model, ids []int, window int, f32Loss float64) {
	for _, kt := range []kvcache.Type{kvcache.F16, kvcache.BF16, kvcache.Q8_0} {
		b, err := NewCPU(m, CPUOptions{KVType: kt})
		if err != nil {
			t.Fatal(err)
		}
		s, err := CrossEntropy(context.Background(), b, ids, window)
		b.Close()
		if err != nil {
			t.Fatal(err)
		}
		rel := (s.Loss() - f32Loss) / f32Loss
		t.Logf("KV stored as %s: held-out loss %.6f, %+.2e relative to float32's %.6f", kt, s.Loss(), rel, f32Loss)
		if math.Abs(rel) > kvTypeLossTol[kt] {
			t.Errorf("KV stored as %s: held-out loss %.6f is %.2e off float32's %.6f (limit %.0e)", kt, s.Loss(), rel, f32Loss, kvTypeLossTol[kt])
		}
	}
}

// checkGreedy: the engine's greedy continuation is PyTorch's, up to the first
// step where PyTorch's two best logits are too close to call, and it reads
// as Go.
func checkGreedy(t *testing.T, m *model.Model, tok *tokenizer.Tokenizer, b Backend,
	messages []chattemplate.Message, prompt string, promptIDs, want []int, gaps []float64) {
	if messages != nil {
		src, _ := m.File.Get(chattemplate.MetadataKey)
		source, _ := src.String()
		tpl, err := chattemplate.New(source, tok.TokenText(tok.BOS()), tok.TokenText(tok.EOS()))
		if err != nil || tpl.Plain() {
			t.Fatalf("chat template %q: %v", source, err)
		}
		got, err := tpl.Render(messages, true)
		if err != nil || got != prompt {
			t.Fatalf("chat template renders %q (%v), PyTorch's prompt was %q", got, err, prompt)
		}
	}
	if got := tok.Encode(prompt, false); !slices.Equal(got, promptIDs) {
		t.Fatalf("prompt %q encodes to %v, Python gave %v", prompt, got, promptIDs)
	}
	seq, err := b.NewSequence(len(promptIDs) + len(want))
	if err != nil {
		t.Fatal(err)
	}
	defer b.FreeSequence(seq)
	logits, err := b.Prefill(seq, promptIDs, false)
	if err != nil {
		t.Fatal(err)
	}
	var gen []int
	for i := range want {
		next := argmax(logits[0])
		gen = append(gen, next)
		if i+1 < len(want) {
			if logits, err = b.Decode([]DecodeInput{{Seq: seq, Token: next}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	compared := len(want)
	for i, gap := range gaps {
		if gap < 1e-3 {
			compared = i + 1 // this step may still match; the ones after it need not
			break
		}
	}
	if !slices.Equal(gen[:compared], want[:compared]) {
		t.Errorf("greedy after %q:\n got  %v\n want %v (PyTorch; first %d compared)", prompt, gen, want, compared)
	}
	text := tok.Decode(gen)
	t.Logf("%q -> %q", prompt, text)
	checkLooksLikeGo(t, text)
}

// checkLooksLikeGo asserts what a small model trained on Go writes: valid
// UTF-8, and Go's scanner reads its complete lines (the last one may stop
// mid-token) without an error as at least 8 tokens of at least 4 kinds, so
// neither noise nor one token repeated. It does not assert that the code
// compiles: these models repeat themselves and invent names.
func checkLooksLikeGo(t *testing.T, text string) {
	t.Helper()
	if !utf8.ValidString(text) || strings.ContainsRune(text, utf8.RuneError) {
		t.Errorf("generated text is not clean UTF-8: %q", text)
	}
	complete := []byte(text[:strings.LastIndexByte(text, '\n')+1])
	var s scanner.Scanner
	var errs []string
	s.Init(token.NewFileSet().AddFile("gen.go", -1, len(complete)), complete,
		func(_ token.Position, msg string) { errs = append(errs, msg) }, scanner.ScanComments)
	kinds := map[string]bool{}
	n := 0
	for {
		_, tk, lit := s.Scan()
		if tk == token.EOF {
			break
		}
		n++
		kinds[tk.String()+" "+lit] = true
	}
	if len(errs) > 0 {
		t.Errorf("Go's scanner reports %v in the generated text %q", errs, complete)
	}
	if n < 8 || len(kinds) < 4 {
		t.Errorf("generated text %q scans as %d tokens of %d kinds: not Go-like", complete, n, len(kinds))
	}
}
