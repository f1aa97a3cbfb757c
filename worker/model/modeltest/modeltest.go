// Package modeltest builds tiny random GGUF models with the tensor names and
// layouts llama.cpp's converter writes, for tests of the loader and engines.
package modeltest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
)

// Config describes a tiny model.
type Config struct {
	Arch        string // "llama", "qwen2" or "gpt2"
	Embedding   int
	Heads       int
	HeadsKV     int // 0 means Heads
	FeedForward int
	Blocks      int
	Vocab       int
	Context     int
	Type        gguf.GGMLType // of the 2-D weights; norms and biases stay F32
	// Recipe, when set (e.g. "Q4_K_M"), gives each tensor the type
	// llama-quantize's recipe would (gguf.FileType.TensorType) instead of Type,
	// and is written as general.file_type.
	Recipe     string
	Name       string    // general.name; "" means tiny-<arch>
	TiedOutput bool      // omit output.weight
	QKVBias    bool      // llama family: add q/k/v biases (qwen2 style)
	RopeFreqs  []float32 // written as rope_freqs.weight when set
	RopeBase   float32   // 0 means 10000
	Seed       uint64
}

// Tensor is a tensor to write: GGUF dims (fastest first) and values.
type Tensor struct {
	Name   string
	Dims   []uint64
	Values []float32
}

// Small returns a config that runs in milliseconds.
func Small(arch string) Config {
	return Config{Arch: arch, Embedding: 32, Heads: 4, HeadsKV: 2, FeedForward: 48, Blocks: 2, Vocab: 40, Context: 64, Type: gguf.TypeF32, Seed: 1}
}

// tensorSpec is a tensor to make: GGUF dims and the distribution of its
// values, offset + scale × N(0, 1), or fixed values.
type tensorSpec struct {
	name          string
	dims          []uint64
	scale, offset float64
	values        []float32
}

func (t tensorSpec) elements() uint64 {
	n := uint64(1)
	for _, d := range t.dims {
		n *= d
	}
	return n
}

// specs lists cfg's tensors in the order the converter writes them.
func specs(cfg Config) []tensorSpec {
	kv := cfg.HeadsKV
	if kv == 0 {
		kv = cfg.Heads
	}
	hd := cfg.Embedding / cfg.Heads
	e, ff := uint64(cfg.Embedding), uint64(cfg.FeedForward)
	var out []tensorSpec
	add := func(name string, scale, offset float64, dims ...uint64) {
		out = append(out, tensorSpec{name: name, dims: dims, scale: scale, offset: offset})
	}
	gpt := cfg.Arch == "gpt2"
	w := 0.5 / float64(cfg.Embedding) * 4
	add("token_embd.weight", 1, 0, e, uint64(cfg.Vocab))
	if gpt {
		add("position_embd.weight", 0.3, 0, e, uint64(cfg.Context))
	}
	for b := range cfg.Blocks {
		p := fmt.Sprintf("blk.%d.", b)
		add(p+"attn_norm.weight", 0.1, 1, e)
		if gpt {
			add(p+"attn_norm.bias", 0.1, 0, e)
			add(p+"attn_qkv.weight", w, 0, e, 3*e)
			add(p+"attn_qkv.bias", 0.1, 0, 3*e)
			add(p+"attn_output.weight", w, 0, e, e)
			add(p+"attn_output.bias", 0.1, 0, e)
			add(p+"ffn_norm.weight", 0.1, 1, e)
			add(p+"ffn_norm.bias", 0.1, 0, e)
			add(p+"ffn_up.weight", w, 0, e, ff)
			add(p+"ffn_up.bias", 0.1, 0, ff)
			add(p+"ffn_down.weight", w, 0, ff, e)
			add(p+"ffn_down.bias", 0.1, 0, e)
			continue
		}
		q, k := uint64(cfg.Heads*hd), uint64(kv*hd)
		add(p+"attn_q.weight", w, 0, e, q)
		add(p+"attn_k.weight", w, 0, e, k)
		add(p+"attn_v.weight", w, 0, e, k)
		if cfg.QKVBias {
			add(p+"attn_q.bias", 0.2, 0, q)
			add(p+"attn_k.bias", 0.2, 0, k)
			add(p+"attn_v.bias", 0.2, 0, k)
		}
		add(p+"attn_output.weight", w, 0, q, e)
		add(p+"ffn_norm.weight", 0.1, 1, e)
		add(p+"ffn_gate.weight", w, 0, e, ff)
		add(p+"ffn_up.weight", w, 0, e, ff)
		add(p+"ffn_down.weight", w, 0, ff, e)
	}
	add("output_norm.weight", 0.1, 1, e)
	if gpt {
		add("output_norm.bias", 0.1, 0, e)
	}
	if !cfg.TiedOutput {
		add("output.weight", w, 0, e, uint64(cfg.Vocab))
	}
	if cfg.RopeFreqs != nil {
		out = append(out, tensorSpec{name: "rope_freqs.weight", dims: []uint64{uint64(len(cfg.RopeFreqs))}, values: cfg.RopeFreqs})
	}
	return out
}

