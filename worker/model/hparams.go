// Package model turns a GGUF file into a runnable model description: the
// architecture family, hyperparameters, shape-checked weights and the
// tokenizer vocabulary, following the names and layouts llama.cpp's
// convert_hf_to_gguf.py writes.
package model

import (
	"fmt"
	"math"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
)

// Family groups architectures that share one forward pass.
type Family string

const (
	// FamilyLlama: pre-norm RMSNorm, RoPE, GQA attention, SwiGLU MLP.
	FamilyLlama Family = "llama"
	// FamilyGPT: GPT-2 style LayerNorm, learned positions, fused QKV, GELU MLP.
	FamilyGPT Family = "gpt"
)

// ParseFamily accepts the family names used by the InferenceWorker and --arch.
func ParseFamily(s string) (Family, error) {
	switch Family(s) {
	case FamilyLlama, FamilyGPT:
		return Family(s), nil
	}
	return "", fmt.Errorf("unknown architecture family %q (want llama or gpt)", s)
}

// RopeMode says which pairs of a head's dimensions RoPE rotates together.
type RopeMode int

const (
	// RopeNone: no rotary embedding (GPT-2 uses learned positions).
	RopeNone RopeMode = iota
	// RopeNorm rotates adjacent pairs (2i, 2i+1). llama.cpp's llama converter
	// permutes the q/k rows so that HF's half-split rotation becomes this.
	RopeNorm
	// RopeNeox rotates (i, i+d/2), HF's rotate_half, for unpermuted archs.
	RopeNeox
)

func (m RopeMode) String() string {
	return [...]string{"none", "norm", "neox"}[m]
}

// archFamilies maps general.architecture to a family and its rope layout.
var archFamilies = map[string]struct {
	family Family
	rope   RopeMode
}{
	"llama": {FamilyLlama, RopeNorm},
	"qwen2": {FamilyLlama, RopeNeox},
	"gpt2":  {FamilyGPT, RopeNone},
}

// Hyper holds the hyperparameters read from the {arch}.* keys.
type Hyper struct {
	Arch          string // general.architecture, e.g. "qwen2"
	Family        Family
	ContextLength int
	Embedding     int // n_embd
	Blocks        int
	FeedForward   int
	Heads         int
	HeadsKV       int
	HeadDim       int
	VocabSize     int
	NormEps       float32 // RMSNorm epsilon (llama) or LayerNorm epsilon (gpt)

	RopeMode     RopeMode
	RopeDim      int     // leading dimensions of each head that RoPE rotates
	RopeFreqBase float32 // theta base
	// RopeFreqScale multiplies positions (1/factor for linear scaling).
	RopeFreqScale float32
	// RopeFreqFactors divides each pair's frequency (Llama-3 scaling, from
	// the rope_freqs.weight tensor); nil when absent.
	RopeFreqFactors []float32
}

