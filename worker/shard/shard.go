// Package shard is the tensor-parallel sharding plan: given a model's
// hyperparameters and a number of ranks (GPUs), which query heads, KV heads,
// feed-forward rows and vocabulary rows each rank owns, and so which rows and
// columns of every weight it holds.
//
// The split is Megatron-LM's: the projections that fan out (q, k, v, gate,
// up, GPT-2's fused qkv) are column-parallel, each rank computing the output
// rows of its own heads or feed-forward units with no communication; the
// projections that fan back in (the attention output and down) are
// row-parallel, each rank multiplying its own slice of the input columns, and
// one all-reduce per projection sums the partial results. The token embedding
// and the output projection are split by vocabulary rows: a token's
// embedding comes from the one rank that holds its row (the others add
// zeros, an all-reduce sums them) and the logits are gathered. Norms and the
// position table are small and replicated; the biases of row-parallel
// projections and the position table live on rank 0 only, so they are added
// once by the all-reduce.
//
// Everything that shards a model asks this package: the CPU engine's
// simulated ranks (the exactness test), the CUDA backend's per-GPU upload
// and worker/memplan's per-GPU memory plan.
package shard

import (
	"fmt"
	"strings"

	"github.com/kubeinfer/kubeinfer/worker/model"
)

// Range is the half-open interval [Lo, Hi).
type Range struct{ Lo, Hi int }

// Len is Hi - Lo.
func (r Range) Len() int { return r.Hi - r.Lo }

// Rank is what one rank owns.
type Rank struct {
	// Heads are its query heads; HeadsKV the KV heads they read. When the
	// model has fewer KV heads than there are ranks, a KV head is replicated
	// on every rank whose query heads read it.
	Heads, HeadsKV Range
	// FFN are its feed-forward units: rows of gate and up, columns of down.
	FFN Range
	// Vocab are its rows of the token embedding and of the output projection.
	Vocab Range
}

// Plan is the split of one model over N ranks.
type Plan struct {
	Ranks   []Rank
	HeadDim int
	// VocabChunk is the most vocabulary rows a rank holds: every rank's
	// logits fit a chunk of this size, so a gather moves equal pieces.
	VocabChunk int
}

// N is the number of ranks.
func (p Plan) N() int { return len(p.Ranks) }

// Blocks are the column units of the row-parallel projections: a rank's
// first column must start a block of the projection's weight type, or the
// rank could not hold whole blocks.
type Blocks struct {
	AttnOutput, FFNDown int
}

// vectorWidth is the values the GPU's matrix-vector kernels read at a time:
// rows of float types split on multiples of it when they can (block formats
// are multiples of it already), else on any column, at some speed.
const vectorWidth = 8

// colUnit is the column unit of a row-parallel projection with total columns
// of blocks of block values split over n ranks.
func colUnit(block, total, n int) int {
	if block <= 1 && total%vectorWidth == 0 && total/vectorWidth >= n {
		return vectorWidth
	}
	return max(block, 1)
}

