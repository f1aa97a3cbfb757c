package model

import (
	"sort"
	"strings"
)

// NormKind is the normalization a model uses everywhere.
type NormKind int

const (
	// NormRMS: x / sqrt(mean(x²) + eps) · w.
	NormRMS NormKind = iota
	// NormLayer: (x - mean) / sqrt(var + eps) · w + b.
	NormLayer
)

func (n NormKind) String() string { return [...]string{"rms", "layer"}[n] }

// Activation is the MLP's nonlinearity (on the gate when the MLP is gated).
type Activation int

const (
	// ActSiLU: x·σ(x) (SwiGLU when gated).
	ActSiLU Activation = iota
	// ActGELUTanh: GELU's tanh approximation (gelu_new, gelu_pytorch_tanh; GeGLU when gated).
	ActGELUTanh
	// ActGELU: the exact GELU, x·Φ(x) with the error function (GPT-NeoX's "gelu").
	ActGELU
)

func (a Activation) String() string { return [...]string{"silu", "gelu-tanh", "gelu"}[a] }

// Residual says how a block adds attention and MLP to its input.
type Residual int

const (
	// ResidualSequential: x += attn(norm1(x)); x += mlp(norm2(x)).
	ResidualSequential Residual = iota
	// ResidualParallel: x += attn(norm1(x)) + mlp(norm2(x)), both from the block's input (GPT-NeoX).
	ResidualParallel
	// ResidualParallelShared: x += attn(norm(x)) + mlp(norm(x)), one norm for both (Phi-2).
	ResidualParallelShared
)

func (r Residual) String() string { return [...]string{"sequential", "parallel", "parallel-shared"}[r] }

// archSpec is what a GGUF general.architecture means for the forward pass: the
// parts the file cannot say itself, as llama.cpp's model definition of that
// architecture has them. Everything a file can say (sizes, rope base, sliding
// window, soft-capping) is read from its keys.
type archSpec struct {
	family Family
	rope   RopeMode
	norm   NormKind
	act    Activation
	// learnedPositions: a position_embd table instead of RoPE (GPT-2).
	learnedPositions bool
	residual         Residual
	// embedScale multiplies the token embeddings by √n_embd (Gemma).
	embedScale bool
	// postNorms: RMSNorms on the attention and MLP outputs before each residual add (Gemma 2 and 3).
	postNorms bool
	// swaPattern: with a sliding window, every swaPattern-th layer (the last of each
	// period) attends globally and the others locally (llama.cpp's set_swa_pattern);
	// 0 puts every layer in the window.
	swaPattern int
	// gemmaScale: llama.cpp's attention scale rule for Gemma, 1/√(n_embd/n_head) for
	// the 27B models (this many blocks), else 1/√head_dim; query_pre_attn_scalar is
	// not in the file.
	gemma27BBlocks int
	// attnSoftcap and finalSoftcap are llama.cpp's defaults where the file has no key (Gemma 2).
	attnSoftcap, finalSoftcap float32
	// window: the file's attention.sliding_window applies (defaultWindow without the key).
	window        bool
	defaultWindow int
	// localRope: windowed layers rotate with base 10000 and no scaling unless
	// rope.freq_base_swa says otherwise (Gemma 3).
	localRope bool
}

// archs maps general.architecture to its definition.
var archs = map[string]archSpec{
	// Mistral's files are llama; their sliding window applies where the file declares it.
	"llama": {family: FamilyLlama, rope: RopeNorm, norm: NormRMS, act: ActSiLU, window: true},
	"qwen2": {family: FamilyLlama, rope: RopeNeox, norm: NormRMS, act: ActSiLU},
	"qwen3": {family: FamilyLlama, rope: RopeNeox, norm: NormRMS, act: ActSiLU},
	"phi3":  {family: FamilyLlama, rope: RopeNeox, norm: NormRMS, act: ActSiLU, window: true},
	"gemma2": {family: FamilyLlama, rope: RopeNeox, norm: NormRMS, act: ActGELUTanh, embedScale: true, postNorms: true,
		swaPattern: 2, gemma27BBlocks: 46, attnSoftcap: 50, finalSoftcap: 30, window: true, defaultWindow: 4096},
	"gemma3": {family: FamilyLlama, rope: RopeNeox, norm: NormRMS, act: ActGELUTanh, embedScale: true, postNorms: true,
		swaPattern: 6, gemma27BBlocks: 62, window: true, localRope: true},
	"gpt2":       {family: FamilyGPT, rope: RopeNone, norm: NormLayer, act: ActGELUTanh, learnedPositions: true},
	"gptneox":    {family: FamilyGPT, rope: RopeNeox, norm: NormLayer, act: ActGELU, residual: ResidualParallel},
	"phi2":       {family: FamilyGPT, rope: RopeNeox, norm: NormLayer, act: ActGELUTanh, residual: ResidualParallelShared},
	"starcoder2": {family: FamilyGPT, rope: RopeNeox, norm: NormLayer, act: ActGELUTanh},
}

// Architectures lists the supported general.architecture values, sorted.
func Architectures() []string {
	out := make([]string, 0, len(archs))
	for a := range archs {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// ArchitectureFamily is the family of a GGUF architecture; ok is false for one
// the worker does not run.
func ArchitectureFamily(arch string) (Family, bool) {
	s, ok := archs[arch]
	return s.family, ok
}

func supportedList() string { return strings.Join(Architectures(), ", ") }
