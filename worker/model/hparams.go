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
	// the rope_freqs.weight tensor; Phi-3's LongRoPE, from rope_factors_long or
	// _short); nil when absent.
	RopeFreqFactors []float32
	// RopeAttnFactor multiplies the rotation's cos and sin (LongRoPE's
	// magnitude correction); 1 without one.
	RopeAttnFactor float32
	// RopeFreqBaseSWA and RopeFreqScaleSWA replace the base and scale in the
	// sliding-window layers (Gemma 3's local layers rotate with base 10000 and
	// no scaling); equal to the global ones where the file says nothing.
	RopeFreqBaseSWA, RopeFreqScaleSWA float32

	// The rest of the forward pass, by architecture (archSpec) and file keys.
	Norm             NormKind
	Act              Activation
	Residual         Residual
	LearnedPositions bool
	// EmbedScale multiplies the token embeddings (Gemma: √n_embd); 1 for none.
	EmbedScale float32
	PostNorms  bool
	// AttnScale multiplies q·k (1/√head_dim unless the architecture or file says otherwise).
	AttnScale float32
	// AttnSoftcap and FinalSoftcap, when positive, squash attention scores and
	// logits to cap·tanh(x/cap) (Gemma 2; Gemma 3's final logits where the file has it).
	AttnSoftcap, FinalSoftcap float32
	// SlidingWindow, when positive, is how many positions (the query's own
	// included) a windowed layer attends to; which layers are windowed is
	// SWALayers (nil: all of them).
	SlidingWindow int
	SWALayers     []bool
}

// Window is how many of the latest positions layer attends to; 0 means all of them.
func (h *Hyper) Window(layer int) int {
	if h.SlidingWindow <= 0 || (h.SWALayers != nil && !h.SWALayers[layer]) {
		return 0
	}
	return h.SlidingWindow
}

// KVWindow is how many of the latest positions any layer reads, when every layer is windowed (Mistral's
// sliding window, Phi-3's): a sequence's keys and values older than that are never read again, so the KV
// pool gives their blocks back. 0 when some layer attends to everything (Gemma's global layers) or none is
// windowed.
func (h *Hyper) KVWindow() int {
	for l := range h.Blocks {
		if h.Window(l) == 0 {
			return 0
		}
	}
	return h.SlidingWindow
}

