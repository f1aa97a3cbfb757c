package main

import (
	"path/filepath"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
)

// The synthetic shapes get llama-quantize's mixes: tensor counts per type,
// worked out by hand from llama_tensor_get_type for these shapes (use_more_bits
// picks 8 of Llama-3.2-1B's 16 layers and 16 of Llama-3.1-8B's 32).
func TestSyntheticMixes(t *testing.T) {
	for _, c := range []struct {
		shape, typ string
		want       map[gguf.GGMLType]int
	}{
		{"llama3.2-1b", "q4_k_m", map[gguf.GGMLType]int{gguf.TypeQ6_K: 1 + 8 + 8, gguf.TypeQ4_K: 16*7 - 16, gguf.TypeF32: 33}},
		{"llama3.2-1b", "bf16", map[gguf.GGMLType]int{gguf.TypeBF16: 1 + 16*7, gguf.TypeF32: 33}},
		{"llama3.1-8b", "q4_k_m", map[gguf.GGMLType]int{gguf.TypeQ6_K: 1 + 16 + 16, gguf.TypeQ4_K: 1 + 32*7 - 32, gguf.TypeF32: 65}},
		{"llama3.1-8b", "q5_k_m", map[gguf.GGMLType]int{gguf.TypeQ6_K: 1 + 16 + 16, gguf.TypeQ5_K: 1 + 32*7 - 32, gguf.TypeF32: 65}},
		{"llama3.1-8b", "q6_k", map[gguf.GGMLType]int{gguf.TypeQ6_K: 2 + 32*7, gguf.TypeF32: 65}},
		{"llama3.1-8b", "q8_0", map[gguf.GGMLType]int{gguf.TypeQ8_0: 2 + 32*7, gguf.TypeF32: 65}},
		{"llama3.1-8b", "q4_0", map[gguf.GGMLType]int{gguf.TypeQ6_K: 1, gguf.TypeQ4_0: 1 + 32*7, gguf.TypeF32: 65}},
		// IQ4_XS: attn_v Q5_K (4 query heads per KV head), ffn_down Q5_K in the first 32/8 layers.
		{"llama3.1-8b", "iq4_xs", map[gguf.GGMLType]int{gguf.TypeQ6_K: 1, gguf.TypeQ5_K: 32 + 4, gguf.TypeIQ4_XS: 1 + 32*7 - 36, gguf.TypeF32: 65}},
		{"llama3.1-8b", "f16", map[gguf.GGMLType]int{gguf.TypeF16: 2 + 32*7, gguf.TypeF32: 65}},
	} {
		cfg, err := syntheticConfig(c.shape, c.typ)
		if err != nil {
			t.Fatal(err)
		}
		typeOf, err := modeltest.TypeFunc(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := map[gguf.GGMLType]int{}
		for _, s := range modeltest.Shapes(cfg) {
			got[typeOf(s.Name, s.Dims)]++
		}
		if len(got) != len(c.want) {
			t.Errorf("%s %s: types %v, want %v", c.shape, c.typ, got, c.want)
			continue
		}
		for typ, n := range c.want {
			if got[typ] != n {
				t.Errorf("%s %s: types %v, want %v", c.shape, c.typ, got, c.want)
				break
			}
		}
	}
	if _, err := syntheticConfig("llama3.1-8b", "iq2_xxs"); err == nil {
		t.Error("iq2_xxs accepted")
	}
}

func TestParseContexts(t *testing.T) {
	if got, err := parseContexts("128, 2048,8192"); err != nil || len(got) != 3 || got[0] != 128 || got[1] != 2048 || got[2] != 8192 {
		t.Errorf("parseContexts = %v, %v", got, err)
	}
	if got, err := parseContexts(""); err != nil || got != nil {
		t.Errorf("empty: %v, %v", got, err)
	}
	for _, bad := range []string{"0", "12,x", "-5", "1,,2"} {
		if _, err := parseContexts(bad); err == nil {
			t.Errorf("parseContexts(%q) accepted", bad)
		}
	}
}

// The batched step's FLOPs: 2 a matmul weight and 4 a head dimension a key of context, a token; the published
// peaks are looked up by the names the driver gives.
func TestStepFLOPsAndPeaks(t *testing.T) {
	cfg := modeltest.Small("llama")
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := modeltest.WriteFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	h := m.Hyper
	want := 3 * (2*float64(m.MatmulParams()) + 4*float64(h.Heads*h.HeadDim*100*h.Blocks))
	if got := stepFLOPs(m, 3, 100); got != want {
		t.Errorf("stepFLOPs(3 tokens, 100 keys) = %g, want %g", got, want)
	}
	for name, want := range map[string]float64{"NVIDIA H200": 989.4, "NVIDIA H100 80GB HBM3": 989.4, "NVIDIA H100 PCIe": 756.5,
		"NVIDIA A100-SXM4-80GB": 312, "NVIDIA GeForce RTX 4090": 0} {
		if got := publishedBF16TFLOPS(name); got != want {
			t.Errorf("%s: %v TFLOP/s, want %v", name, got, want)
		}
	}
}
