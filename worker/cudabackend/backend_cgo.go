//go:build cgo && linux

package cudabackend

/*
#include "kic_api.h"
*/
import "C"

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/shard"
)

// Backend is the CUDA engine. It implements engine.Backend with the CPU
// engine's semantics; calls are serialized, and a Decode batch runs as one
// set of kernels (one CUDA graph launch per batch size when graphs are on).
type Backend struct {
	lib *library
	m   *model.Model
	h   model.Hyper
	// ordinals are the GPUs, by tensor-parallel rank (one without tensor
	// parallelism); sp is the model's split over them (worker/shard).
	ordinals []int
	sp       shard.Plan
	mem      memplan.Options // with defaults
	sz       memplan.Sizing  // rank 0's; the KV and batch sizes are every rank's
	plan     memplan.Plan
	// usedBytes is the device memory the load took, measured; 0 if unknown.
	usedBytes uint64
	// masksOnDevice: constrained rows are masked on the GPU (EnvGPUMask).
	masksOnDevice bool
	// batchPrefill: PrefillBatch runs (unless Options.SeparatePrefill or EnvBatchPrefill=0).
	batchPrefill bool
	// mixedSteps: StepMixed runs (with batchPrefill, when Options.MixedSteps or EnvMixedStep=1).
	mixedSteps bool
	// graphs: decode steps replay CUDA graphs (not Options.DisableGraphs; SetGraphs changes it).
	graphs bool
	// prefillChunk: the most prompt tokens the scheduler prefills a step (memplan.Options.PrefillChunk), the
	// prefill Warmup runs.
	prefillChunk int
	// info is rank 0's GPU, as Open found it.
	info DeviceInfo

	kv *kvcache.Pool // the blocks of the library's KV pool, by index

	mu     sync.Mutex // guards everything below and serializes calls into the library
	cm     *C.kic_model
	seqs   map[engine.SeqID]*cudaSeq
	nextID engine.SeqID
	closed bool
	masks  []uint64 // the masks of one sample call, reused
	tables []int32  // the block-table rows of one forward call, reused (tableRows)
}

// cudaSeq is one sequence: its claim on the KV pool and its length limit.
type cudaSeq struct {
	capacity int
	kv       *kvcache.Seq
}

var (
	_ engine.Backend       = (*Backend)(nil)
	_ engine.MaskedDecoder = (*Backend)(nil)
	_ engine.MixedDecoder  = (*Backend)(nil)
)

// Open loads m onto the GPU, or over opts.GPUs GPUs with tensor
// parallelism, each holding its shard. It checks each GPU's plan against its
// free memory before allocating; m's file may be closed once Open returns.
func Open(m *model.Model, opts Options) (*Backend, error) {
	if m == nil {
		return nil, errors.New("cuda: no model")
	}
	if err := Runs(m.Hyper); err != nil {
		return nil, err
	}
	n := max(1, opts.GPUs)
	opts.Memory.GPUs = n
	l, err := loadLibrary(opts.LibPath)
	if err != nil {
		return nil, err
	}
	sp, err := shard.ForModel(m, n)
	if err != nil {
		return nil, err
	}
	if n > 1 {
		// NCCL is loaded at run time: say at once, before any allocation, when it is not there.
		if err := l.call("load NCCL", func() C.kic_status {
			var v C.int32_t
			return C.call_nccl_version(l.api, &v)
		}); err != nil {
			return nil, fmt.Errorf("tensor parallelism over %d GPUs: %w", n, err)
		}
	}
	b := &Backend{lib: l, m: m, h: m.Hyper, sp: sp, seqs: map[engine.SeqID]*cudaSeq{}, masksOnDevice: getenv(EnvGPUMask) != "0",
		batchPrefill: !opts.SeparatePrefill && getenv(EnvBatchPrefill) != "0", graphs: !opts.DisableGraphs}
	b.mixedSteps = b.batchPrefill && (opts.MixedSteps || getenv(EnvMixedStep) == "1")
	b.prefillChunk = cmp.Or(opts.Memory.PrefillChunk, kvcache.DefaultStepTokens)
	infos := make([]DeviceInfo, n)
	var smallest uint64
	for r := range n {
		ord := opts.Device + r
		if infos[r], err = l.deviceInfo(ord); err != nil {
			if n > 1 {
				return nil, fmt.Errorf("tensor parallelism over %d GPUs: %w", n, err)
			}
			return nil, err
		}
		b.ordinals = append(b.ordinals, ord)
		if r == 0 || infos[r].TotalBytes < smallest {
			smallest = infos[r].TotalBytes
		}
	}
	b.info = infos[0]
	// The same pure function inspect and the operator use, given the GPUs' size: the plan of the GPU
	// that needs most, and a KV pool every GPU holds its part of.
	if b.plan, b.mem, err = memplan.ForDevice(m, opts.Memory, smallest, b.Device()); err != nil {
		return nil, err
	}
	for r := range n {
		h, _ := memplan.RankSizing(b.h, b.mem, sp, r)
		if err := b.mem.KVType.Check(h); err != nil {
			return nil, err
		}
	}
	_, b.sz = memplan.RankSizing(b.h, b.mem, sp, 0)
	b.kv = kvcache.NewPoolFor(kvcache.LayoutFor(b.h), b.sz.Blocks, b.sz.BlockTokens)
	for r, ord := range b.ordinals {
		if err := memplan.ForRank(m, b.mem, sp, r).Check(fmt.Sprintf("GPU%d", ord), infos[r].FreeBytes); err != nil {
			return nil, err
		}
	}
	if err := b.create(opts); err != nil {
		return nil, err
	}
	if err := b.upload(); err != nil {
		b.destroy()
		return nil, err
	}
	// What the load really took on each device: free memory before minus after,
	// to compare with the plan (other processes on the GPU blur it).
	for r, ord := range b.ordinals {
		if after, err := l.deviceInfo(ord); err == nil && infos[r].FreeBytes > after.FreeBytes {
			b.usedBytes = max(b.usedBytes, infos[r].FreeBytes-after.FreeBytes)
		}
	}
	return b, nil
}

