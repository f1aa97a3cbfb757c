package engine

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/shard"
)

// CPU is the pure-Go reference backend: the yardstick the CUDA kernels are
// tested against and the fallback on nodes without a GPU. Weight matrices
// stay in the model file's encoding (F32, F16, BF16 or any quantized type of
// gguf's table), as views of the file mapping: a product decodes a block at a
// time and multiplies it with float32 activations, so memory stays close to
// the file's size and the arithmetic stays float32 (no quantized activations,
// unlike ggml's CPU backend). Norm and bias vectors are converted to float32.
type CPU struct {
	m   *model.Model
	h   model.Hyper
	act func(float32) float32 // the MLP's nonlinearity

	// ranks are the tensor-parallel ranks the forward pass runs as: one that
	// holds everything, or CPUOptions.TensorParallel simulated ones, each
	// holding its shard (worker/shard) and meeting the others in comm.
	ranks []*cpuRank
	comm  *comm // nil with one rank

	layout kvcache.Layout // where each layer's keys and values sit in the pool's blocks
	kv     *kvcache.Pool

	mu     sync.Mutex // guards seqs, nextID, closed, the ranks' KV blocks and serializes forward passes
	seqs   map[SeqID]*cpuSeq
	nextID SeqID
	closed bool
}

// cpuRank is one rank's weights, KV storage and buffers. Its hyperparameters
// are its share of the model's (shard.Plan.Hyper: its query and KV heads,
// feed-forward width and vocabulary rows), so the forward pass is written
// once, for a rank, and the plain engine is the rank that holds everything.
type cpuRank struct {
	c     *CPU
	index int
	h     model.Hyper
	vocab shard.Range // its rows of the token embedding, the output and its bias

	tokEmbd, posEmbd        *matrix // posEmbd is on rank 0 only, so the all-reduce adds it once
	outNorm, outNormB, outB []float32
	output                  *matrix // is tokEmbd when embeddings are tied
	layers                  []cpuLayer

	kvWidth int // floats of one layer's keys (or values) in one block: BlockTokens × HeadsKV × HeadDim
	// kvRound, for a KV type other than F32, rounds a token's key or value row
	// (the rank's KV heads) to that type in place, as a GPU's pool would store it.
	kvRound func(row []float32)
	// blocks is the KV storage by pool block id: per layer, the block's keys then
	// its values. A block's storage is allocated when first used and kept for reuse.
	blocks [][]float32
	mm     *matmul // the worker goroutines of every product and attention
	buf    forwardBuffers
}

// forwardBuffers are forward's activations, kept between calls (forward runs
// under c.mu) so that a decode step allocates only the logits it returns.
type forwardBuffers struct {
	x, pe, norm, norm2, q, k, v, att, proj, ff1, ff2, qkv, sel []float32
	scores                                                     [][]float32 // per worker
}

// sized returns *b resized to n, reallocated only when it is too small.
func sized(b *[]float32, n int) []float32 {
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	*b = (*b)[:n]
	return *b
}

type cpuLayer struct {
	attnNorm, attnNormB []float32
	q, k, v, qkv, o     *matrix
	qb, kb, vb, qkvb    []float32
	qNorm, kNorm        []float32
	ob                  []float32
	postAttn            []float32
	ffnNorm, ffnNormB   []float32
	gate, up, down      *matrix // gate and up may be the halves of one fused tensor
	upb, downb          []float32
	postFFN             []float32
	rope                ropeTable
}

// cpuSeq is one sequence: its claim on the pool (the blocks that hold its keys
// and values, in position order) and its length limit.
type cpuSeq struct {
	capacity int
	kv       *kvcache.Seq
}