// LayerRope is the rope base and position scale of layer.
func (h *Hyper) LayerRope(layer int) (base, scale float32) {
	if h.Window(layer) > 0 {
		return h.RopeFreqBaseSWA, h.RopeFreqScaleSWA
	}
	return h.RopeFreqBase, h.RopeFreqScale
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
	// Soft-caps and attention scales are positive (a zero cap would divide by zero).
	softcapRange = floatRange{lo: 0, hi: 1 << 20, loOpen: true}
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
	spec, ok := archs[arch]
	if !ok {
		return h, fmt.Errorf("unsupported architecture %q (supported: %s)", arch, supportedList())
	}
	h.Arch, h.Family, h.RopeMode = arch, spec.family, spec.rope
	h.Norm, h.Act, h.Residual, h.LearnedPositions, h.PostNorms = spec.norm, spec.act, spec.residual, spec.learnedPositions, spec.postNorms
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

	if h.Norm == NormLayer {
		h.NormEps = r.optFloat("attention.layer_norm_epsilon", 1e-5, epsRange)
	} else {
		h.NormEps = r.optFloat("attention.layer_norm_rms_epsilon", 1e-5, epsRange)
	}
	h.EmbedScale = 1
	if spec.embedScale {
		h.EmbedScale = float32(math.Sqrt(float64(h.Embedding)))
	}
	h.AttnScale = float32(1 / math.Sqrt(float64(h.HeadDim)))
	if spec.gemma27BBlocks != 0 && h.Blocks == spec.gemma27BBlocks {
		h.AttnScale = float32(1 / math.Sqrt(float64(h.Embedding/h.Heads)))
	}
	h.AttnScale = r.optFloat("attention.scale", h.AttnScale, softcapRange)
	h.AttnSoftcap = r.optFloat("attn_logit_softcapping", spec.attnSoftcap, softcapRange)
	h.FinalSoftcap = r.optFloat("final_logit_softcapping", spec.finalSoftcap, softcapRange)
	if spec.window {
		h.SlidingWindow = r.optInt("attention.sliding_window", spec.defaultWindow, intRange{0, sizeRange.hi})
	}
	if r.err != nil {
		return h, r.err
	}
	if h.SlidingWindow > 0 && spec.swaPattern > 0 {
		if h.SWALayers, err = swaLayers(f, arch, h.Blocks, spec.swaPattern); err != nil {
			return h, err
		}
	}
	if h.RopeMode == RopeNone {
		return h, nil
	}
	h.RopeDim = r.optInt("rope.dimension_count", h.HeadDim, intRange{2, h.HeadDim})
	if r.err == nil && h.RopeDim%2 != 0 {
		return h, fmt.Errorf("%s: rope.dimension_count %d must be even and at most the head size %d", arch, h.RopeDim, h.HeadDim)
	}
	h.RopeFreqBase = r.optFloat("rope.freq_base", 10000, ropeBaseRange)
	h.RopeFreqScale, h.RopeAttnFactor = 1, 1
	scaling, _ := optString(f, arch+".rope.scaling.type")
	var factor float32
	switch {
	case scaling == "" || scaling == "none":
	case scaling == "linear":
		factor = r.optFloat("rope.scaling.factor", 0, ropeFactorRange)
	case scaling == "longrope" && arch == "phi3":
		// The factors are tensors (bindWeights); this key corrects the magnitude.
		h.RopeAttnFactor = r.optFloat("rope.scaling.attn_factor", 1, ropeFactorRange)
	default:
		return h, fmt.Errorf("%s: rope scaling type %q is not supported (none, linear, llama3 via rope_freqs.weight, longrope for phi3)", arch, scaling)
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
	h.RopeFreqBaseSWA, h.RopeFreqScaleSWA = h.RopeFreqBase, h.RopeFreqScale
	if spec.localRope {
		h.RopeFreqBaseSWA, h.RopeFreqScaleSWA = 10000, 1
	}
	h.RopeFreqBaseSWA = r.optFloat("rope.freq_base_swa", h.RopeFreqBaseSWA, ropeBaseRange)
	return h, r.err
}

// swaLayers says which layers attend in the window: the file's
// attention.sliding_window_pattern (a period, or one bool per layer), else
// the architecture's period; the last layer of each period is global.
func swaLayers(f *gguf.File, arch string, blocks, pattern int) ([]bool, error) {
	key := arch + ".attention.sliding_window_pattern"
	if v, ok := f.Get(key); ok {
		if n, ok := v.Int(); ok {
			if n < 0 || n > int64(blocks) {
				return nil, fmt.Errorf("metadata %s = %s is out of range: the valid range is [0, %d]", key, v.Format(), blocks)
			}
			pattern = int(n)
		} else if bs, ok := v.Bools(); ok && len(bs) == blocks {
			return bs, nil
		} else {
			return nil, fmt.Errorf("metadata %s = %s is neither a period nor %d booleans", key, v.Format(), blocks)
		}
	}
	out := make([]bool, blocks)
	for i := range out {
		out[i] = pattern == 0 || i%pattern < pattern-1
	}
	return out, nil
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

// RopeInvFreq is each rotated pair's inverse frequency in layer, scale ×
// base^(-2i/dim) / factor[i], rounded to float32 like HF's inv_freq buffer so
// that both engines rotate by the angles transformers uses; nil without RoPE.
func (h *Hyper) RopeInvFreq(layer int) []float32 {
	if h.RopeMode == RopeNone {
		return nil
	}
	base, scale := h.LayerRope(layer)
	inv := make([]float32, h.RopeDim/2)
	for i := range inv {
		f := float32(1 / math.Pow(float64(base), float64(2*i)/float64(h.RopeDim)))
		if h.RopeFreqFactors != nil {
			f /= h.RopeFreqFactors[i]
		}
		inv[i] = f * scale
	}
	return inv
}
