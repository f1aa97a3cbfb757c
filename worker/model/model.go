package model

import (
	"fmt"
	"sort"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
)

// Tensor is a named weight in the file. Matrices are row-major with Rows =
// product of the GGUF dims after the first and Cols = the first dim, so a
// linear layer's Rows is its output size and Cols its input size.
type Tensor struct {
	Info gguf.TensorInfo
	Rows int
	Cols int
	file *gguf.File
}

// Float32 dequantizes the tensor into a new slice of Rows*Cols values.
func (t *Tensor) Float32() ([]float32, error) {
	return gguf.Dequantize(t.Info, t.file.TensorData(t.Info))
}

// Layer holds one transformer block's weights; absent optional tensors are nil.
type Layer struct {
	AttnNorm, AttnNormBias *Tensor
	Q, QBias               *Tensor // separate projections (llama, qwen, gemma, phi2, starcoder2)
	K, KBias               *Tensor
	V, VBias               *Tensor
	QKV, QKVBias           *Tensor // or one fused projection (gpt2, gptneox, phi3): rows are q, then k, then v
	// QNorm and KNorm are per-head RMSNorms on q and k before RoPE (Qwen3, Gemma 3).
	QNorm, KNorm       *Tensor
	Output, OutputBias *Tensor
	// PostAttnNorm and PostFFNNorm normalize the attention and MLP outputs before
	// their residual adds (Gemma 2 and 3).
	PostAttnNorm         *Tensor
	FFNNorm, FFNNormBias *Tensor // nil where attention and MLP share AttnNorm (Phi-2)
	Gate                 *Tensor // gated MLPs (the llama family)
	// GateUp is a gated MLP's gate and up projections in one tensor, gate rows
	// first (Phi-3); Gate and Up are then nil.
	GateUp         *Tensor
	Up, UpBias     *Tensor
	Down, DownBias *Tensor
	PostFFNNorm    *Tensor
}

// Weights are the shape-checked tensors of a model.
type Weights struct {
	TokenEmbedding    *Tensor // n_vocab rows × n_embd
	PositionEmbedding *Tensor // gpt family: n_ctx rows × n_embd
	OutputNorm        *Tensor
	OutputNormBias    *Tensor
	// Output projects to logits; nil when the embeddings are tied, in which
	// case TokenEmbedding is used, as llama.cpp does.
	Output     *Tensor
	OutputBias *Tensor // Phi-2's logit bias
	Layers     []Layer
}

// Model is a loaded GGUF model: its hyperparameters and shape-checked weights.
// The tokenizer is built from the same file by worker/tokenizer (FromGGUF). Tensor data stays in the file mapping:
// the CPU engine computes from it and the CUDA backend uploads from it, so Close only after the backend is closed.
type Model struct {
	Path    string
	Hyper   Hyper
	Weights Weights
	File    *gguf.File
	// OnProgress, when set, is called by the backend building from this model after
	// each tensor it has read; calls come from the one goroutine that loads.
	OnProgress ProgressFunc

	progressDone, progressTotal uint64
}

// Load opens a GGUF model. When declared is not empty the file's family
// must match it, so a misconfigured worker fails at startup, not mid-request.
func Load(path string, declared Family) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err // already names the path
	}
	m, err := FromFile(f, declared)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	m.Path = path
	return m, nil
}

// FromFile builds a Model from an opened file; the Model takes ownership. A
// header-only file (gguf.ParseHeader) gives a Model with every shape and size
// but no data: enough for the memory plan, not for a backend.
func FromFile(f *gguf.File, declared Family) (*Model, error) {
	h, err := readHyper(f)
	if err != nil {
		return nil, err
	}
	if declared != "" && declared != h.Family {
		return nil, fmt.Errorf("file is %s (%s family) but %s was declared", h.Arch, h.Family, declared)
	}
	m := &Model{Hyper: h, File: f}
	if err := m.bindWeights(); err != nil {
		return nil, err
	}
	// The tokenizer itself is built by worker/tokenizer; its size must match the embeddings.
	tokens, ok := f.Get("tokenizer.ggml.tokens")
	if !ok {
		return nil, fmt.Errorf("metadata tokenizer.ggml.tokens is missing")
	}
	if n := tokens.Len(); n != m.Hyper.VocabSize {
		return nil, fmt.Errorf("tokenizer has %d tokens but token_embd has %d rows", n, m.Hyper.VocabSize)
	}
	return m, nil
}