// CPUOptions size the CPU engine.
type CPUOptions struct {
	// KVCacheTokens is the KV pool size in tokens over all sequences, in every
	// layer (kvcache.Layout.TokenBlocks); 0 means one sequence of the model's
	// context (kvcache.Layout.PoolBlocks).
	KVCacheTokens int
	// KVType is the storage type whose numerics the engine keeps: keys and values
	// are rounded to it as they are stored, and kept as float32 (the engine is the
	// reference the CUDA engine is checked against at each type; it saves no
	// memory). Auto is F32.
	KVType kvcache.Type
	// Workers is the number of goroutines that compute; 0 means GOMAXPROCS.
	Workers int
	// MatvecInt8 rounds the activations to int8 before their products with
	// K-quant weights (Q4_K, Q6_K: most of a Q4_K_M file), as llama.cpp's CPU
	// kernels do, and multiplies in integer arithmetic (AVX2 on x86): several
	// times faster, at llama.cpp's error (about 0.4% of a product's magnitude).
	// Off, the engine computes in float32: the reference the GPU is checked
	// against. The worker turns it on to serve (KUBEINFER_CPU_MATVEC_INT8=0
	// turns it off).
	MatvecInt8 bool
	// TensorParallel, when above 1, runs the model as that many simulated
	// tensor-parallel ranks: each computes with its shard of the weights
	// (worker/shard's plan, as a GPU would hold it) and the ranks meet in an
	// in-process all-reduce and gather. It exists to test the sharding
	// against the plain engine; it is slower, not faster.
	TensorParallel int
}

var _ Backend = (*CPU)(nil)

// NewCPU binds the model's weights: matrices as views of the file mapping,
// whose pages it reads once (that is the load, reported to m.OnProgress),
// vectors converted to float32. The model's file must stay open until the
// engine is closed: close the engine first, then the model (load.Model.Close
// does so).
func NewCPU(m *model.Model, opts CPUOptions) (*CPU, error) {
	if !m.File.HasData() {
		return nil, fmt.Errorf("the CPU engine needs the model's tensor data (a header-only file has none)")
	}
	// Window layers keep blocks of their own (kvcache.Layout): a sequence holds only their window.
	layout := kvcache.LayoutFor(m.Hyper)
	bt := kvcache.DefaultBlockTokens
	blocks := layout.TokenBlocks(opts.KVCacheTokens, bt)
	if opts.KVCacheTokens <= 0 {
		blocks = layout.PoolBlocks(m.Hyper.ContextLength, 0, 1, kvcache.DefaultStepTokens, bt)
	}
	n := max(1, opts.TensorParallel)
	plan, err := shard.ForModel(m, n)
	if err != nil {
		return nil, err
	}
	kt := opts.KVType.Or(kvcache.F32)
	for r := range n {
		// Each rank rounds its own KV heads' rows, as each GPU stores them.
		if err := kt.Check(plan.Hyper(m.Hyper, r)); err != nil {
			return nil, err
		}
	}
	c := &CPU{m: m, h: m.Hyper, act: activation(m.Hyper.Act), seqs: map[SeqID]*cpuSeq{},
		layout: layout, kv: kvcache.NewPoolFor(layout, blocks, bt)}
	if n > 1 {
		c.comm = newComm(n)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = defaultWorkers()
	}
	for r := range n {
		rk, err := c.newRank(plan, r, max(1, workers/n), kt, opts.MatvecInt8)
		if err != nil {
			for _, done := range c.ranks {
				done.mm.close()
			}
			return nil, err
		}
		c.ranks = append(c.ranks, rk)
	}
	return c, nil
}

