package model_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

func write(t *testing.T, cfg modeltest.Config) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), cfg.Arch+".gguf")
	if err := modeltest.WriteFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadFamilies(t *testing.T) {
	cases := []struct {
		arch   string
		family model.Family
		rope   model.RopeMode
		tied   bool
	}{
		{"llama", model.FamilyLlama, model.RopeNorm, false},
		{"qwen2", model.FamilyLlama, model.RopeNeox, true},
		{"gpt2", model.FamilyGPT, model.RopeNone, true},
	}
	for _, c := range cases {
		t.Run(c.arch, func(t *testing.T) {
			cfg := modeltest.Small(c.arch)
			cfg.TiedOutput = c.tied
			cfg.QKVBias = c.arch == "qwen2"
			if c.arch == "gpt2" {
				cfg.HeadsKV = 0
			}
			m, err := model.Load(write(t, cfg), c.family)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			h := m.Hyper
			if h.Family != c.family || h.RopeMode != c.rope || h.Embedding != 32 || h.Blocks != 2 ||
				h.VocabSize != 40 || h.ContextLength != 64 || h.HeadDim != 8 || h.FeedForward != 48 {
				t.Fatalf("hyper = %+v", h)
			}
			if (m.Weights.Output == nil) != c.tied {
				t.Fatalf("tied output: Output = %v", m.Weights.Output)
			}
			l := m.Weights.Layers[1]
			if c.arch == "gpt2" {
				if l.QKV == nil || l.QKV.Rows != 96 || l.QKV.Cols != 32 || m.Weights.PositionEmbedding == nil || h.HeadsKV != 4 {
					t.Fatalf("gpt2 layer = %+v", l)
				}
			} else if l.K.Rows != 16 || l.K.Cols != 32 || (l.QBias != nil) != cfg.QKVBias || h.HeadsKV != 2 {
				t.Fatalf("llama layer k %dx%d qbias %v", l.K.Rows, l.K.Cols, l.QBias)
			}
			v, err := tokenizer.VocabFromGGUF(m.File)
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Tokens) != 40 || v.BOS != 1 || v.EOS != 2 || v.UNK != -1 {
				t.Fatalf("vocab = %+v", v)
			}
			// SentencePiece vocabularies add BOS unless told otherwise.
			if v.AddBOS != (c.arch == "llama") {
				t.Fatalf("AddBOS = %v", v.AddBOS)
			}
		})
	}
}

func TestDeclaredFamilyMismatch(t *testing.T) {
	path := write(t, modeltest.Small("qwen2"))
	_, err := model.Load(path, model.FamilyGPT)
	want := "load " + path + ": file is qwen2 (llama family) but gpt was declared"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if _, err := model.ParseFamily("bert"); err == nil {
		t.Fatal("ParseFamily accepted bert")
	}
}

func TestUnsupportedTensorTypeFailsLoad(t *testing.T) {
	cfg := modeltest.Small("llama")
	tensors := modeltest.Tensors(cfg)
	w, err := modeltest.Writer(cfg, tensors[:1]) // metadata plus token_embd
	if err != nil {
		t.Fatal(err)
	}
	// Replace one weight by an IQ2_XXS tensor (a type the worker cannot compute
	// with); the type is checked before the shape.
	for _, tt := range tensors[1:] {
		if tt.Name == "blk.0.attn_q.weight" {
			if err := w.AddTensor(tt.Name, gguf.TypeIQ2_XXS, []uint64{256, 1}, make([]byte, 66)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := w.AddF32(tt.Name, gguf.TypeF32, tt.Dims, tt.Values); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "iq2.gguf")
	f, _ := os.Create(path)
	w.WriteTo(f)
	f.Close()
	_, err = model.Load(path, "")
	var unsupported *gguf.UnsupportedTypeError
	if !errors.As(err, &unsupported) || unsupported.Tensor != "blk.0.attn_q.weight" ||
		!strings.HasSuffix(err.Error(), "tensor blk.0.attn_q.weight has type IQ2_XXS, which this worker does not support (supported: "+
			gguf.SupportedTypeNames()+")") {
		t.Fatalf("err = %v", err)
	}
}

func TestShapeMismatch(t *testing.T) {
	cfg := modeltest.Small("llama")
	tensors := modeltest.Tensors(cfg)
	for i := range tensors {
		if tensors[i].Name == "blk.1.ffn_down.weight" {
			tensors[i].Dims = []uint64{32, 48} // transposed
		}
	}
	path := filepath.Join(t.TempDir(), "bad.gguf")
	if err := modeltest.WriteTensors(path, cfg, tensors); err != nil {
		t.Fatal(err)
	}
	_, err := model.Load(path, "")
	if err == nil || !strings.Contains(err.Error(), "tensor blk.1.ffn_down.weight has shape [32 48], want [48 32]") {
		t.Fatalf("err = %v", err)
	}
}

func TestRopeScaling(t *testing.T) {
	cfg := modeltest.Small("llama")
	cfg.RopeFreqs = []float32{1, 1, 2.5, 8}
	m, err := model.Load(write(t, cfg), "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.Hyper.RopeFreqFactors; len(got) != 4 || got[2] != 2.5 {
		t.Fatalf("freq factors = %v", got)
	}

	w, err := modeltest.Writer(cfg, modeltest.Tensors(cfg))
	if err != nil {
		t.Fatal(err)
	}
	w.Set("llama.rope.scaling.type", gguf.String("linear"))
	w.Set("llama.rope.scaling.factor", gguf.Float32(4))
	f, err := modeltest.Parse(w)
	if err != nil {
		t.Fatal(err)
	}
	lm, err := model.FromFile(f, "")
	if err != nil || lm.Hyper.RopeFreqScale != 0.25 {
		t.Fatalf("linear scaling: %v, %v", lm, err)
	}
	w.Set("llama.rope.scaling.type", gguf.String("yarn"))
	f, _ = modeltest.Parse(w)
	if _, err := model.FromFile(f, ""); err == nil || !strings.Contains(err.Error(), `rope scaling type "yarn" is not supported`) {
		t.Fatalf("yarn: %v", err)
	}
}

func TestInspect(t *testing.T) {
	cfg := modeltest.Small("llama")
	cfg.Type = gguf.TypeQ8_0
	cfg.FeedForward = 64 // Q8_0 rows must be whole 32-element blocks
	f, err := gguf.Open(write(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info := model.Inspect(f)
	var params uint64
	for _, tt := range modeltest.Tensors(cfg) {
		params += uint64(len(tt.Values))
	}
	if info.Parameters != params || info.Family != model.FamilyLlama || info.ContextLength != 64 ||
		info.TokenizerModel != "llama" || info.VocabSize != 40 || info.Hyper == nil {
		t.Fatalf("info = %+v (want %d params)", info, params)
	}
	// token_embd is 32×40 Q8_0: 40 rows × one 34-byte block.
	var q8 uint64
	for _, r := range info.Tensors {
		if r.Type == "Q8_0" {
			q8 += r.Bytes
		}
	}
	if info.BytesByType["Q8_0"] != q8 || q8 == 0 || info.Tensors[0].Bytes != 40*34 {
		t.Fatalf("bytes by type = %v, first tensor %+v", info.BytesByType, info.Tensors[0])
	}
	if types := info.SortedTypes(); len(types) != 2 || types[0] != "Q8_0" {
		t.Fatalf("types = %v", types)
	}
}