// config is rank r's kic_model_config: its share of the model and its sizes, what the architecture adds to
// its family's forward pass, and with tensor parallelism where it stands among the ranks. inv, win and places
// are the C arrays of the rope tables, the layer windows and the layers' KV groups then slots (nil without
// them), shared by every rank.
func (b *Backend) config(r int, opts Options, inv *C.float, win, places *C.int32_t) (C.kic_model_config, error) {
	h, sz := memplan.RankSizing(b.h, b.mem, b.sp, r)
	cfg := C.kic_model_config{
		family: C.int32_t(C.KIC_FAMILY_LLAMA), vocab: C.int32_t(h.VocabSize), embd: C.int32_t(h.Embedding),
		layers: C.int32_t(h.Blocks), ffn: C.int32_t(h.FeedForward), heads: C.int32_t(h.Heads),
		heads_kv: C.int32_t(h.HeadsKV), head_dim: C.int32_t(h.HeadDim), context: C.int32_t(h.ContextLength),
		norm_eps: C.float(h.NormEps), rope_mode: C.int32_t(h.RopeMode), rope_dim: C.int32_t(h.RopeDim),
		kv_block_tokens: C.int32_t(sz.BlockTokens), kv_blocks: C.int32_t(b.kv.Blocks()), kv_type: C.int32_t(sz.KVType.GGML()),
		max_seq_blocks: C.int32_t(sz.MaxSeqBlocks), max_batch: C.int32_t(sz.MaxBatch),
		gemm_min_tokens: C.int32_t(sz.GemmMinTokens), weight_bytes: C.uint64_t(memplan.ForRank(b.m, b.mem, b.sp, r).Weights),
		rope_inv_freq: inv, layer_window: win,
	}
	if places != nil {
		cfg.kv_slots, cfg.kv_groups = C.int32_t(sz.KVSlots), C.int32_t(sz.KVGroups)
		cfg.layer_kv_group = places
		cfg.layer_kv_slot = (*C.int32_t)(unsafe.Add(unsafe.Pointer(places), 4*h.Blocks))
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
		return cfg, err
	}
	if b.sp.N() > 1 {
		cfg.tp_rank, cfg.tp_ranks = C.int32_t(r), C.int32_t(b.sp.N())
		cfg.vocab_start, cfg.vocab_full = C.int32_t(b.sp.Ranks[r].Vocab.Lo), C.int32_t(b.h.VocabSize)
	}
	return cfg, nil
}