// newRank binds rank r's shard of the weights: matrices as views of the file
// mapping (copies where a rank holds some columns of each row), vectors
// converted to float32. Rank 0 reports the load's progress.
func (c *CPU) newRank(plan shard.Plan, r, workers int, kt kvcache.Type, int8 bool) (*cpuRank, error) {
	m := c.m
	h := plan.Hyper(m.Hyper, r)
	rk := &cpuRank{c: c, index: r, h: h, vocab: plan.Ranks[r].Vocab}
	rk.kvWidth = c.kv.BlockTokens() * h.HeadsKV * h.HeadDim
	rk.blocks = make([][]float32, c.kv.Blocks())
	if kt != kvcache.F32 {
		g := kt.GGML()
		enc := make([]byte, kt.RowBytes(h))
		rk.kvRound = func(row []float32) {
			// Both cannot fail: the row is whole blocks of a type gguf encodes (Check).
			_ = gguf.QuantizeInto(g, enc, row)
			_ = gguf.DequantizeInto(g, row, enc)
		}
	}
	var err error
	piece := func(t *model.Tensor) (shard.Piece, bool) {
		if t == nil || err != nil {
			return shard.Piece{}, false
		}
		pc, perr := plan.Piece(t, r)
		if perr != nil {
			err = perr
			return shard.Piece{}, false
		}
		return pc, !pc.Empty()
	}
	loaded := func(t *model.Tensor) {
		if r == 0 {
			m.Loaded(t) // progress: the bytes read so far
		}
	}
	vec := func(t *model.Tensor) []float32 {
		pc, ok := piece(t)
		if !ok {
			return nil
		}
		var v []float32
		if v, err = t.Float32(); err != nil {
			err = fmt.Errorf("load weights: %w", err)
			return nil
		}
		loaded(t)
		if pc.Whole(t) {
			return v
		}
		return shard.Floats(v, t.Cols, pc)
	}
	mat := func(t *model.Tensor) *matrix {
		pc, ok := piece(t)
		if !ok {
			return nil
		}
		data, rows, cols, xerr := shard.Extract(t, m.File.TensorData(t.Info), pc)
		var w *matrix
		if xerr == nil {
			w, xerr = newMatrix(t, rows, cols, data)
		}
		if xerr != nil {
			err = fmt.Errorf("load weights: %w", xerr)
			return nil
		}
		touchPages(data)
		loaded(t)
		return w
	}
	w := &m.Weights
	rk.tokEmbd = mat(w.TokenEmbedding)
	rk.posEmbd = mat(w.PositionEmbedding)
	rk.outNorm = vec(w.OutputNorm)
	rk.outNormB = vec(w.OutputNormBias)
	rk.output = mat(w.Output)
	rk.outB = vec(w.OutputBias)
	if w.Output == nil {
		rk.output = rk.tokEmbd
	}
	rk.layers = make([]cpuLayer, len(w.Layers))
	for i, l := range w.Layers {
		rk.layers[i] = cpuLayer{
			attnNorm: vec(l.AttnNorm), attnNormB: vec(l.AttnNormBias),
			q: mat(l.Q), qb: vec(l.QBias), k: mat(l.K), kb: vec(l.KBias), v: mat(l.V), vb: vec(l.VBias),
			qkv: mat(l.QKV), qkvb: vec(l.QKVBias), qNorm: vec(l.QNorm), kNorm: vec(l.KNorm),
			o: mat(l.Output), ob: vec(l.OutputBias), postAttn: vec(l.PostAttnNorm),
			ffnNorm: vec(l.FFNNorm), ffnNormB: vec(l.FFNNormBias),
			gate: mat(l.Gate), up: mat(l.Up), upb: vec(l.UpBias), down: mat(l.Down), downb: vec(l.DownBias),
			postFFN: vec(l.PostFFNNorm), rope: newRopeTable(&m.Hyper, i),
		}
		// A fused [gate; up] piece is the rank's gate rows, then its up rows.
		if gu := mat(l.GateUp); gu != nil {
			rk.layers[i].gate, rk.layers[i].up = gu.rowsView(0, h.FeedForward), gu.rowsView(h.FeedForward, gu.rows)
		}
	}
	if err != nil {
		return nil, err
	}
	rk.mm = newMatmul(workers, max(h.Embedding, h.Heads*h.HeadDim, h.FeedForward), int8)
	return rk, nil
}

// pageSink keeps touchPages' reads from being optimized away.
var pageSink atomic.Uint32

// touchPages reads one byte of every page of data, so the file's pages are in
// memory when NewCPU returns (as a GPU upload would have read them) rather
// than faulted in by the first request.
func touchPages(data []byte) {
	const page = 4096
	var s byte
	for i := 0; i < len(data); i += page {
		s += data[i]
	}
	pageSink.Add(uint32(s))
}

// Name implements Backend.
func (c *CPU) Name() string { return "cpu" }

// Device implements Backend.
func (c *CPU) Device() string { return "CPU" }

// Model implements Backend.
func (c *CPU) Model() *model.Model { return c.m }

// KV implements Backend.
func (c *CPU) KV() *kvcache.Pool { return c.kv }

// NewSequence implements Backend.
func (c *CPU) NewSequence(maxTokens int) (SeqID, error) {
	id, _, err := c.StartSequence(maxTokens, nil)
	return id, err
}

// StartSequence implements Backend.
func (c *CPU) StartSequence(maxTokens int, prompt []int) (SeqID, int, error) {
	if maxTokens <= 0 || maxTokens > c.h.ContextLength {
		maxTokens = c.h.ContextLength
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, 0, ErrClosed
	}
	kv, cached := c.kv.NewSeqFromCache(prompt[:min(len(prompt), maxTokens)])
	c.nextID++
	c.seqs[c.nextID] = &cpuSeq{capacity: maxTokens, kv: kv}
	return c.nextID, cached, nil
}

