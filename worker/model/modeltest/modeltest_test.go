package modeltest

import (
	"path/filepath"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// WriteSynthetic streams a model of the recipe's types whose large tensors
// repeat distinctRows encoded random rows.
func TestWriteSynthetic(t *testing.T) {
	cfg := Config{Arch: "llama", Embedding: 256, Heads: 8, HeadsKV: 2, FeedForward: 8192, Blocks: 2, Vocab: 300,
		Context: 64, Recipe: "Q4_K_M", Name: "synthetic test", Seed: 3}
	path := filepath.Join(t.TempDir(), "s.gguf")
	if err := WriteSynthetic(path, cfg, 3); err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(path, model.FamilyLlama)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	typeOf, err := TypeFunc(cfg)
	if err != nil {
		t.Fatal(err)
	}
	shapes := Shapes(cfg)
	if len(m.File.Tensors) != len(shapes) {
		t.Fatalf("%d tensors, want %d", len(m.File.Tensors), len(shapes))
	}
	types := map[gguf.GGMLType]int{}
	for i, ti := range m.File.Tensors {
		if ti.Name != shapes[i].Name || ti.Type != typeOf(ti.Name, ti.Dims) {
			t.Errorf("tensor %d: %s %s, want %s %s", i, ti.Name, ti.Type, shapes[i].Name, typeOf(shapes[i].Name, shapes[i].Dims))
		}
		types[ti.Type]++
	}
	if types[gguf.TypeQ4_K] == 0 || types[gguf.TypeQ6_K] == 0 || types[gguf.TypeF32] == 0 {
		t.Errorf("types %v", types)
	}
	// ffn_up has 8192 rows of 256 (more than 1<<20 elements): rows repeat every distinctRows.
	up, _ := m.File.Tensor("blk.0.ffn_up.weight")
	data := m.File.TensorData(up)
	rb := len(data) / 8192
	if string(data[:rb]) == string(data[rb:2*rb]) || string(data[:rb]) != string(data[distinctRows*rb:(distinctRows+1)*rb]) {
		t.Error("ffn_up's rows do not repeat every distinctRows rows")
	}
	v, _ := m.File.Get("general.file_type")
	if ft, _ := v.Int(); gguf.FileType(ft) != gguf.FileQ4_K_M {
		t.Errorf("general.file_type %d", ft)
	}
}
