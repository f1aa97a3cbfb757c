package gguf

import (
	"encoding/json"
	"strings"
	"testing"
)

// mix.json.gz holds the tensor types llama-quantize chose for every recipe on a
// few shapes (hack/quant/make-fixtures.sh): TensorType must choose the same.
func TestTensorTypeMatchesLlamaQuantize(t *testing.T) {
	var golden struct {
		Shapes []struct {
			Name    string
			Arch    string
			Layers  int
			GQA     int
			Tied    bool
			Tensors [][3]json.RawMessage // name, dims, source type
			Types   map[string]string
		}
	}
	if err := json.Unmarshal(readGolden(t, "../mix.json.gz"), &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Shapes) == 0 {
		t.Fatal("no shapes")
	}
	recipes := map[string]bool{}
	for _, sh := range golden.Shapes {
		shape := MixShape{Layers: sh.Layers, GQA: sh.GQA, Tied: sh.Tied}
		for recipe, types := range sh.Types {
			recipes[recipe] = true
			f, err := ParseFileType(recipe)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Fields(types)
			if len(want) != len(sh.Tensors) {
				t.Fatalf("%s %s: %d types for %d tensors", sh.Name, recipe, len(want), len(sh.Tensors))
			}
			for i, raw := range sh.Tensors {
				var (
					name, src string
					dims      []uint64
				)
				if json.Unmarshal(raw[0], &name) != nil || json.Unmarshal(raw[1], &dims) != nil || json.Unmarshal(raw[2], &src) != nil {
					t.Fatalf("%s: bad tensor entry %s", sh.Name, raw)
				}
				source, ok := ParseType(src)
				if !ok {
					t.Fatalf("unknown type %s", src)
				}
				if got := f.TensorType(name, dims, source, shape); got.String() != want[i] {
					t.Errorf("%s %s %s %v: %s, llama-quantize %s", sh.Name, recipe, name, dims, got, want[i])
				}
			}
		}
	}
	for _, f := range FileTypes() {
		if !recipes[f.String()] {
			t.Errorf("mix.json has no %s", f)
		}
	}
}

func TestParseFileType(t *testing.T) {
	if f, err := ParseFileType("q4_k_m"); err != nil || f != FileQ4_K_M || f.BaseType() != TypeQ4_K {
		t.Errorf("q4_k_m: %v %v", f, err)
	}
	if _, err := ParseFileType("iq2_xxs"); err == nil || !strings.Contains(err.Error(), "q4_k_m") {
		t.Errorf("iq2_xxs: %v", err)
	}
	for _, f := range FileTypes() {
		if !f.BaseType().Supported() {
			t.Errorf("%s's base type %s is not supported", f, f.BaseType())
		}
	}
}