// FreeSequence implements Backend.
func (c *CPU) FreeSequence(seq SeqID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.seqs[seq]; ok {
		s.kv.Release()
		delete(c.seqs, seq)
	}
}

// reserve appends tokens to each sequence's claim on the pool, all or none: a
// failure (kvcache.ErrFull) leaves every sequence as it was. c.mu is held.
func (c *CPU) reserve(seqs []*cpuSeq, tokens [][]int) error {
	kvs := make([]*kvcache.Seq, len(seqs))
	for i, s := range seqs {
		kvs[i] = s.kv
	}
	if err := kvcache.Reserve(kvs, tokens); err != nil {
		return err
	}
	for _, s := range seqs {
		for g := range c.kv.Groups() {
			for _, b := range s.kv.GroupBlocks(g) {
				for _, r := range c.ranks {
					if r.blocks[b] == nil {
						r.blocks[b] = make([]float32, 2*c.layout.Slots*r.kvWidth)
					}
				}
			}
		}
	}
	return nil
}

// kvAt returns the key and value rows (the rank's HeadsKV × HeadDim each) of a
// sequence's position in a layer.
func (r *cpuRank) kvAt(s *cpuSeq, layer, pos int) (k, v []float32) {
	bt := r.c.kv.BlockTokens()
	nKV := r.h.HeadsKV * r.h.HeadDim
	at := r.c.layout.Layer[layer]
	blk := r.blocks[s.kv.GroupBlocks(at.Group)[pos/bt]]
	off := 2*at.Slot*r.kvWidth + (pos%bt)*nKV
	return blk[off : off+nKV], blk[off+r.kvWidth : off+r.kvWidth+nKV]
}

// Close implements Backend.
func (c *CPU) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.seqs = nil
	for _, r := range c.ranks {
		r.blocks = nil
		r.mm.close()
	}
	return nil
}

// item is one token to run: which sequence, which token, at which position.
type item struct {
	seq    *cpuSeq
	token  int
	pos    int
	logits bool
}

func (c *CPU) lookup(id SeqID) (*cpuSeq, error) {
	if c.closed {
		return nil, ErrClosed
	}
	s, ok := c.seqs[id]
	if !ok {
		return nil, fmt.Errorf("sequence %d: %w", id, ErrUnknownSequence)
	}
	return s, nil
}

// check says whether tokens may follow seq's KV; it returns the sequence and
// its length before them. c.mu is held.
func (c *CPU) check(verb string, seq SeqID, tokens []int) (*cpuSeq, int, error) {
	if len(tokens) == 0 {
		return nil, 0, fmt.Errorf("%s sequence %d: no tokens", verb, seq)
	}
	s, err := c.lookup(seq)
	if err != nil {
		return nil, 0, err
	}
	length := s.kv.Len()
	if err := CheckPrefill(seq, tokens, length, s.capacity, c.h.VocabSize); err != nil {
		return nil, 0, err
	}
	return s, length, nil
}

// extend is check, then the reservation of the tokens' blocks. c.mu is held.
func (c *CPU) extend(verb string, seq SeqID, tokens []int) (*cpuSeq, int, error) {
	s, length, err := c.check(verb, seq, tokens)
	if err != nil {
		return nil, 0, err
	}
	if err := c.reserve([]*cpuSeq{s}, [][]int{tokens}); err != nil {
		return nil, 0, fmt.Errorf("%s sequence %d: %w", verb, seq, err)
	}
	return s, length, nil
}

// Prefill implements Backend.
func (c *CPU) Prefill(seq SeqID, tokens []int, allLogits bool) ([][]float32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, length, err := c.extend("prefill", seq, tokens)
	if err != nil {
		return nil, err
	}
	items := make([]item, len(tokens))
	for i, tok := range tokens {
		items[i] = item{seq: s, token: tok, pos: length + i, logits: allLogits || i == len(tokens)-1}
	}
	out := c.forward(items, false)
	s.kv.Filled()
	return out, nil
}

var _ BatchPrefiller = (*CPU)(nil)