// Close releases the file mapping.
func (m *Model) Close() error { return m.File.Close() }

// ProgressFunc is told the weight bytes a backend has read (converted by the CPU
// engine, uploaded by the CUDA backend) so far, of the total; see Model.OnProgress.
type ProgressFunc func(done, total uint64)

// Tensors lists the bound weights, each once, in load order.
func (m *Model) Tensors() []*Tensor {
	w := &m.Weights
	var out []*Tensor
	add := func(ts ...*Tensor) {
		for _, t := range ts {
			if t != nil {
				out = append(out, t)
			}
		}
	}
	add(w.TokenEmbedding, w.PositionEmbedding, w.OutputNorm, w.OutputNormBias, w.Output, w.OutputBias)
	for _, l := range w.Layers {
		add(l.AttnNorm, l.AttnNormBias, l.Q, l.QBias, l.K, l.KBias, l.V, l.VBias, l.QKV, l.QKVBias,
			l.QNorm, l.KNorm, l.Output, l.OutputBias, l.PostAttnNorm, l.FFNNorm, l.FFNNormBias,
			l.Gate, l.GateUp, l.Up, l.UpBias, l.Down, l.DownBias, l.PostFFNNorm)
	}
	return out
}

// MatmulParams is the weight elements a token's forward pass multiplies: every layer's projections and the
// output projection (the token embeddings when tied); 2 x MatmulParams is a token's matmul FLOPs.
func (m *Model) MatmulParams() uint64 {
	var n uint64
	add := func(ts ...*Tensor) {
		for _, t := range ts {
			if t != nil {
				n += uint64(t.Rows) * uint64(t.Cols)
			}
		}
	}
	if m.Weights.Output != nil {
		add(m.Weights.Output)
	} else {
		add(m.Weights.TokenEmbedding)
	}
	for _, l := range m.Weights.Layers {
		add(l.Q, l.K, l.V, l.QKV, l.Output, l.Gate, l.GateUp, l.Up, l.Down)
	}
	return n
}

// TensorBytes is the stored size of the bound weights: the total of load progress.
func (m *Model) TensorBytes() uint64 {
	var n uint64
	for _, t := range m.Tensors() {
		n += t.Info.Size
	}
	return n
}

// Loaded tells OnProgress that a backend has read t; backends call it after each tensor.
func (m *Model) Loaded(t *Tensor) {
	if t == nil || m.OnProgress == nil {
		return
	}
	if m.progressTotal == 0 {
		m.progressTotal = m.TensorBytes()
	}
	m.progressDone += t.Info.Size
	m.OnProgress(min(m.progressDone, m.progressTotal), m.progressTotal)
}

// binder looks tensors up and checks their shapes, keeping the first error.
type binder struct {
	f   *gguf.File
	err error
}

// get returns the named tensor with GGUF dims want; missing optional
// tensors give nil. Types the worker does not support are rejected here, so
// such a file fails at load (and in inspect's plan) with the tensor's name,
// its type and the supported types.
func (b *binder) get(name string, optional bool, want ...int) *Tensor {
	if b.err != nil {
		return nil
	}
	info, ok := b.f.Tensor(name)
	if !ok {
		if !optional {
			b.err = fmt.Errorf("tensor %s is missing", name)
		}
		return nil
	}
	if err := info.CheckSupported(); err != nil {
		b.err = err
		return nil
	}
	if len(info.Dims) != len(want) {
		b.err = fmt.Errorf("tensor %s has shape %v, want %v", name, info.Dims, want)
		return nil
	}
	for i, d := range want {
		if info.Dims[i] != uint64(d) {
			b.err = fmt.Errorf("tensor %s has shape %v, want %v", name, info.Dims, want)
			return nil
		}
	}
	rows := 1
	for _, d := range want[1:] {
		rows *= d
	}
	return &Tensor{Info: info, Rows: rows, Cols: want[0], file: b.f}
}