// New splits a model with hyperparameters h over n ranks. It refuses a split
// that would leave a rank nothing to do or cut a quantized block (a rank's
// columns of the attention output or of down must start on a block
// boundary), saying which dimension and which block.
func New(h model.Hyper, n int, b Blocks) (Plan, error) {
	if n < 1 {
		return Plan{}, fmt.Errorf("tensor parallelism over %d ranks: need at least 1", n)
	}
	if n > 1 && (h.Heads <= 0 || h.HeadsKV <= 0 || h.Heads%h.HeadsKV != 0) {
		return Plan{}, fmt.Errorf("%d query heads do not share %d KV heads evenly", h.Heads, h.HeadsKV)
	}
	p := Plan{Ranks: make([]Rank, n), HeadDim: h.HeadDim}
	if n == 1 {
		// One rank holds everything, whatever the shapes.
		p.Ranks[0] = Rank{Heads: Range{0, h.Heads}, HeadsKV: Range{0, h.HeadsKV}, FFN: Range{0, h.FeedForward},
			Vocab: Range{0, h.VocabSize}}
		p.VocabChunk = h.VocabSize
		return p, nil
	}
	oUnit, downUnit := colUnit(b.AttnOutput, h.Heads*h.HeadDim, n), colUnit(b.FFNDown, h.FeedForward, n)
	group := h.Heads / h.HeadsKV // query heads per KV head

	if h.HeadsKV >= n {
		// Whole KV heads per rank, each with its group of query heads. A rank's
		// attention-output columns start at kvLo × group × HeadDim, a block
		// boundary when kvLo is a multiple of kvUnit.
		kvUnit := oUnit / gcd(oUnit, group*h.HeadDim)
		kv, err := split(h.HeadsKV, kvUnit, n)
		if err != nil {
			return Plan{}, fmt.Errorf("cannot split %d KV heads (%d query heads of %d) over %d ranks: the attention output's columns "+
				"must split on blocks of %d values, which takes %d KV heads per rank or more", h.HeadsKV, h.Heads, h.HeadDim, n, oUnit, kvUnit)
		}
		for r := range p.Ranks {
			p.Ranks[r].HeadsKV = kv[r]
			p.Ranks[r].Heads = Range{kv[r].Lo * group, kv[r].Hi * group}
		}
	} else {
		// Fewer KV heads than ranks: each KV head is replicated on the n/HeadsKV
		// ranks that split its group of query heads.
		if n%h.HeadsKV != 0 || h.Heads%n != 0 {
			return Plan{}, fmt.Errorf("cannot split %d query heads sharing %d KV heads over %d ranks: with fewer KV heads than ranks, "+
				"the ranks must be a multiple of the KV heads and divide the query heads", h.Heads, h.HeadsKV, n)
		}
		per, perKV := h.Heads/n, n/h.HeadsKV
		for r := range p.Ranks {
			lo := r * per
			if lo*h.HeadDim%oUnit != 0 {
				return Plan{}, fmt.Errorf("cannot split %d query heads of %d over %d ranks: rank %d's attention-output columns "+
					"would start at %d, not on blocks of %d values", h.Heads, h.HeadDim, n, r, lo*h.HeadDim, oUnit)
			}
			p.Ranks[r].Heads = Range{lo, lo + per}
			p.Ranks[r].HeadsKV = Range{r / perKV, r/perKV + 1}
		}
	}
	ffn, err := split(h.FeedForward, downUnit, n)
	if err != nil {
		return Plan{}, fmt.Errorf("cannot split the feed-forward width %d over %d ranks: down's columns must split on blocks of %d values "+
			"(%d blocks in all)", h.FeedForward, n, downUnit, h.FeedForward/downUnit)
	}
	p.VocabChunk = (h.VocabSize + n - 1) / n
	for r := range p.Ranks {
		p.Ranks[r].FFN = ffn[r]
		p.Ranks[r].Vocab = Range{min(r*p.VocabChunk, h.VocabSize), min((r+1)*p.VocabChunk, h.VocabSize)}
		if p.Ranks[r].Vocab.Len() == 0 {
			return Plan{}, fmt.Errorf("cannot split a vocabulary of %d tokens over %d ranks", h.VocabSize, n)
		}
	}
	return p, nil
}