// PrefillBatch implements BatchPrefiller: one forward over every part's
// tokens, each attending to its own sequence.
func (c *CPU) PrefillBatch(parts []PrefillPart) ([][]float32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seqs, tokens, lengths := make([]*cpuSeq, len(parts)), make([][]int, len(parts)), make([]int, len(parts))
	seen := make(map[SeqID]bool, len(parts))
	for i, p := range parts {
		if seen[p.Seq] {
			return nil, fmt.Errorf("prefill batch: sequence %d appears twice", p.Seq)
		}
		seen[p.Seq] = true
		s, length, err := c.check("prefill", p.Seq, p.Tokens)
		if err != nil {
			return nil, err
		}
		seqs[i], tokens[i], lengths[i] = s, p.Tokens, length
	}
	if err := c.reserve(seqs, tokens); err != nil {
		return nil, fmt.Errorf("prefill batch of %d sequences: %w", len(parts), err)
	}
	var items []item
	for i, p := range parts {
		for j, tok := range p.Tokens {
			items = append(items, item{seq: seqs[i], token: tok, pos: lengths[i] + j, logits: j == len(p.Tokens)-1})
		}
	}
	out := c.forward(items, false)
	for _, s := range seqs {
		s.kv.Filled()
	}
	return out, nil
}

var _ Embedder = (*CPU)(nil)

// Embed implements Embedder.
func (c *CPU) Embed(seq SeqID, tokens []int, pool Pooling) ([]float32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, length, err := c.extend("embed", seq, tokens)
	if err != nil {
		return nil, err
	}
	items := make([]item, len(tokens))
	for i, tok := range tokens {
		items[i] = item{seq: s, token: tok, pos: length + i, logits: pool.Reads(i, len(tokens))} // only the rows the pooling reads
	}
	rows := c.forward(items, true)
	s.kv.Filled()
	flat := make([]float32, 0, len(rows)*c.h.Embedding)
	for _, r := range rows {
		flat = append(flat, r...)
	}
	return PoolRows(flat, c.h.Embedding, pool)
}

// Decode implements Backend.
func (c *CPU) Decode(batch []DecodeInput) ([][]float32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	items := make([]item, len(batch))
	seqs, tokens := make([]*cpuSeq, len(batch)), make([][]int, len(batch))
	seen := make(map[SeqID]bool, len(batch))
	for i, in := range batch {
		s, err := c.lookup(in.Seq)
		if err != nil {
			return nil, err
		}
		if seen[in.Seq] {
			return nil, fmt.Errorf("decode: sequence %d appears twice in one batch", in.Seq)
		}
		seen[in.Seq] = true
		if s.kv.Len() >= s.capacity {
			return nil, fmt.Errorf("decode sequence %d at position %d: %w", in.Seq, s.kv.Len(), ErrSequenceFull)
		}
		if err := CheckToken(in.Token, c.h.VocabSize); err != nil {
			return nil, fmt.Errorf("decode sequence %d: %w", in.Seq, err)
		}
		items[i] = item{seq: s, token: in.Token, pos: s.kv.Len(), logits: true}
		seqs[i], tokens[i] = s, []int{in.Token}
	}
	if err := c.reserve(seqs, tokens); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	out := c.forward(items, false)
	for _, s := range seqs {
		s.kv.Filled()
	}
	return out, nil
}

// forward runs the model over items (a prefill's tokens in position order,
// several sequences' prefill chunks one after another, or one token for each
// of several sequences), writing their keys and
// values into the caches, and returns logits for the items that asked, or
// with hidden their final normed hidden states. Simulated ranks run at once,
// each on its own goroutine as each GPU has its own thread, and their logits,
// each rank's vocabulary rows, are gathered; the hidden states are every
// rank's alike, after the last all-reduce.
func (c *CPU) forward(items []item, hidden bool) [][]float32 {
	if len(c.ranks) == 1 {
		return c.ranks[0].forward(items, hidden)
	}
	parts := make([][][]float32, len(c.ranks))
	var wg sync.WaitGroup
	for i, r := range c.ranks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i] = r.forward(items, hidden)
		}()
	}
	wg.Wait()
	if hidden {
		return parts[0]
	}
	out := make([][]float32, len(parts[0]))
	for j := range out {
		row := make([]float32, c.h.VocabSize)
		for i, r := range c.ranks {
			copy(row[r.vocab.Lo:r.vocab.Hi], parts[i][j])
		}
		out[j] = row
	}
	return out
}

