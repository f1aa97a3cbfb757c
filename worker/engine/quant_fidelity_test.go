package engine

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

// quantDir holds models quantized by llama.cpp's llama-quantize and their
// reference logits (hack/quant/make-fixtures.sh): llama.cpp's own
// (llama-logits) and a float64 forward over ggml's dequantization of the
// weights, neither sharing code with this package.
const quantDir = "../testdata/quant"

func TestQuantizedFidelity(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(quantDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no fixtures in %s (hack/quant/make-fixtures.sh writes them)", quantDir)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) { runQuantFixture(t, path, false) })
		t.Run(name+"/int8", func(t *testing.T) { runQuantFixture(t, path, true) })
	}
}

// runQuantFixture holds the engine to the fixture's references: in float32, within QuantTol of both and their
// greedy continuation; with the activations rounded to int8 (MatvecInt8, llama.cpp's own rounding), within
// QuantTol of the float64 one, and its greedy continuation but at near-ties of the engine's own logits (within
// QuantTol of their spread), which may go either way; the reference's tokens are fed on.
func runQuantFixture(t *testing.T, path string, int8 bool) {
	fx, err := modeltest.ReadQuantFixture(path)
	if err != nil {
		t.Fatal(err)
	}
	family, err := model.ParseFamily(fx.Arch)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(strings.TrimSuffix(path, ".json")+".gguf", family)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// The file is what the JSON says llama-quantize made: its recipe and mix.
	if v, ok := m.File.Get("general.file_type"); !ok {
		t.Error("no general.file_type")
	} else if ft, _ := v.Int(); gguf.FileType(ft).String() != fx.FileType {
		t.Errorf("general.file_type %s, fixture %s", gguf.FileType(ft), fx.FileType)
	}
	types := map[string]int{}
	for _, ti := range m.File.Tensors {
		if ti.Type.String() != fx.TensorTypes[ti.Name] {
			t.Errorf("tensor %s is %s, fixture says %s", ti.Name, ti.Type, fx.TensorTypes[ti.Name])
		}
		types[ti.Type.String()]++
	}
	if _, err := tokenizer.FromGGUF(m.File); err != nil {
		t.Fatalf("tokenizer: %v", err)
	}
	b, err := NewCPU(m, CPUOptions{MatvecInt8: int8})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	seq, err := b.NewSequence(len(fx.IDs) + len(fx.Float64.Greedy))
	if err != nil {
		t.Fatal(err)
	}
	out, err := b.Prefill(seq, fx.IDs, false)
	if err != nil {
		t.Fatal(err)
	}
	logits := out[0]
	vsF64 := modeltest.DiffOverStd(logits, fx.Float64.LastLogits)
	vsCpp := modeltest.DiffOverStd(logits, fx.LlamaCpp.LastLogits)
	if vsF64 > modeltest.QuantTol {
		t.Errorf("last logits vs float64: max |diff| / std = %.4g > %g", vsF64, modeltest.QuantTol)
	}
	if int8 {
		// llama.cpp rounds the same way, so it stays as close as the float32 engine does.
		if vsCpp > modeltest.QuantTol {
			t.Errorf("last logits vs llama.cpp: max |diff| / std = %.4g > %g", vsCpp, modeltest.QuantTol)
		}
		flips := modeltest.FollowGreedy(t, logits, fx.Float64.Greedy, func(tok int) []float32 {
			out, err := b.Decode([]DecodeInput{{Seq: seq, Token: tok}})
			if err != nil {
				t.Fatal(err)
			}
			return out[0]
		})
		t.Logf("%s %s int8: max |diff|/std vs float64 %.3f, vs llama.cpp %.3f (llama.cpp vs float64 %.3f); %d near-tie flips",
			fx.Arch, fx.FileType, vsF64, vsCpp, fx.LlamaCpp.DiffOverStd, flips)
		return
	}
	if vsCpp > modeltest.QuantTol {
		t.Errorf("last logits vs llama.cpp: max |diff| / std = %.4g > %g", vsCpp, modeltest.QuantTol)
	}
	var greedy []int
	for range fx.Float64.Greedy {
		tok := argmax(logits)
		greedy = append(greedy, tok)
		if len(greedy) == len(fx.Float64.Greedy) {
			break
		}
		out, err := b.Decode([]DecodeInput{{Seq: seq, Token: tok}})
		if err != nil {
			t.Fatal(err)
		}
		logits = out[0]
	}
	if !slices.Equal(greedy, fx.Float64.Greedy) {
		t.Errorf("greedy\n got %v\nfloat64 %v", greedy, fx.Float64.Greedy)
	}
	if !slices.Equal(greedy, fx.LlamaCpp.Greedy) {
		t.Errorf("greedy\n got %v\nllama.cpp %v", greedy, fx.LlamaCpp.Greedy)
	}
	t.Logf("%s %s %v: max |diff|/std vs float64 %.2g, vs llama.cpp %.3f (llama.cpp vs float64 %.3f); greedy %d/%d",
		fx.Arch, fx.FileType, types, vsF64, vsCpp, fx.LlamaCpp.DiffOverStd, len(greedy), len(fx.Float64.Greedy))
}
