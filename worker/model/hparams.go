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

// Valid ranges of the hyperparameters. A value outside its range fails the load
// with the key, the value and the range: a nonsensical value (a negative norm
// epsilon, a zero RoPE base) would otherwise load and serve NaN.
var (
	sizeRange  = intRange{1, 1 << 24} // context, embedding, blocks, feed-forward
	headsRange = intRange{1, 1 << 16} // head counts and head size
	// Norm epsilons keep a normalization's divisor away from zero: positive, and
	// far below 1 (models use 1e-5 or 1e-6).
	epsRange = floatRange{lo: 0, hi: 1, loOpen: true, hiOpen: true}
	// RoPE's frequencies are base^(-2i/d): the base must be positive.
	ropeBaseRange = floatRange{lo: 0, hi: math.MaxFloat32, loOpen: true}
	// Linear RoPE scaling divides positions by the factor.
	ropeFactorRange = floatRange{lo: 0, hi: 1 << 10, loOpen: true}
)

// readHyper reads the hyperparameters of a supported architecture and checks
// each against its valid range. A key that is present must be valid: only a
// missing optional key takes its default.
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
	r := hyperReader{f: f, arch: arch}
	h.ContextLength = r.reqInt("context_length", sizeRange)
	h.Embedding = r.reqInt("embedding_length", sizeRange)
	h.Blocks = r.reqInt("block_count", sizeRange)
	h.FeedForward = r.reqInt("feed_forward_length", sizeRange)
	h.Heads = r.reqInt("attention.head_count", headsRange)
	if r.err != nil {
		return h, r.err
	}
	h.HeadsKV = r.optInt("attention.head_count_kv", h.Heads, intRange{1, h.Heads})
	if r.err != nil {
		return h, r.err
	}
	if h.Heads%h.HeadsKV != 0 {
		return h, fmt.Errorf("%s: head_count %d is not a positive multiple of head_count_kv %d", arch, h.Heads, h.HeadsKV)
	}
	if h.Embedding%h.Heads != 0 {
		return h, fmt.Errorf("%s: embedding_length %d is not divisible by head_count %d", arch, h.Embedding, h.Heads)
	}
	h.HeadDim = r.optInt("attention.key_length", h.Embedding/h.Heads, headsRange)
	if v := r.optInt("attention.value_length", h.HeadDim, headsRange); r.err == nil && v != h.HeadDim {
		return h, fmt.Errorf("%s: value_length %d differs from key_length %d, which is not supported", arch, v, h.HeadDim)
	}
	if r.err != nil {
		return h, r.err
	}

	if h.Family == FamilyGPT {
		h.NormEps = r.optFloat("attention.layer_norm_epsilon", 1e-5, epsRange)
		return h, r.err
	}
	h.NormEps = r.optFloat("attention.layer_norm_rms_epsilon", 1e-5, epsRange)
	h.RopeDim = r.optInt("rope.dimension_count", h.HeadDim, intRange{2, h.HeadDim})
	if r.err == nil && h.RopeDim%2 != 0 {
		return h, fmt.Errorf("%s: rope.dimension_count %d must be even and at most the head size %d", arch, h.RopeDim, h.HeadDim)
	}
	h.RopeFreqBase = r.optFloat("rope.freq_base", 10000, ropeBaseRange)
	h.RopeFreqScale = 1
	scaling, _ := optString(f, arch+".rope.scaling.type")
	var factor float32
	switch scaling {
	case "", "none":
	case "linear":
		factor = r.optFloat("rope.scaling.factor", 0, ropeFactorRange)
	default:
		return h, fmt.Errorf("%s: rope scaling type %q is not supported (none, linear, or llama3 via rope_freqs.weight)", arch, scaling)
	}
	if factor == 0 && (scaling == "" || scaling == "linear") {
		// Older converters wrote only this key for linear scaling.
		if factor = r.optFloat("rope.scale_linear", 0, ropeFactorRange); factor != 0 {
			scaling = "linear"
		}
	}
	if r.err != nil {
		return h, r.err
	}
	if scaling == "linear" {
		if factor == 0 {
			return h, fmt.Errorf("%s: linear rope scaling needs %s.rope.scaling.factor in %s", arch, arch, ropeFactorRange)
		}
		h.RopeFreqScale = 1 / factor
	}
	return h, nil
}

// intRange is [lo, hi].
type intRange struct{ lo, hi int }

func (r intRange) String() string { return fmt.Sprintf("[%d, %d]", r.lo, r.hi) }

// floatRange is lo..hi, each end open or closed; values must also be finite.
type floatRange struct {
	lo, hi         float64
	loOpen, hiOpen bool
}

func (r floatRange) contains(x float64) bool {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return false
	}
	return (x > r.lo || !r.loOpen && x == r.lo) && (x < r.hi || !r.hiOpen && x == r.hi)
}

func (r floatRange) String() string {
	lb, rb := "[", "]"
	if r.loOpen {
		lb = "("
	}
	if r.hiOpen {
		rb = ")"
	}
	return fmt.Sprintf("%s%g, %g%s", lb, r.lo, r.hi, rb)
}

// hyperReader reads {arch}.* keys, keeping the first error.
type hyperReader struct {
	f    *gguf.File
	arch string
	err  error
}

func (r *hyperReader) outOfRange(key string, v gguf.Value, valid fmt.Stringer) {
	r.err = fmt.Errorf("metadata %s.%s = %s is out of range: the valid range is %s", r.arch, key, v.Format(), valid)
}

func (r *hyperReader) reqInt(key string, valid intRange) int {
	if r.err != nil {
		return 0
	}
	if _, ok := r.f.Get(r.arch + "." + key); !ok {
		r.err = fmt.Errorf("metadata %s.%s is missing", r.arch, key)
		return 0
	}
	return r.optInt(key, 0, valid)
}

func (r *hyperReader) optInt(key string, def int, valid intRange) int {
	if r.err != nil {
		return def
	}
	v, ok := r.f.Get(r.arch + "." + key)
	if !ok {
		return def
	}
	i, ok := v.Int()
	if !ok {
		r.err = fmt.Errorf("metadata %s.%s = %s is not an integer", r.arch, key, v.Format())
		return def
	}
	if i < int64(valid.lo) || i > int64(valid.hi) {
		r.outOfRange(key, v, valid)
		return def
	}
	return int(i)
}

func (r *hyperReader) optFloat(key string, def float32, valid floatRange) float32 {
	if r.err != nil {
		return def
	}
	v, ok := r.f.Get(r.arch + "." + key)
	if !ok {
		return def
	}
	x, ok := v.Float()
	if !ok {
		r.err = fmt.Errorf("metadata %s.%s = %s is not a number", r.arch, key, v.Format())
		return def
	}
	if !valid.contains(x) || !valid.contains(float64(float32(x))) {
		r.outOfRange(key, v, valid)
		return def
	}
	return float32(x)
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