// readHyper reads the hyperparameters of a supported architecture.
func readHyper(f *gguf.File) (Hyper, error) {
	var h Hyper
	arch, err := metaString(f, "general.architecture")
	if err != nil {
		return h, err
	}
	fam, ok := archFamilies[arch]
	if !ok {
		return h, fmt.Errorf("unsupported architecture %q (supported: llama, qwen2, gpt2)", arch)
	}
	h.Arch, h.Family, h.RopeMode = arch, fam.family, fam.rope
	req := func(dst *int, key string) {
		if err == nil {
			*dst, err = metaInt(f, arch+"."+key)
		}
	}
	req(&h.ContextLength, "context_length")
	req(&h.Embedding, "embedding_length")
	req(&h.Blocks, "block_count")
	req(&h.FeedForward, "feed_forward_length")
	req(&h.Heads, "attention.head_count")
	if err != nil {
		return h, err
	}
	h.HeadsKV = optInt(f, arch+".attention.head_count_kv", h.Heads)
	if h.Heads <= 0 || h.HeadsKV <= 0 || h.Heads%h.HeadsKV != 0 {
		return h, fmt.Errorf("%s: head_count %d is not a positive multiple of head_count_kv %d", arch, h.Heads, h.HeadsKV)
	}
	if h.Embedding%h.Heads != 0 {
		return h, fmt.Errorf("%s: embedding_length %d is not divisible by head_count %d", arch, h.Embedding, h.Heads)
	}
	h.HeadDim = optInt(f, arch+".attention.key_length", h.Embedding/h.Heads)
	if v := optInt(f, arch+".attention.value_length", h.HeadDim); v != h.HeadDim {
		return h, fmt.Errorf("%s: value_length %d differs from key_length %d, which is not supported", arch, v, h.HeadDim)
	}
	for name, v := range map[string]int{"context_length": h.ContextLength, "embedding_length": h.Embedding,
		"block_count": h.Blocks, "feed_forward_length": h.FeedForward, "key_length": h.HeadDim} {
		if v <= 0 || v > 1<<24 {
			return h, fmt.Errorf("%s.%s = %d is out of range", arch, name, v)
		}
	}

	if h.Family == FamilyGPT {
		h.NormEps = optFloat(f, arch+".attention.layer_norm_epsilon", 1e-5)
		return h, nil
	}
	h.NormEps = optFloat(f, arch+".attention.layer_norm_rms_epsilon", 1e-5)
	h.RopeDim = optInt(f, arch+".rope.dimension_count", h.HeadDim)
	if h.RopeDim <= 0 || h.RopeDim > h.HeadDim || h.RopeDim%2 != 0 {
		return h, fmt.Errorf("%s: rope.dimension_count %d must be even and at most the head size %d", arch, h.RopeDim, h.HeadDim)
	}
	h.RopeFreqBase = optFloat(f, arch+".rope.freq_base", 10000)
	h.RopeFreqScale = 1
	scaling, _ := optString(f, arch+".rope.scaling.type")
	factor := optFloat(f, arch+".rope.scaling.factor", 0)
	if factor == 0 {
		// Older converters wrote only this key for linear scaling.
		if factor = optFloat(f, arch+".rope.scale_linear", 0); factor != 0 && scaling == "" {
			scaling = "linear"
		}
	}
	switch scaling {
	case "", "none":
	case "linear":
		if factor <= 0 {
			return h, fmt.Errorf("%s: linear rope scaling needs a positive rope.scaling.factor, got %v", arch, factor)
		}
		h.RopeFreqScale = 1 / factor
	default:
		return h, fmt.Errorf("%s: rope scaling type %q is not supported (none, linear, or llama3 via rope_freqs.weight)", arch, scaling)
	}
	return h, nil
}

func metaString(f *gguf.File, key string) (string, error) {
	v, ok := f.Get(key)
	if !ok {
		return "", fmt.Errorf("metadata %s is missing", key)
	}
	s, ok := v.String()
	if !ok {
		return "", fmt.Errorf("metadata %s is %s, want string", key, v.Type)
	}
	return s, nil
}

func optString(f *gguf.File, key string) (string, bool) {
	v, ok := f.Get(key)
	if !ok {
		return "", false
	}
	return v.String()
}

func metaInt(f *gguf.File, key string) (int, error) {
	v, ok := f.Get(key)
	if !ok {
		return 0, fmt.Errorf("metadata %s is missing", key)
	}
	i, ok := v.Int()
	if !ok || i < math.MinInt32 || i > math.MaxInt32 {
		return 0, fmt.Errorf("metadata %s = %s is not a 32-bit integer", key, v.Format())
	}
	return int(i), nil
}

func optInt(f *gguf.File, key string, def int) int {
	if i, err := metaInt(f, key); err == nil {
		return i
	}
	return def
}

func optFloat(f *gguf.File, key string, def float32) float32 {
	if v, ok := f.Get(key); ok {
		if x, ok := v.Float(); ok {
			return float32(x)
		}
	}
	return def
}