func (m *Model) bindWeights() error {
	h := &m.Hyper
	tok, ok := m.File.Tensor("token_embd.weight")
	if !ok || len(tok.Dims) != 2 || tok.Dims[0] != uint64(h.Embedding) || tok.Dims[1] == 0 || tok.Dims[1] > 1<<24 {
		return fmt.Errorf("tensor token_embd.weight is missing or not [%d, n_vocab]", h.Embedding)
	}
	h.VocabSize = int(tok.Dims[1])

	b := &binder{f: m.File}
	nEmbd, nFF, nVocab := h.Embedding, h.FeedForward, h.VocabSize
	nQ, nKV := h.Heads*h.HeadDim, h.HeadsKV*h.HeadDim
	w := &m.Weights
	ln := h.Norm == NormLayer // LayerNorms have biases
	w.TokenEmbedding = b.get("token_embd.weight", false, nEmbd, nVocab)
	if h.LearnedPositions {
		w.PositionEmbedding = b.get("position_embd.weight", false, nEmbd, h.ContextLength)
	}
	w.OutputNorm = b.get("output_norm.weight", false, nEmbd)
	w.OutputNormBias = b.get("output_norm.bias", !ln, nEmbd)
	w.Output = b.get("output.weight", true, nEmbd, nVocab)
	w.OutputBias = b.get("output.bias", true, nVocab)

	w.Layers = make([]Layer, h.Blocks)
	for i := range w.Layers {
		l := &w.Layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		l.AttnNorm = b.get(p+"attn_norm.weight", false, nEmbd)
		l.AttnNormBias = b.get(p+"attn_norm.bias", !ln, nEmbd)
		// q, k and v are one tensor or three, as the converter of the architecture writes them;
		// biases are optional (qwen2 has q/k/v biases, llama none).
		if _, fused := m.File.Tensor(p + "attn_qkv.weight"); fused {
			l.QKV = b.get(p+"attn_qkv.weight", false, nEmbd, nQ+2*nKV)
			l.QKVBias = b.get(p+"attn_qkv.bias", true, nQ+2*nKV)
		} else {
			l.Q = b.get(p+"attn_q.weight", false, nEmbd, nQ)
			l.K = b.get(p+"attn_k.weight", false, nEmbd, nKV)
			l.V = b.get(p+"attn_v.weight", false, nEmbd, nKV)
			l.QBias = b.get(p+"attn_q.bias", true, nQ)
			l.KBias = b.get(p+"attn_k.bias", true, nKV)
			l.VBias = b.get(p+"attn_v.bias", true, nKV)
		}
		l.QNorm = b.get(p+"attn_q_norm.weight", true, h.HeadDim)
		l.KNorm = b.get(p+"attn_k_norm.weight", l.QNorm == nil, h.HeadDim)
		l.Output = b.get(p+"attn_output.weight", false, nQ, nEmbd)
		l.OutputBias = b.get(p+"attn_output.bias", true, nEmbd)
		if h.Residual != ResidualParallelShared {
			l.FFNNorm = b.get(p+"ffn_norm.weight", false, nEmbd)
			l.FFNNormBias = b.get(p+"ffn_norm.bias", !ln, nEmbd)
		}
		if h.Family == FamilyLlama { // gated MLPs
			if _, sep := m.File.Tensor(p + "ffn_gate.weight"); sep {
				l.Gate = b.get(p+"ffn_gate.weight", false, nEmbd, nFF)
				l.Up = b.get(p+"ffn_up.weight", false, nEmbd, nFF)
			} else {
				l.GateUp = b.get(p+"ffn_up.weight", false, nEmbd, 2*nFF)
			}
		} else {
			l.Up = b.get(p+"ffn_up.weight", false, nEmbd, nFF)
			l.UpBias = b.get(p+"ffn_up.bias", true, nFF)
		}
		l.Down = b.get(p+"ffn_down.weight", false, nFF, nEmbd)
		l.DownBias = b.get(p+"ffn_down.bias", true, nEmbd)
		if h.PostNorms {
			l.PostAttnNorm = b.get(p+"post_attention_norm.weight", false, nEmbd)
			l.PostFFNNorm = b.get(p+"post_ffw_norm.weight", false, nEmbd)
		}
	}
	if b.err != nil {
		return b.err
	}
	if h.RopeMode == RopeNone {
		return nil
	}
	// Frequency factors: Llama 3's rope_freqs, or LongRoPE's pair of which the
	// long one serves contexts beyond the original (llama.cpp's choice at load).
	name := "rope_freqs.weight"
	if _, ok := m.File.Tensor("rope_factors_long.weight"); ok {
		name = "rope_factors_short.weight"
		if orig := optInt(m.File, h.Arch+".rope.scaling.original_context_length", h.ContextLength); h.ContextLength > orig {
			name = "rope_factors_long.weight"
		}
	}
	if rf := b.get(name, true, h.RopeDim/2); rf != nil && m.File.HasData() {
		if h.RopeFreqFactors, b.err = rf.Float32(); b.err != nil {
			return b.err
		}
		// Each factor divides a frequency: it must be a positive finite number.
		for i, x := range h.RopeFreqFactors {
			if !ropeBaseRange.contains(float64(x)) {
				return fmt.Errorf("tensor %s[%d] = %g is out of range: the valid range is %s", name, i, x, ropeBaseRange)
			}
		}
	}
	return b.err
}