// forward is one rank's forward pass: every shape is the rank's (r.h), and
// the ranks meet after the embedding and after each row-parallel projection,
// whose partial sums the all-reduce adds. It returns the rank's logits (or
// with hidden the final normed hidden states).
func (r *cpuRank) forward(items []item, hidden bool) [][]float32 {
	c := r.c
	h := &r.h
	n, nEmbd := len(items), h.Embedding
	nQ, nKV := h.Heads*h.HeadDim, h.HeadsKV*h.HeadDim

	bf := &r.buf
	x := sized(&bf.x, n*nEmbd)
	var pe []float32
	if r.posEmbd != nil {
		pe = sized(&bf.pe, nEmbd)
	}
	for i, it := range items {
		row := x[i*nEmbd : (i+1)*nEmbd]
		// The rank holding the token's row looks it up; the others add zeros.
		if it.token >= r.vocab.Lo && it.token < r.vocab.Hi {
			r.tokEmbd.rowFloat32(row, it.token-r.vocab.Lo)
			if h.EmbedScale != 1 {
				for j := range row {
					row[j] *= h.EmbedScale
				}
			}
		} else {
			clear(row)
		}
		if pe != nil {
			r.posEmbd.rowFloat32(pe, it.pos)
			for j := range row {
				row[j] += pe[j]
			}
		}
	}
	c.comm.allReduce(r.index, x)
	norm := sized(&bf.norm, n*nEmbd)
	var norm2 []float32 // the MLP's own norm of the block input (parallel residual)
	if h.Residual == model.ResidualParallel {
		norm2 = sized(&bf.norm2, n*nEmbd)
	}
	q := sized(&bf.q, n*nQ)
	k := sized(&bf.k, n*nKV)
	v := sized(&bf.v, n*nKV)
	att := sized(&bf.att, n*nQ)
	proj := sized(&bf.proj, n*nEmbd)
	ff1 := sized(&bf.ff1, n*h.FeedForward)
	ff2 := sized(&bf.ff2, n*h.FeedForward)
	qkvW := nQ + 2*nKV
	qkv := sized(&bf.qkv, n*qkvW)

	// normRows normalizes each of the n rows of src into dst (dst may be src).
	normRows := func(dst, src, w, b []float32, kind model.NormKind, width int) {
		for i := range len(src) / width {
			s, d := src[i*width:(i+1)*width], dst[i*width:(i+1)*width]
			if kind == model.NormLayer {
				layerNorm(d, s, w, b, h.NormEps)
			} else {
				rmsNorm(d, s, w, h.NormEps)
			}
		}
	}
	addInto := func(dst, src []float32) {
		for i := range dst {
			dst[i] += src[i]
		}
	}

	for li := range r.layers {
		l := &r.layers[li]
		normRows(norm, x, l.attnNorm, l.attnNormB, h.Norm, nEmbd)
		if norm2 != nil {
			normRows(norm2, x, l.ffnNorm, l.ffnNormB, h.Norm, nEmbd)
		}
		if l.qkv != nil {
			r.mm.run(qkv, norm, l.qkv, l.qkvb, n)
			for i := range n {
				row := qkv[i*qkvW:]
				copy(q[i*nQ:(i+1)*nQ], row[:nQ])
				copy(k[i*nKV:(i+1)*nKV], row[nQ:nQ+nKV])
				copy(v[i*nKV:(i+1)*nKV], row[nQ+nKV:qkvW])
			}
		} else {
			r.mm.run(q, norm, l.q, l.qb, n)
			r.mm.run(k, norm, l.k, l.kb, n)
			r.mm.run(v, norm, l.v, l.vb, n)
		}
		if l.qNorm != nil { // per head, before the rotation
			normRows(q, q, l.qNorm, nil, model.NormRMS, h.HeadDim)
			normRows(k, k, l.kNorm, nil, model.NormRMS, h.HeadDim)
		}
		if h.RopeMode != model.RopeNone {
			for i, it := range items {
				for hh := range h.Heads {
					l.rope.apply(q[i*nQ+hh*h.HeadDim:i*nQ+(hh+1)*h.HeadDim], it.pos)
				}
				for hh := range h.HeadsKV {
					l.rope.apply(k[i*nKV+hh*h.HeadDim:i*nKV+(hh+1)*h.HeadDim], it.pos)
				}
			}
		}
		for i, it := range items {
			kc, vc := r.kvAt(it.seq, li, it.pos)
			copy(kc, k[i*nKV:(i+1)*nKV])
			copy(vc, v[i*nKV:(i+1)*nKV])
			if r.kvRound != nil {
				r.kvRound(kc)
				r.kvRound(vc)
			}
		}
		r.attention(att, q, items, li)
		r.mm.run(proj, att, l.o, l.ob, n)
		r.reduce(proj)
		if l.postAttn != nil {
			normRows(proj, proj, l.postAttn, nil, model.NormRMS, nEmbd)
		}
		addInto(x, proj)

		in := norm // the attention's norm feeds the MLP too (parallel, shared)
		switch h.Residual {
		case model.ResidualSequential:
			normRows(norm, x, l.ffnNorm, l.ffnNormB, h.Norm, nEmbd)
		case model.ResidualParallel:
			in = norm2
		}
		if l.gate != nil {
			r.mm.run(ff1, in, l.gate, nil, n)
			r.mm.run(ff2, in, l.up, nil, n)
			for i, g := range ff1 {
				ff1[i] = c.act(g) * ff2[i]
			}
		} else {
			r.mm.run(ff1, in, l.up, l.upb, n)
			for i, a := range ff1 {
				ff1[i] = c.act(a)
			}
		}
		r.mm.run(proj, ff1, l.down, l.downb, n)
		r.reduce(proj)
		if l.postFFN != nil {
			normRows(proj, proj, l.postFFN, nil, model.NormRMS, nEmbd)
		}
		addInto(x, proj)
	}

	// Final norm and projection only for the rows that want logits: the
	// vocab projection is the largest matmul, and a prefill needs one row.
	var rows []int
	for i, it := range items {
		if it.logits {
			rows = append(rows, i)
		}
	}
	sel := sized(&bf.sel, len(rows)*nEmbd)
	for j, i := range rows {
		copy(sel[j*nEmbd:(j+1)*nEmbd], x[i*nEmbd:(i+1)*nEmbd])
	}
	normRows(sel, sel, r.outNorm, r.outNormB, h.Norm, nEmbd)
	if hidden {
		out := make([][]float32, len(rows))
		for j := range rows {
			out[j] = append([]float32(nil), sel[j*nEmbd:(j+1)*nEmbd]...)
		}
		return out
	}
	logits := make([]float32, len(rows)*h.VocabSize)
	r.mm.run(logits, sel, r.output, r.outB, len(rows))
	if h.FinalSoftcap > 0 {
		for i, z := range logits {
			logits[i] = softcap(z, h.FinalSoftcap)
		}
	}
	out := make([][]float32, len(rows))
	for j := range rows {
		out[j] = logits[j*h.VocabSize : (j+1)*h.VocabSize : (j+1)*h.VocabSize]
	}
	return out
}