// split cuts total (a multiple of unit) into n ranges as even as whole units allow.
func split(total, unit, n int) ([]Range, error) {
	units := total / unit
	if units < n || total%unit != 0 {
		return nil, fmt.Errorf("%d units of %d over %d ranks", units, unit, n)
	}
	out := make([]Range, n)
	for i := range out {
		out[i] = Range{unit * (i * units / n), unit * ((i + 1) * units / n)}
	}
	return out, nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// ForModel is New with the block sizes of m's row-parallel weights (the
// largest over its layers, as a quantization recipe may mix types). m may
// come from a header-only file.
func ForModel(m *model.Model, n int) (Plan, error) {
	var b Blocks
	for _, l := range m.Weights.Layers {
		if l.Output != nil {
			b.AttnOutput = max(b.AttnOutput, int(l.Output.Info.Type.BlockSize()))
		}
		if l.Down != nil {
			b.FFNDown = max(b.FFNDown, int(l.Down.Info.Type.BlockSize()))
		}
	}
	p, err := New(m.Hyper, n, b)
	if err == nil && n > 1 {
		// Every tensor the model binds must have a rule, or the split is refused now, at plan time
		// (inspect, the operator's header read), rather than at load.
		for _, t := range m.Tensors() {
			if _, err = p.Piece(t, 0); err != nil {
				err = fmt.Errorf("%s models cannot be split yet: %w", m.Hyper.Arch, err)
				break
			}
		}
	}
	if err != nil {
		return Plan{}, fmt.Errorf("tensor parallelism over %d GPUs: %w", n, err)
	}
	return p, nil
}

// Hyper is rank r's share of h: its query and KV heads, feed-forward width
// and vocabulary rows. Everything a rank computes and allocates has these
// shapes (with N = 1 they are h itself).
func (p Plan) Hyper(h model.Hyper, r int) model.Hyper {
	rk := p.Ranks[r]
	h.Heads, h.HeadsKV, h.FeedForward, h.VocabSize = rk.Heads.Len(), rk.HeadsKV.Len(), rk.FFN.Len(), rk.Vocab.Len()
	return h
}

// Piece is the part of a tensor one rank holds: the rows in Rows (in
// order; several ranges for GPT-2's fused [q; k; v]) and, of each, the
// columns in Cols. A 1-D tensor (a norm or bias) is one row of values. A
// piece with no rows means the rank holds nothing of the tensor.
type Piece struct {
	Rows, Cols []Range
}

// Shape is the piece's rows and columns.
func (pc Piece) Shape() (rows, cols int) {
	for _, r := range pc.Rows {
		rows += r.Len()
	}
	for _, c := range pc.Cols {
		cols += c.Len()
	}
	return rows, cols
}

// Empty says the rank holds none of the tensor.
func (pc Piece) Empty() bool { return len(pc.Rows) == 0 }

// Whole says the piece is the whole tensor.
func (pc Piece) Whole(t *model.Tensor) bool {
	rows, cols := pc.Shape()
	return len(pc.Rows) == 1 && len(pc.Cols) == 1 && rows == t.Rows && cols == t.Cols
}

// Piece is rank r's part of t, by t's role in the model (its GGUF name). A
// tensor without a rule is an error, so a new architecture's tensor cannot
// be sharded by accident: give it a rule here.
func (p Plan) Piece(t *model.Tensor, r int) (Piece, error) {
	rk := p.Ranks[r]
	all := func(n int) []Range { return []Range{{0, n}} }
	whole := Piece{Rows: all(t.Rows), Cols: all(t.Cols)}
	if p.N() == 1 {
		return whole, nil
	}
	hd := p.HeadDim
	heads := Range{rk.Heads.Lo * hd, rk.Heads.Hi * hd}
	kv := Range{rk.HeadsKV.Lo * hd, rk.HeadsKV.Hi * hd}
	// outRows splits a column-parallel projection (or its bias, one row of
	// values) by output rows.
	outRows := func(rs ...Range) Piece {
		if t.Rows == 1 {
			return Piece{Rows: all(1), Cols: rs}
		}
		return Piece{Rows: rs, Cols: all(t.Cols)}
	}
	rankZero := func() Piece {
		if r == 0 {
			return whole
		}
		return Piece{}
	}
	name := t.Info.Name
	if i := strings.Index(name, "."); strings.HasPrefix(name, "blk.") && i >= 0 {
		name = name[i+1:]
		name = name[strings.Index(name, ".")+1:]
	}
	// The whole model's widths, from the last rank's ranges.
	last := p.Ranks[p.N()-1]
	nq, nkv, ffn := last.Heads.Hi*hd, last.HeadsKV.Hi*hd, last.FFN.Hi
	switch name {
	case "token_embd.weight", "output.weight":
		return Piece{Rows: []Range{rk.Vocab}, Cols: all(t.Cols)}, nil
	case "output.bias": // Phi-2's logit bias: one value per vocabulary row
		return Piece{Rows: all(1), Cols: []Range{rk.Vocab}}, nil
	case "position_embd.weight":
		return rankZero(), nil
	case "output_norm.weight", "output_norm.bias", "rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight",
		"attn_norm.weight", "attn_norm.bias", "ffn_norm.weight", "ffn_norm.bias",
		// Per-head norms of q and k (Qwen3, Gemma 3) are one head's width, the same for every head;
		// the post-norms (Gemma 2 and 3) normalize the whole residual row after the all-reduce.
		"attn_q_norm.weight", "attn_k_norm.weight", "post_attention_norm.weight", "post_ffw_norm.weight":
		return whole, nil
	case "attn_q.weight", "attn_q.bias":
		return outRows(heads), nil
	case "attn_k.weight", "attn_k.bias", "attn_v.weight", "attn_v.bias":
		return outRows(kv), nil
	case "attn_qkv.weight", "attn_qkv.bias":
		// Fused rows (GPT-2, GPT-NeoX, Phi-3) are q (nq), then k, then v (nkv each).
		n := t.Rows
		if t.Rows == 1 {
			n = t.Cols
		}
		if nq+2*nkv != n {
			return Piece{}, fmt.Errorf("tensor %s: %d fused rows are not %d query rows and twice %d KV rows", t.Info.Name, n, nq, nkv)
		}
		return outRows(heads, Range{nq + kv.Lo, nq + kv.Hi}, Range{nq + nkv + kv.Lo, nq + nkv + kv.Hi}), nil
	case "ffn_up.weight":
		n := t.Rows
		if n == 2*ffn { // Phi-3's fused [gate; up]: the rank's gate rows, then its up rows
			return outRows(rk.FFN, Range{ffn + rk.FFN.Lo, ffn + rk.FFN.Hi}), nil
		}
		return outRows(rk.FFN), nil
	case "ffn_gate.weight", "ffn_up.bias":
		return outRows(rk.FFN), nil
	case "attn_output.weight":
		return Piece{Rows: all(t.Rows), Cols: []Range{heads}}, nil
	case "ffn_down.weight":
		return Piece{Rows: all(t.Rows), Cols: []Range{rk.FFN}}, nil
	case "attn_output.bias", "ffn_down.bias":
		return rankZero(), nil
	}
	return Piece{}, fmt.Errorf("tensor %s has no tensor-parallel sharding rule (worker/shard)", t.Info.Name)
}

// Extract is piece pc of t (data is t's bytes as stored) as a tensor of its
// own, rows × cols in t's encoding: what the rank computes with or uploads.
// Whole rows are a sub-slice of data; anything else is copied. Columns must
// start and end on t's blocks, which New guarantees for the plans it makes.
func Extract(t *model.Tensor, data []byte, pc Piece) (out []byte, rows, cols int, err error) {
	typ := t.Info.Type
	rowBytes, err := typ.RowBytes(uint64(t.Cols))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("tensor %s: %w", t.Info.Name, err)
	}
	if uint64(len(data)) != rowBytes*uint64(t.Rows) {
		return nil, 0, 0, fmt.Errorf("tensor %s: %d bytes for %d rows of %d", t.Info.Name, len(data), t.Rows, rowBytes)
	}
	rows, cols = pc.Shape()
	if pc.Empty() {
		return nil, 0, 0, nil
	}
	colBytes := make([]Range, len(pc.Cols))
	for i, c := range pc.Cols {
		if c.Lo < 0 || c.Hi > t.Cols || uint64(c.Lo)%typ.BlockSize() != 0 || uint64(c.Hi)%typ.BlockSize() != 0 {
			return nil, 0, 0, fmt.Errorf("tensor %s (%s): columns [%d, %d) are not whole blocks of %d of its %d",
				t.Info.Name, typ, c.Lo, c.Hi, typ.BlockSize(), t.Cols)
		}
		lo, _ := typ.RowBytes(uint64(c.Lo))
		hi, _ := typ.RowBytes(uint64(c.Hi))
		colBytes[i] = Range{int(lo), int(hi)}
	}
	for _, r := range pc.Rows {
		if r.Lo < 0 || r.Hi > t.Rows {
			return nil, 0, 0, fmt.Errorf("tensor %s: rows [%d, %d) of %d", t.Info.Name, r.Lo, r.Hi, t.Rows)
		}
	}
	rb := int(rowBytes)
	if len(pc.Rows) == 1 && len(pc.Cols) == 1 && cols == t.Cols {
		return data[pc.Rows[0].Lo*rb : pc.Rows[0].Hi*rb], rows, cols, nil
	}
	pieceRow, _ := typ.RowBytes(uint64(cols))
	out = make([]byte, 0, uint64(rows)*pieceRow)
	for _, r := range pc.Rows {
		for row := r.Lo; row < r.Hi; row++ {
			for _, c := range colBytes {
				out = append(out, data[row*rb+c.Lo:row*rb+c.Hi]...)
			}
		}
	}
	return out, rows, cols, nil
}

// Floats is piece pc of a tensor already decoded to float32 (rows × cols
// values in v): how vectors, which engines hold as float32, are split.
func Floats(v []float32, cols int, pc Piece) []float32 {
	if pc.Empty() {
		return nil
	}
	var out []float32
	for _, r := range pc.Rows {
		for row := r.Lo; row < r.Hi; row++ {
			for _, c := range pc.Cols {
				out = append(out, v[row*cols+c.Lo:row*cols+c.Hi]...)
			}
		}
	}
	return out
}
