package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/model"
)

// fidelityDir holds fixtures made by hack/fixtures/make_fixtures.py from
// HF transformers: a GGUF file and, per prompt, transformers' logits at every
// position and its 32-token greedy continuation. KUBEINFER_FIDELITY_DIR
// points the test elsewhere, e.g. at a freshly generated set.
const fidelityDir = "../testdata/fidelity"

// fidelityTol is the largest |logit difference| allowed against transformers
// in float32; differences come only from summation order.
const fidelityTol = 1e-3

type fidelityFixture struct {
	Name    string `json:"name"`
	Arch    string `json:"arch"`
	HFClass string `json:"hf_class"`
	DType   string `json:"dtype"`
	Prompts []struct {
		IDs    []int       `json:"ids"`
		Logits [][]float32 `json:"logits"`
		Greedy []int       `json:"greedy"`
	} `json:"prompts"`
}

func TestFidelity(t *testing.T) {
	dir := fidelityDir
	if d := os.Getenv("KUBEINFER_FIDELITY_DIR"); d != "" {
		dir = d
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no fixtures in %s (hack/fixtures/make_fixtures.py writes them)", dir)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".json"), func(t *testing.T) {
			runFixture(t, path)
		})
	}
}

func runFixture(t *testing.T, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fx fidelityFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	family, err := model.ParseFamily(fx.Arch)
	if err != nil {
		t.Fatal(err)
	}
	// The file must be servable as a whole, tokenizer included.
	m, tok := loadServable(t, strings.TrimSuffix(path, ".json")+".gguf", family)
	if text := "Hello, fidelity!"; tok.Decode(tok.Encode(text, false)) != text {
		t.Errorf("tokenizer round trip of %q gave %q", text, tok.Decode(tok.Encode(text, false)))
	}
	b, err := NewCPU(m, CPUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if len(fx.Prompts) == 0 {
		t.Fatal("fixture has no prompts")
	}

	var worst float64
	for pi, p := range fx.Prompts {
		if len(p.Logits) != len(p.IDs) {
			t.Fatalf("prompt %d: %d logit rows for %d ids", pi, len(p.Logits), len(p.IDs))
		}
		seq, err := b.NewSequence(len(p.IDs) + len(p.Greedy))
		if err != nil {
			t.Fatal(err)
		}
		got, err := b.Prefill(seq, p.IDs, true)
		if err != nil {
			t.Fatal(err)
		}
		for pos := range p.IDs {
			if len(p.Logits[pos]) != len(got[pos]) {
				t.Fatalf("prompt %d position %d: fixture has %d logits, model %d", pi, pos, len(p.Logits[pos]), len(got[pos]))
			}
			d := maxDiff(got[pos], p.Logits[pos])
			worst = max(worst, d)
			if d > fidelityTol {
				t.Errorf("prompt %d position %d: max |logit diff| %.3g > %g", pi, pos, d, fidelityTol)
			}
		}

		// Greedy continuation through the decode path, without stopping at
		// EOS, as the fixture generates a fixed number of tokens.
		logits := got[len(got)-1]
		var greedy []int
		for range p.Greedy {
			tok := argmax(logits)
			greedy = append(greedy, tok)
			if len(greedy) == len(p.Greedy) {
				break
			}
			out, err := b.Decode([]DecodeInput{{Seq: seq, Token: tok}})
			if err != nil {
				t.Fatal(err)
			}
			logits = out[0]
		}
		if !slices.Equal(greedy, p.Greedy) {
			t.Errorf("prompt %d greedy continuation\n got %v\nwant %v", pi, greedy, p.Greedy)
		}
		b.FreeSequence(seq)
	}
	t.Logf("%s (%s, %s, %s): max |logit diff| %.3g over %d prompts", fx.Name, fx.Arch, fx.HFClass, fx.DType, worst, len(fx.Prompts))
}
