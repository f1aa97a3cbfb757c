package model_test

import (
	"errors"
	"fmt"
	"math"
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

// TestArchitectureFamilies loads a file of each architecture (the fidelity fixtures)
// with its family and refuses it with the other one, naming both.
func TestArchitectureFamilies(t *testing.T) {
	want := map[string]model.Family{
		"llama": model.FamilyLlama, "qwen2": model.FamilyLlama, "qwen3": model.FamilyLlama, "gemma2": model.FamilyLlama,
		"gemma3": model.FamilyLlama, "phi3": model.FamilyLlama,
		"gpt2": model.FamilyGPT, "gptneox": model.FamilyGPT, "phi2": model.FamilyGPT, "starcoder2": model.FamilyGPT,
	}
	if got := model.Architectures(); len(got) != len(want) {
		t.Errorf("Architectures() = %v, want the %d of this test", got, len(want))
	}
	seen := map[string]bool{}
	paths, _ := filepath.Glob("../testdata/fidelity/*.gguf")
	for _, path := range paths {
		f, err := gguf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		arch := model.Inspect(f).Architecture
		f.Close()
		fam, ok := model.ArchitectureFamily(arch)
		if !ok || fam != want[arch] {
			t.Errorf("%s: ArchitectureFamily(%q) = %q, %v, want %q", path, arch, fam, ok, want[arch])
			continue
		}
		seen[arch] = true
		m, err := model.Load(path, fam)
		if err != nil {
			t.Errorf("%s declared %s: %v", path, fam, err)
			continue
		}
		m.Close()
		other := model.FamilyGPT
		if fam == model.FamilyGPT {
			other = model.FamilyLlama
		}
		_, err = model.Load(path, other)
		if msg := fmt.Sprintf("file is %s (%s family) but %s was declared", arch, fam, other); err == nil || !strings.HasSuffix(err.Error(), msg) {
			t.Errorf("%s declared %s: err = %v, want it to end with %q", path, other, err, msg)
		}
	}
	for arch := range want {
		if !seen[arch] {
			t.Errorf("no fidelity fixture of architecture %s", arch)
		}
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

// TestHyperparametersOutOfRange: a present hyperparameter outside its valid
// range fails the load with the key, the value and the range, rather than
// loading (and later serving NaN) or being replaced by a default.
func TestHyperparametersOutOfRange(t *testing.T) {
	tests := []struct {
		arch, key string
		value     gguf.Value
		want      string
	}{
		{"llama", "llama.attention.layer_norm_rms_epsilon", gguf.Float32(-1e-5), "metadata llama.attention.layer_norm_rms_epsilon = -1e-05 is out of range: the valid range is (0, 1)"},
		{"llama", "llama.attention.layer_norm_rms_epsilon", gguf.Float32(0), "(0, 1)"},
		{"llama", "llama.attention.layer_norm_rms_epsilon", gguf.Float64(1e-60), "(0, 1)"}, // 0 as a float32
		{"llama", "llama.attention.layer_norm_rms_epsilon", gguf.String("tiny"), "layer_norm_rms_epsilon = \"tiny\" is not a number"},
		{"gpt2", "gpt2.attention.layer_norm_epsilon", gguf.Float32(float32(math.NaN())), "gpt2.attention.layer_norm_epsilon = NaN is out of range"},
		{"gpt2", "gpt2.attention.layer_norm_epsilon", gguf.Float32(2), "(0, 1)"},
		{"llama", "llama.rope.freq_base", gguf.Float32(0), "metadata llama.rope.freq_base = 0 is out of range: the valid range is (0, 3.4028234663852886e+38]"},
		{"llama", "llama.rope.freq_base", gguf.Float32(float32(math.Inf(1))), "llama.rope.freq_base = +Inf is out of range"},
		{"llama", "llama.rope.dimension_count", gguf.Uint32(0), "llama.rope.dimension_count = 0 is out of range: the valid range is [2, 8]"},
		{"llama", "llama.rope.dimension_count", gguf.String("8"), "llama.rope.dimension_count = \"8\" is not an integer"},
		{"llama", "llama.attention.head_count_kv", gguf.Uint32(0), "llama.attention.head_count_kv = 0 is out of range: the valid range is [1, 4]"},
		{"llama", "llama.attention.head_count_kv", gguf.Uint32(8), "[1, 4]"},
		{"llama", "llama.attention.head_count", gguf.Int32(-4), "llama.attention.head_count = -4 is out of range: the valid range is [1, 65536]"},
		{"llama", "llama.context_length", gguf.Uint32(0), "llama.context_length = 0 is out of range: the valid range is [1, 16777216]"},
		{"llama", "llama.attention.key_length", gguf.Uint32(0), "llama.attention.key_length = 0 is out of range"},
		{"llama", "llama.rope.scaling.factor", gguf.Float32(-2), "llama.rope.scaling.factor = -2 is out of range: the valid range is (0, 1024]"},
	}
	for _, tc := range tests {
		t.Run(tc.key+"="+tc.value.Format(), func(t *testing.T) {
			cfg := modeltest.Small(tc.arch)
			w, err := modeltest.Writer(cfg, modeltest.Tensors(cfg))
			if err != nil {
				t.Fatal(err)
			}
			w.Set(tc.key, tc.value)
			if strings.Contains(tc.key, "scaling") {
				w.Set("llama.rope.scaling.type", gguf.String("linear"))
			}
			f, err := modeltest.Parse(w)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := model.FromFile(f, ""); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	cfg := modeltest.Small("llama")
	cfg.RopeFreqs = []float32{1, 0, 2.5, 8}
	if _, err := model.Load(write(t, cfg), ""); err == nil || !strings.Contains(err.Error(), "rope_freqs.weight[1] = 0 is out of range") {
		t.Errorf("zero rope frequency factor: %v", err)
	}
}

// MatmulParams counts every layer's projections and the output projection, the token embeddings in its place
// when they are tied, and nothing else (norms, biases, the embedding lookup).
func TestMatmulParams(t *testing.T) {
	for _, tied := range []bool{false, true} {
		cfg := modeltest.Small("llama")
		cfg.TiedOutput = tied
		m, err := model.Load(write(t, cfg), "")
		if err != nil {
			t.Fatal(err)
		}
		e, f, v := uint64(cfg.Embedding), uint64(cfg.FeedForward), uint64(cfg.Vocab)
		hd := e / uint64(cfg.Heads)
		q, kv := uint64(cfg.Heads)*hd, uint64(cfg.HeadsKV)*hd
		layer := q*e + 2*kv*e + e*q + 3*f*e
		if got, want := m.MatmulParams(), uint64(cfg.Blocks)*layer+v*e; got != want {
			t.Errorf("tied %v: %d matmul weights, want %d", tied, got, want)
		}
		m.Close()
	}
}