// reduce makes a row-parallel projection's output whole: with several ranks
// each holds a partial sum over its own input columns (rank 0's with the
// projection's bias, which only it holds), and the all-reduce adds them, so
// every rank has the whole output before any norm of it and the residual add.
func (r *cpuRank) reduce(proj []float32) { r.c.comm.allReduce(r.index, proj) }

// attention computes causal scaled dot-product attention for every item and
// query head, over the layer's window of positions; a query head reads KV head
// hh/(Heads/HeadsKV) (grouped-query attention; plain multi-head when the
// counts are equal).
func (r *cpuRank) attention(out, q []float32, items []item, layer int) {
	h := &r.h
	hd, nQ := h.HeadDim, h.Heads*h.HeadDim
	group := h.Heads / h.HeadsKV
	scale, limit, window := h.AttnScale, h.AttnSoftcap, h.Window(layer)
	if len(r.buf.scores) != r.mm.pool.workers {
		r.buf.scores = make([][]float32, r.mm.pool.workers)
	}
	r.mm.pool.run(funcJob(func(worker, job int) {
		i, hh := job/h.Heads, job%h.Heads
		it := items[i]
		kv := (hh / group) * hd
		qh := q[i*nQ+hh*hd : i*nQ+(hh+1)*hd]
		first := 0
		if window > 0 {
			first = max(0, it.pos-window+1)
		}
		scores := sized(&r.buf.scores[worker], it.pos+1-first)
		for j := range scores {
			kr, _ := r.kvAt(it.seq, layer, first+j)
			s := dot(qh, kr[kv:kv+hd]) * scale
			if limit > 0 {
				s = softcap(s, limit)
			}
			scores[j] = s
		}
		softmax(scores)
		o := out[i*nQ+hh*hd : i*nQ+(hh+1)*hd]
		clear(o)
		for j, w := range scores {
			_, vr := r.kvAt(it.seq, layer, first+j)
			vr = vr[kv : kv+hd]
			for d := range o {
				o[d] += w * vr[d]
			}
		}
	}), len(items)*h.Heads, 1)
}
