//go:build cgo && linux

package cudabackend

/*
#include "kic_api.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// Backend is the CUDA engine. It implements engine.Backend with the CPU
// engine's semantics; calls are serialized, and a Decode batch runs as one
// set of kernels (one CUDA graph launch per batch size when graphs are on).
type Backend struct {
	lib     *library
	m       *model.Model
	h       model.Hyper
	ordinal int
	sz      memplan.Sizing
	plan    memplan.Plan
	// usedBytes is the device memory the load took, measured; 0 if unknown.
	usedBytes uint64

	kv *kvcache.Pool // the blocks of the library's KV pool, by index

	mu     sync.Mutex // guards everything below and serializes calls into the library
	cm     *C.kic_model
	seqs   map[engine.SeqID]*cudaSeq
	nextID engine.SeqID
	closed bool
}

// cudaSeq is one sequence: its claim on the KV pool and its length limit.
type cudaSeq struct {
	capacity int
	kv       *kvcache.Seq
}

var _ engine.Backend = (*Backend)(nil)

// Open loads m onto the GPU. It checks the plan against the device's free
// memory before allocating; m's file may be closed once Open returns.
func Open(m *model.Model, opts Options) (*Backend, error) {
	if m == nil {
		return nil, errors.New("cuda: no model")
	}
	if err := Runs(m.Hyper); err != nil {
		return nil, err
	}
	l, err := loadLibrary(opts.LibPath)
	if err != nil {
		return nil, err
	}
	info, err := l.deviceInfo(opts.Device)
	if err != nil {
		return nil, err
	}
	b := &Backend{lib: l, m: m, h: m.Hyper, ordinal: opts.Device, seqs: map[engine.SeqID]*cudaSeq{}}
	// The same pure function inspect and the operator use, given this GPU's size.
	b.plan, opts.Memory, err = memplan.ForDevice(m, opts.Memory, info.TotalBytes, b.Device())
	if err != nil {
		return nil, err
	}
	if err := opts.Memory.KVType.Check(b.h); err != nil {
		return nil, err
	}
	b.sz = opts.Memory.Sizing(b.h)
	b.kv = kvcache.NewPool(b.sz.Blocks*b.sz.BlockTokens, b.sz.BlockTokens)
	if err := b.plan.Check(b.Device(), info.FreeBytes); err != nil {
		return nil, err
	}
	if err := b.create(opts); err != nil {
		return nil, err
	}
	if err := b.upload(); err != nil {
		b.destroy()
		return nil, err
	}
	// What the load really took on the device: free memory before minus after,
	// to compare with the plan (other processes on the GPU blur it).
	if after, err := l.deviceInfo(opts.Device); err == nil && info.FreeBytes > after.FreeBytes {
		b.usedBytes = info.FreeBytes - after.FreeBytes
	}
	return b, nil
}

func (b *Backend) create(opts Options) error {
	h := b.h
	inv := ropeInvFreq(h)
	cfg := C.kic_model_config{
		family: C.int32_t(C.KIC_FAMILY_LLAMA), vocab: C.int32_t(h.VocabSize), embd: C.int32_t(h.Embedding),
		layers: C.int32_t(h.Blocks), ffn: C.int32_t(h.FeedForward), heads: C.int32_t(h.Heads),
		heads_kv: C.int32_t(h.HeadsKV), head_dim: C.int32_t(h.HeadDim), context: C.int32_t(h.ContextLength),
		norm_eps: C.float(h.NormEps), rope_mode: C.int32_t(h.RopeMode), rope_dim: C.int32_t(h.RopeDim),
		kv_block_tokens: C.int32_t(b.sz.BlockTokens), kv_blocks: C.int32_t(b.kv.Blocks()), kv_type: C.int32_t(b.sz.KVType.GGML()),
		max_seq_blocks: C.int32_t(b.sz.MaxSeqBlocks), max_batch: C.int32_t(b.sz.MaxBatch),
		gemm_min_tokens: C.int32_t(b.sz.GemmMinTokens), weight_bytes: C.uint64_t(b.plan.Weights),
	}
	if h.Family == model.FamilyGPT {
		cfg.family = C.KIC_FAMILY_GPT
	}
	if b.m.Weights.Output == nil {
		cfg.tied_output = 1
	}
	if !opts.DisableGraphs {
		cfg.use_graphs = 1
	}
	if err := b.archConfig(&cfg); err != nil {
		return err
	}
	// The arrays go in C memory: cfg is Go memory passed to C, so it may not point into Go memory.
	if len(inv) > 0 {
		cinv := (*C.float)(C.malloc(C.size_t(4 * len(inv))))
		defer C.free(unsafe.Pointer(cinv))
		copy(unsafe.Slice((*float32)(unsafe.Pointer(cinv)), len(inv)), inv)
		cfg.rope_inv_freq = cinv
	}
	if win := layerWindows(h); win != nil {
		cwin := (*C.int32_t)(C.malloc(C.size_t(4 * len(win))))
		defer C.free(unsafe.Pointer(cwin))
		copy(unsafe.Slice((*int32)(unsafe.Pointer(cwin)), len(win)), win)
		cfg.layer_window = cwin
	}
	if err := b.checkLayout(&cfg); err != nil {
		return err
	}
	return b.lib.call("create model", func() C.kic_status {
		return C.call_model_create(b.lib.api, C.int32_t(b.ordinal), &cfg, &b.cm)
	})
}

// archConfig sets what the architecture adds to its family's forward pass (kic_model_config's fields after
// tied_output), from the hyperparameters and the tensors the file has.
func (b *Backend) archConfig(cfg *C.kic_model_config) error {
	h := b.h
	act, ok := map[model.Activation]C.int32_t{model.ActSiLU: C.KIC_ACT_SILU, model.ActGELUTanh: C.KIC_ACT_GELU_TANH,
		model.ActGELU: C.KIC_ACT_GELU}[h.Act]
	if !ok {
		return fmt.Errorf("the CUDA engine has no activation %d", h.Act)
	}
	res, ok := map[model.Residual]C.int32_t{model.ResidualSequential: C.KIC_RESIDUAL_SEQUENTIAL,
		model.ResidualParallel: C.KIC_RESIDUAL_PARALLEL, model.ResidualParallelShared: C.KIC_RESIDUAL_PARALLEL_SHARED}[h.Residual]
	if !ok {
		return fmt.Errorf("the CUDA engine has no residual %d", h.Residual)
	}
	cfg.act, cfg.residual = act, res
	// q/k norms are per layer in the file; the library takes them for every layer or none.
	qk := 0
	for _, l := range b.m.Weights.Layers {
		if l.QNorm != nil {
			qk++
		}
	}
	if qk != 0 && qk != len(b.m.Weights.Layers) {
		return fmt.Errorf("the CUDA engine needs q/k norms in every layer or none; %d of %d layers have them", qk, h.Blocks)
	}
	cfg.qk_norm = cBool(qk != 0)
	cfg.post_norms = cBool(h.PostNorms)
	cfg.embed_scale, cfg.attn_scale = C.float(h.EmbedScale), C.float(h.AttnScale)
	cfg.attn_softcap, cfg.final_softcap = C.float(h.AttnSoftcap), C.float(h.FinalSoftcap)
	cfg.rope_attn_factor = C.float(h.RopeAttnFactor)
	return nil
}

// checkLayout compares the library's scratch slab for cfg with the memory plan's: they are one layout
// (cuda/layout/layout.h, mirrored by memplan.Scratch and tested so), but a library built from another
// commit could differ, and then the plan the operator scheduled by would be wrong.
func (b *Backend) checkLayout(cfg *C.kic_model_config) error {
	var size, kv C.uint64_t
	if err := b.lib.call("scratch bytes", func() C.kic_status { return C.call_scratch_bytes(b.lib.api, cfg, &size, &kv) }); err != nil {
		return err
	}
	wantSize, wantKV := memplan.Scratch(b.h, b.sz)
	if uint64(size) != wantSize || uint64(kv) != wantKV {
		return fmt.Errorf("%s lays out %d scratch bytes (KV %d) where the memory plan has %d (KV %d): rebuild it from this commit",
			b.lib.path, uint64(size), uint64(kv), wantSize, wantKV)
	}
	return nil
}

// upload puts every tensor in its slot: the model-wide ones, then each layer's.
func (b *Backend) upload() error {
	type step struct {
		slot int
		t    *model.Tensor
		vec  bool // norms, biases and GPT-2's position table go up as float32
	}
	w := &b.m.Weights
	for _, s := range []step{{C.KIC_TOK_EMBD, w.TokenEmbedding, false}, {C.KIC_POS_EMBD, w.PositionEmbedding, true},
		{C.KIC_OUT_NORM, w.OutputNorm, true}, {C.KIC_OUT_NORM_B, w.OutputNormBias, true}, {C.KIC_OUTPUT, w.Output, false},
		{C.KIC_OUTPUT_B, w.OutputBias, true}} {
		if err := b.put(s.slot, -1, s.t, s.vec); err != nil {
			return err
		}
	}
	for i, l := range w.Layers {
		// q, k, v (and gate, up) share one matrix when they share a type; a llama-quantize mix may differ.
		qkv, gateUp := sameType(l.Q, l.K, l.V), sameType(l.Gate, l.Up)
		if err := b.lib.call("set groups", func() C.kic_status {
			return C.call_set_groups(b.lib.api, b.cm, C.int32_t(i), cBool(qkv), cBool(gateUp))
		}); err != nil {
			return err
		}
		for _, s := range []step{
			{C.KIC_ATTN_NORM, l.AttnNorm, true}, {C.KIC_ATTN_NORM_B, l.AttnNormBias, true}, {C.KIC_Q, l.Q, false},
			{C.KIC_Q_B, l.QBias, true}, {C.KIC_K, l.K, false}, {C.KIC_K_B, l.KBias, true}, {C.KIC_V, l.V, false},
			{C.KIC_V_B, l.VBias, true}, {C.KIC_QKV, l.QKV, false}, {C.KIC_QKV_B, l.QKVBias, true}, {C.KIC_O, l.Output, false},
			{C.KIC_O_B, l.OutputBias, true}, {C.KIC_FFN_NORM, l.FFNNorm, true}, {C.KIC_FFN_NORM_B, l.FFNNormBias, true},
			{C.KIC_GATE, l.Gate, false}, {C.KIC_UP, l.Up, false}, {C.KIC_GATE_UP, l.GateUp, false}, {C.KIC_UP_B, l.UpBias, true},
			{C.KIC_DOWN, l.Down, false}, {C.KIC_DOWN_B, l.DownBias, true}, {C.KIC_Q_NORM, l.QNorm, true},
			{C.KIC_K_NORM, l.KNorm, true}, {C.KIC_POST_ATTN_NORM, l.PostAttnNorm, true}, {C.KIC_POST_FFN_NORM, l.PostFFNNorm, true},
		} {
			if err := b.put(s.slot, i, s.t, s.vec); err != nil {
				return err
			}
		}
	}
	return b.lib.call("upload weights", func() C.kic_status { return C.call_model_ready(b.lib.api, b.cm) })
}

// sameType reports whether the tensors present all have one type.
func sameType(ts ...*model.Tensor) bool {
	var first *model.Tensor
	for _, t := range ts {
		switch {
		case t == nil:
		case first == nil:
			first = t
		case t.Info.Type != first.Info.Type:
			return false
		}
	}
	return true
}

func cBool(v bool) C.int32_t {
	if v {
		return 1
	}
	return 0
}

// put uploads one tensor: matrices straight from the file mapping as
// stored, vectors (norms, biases, GPT-2's position table) as float32.
func (b *Backend) put(slot, layer int, t *model.Tensor, vec bool) error {
	if t == nil {
		return nil
	}
	var (
		data  []byte
		dtype int32
		err   error
	)
	if vec {
		f, err := t.Float32()
		if err != nil {
			return fmt.Errorf("tensor %s: %w", t.Info.Name, err)
		}
		data, dtype = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(f))), 4*len(f)), int32(C.KIC_F32)
	} else {
		if dtype, err = deviceType(t.Info.Type); err != nil {
			return fmt.Errorf("tensor %s: %w", t.Info.Name, err)
		}
		data = b.m.File.TensorData(t.Info)
	}
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(unsafe.SliceData(data))
	}
	err = b.lib.call("upload "+t.Info.Name, func() C.kic_status {
		return C.call_upload(b.lib.api, b.cm, C.int32_t(slot), C.int32_t(layer), C.int32_t(dtype),
			C.int64_t(t.Rows), C.int64_t(t.Cols), p, C.uint64_t(len(data)))
	})
	if err == nil {
		b.m.Loaded(t) // progress: the bytes uploaded so far
	}
	return err
}

func (b *Backend) destroy() {
	if b.cm != nil {
		C.call_model_destroy(b.lib.api, b.cm)
		b.cm = nil
	}
}

// Name implements engine.Backend.
func (b *Backend) Name() string { return "cuda" }

// Device implements engine.Backend.
func (b *Backend) Device() string { return fmt.Sprintf("GPU%d", b.ordinal) }

// Model implements engine.Backend.
func (b *Backend) Model() *model.Model { return b.m }

// Plan is the memory plan Open checked.
func (b *Backend) Plan() memplan.Plan { return b.plan }

// KV implements engine.Backend.
func (b *Backend) KV() *kvcache.Pool { return b.kv }

// UsedBytes is the device memory the load really took (free memory before Open
// minus after), to compare with Plan; 0 when it could not be measured.
func (b *Backend) UsedBytes() uint64 { return b.usedBytes }

// WeightBytes is what one pass over the weights reads, for roofline figures.
func (b *Backend) WeightBytes() uint64 { return b.plan.Weights }

// NewSequence implements engine.Backend: a sequence of up to maxTokens tokens
// (the model's context length when <= 0) that takes KV blocks as it grows.
func (b *Backend) NewSequence(maxTokens int) (engine.SeqID, error) {
	id, _, err := b.StartSequence(maxTokens, nil)
	return id, err
}

// StartSequence implements engine.Backend.
func (b *Backend) StartSequence(maxTokens int, prompt []int) (engine.SeqID, int, error) {
	if maxTokens <= 0 || maxTokens > b.h.ContextLength {
		maxTokens = b.h.ContextLength
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, 0, engine.ErrClosed
	}
	kv, cached := b.kv.NewSeqFromCache(prompt[:min(len(prompt), maxTokens)])
	b.nextID++
	b.seqs[b.nextID] = &cudaSeq{capacity: maxTokens, kv: kv}
	return b.nextID, cached, nil
}

// FreeSequence implements engine.Backend.
func (b *Backend) FreeSequence(seq engine.SeqID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.seqs[seq]; ok {
		s.kv.Release()
		delete(b.seqs, seq)
	}
}

// Close implements engine.Backend.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	b.seqs = nil
	b.destroy()
	return nil
}

func (b *Backend) lookup(id engine.SeqID) (*cudaSeq, error) {
	if b.closed {
		return nil, engine.ErrClosed
	}
	s, ok := b.seqs[id]
	if !ok {
		return nil, fmt.Errorf("sequence %d: %w", id, engine.ErrUnknownSequence)
	}
	return s, nil
}

// The library sizes its logits scratch by KIC_MAX_LOGIT_ROWS and memplan
// mirrors it; this line stops compiling when the two differ.
var _ = [1]struct{}{}[memplan.MaxLogitRows-C.KIC_MAX_LOGIT_ROWS]

// Prefill implements engine.Backend. Prompts longer than the batch limit run
// in chunks, each attending to the chunks before it through the KV cache;
// with allLogits the chunks are as small as the logits scratch.
func (b *Backend) Prefill(seq engine.SeqID, tokens []int, allLogits bool) ([][]float32, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("prefill sequence %d: no tokens", seq)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s, err := b.lookup(seq)
	if err != nil {
		return nil, err
	}
	length := s.kv.Len()
	if err := engine.CheckPrefill(seq, tokens, length, s.capacity, b.h.VocabSize); err != nil {
		return nil, err
	}
	if err := s.kv.Reserve(tokens); err != nil {
		return nil, fmt.Errorf("prefill sequence %d: %w", seq, err)
	}
	table := b.table(nil, s)
	var out [][]float32
	step := b.sz.MaxBatch
	if allLogits {
		step = b.sz.LogitRows()
	}
	for start := 0; start < len(tokens); start += step {
		chunk := tokens[start:min(len(tokens), start+step)]
		n := len(chunk)
		tok, pos, seqIdx, want := make([]int32, n), make([]int32, n), make([]int32, n), make([]uint8, n)
		for i, t := range chunk {
			tok[i], pos[i] = int32(t), int32(length+start+i)
			if allLogits || start+i == len(tokens)-1 {
				want[i] = 1
			}
		}
		logits, err := b.forward(tok, pos, seqIdx, 1, table, true, want, true)
		if err != nil {
			s.kv.Unreserve(length)
			return nil, fmt.Errorf("prefill sequence %d: %w", seq, err)
		}
		out = append(out, logits...)
	}
	s.kv.Filled()
	return out, nil
}

// Decode implements engine.Backend.
func (b *Backend) Decode(batch []engine.DecodeInput) ([][]float32, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out [][]float32
	err := b.decode(batch, func(tok, pos, seq []int32, tables []int32, want []uint8) error {
		logits, err := b.forward(tok, pos, seq, len(tok), tables, false, want, true)
		out = append(out, logits...)
		return err
	})
	return out, err
}

// DecodeSample is Decode with the next token chosen on the GPU: the logits
// stay on the device and only one token id per sequence comes back, which is
// the whole per-token traffic of a greedy or plainly sampled decode.
func (b *Backend) DecodeSample(batch []engine.DecodeInput, p Sampling) ([]int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []int
	err := b.decode(batch, func(tok, pos, seq []int32, tables []int32, want []uint8) error {
		if _, err := b.forward(tok, pos, seq, len(tok), tables, false, want, false); err != nil {
			return err
		}
		toks, err := b.sampleLast(len(tok), p)
		out = append(out, toks...)
		return err
	})
	return out, err
}

// DecodeGreedy implements engine.GreedyDecoder: the argmax is taken on the GPU.
func (b *Backend) DecodeGreedy(batch []engine.DecodeInput) ([]int, error) {
	return b.DecodeSample(batch, Sampling{})
}

// decode validates batch, runs step on each part of at most logitRows
// sequences, and advances every sequence by one token. b.mu is held.
func (b *Backend) decode(batch []engine.DecodeInput, step func(tok, pos, seq, tables []int32, want []uint8) error) error {
	seqs := make([]*cudaSeq, len(batch))
	seen := make(map[engine.SeqID]bool, len(batch))
	for i, in := range batch {
		s, err := b.lookup(in.Seq)
		if err != nil {
			return err
		}
		if seen[in.Seq] {
			return fmt.Errorf("decode: sequence %d appears twice in one batch", in.Seq)
		}
		seen[in.Seq] = true
		if s.kv.Len() >= s.capacity {
			return fmt.Errorf("decode sequence %d at position %d: %w", in.Seq, s.kv.Len(), engine.ErrSequenceFull)
		}
		if err := engine.CheckToken(in.Token, b.h.VocabSize); err != nil {
			return fmt.Errorf("decode sequence %d: %w", in.Seq, err)
		}
		seqs[i] = s
	}
	kvs, tokens, lengths := make([]*kvcache.Seq, len(seqs)), make([][]int, len(seqs)), make([]int, len(seqs))
	for i, s := range seqs {
		kvs[i], tokens[i], lengths[i] = s.kv, []int{batch[i].Token}, s.kv.Len()
	}
	if err := kvcache.Reserve(kvs, tokens); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	for start := 0; start < len(batch); start += b.sz.LogitRows() {
		part := batch[start:min(len(batch), start+b.sz.LogitRows())]
		n := len(part)
		tok, pos, seqIdx, want := make([]int32, n), make([]int32, n), make([]int32, n), make([]uint8, n)
		var tables []int32
		for i, in := range part {
			s := seqs[start+i]
			tok[i], pos[i], seqIdx[i], want[i] = int32(in.Token), int32(lengths[start+i]), int32(i), 1
			tables = b.table(tables, s)
		}
		if err := step(tok, pos, seqIdx, tables, want); err != nil {
			for i, s := range seqs {
				s.kv.Unreserve(lengths[i])
			}
			return fmt.Errorf("decode: %w", err)
		}
	}
	for _, s := range seqs {
		s.kv.Filled()
	}
	return nil
}

// table appends s's block table row, padded to the library's width.
func (b *Backend) table(dst []int32, s *cudaSeq) []int32 {
	row := make([]int32, b.sz.MaxSeqBlocks)
	copy(row, s.kv.Blocks())
	return append(dst, row...)
}

// forward runs the model on the tokens; with copyLogits the rows that want
// them come back, else they stay on the device for sampleLast.
func (b *Backend) forward(tok, pos, seq []int32, nseq int, tables []int32, prefill bool, want []uint8, copyLogits bool) ([][]float32, error) {
	rows := 0
	for _, w := range want {
		rows += int(w)
	}
	if !copyLogits {
		rows = 0
	}
	V := b.h.VocabSize
	flat := make([]float32, rows*V)
	var outp *C.float
	if rows > 0 {
		outp = (*C.float)(unsafe.Pointer(unsafe.SliceData(flat)))
	}
	pf := C.int32_t(0)
	if prefill {
		pf = 1
	}
	err := b.lib.call("forward", func() C.kic_status {
		return C.call_forward(b.lib.api, b.cm, C.int32_t(len(tok)), (*C.int32_t)(unsafe.Pointer(&tok[0])),
			(*C.int32_t)(unsafe.Pointer(&pos[0])), (*C.int32_t)(unsafe.Pointer(&seq[0])), C.int32_t(nseq),
			(*C.int32_t)(unsafe.Pointer(&tables[0])), pf, (*C.uint8_t)(unsafe.Pointer(&want[0])), outp)
	})
	if err != nil {
		return nil, err
	}
	out := make([][]float32, rows)
	for i := range out {
		out[i] = flat[i*V : (i+1)*V : (i+1)*V]
	}
	return out, nil
}

// SampleLast samples one token per logit row of the last Prefill or Decode,
// on the GPU, without copying logits back: greedy is exact argmax (lowest id
// on ties); otherwise temperature, top-k and top-p with a seeded draw.
func (b *Backend) SampleLast(rows int, p Sampling) ([]int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sampleLast(rows, p)
}

func (b *Backend) sampleLast(rows int, p Sampling) ([]int, error) {
	if b.closed {
		return nil, engine.ErrClosed
	}
	if rows <= 0 {
		return nil, errors.New("sample: no rows")
	}
	cp := C.kic_sampling{temperature: C.float(p.Temperature), top_k: C.int32_t(p.TopK), top_p: C.float(p.TopP),
		seed: C.uint64_t(p.Seed), step: C.uint64_t(p.Step)}
	toks := make([]int32, rows)
	if err := b.lib.call("sample", func() C.kic_status {
		return C.call_sample(b.lib.api, b.cm, C.int32_t(rows), &cp, (*C.int32_t)(unsafe.Pointer(&toks[0])))
	}); err != nil {
		return nil, err
	}
	out := make([]int, rows)
	for i, t := range toks {
		out[i] = int(t)
	}
	return out, nil
}

// SetGraphs turns CUDA graph capture of decode steps on or off.
func (b *Backend) SetGraphs(on bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	v := C.int32_t(0)
	if on {
		v = 1
	}
	return b.lib.call("set graphs", func() C.kic_status { return C.call_set_graphs(b.lib.api, b.cm, v) })
}

// MeasureBandwidth times device-to-device copies of bytes (read + write
// counted) on the backend's GPU, the denominator of a roofline figure.
func (b *Backend) MeasureBandwidth(bytes uint64) (float64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var bw C.double
	err := b.lib.call("measure bandwidth", func() C.kic_status {
		return C.call_measure_bandwidth(b.lib.api, C.int32_t(b.ordinal), C.uint64_t(bytes), &bw)
	})
	return float64(bw), err
}