// TensorRow is one line of the inspect table.
type TensorRow struct {
	Name  string   `json:"name"`
	Type  string   `json:"type"`
	Shape []uint64 `json:"shape"` // GGUF order, fastest-varying first
	Bytes uint64   `json:"bytes"`
}

// Info summarises a GGUF file for `inspect`. It is filled from the file
// alone, so it also describes files this engine cannot run.
type Info struct {
	Architecture   string
	Family         Family // empty when the architecture is unsupported
	Name           string // general.name
	Parameters     uint64
	ContextLength  int
	TokenizerModel string
	VocabSize      int
	Hyper          *Hyper // nil when the hyperparameters are unusable
	HyperErr       error
	Tensors        []TensorRow
	BytesByType    map[string]uint64
	TotalBytes     uint64
}

// Inspect describes a GGUF file.
func Inspect(f *gguf.File) Info {
	info := Info{BytesByType: map[string]uint64{}}
	info.Architecture, _ = optString(f, "general.architecture")
	info.Name, _ = optString(f, "general.name")
	info.TokenizerModel, _ = optString(f, "tokenizer.ggml.model")
	if v, ok := f.Get("tokenizer.ggml.tokens"); ok {
		info.VocabSize = v.Len()
	}
	info.Family, _ = ArchitectureFamily(info.Architecture)
	info.ContextLength = optInt(f, info.Architecture+".context_length", 0)
	if h, err := readHyper(f); err == nil {
		info.Hyper = &h
	} else {
		info.HyperErr = err
	}
	for _, t := range f.Tensors {
		info.Parameters += t.Elements()
		info.TotalBytes += t.Size
		info.BytesByType[t.Type.String()] += t.Size
		info.Tensors = append(info.Tensors, TensorRow{Name: t.Name, Type: t.Type.String(), Shape: t.Dims, Bytes: t.Size})
	}
	return info
}

// SortedTypes returns the keys of BytesByType, largest first.
func (i Info) SortedTypes() []string {
	types := make([]string, 0, len(i.BytesByType))
	for t := range i.BytesByType {
		types = append(types, t)
	}
	sort.Slice(types, func(a, b int) bool {
		if i.BytesByType[types[a]] != i.BytesByType[types[b]] {
			return i.BytesByType[types[a]] > i.BytesByType[types[b]]
		}
		return types[a] < types[b]
	})
	return types
}