// Shapes lists cfg's tensors (names and dims, no values) in the order the
// converter writes them: for checks on model shapes too large to make.
func Shapes(cfg Config) []Tensor {
	var out []Tensor
	for _, s := range specs(cfg) {
		out = append(out, Tensor{Name: s.name, Dims: s.dims})
	}
	return out
}

// Tensors returns random weights for cfg, in the order the converter writes them.
func Tensors(cfg Config) []Tensor {
	r := rand.New(rand.NewPCG(cfg.Seed, 99))
	var out []Tensor
	for _, s := range specs(cfg) {
		v := s.values
		if v == nil {
			v = make([]float32, s.elements())
			for i := range v {
				v[i] = float32(s.offset + s.scale*r.NormFloat64())
			}
		}
		out = append(out, Tensor{Name: s.name, Dims: s.dims, Values: v})
	}
	return out
}

// Writer returns a GGUF writer holding cfg's metadata and the given tensors.
func Writer(cfg Config, tensors []Tensor) (*gguf.Writer, error) {
	w := gguf.NewWriter()
	a := cfg.Arch
	kv := cfg.HeadsKV
	if kv == 0 {
		kv = cfg.Heads
	}
	w.Set("general.architecture", gguf.String(a))
	name := cfg.Name
	if name == "" {
		name = "tiny-" + a
	}
	w.Set("general.name", gguf.String(name))
	w.Set(a+".context_length", gguf.Uint32(uint32(cfg.Context)))
	w.Set(a+".embedding_length", gguf.Uint32(uint32(cfg.Embedding)))
	w.Set(a+".block_count", gguf.Uint32(uint32(cfg.Blocks)))
	w.Set(a+".feed_forward_length", gguf.Uint32(uint32(cfg.FeedForward)))
	w.Set(a+".attention.head_count", gguf.Uint32(uint32(cfg.Heads)))
	if a == "gpt2" {
		w.Set(a+".attention.layer_norm_epsilon", gguf.Float32(1e-5))
	} else {
		w.Set(a+".attention.head_count_kv", gguf.Uint32(uint32(kv)))
		w.Set(a+".attention.layer_norm_rms_epsilon", gguf.Float32(1e-6))
		base := cfg.RopeBase
		if base == 0 {
			base = 10000
		}
		w.Set(a+".rope.freq_base", gguf.Float32(base))
		w.Set(a+".rope.dimension_count", gguf.Uint32(uint32(cfg.Embedding/cfg.Heads)))
	}
	tokens := make([]string, cfg.Vocab)
	types := make([]int32, cfg.Vocab)
	for i := range tokens {
		// Printable single characters, so decoded text is easy to read; past the UTF-16 surrogates, which
		// are not characters (each would be U+FFFD, one token many times, which llama.cpp refuses).
		r := rune('!' + i)
		if r >= 0xD800 {
			r += 0x800
		}
		tokens[i] = string(r)
		types[i] = 1
	}
	// One merge, so the byte-level BPE tokenizer has something to apply.
	tokens[len(tokens)-1] = "AB"
	if len(tokens) >= 256 {
		// A vocabulary of real size stands in for a real one: BOS and EOS are
		// control tokens, and the characters they displace (the quote and '#',
		// which JSON output needs) are ordinary tokens at the end.
		tokens[len(tokens)-2], tokens[len(tokens)-3] = tokens[1], tokens[2]
		tokens[1], tokens[2] = "<s>", "</s>"
		types[1], types[2] = 3, 3
	}
	if a == "llama" {
		w.Set("tokenizer.ggml.model", gguf.String("llama"))
		w.Set("tokenizer.ggml.pre", gguf.String("default"))
		w.Set("tokenizer.ggml.scores", gguf.Float32s(make([]float32, len(tokens))))
	} else {
		w.Set("tokenizer.ggml.model", gguf.String("gpt2"))
		w.Set("tokenizer.ggml.pre", gguf.String("gpt2"))
		w.Set("tokenizer.ggml.merges", gguf.Strings([]string{"A B"}))
	}
	w.Set("tokenizer.ggml.tokens", gguf.Strings(tokens))
	w.Set("tokenizer.ggml.token_type", gguf.Int32s(types))
	w.Set("tokenizer.ggml.bos_token_id", gguf.Uint32(1))
	w.Set("tokenizer.ggml.eos_token_id", gguf.Uint32(2))
	typeOf, err := TypeFunc(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Recipe != "" {
		f, _ := gguf.ParseFileType(cfg.Recipe)
		w.Set("general.file_type", gguf.Uint32(uint32(f)))
	}
	for _, t := range tensors {
		if err := w.AddF32(t.Name, typeOf(t.Name, t.Dims), t.Dims, t.Values); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// TypeFunc returns the function that gives each tensor of cfg its type:
// vectors and rope_freqs F32, 2-D weights cfg.Type or cfg.Recipe's choice.
func TypeFunc(cfg Config) (func(name string, dims []uint64) gguf.GGMLType, error) {
	if cfg.Recipe == "" {
		return func(name string, dims []uint64) gguf.GGMLType {
			if len(dims) == 2 && name != "rope_freqs.weight" {
				return cfg.Type
			}
			return gguf.TypeF32
		}, nil
	}
	f, err := gguf.ParseFileType(cfg.Recipe)
	if err != nil {
		return nil, err
	}
	kv := cfg.HeadsKV
	if kv == 0 {
		kv = cfg.Heads
	}
	shape := gguf.MixShape{Layers: cfg.Blocks, GQA: cfg.Heads / kv, Tied: cfg.TiedOutput}
	return func(name string, dims []uint64) gguf.GGMLType {
		return f.TensorType(name, dims, gguf.TypeF32, shape)
	}, nil
}

// WriteFile writes cfg with random weights to path.
func WriteFile(path string, cfg Config) error {
	return WriteTensors(path, cfg, Tensors(cfg))
}

// WriteTensors writes cfg with the given tensors to path.
func WriteTensors(path string, cfg Config, tensors []Tensor) error {
	w, err := Writer(cfg, tensors)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := w.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// distinctRows is how many random rows WriteSynthetic draws and encodes per
// large tensor; the tensor repeats them. Speed does not depend on the values,
// and drawing and quantizing every row of an 8B model would take many minutes.
const distinctRows = 64

// WriteSynthetic writes cfg with random weights to path, one tensor at a time
// (memory holds one encoded tensor, not the model), encoding on workers
// goroutines. A tensor of more than distinctRows rows repeats distinctRows
// random rows, each encoded as the tensor's type: a model for speed
// measurements, whose file has every real tensor's type, shape and size.
func WriteSynthetic(path string, cfg Config, workers int) error {
	typeOf, err := TypeFunc(cfg)
	if err != nil {
		return err
	}
	w, err := Writer(cfg, nil)
	if err != nil {
		return err
	}
	all := specs(cfg)
	byName := map[string]tensorSpec{}
	for _, s := range all {
		if err := w.DeclareTensor(s.name, typeOf(s.name, s.dims), s.dims); err != nil {
			return err
		}
		byName[s.name] = s
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	i := 0
	_, err = w.WriteStream(f, func(t gguf.TensorInfo) ([]byte, error) {
		i++
		return syntheticData(byName[t.Name], t.Type, cfg.Seed+uint64(i), workers)
	})
	if err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// syntheticData encodes one tensor: its distinct rows drawn and encoded on
// workers goroutines, then repeated.
func syntheticData(s tensorSpec, typ gguf.GGMLType, seed uint64, workers int) ([]byte, error) {
	if s.values != nil {
		return gguf.Quantize(typ, s.values)
	}
	cols := int(s.dims[0])
	rows := int(s.elements()) / cols
	rowBytes, err := typ.RowBytes(uint64(cols))
	if err != nil {
		return nil, fmt.Errorf("tensor %s: %w", s.name, err)
	}
	distinct := min(rows, distinctRows)
	if rows*cols <= 1<<20 { // small tensors are random throughout
		distinct = rows
	}
	out := make([]byte, uint64(rows)*rowBytes)
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		errs = make([]error, max(1, workers))
	)
	for wi := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := make([]float32, cols)
			for {
				r := int(next.Add(1)) - 1
				if r >= distinct {
					return
				}
				rng := rand.New(rand.NewPCG(seed, uint64(r)))
				for i := range v {
					v[i] = float32(s.offset + s.scale*rng.NormFloat64())
				}
				if err := gguf.QuantizeInto(typ, out[uint64(r)*rowBytes:uint64(r+1)*rowBytes], v); err != nil {
					errs[wi] = fmt.Errorf("tensor %s: %w", s.name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for r := distinct; r < rows; r++ {
		copy(out[uint64(r)*rowBytes:uint64(r+1)*rowBytes], out[uint64(r%distinct)*rowBytes:])
	}
	return out, nil
}

// PermuteQK reorders the rows of a q or k weight (rows × cols, HF layout)
// the way llama.cpp's LlamaModel converter does, so that rotating adjacent
// pairs (RoPE "norm" mode) in the result equals HF's half-split rotation of
// the original: within each head, row 2i comes from i and row 2i+1 from
// i + head_dim/2.
func PermuteQK(w []float32, rows, cols, heads int) []float32 {
	out := slices.Clone(w)
	hd := rows / heads
	for h := range heads {
		for i := range hd / 2 {
			copy(out[(h*hd+2*i)*cols:(h*hd+2*i+1)*cols], w[(h*hd+i)*cols:])
			copy(out[(h*hd+2*i+1)*cols:(h*hd+2*i+2)*cols], w[(h*hd+i+hd/2)*cols:])
		}
	}
	return out
}

// Parse reads back what w would write, without a file.
func Parse(w *gguf.Writer) (*gguf.File, error) {
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return nil, err
	}
	return gguf.Parse(b.Bytes())
}