func (b *Backend) create(opts Options) error {
	// The arrays go in C memory: the configs are passed to C, so they may not point into Go memory.
	var cinv *C.float
	if inv := ropeInvFreq(b.h); len(inv) > 0 {
		cinv = (*C.float)(C.malloc(C.size_t(4 * len(inv))))
		defer C.free(unsafe.Pointer(cinv))
		copy(unsafe.Slice((*float32)(unsafe.Pointer(cinv)), len(inv)), inv)
	}
	var cwin *C.int32_t
	if win := layerWindows(b.h); win != nil {
		cwin = (*C.int32_t)(C.malloc(C.size_t(4 * len(win))))
		defer C.free(unsafe.Pointer(cwin))
		copy(unsafe.Slice((*int32)(unsafe.Pointer(cwin)), len(win)), win)
	}
	var cplaces *C.int32_t
	if l := kvcache.LayoutFor(b.h); len(l.Groups) > 1 {
		cplaces = (*C.int32_t)(C.malloc(C.size_t(8 * len(l.Layer))))
		defer C.free(unsafe.Pointer(cplaces))
		places := unsafe.Slice((*int32)(unsafe.Pointer(cplaces)), 2*len(l.Layer))
		for i, at := range l.Layer {
			places[i], places[len(l.Layer)+i] = int32(at.Group), int32(at.Slot)
		}
	}
	n := b.sp.N()
	if n == 1 {
		cfg, err := b.config(0, opts, cinv, cwin, cplaces)
		if err != nil {
			return err
		}
		if err := b.checkLayout(0, &cfg); err != nil {
			return err
		}
		return b.lib.call("create model", func() C.kic_status {
			return C.call_model_create(b.lib.api, C.int32_t(b.ordinals[0]), &cfg, &b.cm)
		})
	}
	// C memory: the library reads the arrays during the call only, but cgo
	// forbids passing Go memory that holds Go pointers, and the configs do.
	cfgs := unsafe.Slice((*C.kic_model_config)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(C.kic_model_config{})))), n)
	defer C.free(unsafe.Pointer(&cfgs[0]))
	ords := unsafe.Slice((*C.int32_t)(C.calloc(C.size_t(n), 4)), n)
	defer C.free(unsafe.Pointer(&ords[0]))
	for r := range n {
		cfg, err := b.config(r, opts, cinv, cwin, cplaces)
		if err != nil {
			return err
		}
		cfgs[r] = cfg
		if err := b.checkLayout(r, &cfgs[r]); err != nil {
			return err
		}
		ords[r] = C.int32_t(b.ordinals[r])
	}
	return b.lib.call(fmt.Sprintf("create model over %d GPUs", n), func() C.kic_status {
		return C.call_model_create_tp(b.lib.api, C.int32_t(n), &ords[0], &cfgs[0], &b.cm)
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
func (b *Backend) checkLayout(r int, cfg *C.kic_model_config) error {
	var size, kv C.uint64_t
	if err := b.lib.call("scratch bytes", func() C.kic_status { return C.call_scratch_bytes(b.lib.api, cfg, &size, &kv) }); err != nil {
		return err
	}
	wantSize, wantKV := memplan.Scratch(memplan.RankSizing(b.h, b.mem, b.sp, r))
	if uint64(size) != wantSize || uint64(kv) != wantKV {
		return fmt.Errorf("%s lays out %d scratch bytes (KV %d) where the memory plan has %d (KV %d): rebuild it from this commit",
			b.lib.path, uint64(size), uint64(kv), wantSize, wantKV)
	}
	return nil
}

// upload puts every tensor in its slot on every rank (its piece there): the
// model-wide ones, then each layer's. Tensor by tensor over the ranks, so the
// load's progress moves as each tensor is up everywhere.
func (b *Backend) upload() error {
	type step struct {
		slot int
		t    *model.Tensor
		vec  bool // norms, biases and GPT-2's position table go up as float32
	}
	ranks := make([]*C.kic_model, b.sp.N())
	for r := range ranks {
		if r == 0 {
			ranks[r] = b.cm
		} else if ranks[r] = C.call_model_rank(b.lib.api, b.cm, C.int32_t(r)); ranks[r] == nil {
			return fmt.Errorf("%s has no rank %d of %d", b.lib.path, r, len(ranks))
		}
	}
	putAll := func(s step, layer int) error {
		for r, cm := range ranks {
			if err := b.put(cm, r, s.slot, layer, s.t, s.vec); err != nil {
				return err
			}
		}
		b.m.Loaded(s.t) // progress: the bytes uploaded so far
		return nil
	}
	w := &b.m.Weights
	for _, s := range []step{{C.KIC_TOK_EMBD, w.TokenEmbedding, false}, {C.KIC_POS_EMBD, w.PositionEmbedding, true},
		{C.KIC_OUT_NORM, w.OutputNorm, true}, {C.KIC_OUT_NORM_B, w.OutputNormBias, true}, {C.KIC_OUTPUT, w.Output, false},
		{C.KIC_OUTPUT_B, w.OutputBias, true}} {
		if err := putAll(s, -1); err != nil {
			return err
		}
	}
	for i, l := range w.Layers {
		// q, k, v (and gate, up) share one matrix when they share a type; a llama-quantize mix may differ.
		qkv, gateUp := sameType(l.Q, l.K, l.V), sameType(l.Gate, l.Up)
		for _, cm := range ranks {
			if err := b.lib.call("set groups", func() C.kic_status {
				return C.call_set_groups(b.lib.api, cm, C.int32_t(i), cBool(qkv), cBool(gateUp))
			}); err != nil {
				return err
			}
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
			if err := putAll(s, i); err != nil {
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

// put uploads rank r's piece of one tensor to cm, that rank's model:
// matrices straight from the file mapping as stored (whole rows are not
// copied), vectors (norms, biases, GPT-2's position table) as float32.
func (b *Backend) put(cm *C.kic_model, r, slot, layer int, t *model.Tensor, vec bool) error {
	if t == nil {
		return nil
	}
	pc, err := b.sp.Piece(t, r)
	if err != nil || pc.Empty() {
		return err
	}
	var (
		data       []byte
		dtype      int32
		rows, cols = pc.Shape()
	)
	if vec {
		f, err := t.Float32()
		if err != nil {
			return fmt.Errorf("tensor %s: %w", t.Info.Name, err)
		}
		if !pc.Whole(t) {
			f = shard.Floats(f, t.Cols, pc)
		}
		data, dtype = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(f))), 4*len(f)), int32(C.KIC_F32)
	} else {
		if dtype, err = deviceType(t.Info.Type); err != nil {
			return fmt.Errorf("tensor %s: %w", t.Info.Name, err)
		}
		if data, rows, cols, err = shard.Extract(t, b.m.File.TensorData(t.Info), pc); err != nil {
			return err
		}
	}
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(unsafe.SliceData(data))
	}
	what := "upload " + t.Info.Name
	if b.sp.N() > 1 {
		what = fmt.Sprintf("upload %s to GPU%d", t.Info.Name, b.ordinals[r])
	}
	return b.lib.call(what, func() C.kic_status {
		return C.call_upload(b.lib.api, cm, C.int32_t(slot), C.int32_t(layer), C.int32_t(dtype),
			C.int64_t(rows), C.int64_t(cols), p, C.uint64_t(len(data)))
	})
}

func (b *Backend) destroy() {
	if b.cm != nil {
		C.call_model_destroy(b.lib.api, b.cm)
		b.cm = nil
	}
}

// Name implements engine.Backend.
func (b *Backend) Name() string { return "cuda" }

// Device implements engine.Backend: "GPU0", or the GPUs the model is split
// over, "GPU0,GPU1".
func (b *Backend) Device() string {
	names := make([]string, len(b.ordinals))
	for i, o := range b.ordinals {
		names[i] = fmt.Sprintf("GPU%d", o)
	}
	return strings.Join(names, ",")
}

// DeviceInfo is rank 0's GPU as the backend found it at Open.
func (b *Backend) DeviceInfo() DeviceInfo { return b.info }

// GPUs is the number of GPUs the model is split over.
func (b *Backend) GPUs() int { return len(b.ordinals) }

// Model implements engine.Backend.
func (b *Backend) Model() *model.Model { return b.m }

// Plan is the memory plan Open checked.
func (b *Backend) Plan() memplan.Plan { return b.plan }

// KV implements engine.Backend.
func (b *Backend) KV() *kvcache.Pool { return b.kv }

// UsedBytes is the device memory the load really took (free memory before Open
// minus after), to compare with Plan, on the GPU where it took most; 0 when it
// could not be measured.
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

// kic_sample's answers for rows it cannot pick from are the engine's; these stop compiling when they differ.
var (
	_ = [1]struct{}{}[engine.NonFiniteToken-C.KIC_SAMPLE_NONFINITE]
	_ = [1]struct{}{}[engine.NoAllowedToken-C.KIC_SAMPLE_NONE_ALLOWED]
)

// Prefill implements engine.Backend. Prompts longer than the batch limit run
// in chunks, each attending to the chunks before it through the KV cache;
// with allLogits the chunks are as small as the logits scratch.
func (b *Backend) Prefill(seq engine.SeqID, tokens []int, allLogits bool) ([][]float32, error) {
	// Chunks of at most LogitRows tokens when every row wants its logits.
	step := b.sz.MaxBatch
	if allLogits {
		step = b.sz.LogitRows()
	}
	last := len(tokens) - 1
	return b.prefill("prefill", seq, tokens, C.KIC_FORWARD_PREFILL, step, func(i int) bool { return allLogits || i == last })
}

var _ engine.BatchPrefiller = (*Backend)(nil)

// PrefillBatch implements engine.BatchPrefiller: one kic_forward over every part's tokens, a run of consecutive
// positions each, whose last rows' logits come back. The parts' tokens must fit one call (MaxBatch tokens,
// LogitRows parts); the scheduler's chunk budget keeps them there.
func (b *Backend) PrefillBatch(parts []engine.PrefillPart) ([][]float32, error) {
	if !b.batchPrefill {
		return nil, engine.ErrNoBatchPrefill
	}
	total := 0
	for _, p := range parts {
		total += len(p.Tokens)
	}
	if len(parts) == 0 || total > b.sz.MaxBatch || len(parts) > b.sz.LogitRows() {
		return nil, fmt.Errorf("prefill batch: %d sequences, %d tokens (one call takes %d sequences, %d tokens)",
			len(parts), total, b.sz.LogitRows(), b.sz.MaxBatch)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	seqs, lengths, err := b.partSeqs(parts)
	if err != nil {
		return nil, err
	}
	var rows [][]float32
	err = b.runParts(parts, seqs, lengths, total, func(tok, pos, seq, table []int32, want []uint8) error {
		var err error
		rows, err = b.forward(tok, pos, seq, len(parts), table, C.KIC_FORWARD_PREFILL, want, true)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("prefill batch of %d sequences: %w", len(parts), err)
	}
	return rows, nil
}

// partSeqs looks up and checks the sequences of parts (each at most once, tokens that fit) and their lengths
// before them. b.mu is held.
func (b *Backend) partSeqs(parts []engine.PrefillPart) ([]*cudaSeq, []int, error) {
	seqs, lengths := make([]*cudaSeq, len(parts)), make([]int, len(parts))
	for i, p := range parts {
		if slices.ContainsFunc(parts[:i], func(q engine.PrefillPart) bool { return q.Seq == p.Seq }) {
			return nil, nil, fmt.Errorf("sequence %d appears twice", p.Seq)
		}
		if len(p.Tokens) == 0 {
			return nil, nil, fmt.Errorf("prefill sequence %d: no tokens", p.Seq)
		}
		s, err := b.lookup(p.Seq)
		if err != nil {
			return nil, nil, err
		}
		lengths[i] = s.kv.Len()
		if err := engine.CheckPrefill(p.Seq, p.Tokens, lengths[i], s.capacity, b.h.VocabSize); err != nil {
			return nil, nil, err
		}
		seqs[i] = s
	}
	return seqs, lengths, nil
}

// runParts reserves KV for every part (all or none), lays the parts out as one forward call's runs (part i is
// sequence i of the call, its last token's logits wanted) and calls run; the sequences keep the tokens when run
// succeeds and give them back when it fails. b.mu is held.
func (b *Backend) runParts(parts []engine.PrefillPart, seqs []*cudaSeq, lengths []int, total int,
	run func(tok, pos, seq, table []int32, want []uint8) error) error {
	kvs, toks := make([]*kvcache.Seq, len(parts)), make([][]int, len(parts))
	for i, p := range parts {
		kvs[i], toks[i] = seqs[i].kv, p.Tokens
	}
	if err := kvcache.Reserve(kvs, toks); err != nil {
		return err
	}
	table := b.tableRows(len(parts))
	tok, pos, seqIdx, wanted := make([]int32, 0, total), make([]int32, 0, total), make([]int32, 0, total), make([]uint8, 0, total)
	for i, p := range parts {
		b.fillRow(table[i*b.tableWidth():(i+1)*b.tableWidth()], seqs[i])
		for j, t := range p.Tokens {
			tok, pos, seqIdx = append(tok, int32(t)), append(pos, int32(lengths[i]+j)), append(seqIdx, int32(i))
			last := uint8(0)
			if j == len(p.Tokens)-1 {
				last = 1
			}
			wanted = append(wanted, last)
		}
	}
	if err := run(tok, pos, seqIdx, table, wanted); err != nil {
		for i, s := range seqs {
			s.kv.Unreserve(lengths[i])
		}
		return err
	}
	for _, s := range seqs {
		s.kv.Filled()
	}
	return nil
}

var _ engine.MixedStepper = (*Backend)(nil)

// MixedStepLimits implements engine.MixedStepper: one kic_forward's tokens and logit rows.
func (b *Backend) MixedStepLimits() (tokens, rows int) { return b.sz.MaxBatch, b.sz.LogitRows() }

// StepMixed implements engine.MixedStepper: one kic_forward (KIC_FORWARD_PREFILL) of the decode rows, one-token runs
// first (the library's decode attention takes them in one launch), then the parts' runs; the decode rows are picked
// on the GPU by rows and the parts' last rows' logits come back (kic_logits). Off unless Options.MixedSteps
// (ErrNoMixedStep).
func (b *Backend) StepMixed(batch []engine.DecodeInput, rows []engine.RowSampling, parts []engine.PrefillPart) ([]int, [][]float32, error) {
	if !b.mixedSteps {
		return nil, nil, engine.ErrNoMixedStep
	}
	if len(rows) != len(batch) {
		return nil, nil, fmt.Errorf("mixed step: %d sampling rows for a batch of %d", len(rows), len(batch))
	}
	total := len(batch)
	for _, p := range parts {
		total += len(p.Tokens)
	}
	maxTokens, maxRows := b.MixedStepLimits()
	if len(batch) == 0 || len(parts) == 0 || total > maxTokens || len(batch)+len(parts) > maxRows {
		return nil, nil, fmt.Errorf("mixed step: %d decode rows and %d prefill parts, %d tokens (one call takes %d rows, %d tokens)",
			len(batch), len(parts), total, maxRows, maxTokens)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	all := make([]engine.PrefillPart, 0, len(batch)+len(parts))
	for _, in := range batch {
		all = append(all, engine.PrefillPart{Seq: in.Seq, Tokens: []int{in.Token}})
	}
	all = append(all, parts...)
	seqs, lengths, err := b.partSeqs(all) // a full decode sequence: ErrSequenceFull
	if err != nil {
		return nil, nil, fmt.Errorf("mixed step: %w", err)
	}
	var picked []int
	var logits [][]float32
	err = b.runParts(all, seqs, lengths, total, func(tok, pos, seq, table []int32, want []uint8) error {
		if _, err := b.forward(tok, pos, seq, len(all), table, C.KIC_FORWARD_PREFILL, want, false); err != nil {
			return err
		}
		var err error
		if picked, err = b.sampleLast(len(batch), rows, nil); err != nil {
			return err
		}
		idx := make([]int32, len(parts))
		for i := range idx {
			idx[i] = int32(len(batch) + i)
		}
		logits, err = b.logitRows(idx)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("mixed step: %w", err)
	}
	return picked, logits, nil
}

var _ engine.Embedder = (*Backend)(nil)

// Embed implements engine.Embedder: a prefill whose wanted rows come back as their final normed hidden states
// (KIC_FORWARD_HIDDEN, the vocabulary projection skipped), pooled and normalized as the CPU engine does.
func (b *Backend) Embed(seq engine.SeqID, tokens []int, pool engine.Pooling) ([]float32, error) {
	step := b.sz.MaxBatch
	if pool == engine.PoolingMean {
		step = b.sz.LogitRows()
	}
	rows, err := b.prefill("embed", seq, tokens, C.KIC_FORWARD_PREFILL|C.KIC_FORWARD_HIDDEN, step,
		func(i int) bool { return pool.Reads(i, len(tokens)) })
	if err != nil {
		return nil, err
	}
	flat := make([]float32, 0, len(rows)*b.h.Embedding)
	for _, r := range rows {
		flat = append(flat, r...)
	}
	return engine.PoolRows(flat, b.h.Embedding, pool)
}

// prefill appends tokens to seq in chunks of at most step, returning the rows want asks for: logits, or with
// KIC_FORWARD_HIDDEN in flags the hidden states.
func (b *Backend) prefill(what string, seq engine.SeqID, tokens []int, flags C.int32_t, step int,
	want func(i int) bool) ([][]float32, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%s sequence %d: no tokens", what, seq)
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
		return nil, fmt.Errorf("%s sequence %d: %w", what, seq, err)
	}
	table := b.tableRows(1)
	b.fillRow(table, s)
	var out [][]float32
	for start := 0; start < len(tokens); start += step {
		chunk := tokens[start:min(len(tokens), start+step)]
		n := len(chunk)
		tok, pos, seqIdx, wanted := make([]int32, n), make([]int32, n), make([]int32, n), make([]uint8, n)
		for i, t := range chunk {
			tok[i], pos[i] = int32(t), int32(length+start+i)
			if want(start + i) {
				wanted[i] = 1
			}
		}
		rows, err := b.forward(tok, pos, seqIdx, 1, table, flags, wanted, true)
		if err != nil {
			s.kv.Unreserve(length)
			return nil, fmt.Errorf("%s sequence %d: %w", what, seq, err)
		}
		out = append(out, rows...)
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
		logits, err := b.forward(tok, pos, seq, len(tok), tables, 0, want, true)
		out = append(out, logits...)
		return err
	})
	return out, err
}

// DecodeSample is Decode with the next token chosen on the GPU, every row by
// p: the logits stay on the device and only one token id per sequence comes
// back, which is the whole per-token traffic of a greedy or plainly sampled
// decode.
func (b *Backend) DecodeSample(batch []engine.DecodeInput, p Sampling) ([]int, error) {
	return b.DecodeSampled(batch, repeat(p, len(batch)))
}

// DecodeSampled implements engine.SamplingDecoder: row i is drawn on the GPU by rows[i].
func (b *Backend) DecodeSampled(batch []engine.DecodeInput, rows []engine.RowSampling) ([]int, error) {
	picked, _, err := b.DecodeMixed(batch, rows, make([]bool, len(batch)))
	return picked, err
}

// repeat is n rows sampled by p.
func repeat(p Sampling, n int) []Sampling {
	ps := make([]Sampling, max(n, 0))
	for i := range ps {
		ps[i] = p
	}
	return ps
}

// DecodeMixed implements engine.MixedDecoder: every row is picked on the GPU (rows[i] for the host's rows
// too, whose picks are dropped) and only the host rows' logits are copied back (kic_logits).
func (b *Backend) DecodeMixed(batch []engine.DecodeInput, rows []engine.RowSampling, host []bool) ([]int, [][]float32, error) {
	if len(rows) != len(batch) || len(host) != len(batch) {
		return nil, nil, fmt.Errorf("decode: %d sampling rows and %d host flags for a batch of %d", len(rows), len(host), len(batch))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	logits := make([][]float32, len(batch))
	out, err := b.decodePicked(batch, rows, func(start, n int) error {
		var idx []int32
		for i := range n {
			if host[start+i] {
				idx = append(idx, int32(i))
			}
		}
		if len(idx) == 0 {
			return nil
		}
		rows, err := b.logitRows(idx)
		for j, i := range idx {
			if err == nil {
				logits[start+int(i)] = rows[j]
			}
		}
		return err
	})
	return out, logits, err
}

// logitRows copies the given rows of the last forward's logits (kic_logits) to the host. b.mu is held.
func (b *Backend) logitRows(idx []int32) ([][]float32, error) {
	width := b.h.VocabSize
	flat := make([]float32, len(idx)*width)
	if err := b.lib.call("logits", func() C.kic_status {
		return C.call_logits(b.lib.api, b.cm, C.int32_t(len(idx)), (*C.int32_t)(unsafe.Pointer(&idx[0])),
			(*C.float)(unsafe.Pointer(unsafe.SliceData(flat))))
	}); err != nil {
		return nil, err
	}
	rows := make([][]float32, len(idx))
	for j := range rows {
		rows[j] = flat[j*width : (j+1)*width : (j+1)*width]
	}
	return rows, nil
}

// decodePicked runs a decode batch (b.decode's parts), picks every row on the GPU by rows, then calls each(start,
// n) for the part of n rows from batch row start, before the next part's forward pass overwrites its logits.
// b.mu is held.
func (b *Backend) decodePicked(batch []engine.DecodeInput, rows []engine.RowSampling, each func(start, n int) error) ([]int, error) {
	var out []int
	err := b.decode(batch, func(tok, pos, seq []int32, tables []int32, want []uint8) error {
		start := len(out)
		if _, err := b.forward(tok, pos, seq, len(tok), tables, 0, want, false); err != nil {
			return err
		}
		toks, err := b.sampleLast(len(tok), rows[start:start+len(tok)], nil)
		if err != nil {
			return err
		}
		out = append(out, toks...)
		return each(start, len(tok))
	})
	return out, err
}

var _ engine.LogprobDecoder = (*Backend)(nil)

// The library's bound on alternatives is the engine's (a negative array length otherwise).
var (
	_ [engine.MaxTopLogprobs - C.KIC_MAX_TOP_LOGPROBS]struct{}
	_ [C.KIC_MAX_TOP_LOGPROBS - engine.MaxTopLogprobs]struct{}
)

// DecodeSampledLogprobs implements engine.LogprobDecoder: every row is picked on the GPU by rows[i], and its
// logprobs (the pick's and the topN best) are worked out there (kic_logprobs), so a row brings up
// 4 + 8 x topN bytes instead of its logits.
func (b *Backend) DecodeSampledLogprobs(batch []engine.DecodeInput, rows []engine.RowSampling, topN int) ([]int, []engine.RowLogprobs, error) {
	if len(rows) != len(batch) {
		return nil, nil, fmt.Errorf("decode: %d sampling rows for a batch of %d", len(rows), len(batch))
	}
	if topN < 0 || topN > C.KIC_MAX_TOP_LOGPROBS {
		return nil, nil, fmt.Errorf("decode: %d alternatives a token (0 to %d)", topN, C.KIC_MAX_TOP_LOGPROBS)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	lps := make([]engine.RowLogprobs, 0, len(batch))
	out, err := b.decodePicked(batch, rows, func(_, n int) error {
		cr := make([]C.kic_logprob_row, n)
		if err := b.lib.call("logprobs", func() C.kic_status {
			return C.call_logprobs(b.lib.api, b.cm, C.int32_t(n), C.int32_t(topN), &cr[0])
		}); err != nil {
			return err
		}
		for _, r := range cr {
			lp := engine.RowLogprobs{Chosen: float32(r.chosen), Top: make([]engine.IDLogprob, topN)}
			for k := range lp.Top {
				lp.Top[k] = engine.IDLogprob{ID: int(r.top_ids[k]), Logprob: float32(r.top_logprobs[k])}
			}
			lps = append(lps, lp)
		}
		return nil
	})
	return out, lps, err
}

var _ engine.Warmer = (*Backend)(nil)

// Warmup implements engine.Warmer: with CUDA graphs on, a greedy decode step of each batch size from 1 to
// maxBatch (at most LogitRows), so each size's graph is captured at load and not during a client's first
// request of that size (~2 ms a size: on a freshly started worker 64 clients' 512-token prompts waited 416 ms
// for their first token at the median, 291 ms once the worker had run). Sequence i takes part in the steps of
// i + 1 sequences and more; a pool too small for them all warms fewer sizes.
func (b *Backend) Warmup(maxBatch int) (int, error) {
	n := min(maxBatch, b.sz.LogitRows())
	bt := b.kv.BlockTokens()
	for n > 0 && n*((n+bt)/bt)*b.kv.Groups() > b.kv.FreeBlocks() { // n sequences of up to n + 1 tokens, each group's
		n /= 2
	}
	b.mu.Lock()
	graphs := b.graphs
	b.mu.Unlock()
	if n <= 0 || !graphs {
		return 0, nil
	}
	seqs := make([]engine.SeqID, n)
	parts := make([]engine.PrefillPart, n)
	for i := range seqs {
		id, err := b.NewSequence(n + 1)
		if err != nil {
			return 0, err
		}
		defer b.FreeSequence(id)
		seqs[i], parts[i] = id, engine.PrefillPart{Seq: id, Tokens: []int{0}}
	}
	if _, err := b.PrefillBatch(parts); err != nil {
		for _, p := range parts {
			if _, err := b.Prefill(p.Seq, p.Tokens, false); err != nil {
				return 0, err
			}
		}
	}
	in := make([]engine.DecodeInput, n)
	for k := 1; k <= n; k++ {
		for i := range k {
			in[i] = engine.DecodeInput{Seq: seqs[i], Token: 0}
		}
		if _, err := b.DecodeGreedy(in[:k]); err != nil {
			return k - 1, fmt.Errorf("warm-up decode of %d sequences: %w", k, err)
		}
	}
	return n, b.warmPrefill()
}

// warmPrefill prefills one prompt of the scheduler's chunk (at most MaxBatch tokens) in a sequence of its own,
// freed after, so the first prompts' passes do not pick cuBLAS's algorithms and load the prefill kernels of that
// size while clients wait. Skipped when the pool lacks the room.
func (b *Backend) warmPrefill() error {
	n := min(b.prefillChunk, b.sz.MaxBatch, b.h.ContextLength-1)
	if n <= 0 || b.kv.Need(0, n+1, n) > b.kv.FreeBlocks() {
		return nil
	}
	seq, err := b.NewSequence(n + 1)
	if err != nil {
		return err
	}
	defer b.FreeSequence(seq)
	tokens := make([]int, n)
	for i := range tokens {
		tokens[i] = i % b.h.VocabSize
	}
	if _, err := b.Prefill(seq, tokens, false); err != nil {
		return fmt.Errorf("warm-up prefill of %d tokens: %w", n, err)
	}
	return nil
}

// DecodeGreedy implements engine.GreedyDecoder: the argmax is taken on the GPU.
func (b *Backend) DecodeGreedy(batch []engine.DecodeInput) ([]int, error) {
	return b.DecodeSampled(batch, make([]Sampling, len(batch)))
}

// DecodeGreedyMasked implements engine.MaskedDecoder: the masks go up to the
// GPU (16 KB a row for a 128k vocabulary) instead of the logits coming down
// (512 KB), and masks is called between the forward pass's launch and the
// sampling, so the host's matchers overlap the device's work.
func (b *Backend) DecodeGreedyMasked(batch []engine.DecodeInput, masks func() [][]uint64) ([]int, error) {
	return b.DecodeSampledMasked(batch, make([]engine.RowSampling, len(batch)), masks)
}

var _ engine.SampledMaskedDecoder = (*Backend)(nil)

// DecodeSampledMasked implements engine.SampledMaskedDecoder: every row is picked on the GPU by rows[i] among
// its mask's tokens (kic_sample with masks); the masks are asked for once the first part's forward pass is under
// way, so the host works them out while the GPU computes.
func (b *Backend) DecodeSampledMasked(batch []engine.DecodeInput, rows []engine.RowSampling, masks func() [][]uint64) ([]int, error) {
	if len(rows) != len(batch) {
		return nil, fmt.Errorf("decode: %d sampling rows for a batch of %d", len(rows), len(batch))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var (
		out []int
		ms  [][]uint64
	)
	err := b.decode(batch, func(tok, pos, seq []int32, tables []int32, want []uint8) error {
		if _, err := b.forward(tok, pos, seq, len(tok), tables, 0, want, false); err != nil {
			return err
		}
		if ms == nil { // the first part's forward pass is under way
			if ms = masks(); len(ms) != len(batch) {
				return fmt.Errorf("%d masks for a batch of %d", len(ms), len(batch))
			}
		}
		start := len(out)
		toks, err := b.sampleLast(len(tok), rows[start:start+len(tok)], b.flatMasks(ms[start:start+len(tok)]))
		out = append(out, toks...)
		return err
	})
	return out, err
}

// MasksOnDevice implements engine.MaskedDecoder: true unless EnvGPUMask is "0".
func (b *Backend) MasksOnDevice() bool { return b.masksOnDevice }

// flatMasks lays rows out as kic_sample takes them, ceil(vocab/64) words a
// row: a nil row allows every token, a shorter one (a tokenizer with fewer
// tokens than the model's logits) none past its end, as engine.SampleMasked
// reads it. nil when no row has a mask. b.mu is held.
func (b *Backend) flatMasks(rows [][]uint64) []uint64 {
	if !slices.ContainsFunc(rows, func(m []uint64) bool { return m != nil }) {
		return nil
	}
	words := b.maskWords()
	b.masks = slices.Grow(b.masks[:0], len(rows)*words)[:len(rows)*words]
	for i, m := range rows {
		row := b.masks[i*words : (i+1)*words]
		if m == nil {
			for w := range row {
				row[w] = ^uint64(0)
			}
			continue
		}
		clear(row[copy(row, m):])
	}
	return b.masks
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
		tables, width := b.tableRows(n), b.tableWidth()
		for i, in := range part {
			s := seqs[start+i]
			tok[i], pos[i], seqIdx[i], want[i] = int32(in.Token), int32(lengths[start+i]), int32(i), 1
			b.fillRow(tables[i*width:(i+1)*width], s)
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

// tableWidth is one sequence's row of block tables: every layer group's, MaxSeqBlocks each (kic_table_width).
func (b *Backend) tableWidth() int { return b.kv.Groups() * b.sz.MaxSeqBlocks }

// tableRows returns n rows of block tables in b.tables, reused from call to call: a 128k-context model's row
// is 8192 blocks a group, and a new one per sequence per step cost more than the step's kernels at 64
// sequences. Entries past a sequence's blocks keep what an earlier call left: kic_forward reads a
// sequence's table only up to the blocks of its positions. b.mu is held.
func (b *Backend) tableRows(n int) []int32 {
	b.tables = slices.Grow(b.tables[:0], n*b.tableWidth())[:n*b.tableWidth()]
	return b.tables
}

// fillRow writes s's blocks into its row of block tables.
func (b *Backend) fillRow(row []int32, s *cudaSeq) {
	for g := range b.kv.Groups() {
		copy(row[g*b.sz.MaxSeqBlocks:(g+1)*b.sz.MaxSeqBlocks], s.kv.GroupBlocks(g))
	}
}

// forward runs one kic_forward (flags: KIC_FORWARD_*) and, with copyOut, returns the wanted rows: logits, or with
// KIC_FORWARD_HIDDEN the final normed hidden states.
func (b *Backend) forward(tok, pos, seq []int32, nseq int, tables []int32, flags C.int32_t, want []uint8, copyOut bool) ([][]float32, error) {
	rows := 0
	for _, w := range want {
		rows += int(w)
	}
	if !copyOut {
		rows = 0
	}
	width := b.h.VocabSize
	if flags&C.KIC_FORWARD_HIDDEN != 0 {
		width = b.h.Embedding
		if rows == 0 { // a chunk the pooling reads nothing of: a plain prefill
			flags &^= C.KIC_FORWARD_HIDDEN
		}
	}
	flat := make([]float32, rows*width)
	var outp *C.float
	if rows > 0 {
		outp = (*C.float)(unsafe.Pointer(unsafe.SliceData(flat)))
	}
	err := b.lib.call("forward", func() C.kic_status {
		return C.call_forward(b.lib.api, b.cm, C.int32_t(len(tok)), (*C.int32_t)(unsafe.Pointer(&tok[0])),
			(*C.int32_t)(unsafe.Pointer(&pos[0])), (*C.int32_t)(unsafe.Pointer(&seq[0])), C.int32_t(nseq),
			(*C.int32_t)(unsafe.Pointer(&tables[0])), flags, (*C.uint8_t)(unsafe.Pointer(&want[0])), outp)
	})
	if err != nil {
		return nil, err
	}
	out := make([][]float32, rows)
	for i := range out {
		out[i] = flat[i*width : (i+1)*width : (i+1)*width]
	}
	return out, nil
}

// SampleLast samples one token per logit row of the last Prefill or Decode,
// on the GPU, without copying logits back: greedy is exact argmax (lowest id
// on ties); otherwise temperature, top-k and top-p with a seeded draw.
func (b *Backend) SampleLast(rows int, p Sampling) ([]int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sampleLast(rows, repeat(p, rows), nil)
}

// maskWords is kic_mask_words of the logits' vocabulary (all of it, under tensor parallelism): one row's mask.
func (b *Backend) maskWords() int { return (b.h.VocabSize + 63) / 64 }

// sampleLast is SampleLast with row i drawn by ps[i] and masks (nil: none), rows x ceil(vocab/64) words as
// flatMasks lays them out.
func (b *Backend) sampleLast(rows int, ps []Sampling, masks []uint64) ([]int, error) {
	if b.closed {
		return nil, engine.ErrClosed
	}
	if rows <= 0 {
		return nil, errors.New("sample: no rows")
	}
	if len(ps) != rows {
		return nil, fmt.Errorf("sample: %d sampling rows for %d rows", len(ps), rows)
	}
	cp := make([]C.kic_sampling, rows)
	for i, p := range ps {
		cp[i] = C.kic_sampling{temperature: C.float(p.Temperature), top_k: C.int32_t(p.TopK), top_p: C.float(p.TopP), min_p: C.float(p.MinP),
			seed: C.uint64_t(p.Seed), step: C.uint64_t(p.Step)}
	}
	toks := make([]int32, rows)
	var cm *C.uint64_t
	if masks != nil {
		if len(masks) != rows*b.maskWords() {
			return nil, fmt.Errorf("sample: %d mask words for %d rows of %d tokens", len(masks), rows, b.h.VocabSize)
		}
		cm = (*C.uint64_t)(unsafe.Pointer(unsafe.SliceData(masks)))
	}
	if err := b.lib.call("sample", func() C.kic_status {
		return C.call_sample(b.lib.api, b.cm, C.int32_t(rows), &cp[0], cm, (*C.int32_t)(unsafe.Pointer(&toks[0])))
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
	if err := b.lib.call("set graphs", func() C.kic_status { return C.call_set_graphs(b.lib.api, b.cm, v) }); err != nil {
		return err
	}
	b.graphs = on
	return nil
}

// GraphCounts is how many CUDA graphs the library holds: decode steps (one a batch size) and prefill passes (one
// a shape seen twice; none with KUBEINFER_CUDA_PREFILL_GRAPHS=0).
func (b *Backend) GraphCounts() (decode, prefill int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var d, p C.int32_t
	if err := b.lib.call("graph counts", func() C.kic_status { return C.call_graph_counts(b.lib.api, b.cm, &d, &p) }); err != nil {
		return 0, 0, err
	}
	return int(d), int(p), nil
}

// PersistentDecode says whether one-token decode steps run their layers in one persistent launch
// (KUBEINFER_CUDA_PERSISTENT=1 at Open, on a model the path takes).
func (b *Backend) PersistentDecode() (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var on C.int32_t
	if err := b.lib.call("decode path", func() C.kic_status { return C.call_decode_path(b.lib.api, b.cm, &on) }); err != nil {
		return false, err
	}
	return on != 0, nil
}

// MeasureBandwidth times device-to-device copies of bytes (read + write
// counted) on the backend's GPU, the denominator of a roofline figure.
func (b *Backend) MeasureBandwidth(bytes uint64) (float64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var bw C.double
	err := b.lib.call("measure bandwidth", func() C.kic_status {
		return C.call_measure_bandwidth(b.lib.api, C.int32_t(b.ordinals[0]), C.uint64_t(bytes), &bw)
	})
	return float64(bw), err
}
