package shard

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

func llama(heads, kv, hd, ffn, vocab int) model.Hyper {
	return model.Hyper{Family: model.FamilyLlama, Embedding: heads * hd, Heads: heads, HeadsKV: kv, HeadDim: hd,
		FeedForward: ffn, VocabSize: vocab}
}

func TestPlanRealShapes(t *testing.T) {
	k := Blocks{AttnOutput: 256, FFNDown: 256} // Q4_K_M's attention output and down
	for _, tc := range []struct {
		name string
		h    model.Hyper
		n    int
		want []Rank
	}{
		{"Llama-3.1-8B/2", llama(32, 8, 128, 14336, 128256), 2, []Rank{
			{Heads: Range{0, 16}, HeadsKV: Range{0, 4}, FFN: Range{0, 7168}, Vocab: Range{0, 64128}},
			{Heads: Range{16, 32}, HeadsKV: Range{4, 8}, FFN: Range{7168, 14336}, Vocab: Range{64128, 128256}}}},
		// Llama-2-7B's 11008 is 43 blocks: 21 and 22 of them.
		{"Llama-2-7B/2", llama(32, 32, 128, 11008, 32000), 2, []Rank{
			{Heads: Range{0, 16}, HeadsKV: Range{0, 16}, FFN: Range{0, 5376}, Vocab: Range{0, 16000}},
			{Heads: Range{16, 32}, HeadsKV: Range{16, 32}, FFN: Range{5376, 11008}, Vocab: Range{16000, 32000}}}},
		// 70B at 16 ranks: 8 KV heads, each replicated on two ranks.
		{"Llama-3.1-70B/16", llama(64, 8, 128, 28672, 128256), 16, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.h, tc.n, k)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != nil {
				for r, want := range tc.want {
					if p.Ranks[r] != want {
						t.Errorf("rank %d: %+v, want %+v", r, p.Ranks[r], want)
					}
				}
			}
			// Every query head, feed-forward unit and token is owned once, in order;
			// each rank's query heads read only its KV heads.
			var heads, ffn, vocab int
			group := tc.h.Heads / tc.h.HeadsKV
			for r, rk := range p.Ranks {
				if rk.Heads.Lo != heads || rk.FFN.Lo != ffn || rk.Vocab.Lo != vocab {
					t.Errorf("rank %d does not start where rank %d ended: %+v", r, r-1, rk)
				}
				heads, ffn, vocab = rk.Heads.Hi, rk.FFN.Hi, rk.Vocab.Hi
				if rk.Heads.Lo/group != rk.HeadsKV.Lo || (rk.Heads.Hi-1)/group != rk.HeadsKV.Hi-1 {
					t.Errorf("rank %d: query heads %v read KV heads outside %v", r, rk.Heads, rk.HeadsKV)
				}
				if rk.Heads.Lo*tc.h.HeadDim%256 != 0 || rk.FFN.Lo%256 != 0 {
					t.Errorf("rank %d: columns not on block boundaries: %+v", r, rk)
				}
				if h := p.Hyper(tc.h, r); h.Heads%h.HeadsKV != 0 {
					t.Errorf("rank %d: %d heads over %d KV heads", r, h.Heads, h.HeadsKV)
				}
			}
			if heads != tc.h.Heads || ffn != tc.h.FeedForward || vocab != tc.h.VocabSize {
				t.Errorf("ranks end at heads %d, ffn %d, vocab %d", heads, ffn, vocab)
			}
		})
	}
}

func TestPlanRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    model.Hyper
		n    int
		b    Blocks
		want string
	}{
		{"output one block", llama(8, 2, 32, 1024, 100), 2, Blocks{256, 32}, "split 2 KV heads (8 query heads of 32) over 2 ranks: the attention output's columns must split on blocks of 256 values"},
		{"replicated off block", llama(8, 2, 32, 1024, 100), 4, Blocks{256, 32}, "rank 1's attention-output columns would start at 64, not on blocks of 256 values"},
		{"down one block", llama(8, 8, 64, 256, 100), 2, Blocks{32, 256}, "feed-forward width 256 over 2 ranks: down's columns must split on blocks of 256 values"},
		{"heads", llama(6, 6, 64, 1024, 100), 12, Blocks{1, 1}, "must be a multiple of the KV heads"},
		{"vocab", llama(8, 8, 64, 1024, 3), 4, Blocks{1, 1}, "vocabulary of 3 tokens"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.h, tc.n, tc.b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	// One rank takes any shape.
	if _, err := New(llama(8, 2, 32, 100, 3), 1, Blocks{256, 256}); err != nil {
		t.Fatal(err)
	}
}

// TestExtract cuts a Q4_0 matrix (blocks of 32 values, 18 bytes) by columns
// and rows and checks the bytes against the blocks they came from.
func TestExtract(t *testing.T) {
	const rows, cols = 6, 128
	rb := int(must(gguf.TypeQ4_0.RowBytes(cols)))
	data := make([]byte, rows*rb)
	for i := range data {
		data[i] = byte(i * 7)
	}
	tensor := &model.Tensor{Info: gguf.TensorInfo{Name: "blk.0.ffn_down.weight", Type: gguf.TypeQ4_0}, Rows: rows, Cols: cols}
	got, r, c, err := Extract(tensor, data, Piece{Rows: []Range{{1, 3}, {4, 5}}, Cols: []Range{{32, 96}}})
	if err != nil || r != 3 || c != 64 {
		t.Fatalf("%d x %d, %v", r, c, err)
	}
	var want []byte
	for _, row := range []int{1, 2, 4} {
		want = append(want, data[row*rb+18:row*rb+54]...)
	}
	if !bytes.Equal(got, want) {
		t.Error("columns 32-96 of rows 1, 2, 4 are not blocks 1-2 of those rows")
	}
	// Whole rows are the file's own bytes, not a copy.
	got, _, _, _ = Extract(tensor, data, Piece{Rows: []Range{{2, 4}}, Cols: []Range{{0, cols}}})
	if &got[0] != &data[2*rb] {
		t.Error("whole rows were copied")
	}
	if _, _, _, err := Extract(tensor, data, Piece{Rows: []Range{{0, 1}}, Cols: []Range{{16, 48}}}); err == nil ||
		!strings.Contains(err.Error(), "not whole blocks of 32") {
		t.Errorf("a cut through a block: %v", err)
	}
}

func TestPieceNeedsARule(t *testing.T) {
	p, err := New(llama(8, 8, 64, 1024, 100), 2, Blocks{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	unknown := &model.Tensor{Info: gguf.TensorInfo{Name: "blk.3.ssm_conv1d.weight"}, Rows: 1, Cols: 64}
	if _, err := p.Piece(unknown, 0); err == nil || !strings.Contains(err.Error(), "no tensor-parallel sharding rule") {
		t.Errorf("a tensor without a rule: %v", err)
	}
	bias := &model.Tensor{Info: gguf.TensorInfo{Name: "blk.0.ffn_down.bias"}, Rows: 1, Cols: 512}
	if pc, _ := p.Piece(bias, 1); !pc.Empty() {
		t.Error("a row-parallel bias is on rank 1: the all-reduce would add it twice")
	}
}

// TestPlanRefusesUnknownTensors: a model binding a tensor no rule covers (an
// architecture added to worker/model without a sharding rule here) is refused
// by ForModel, at plan time, naming the architecture and the tensor; one rank
// takes it whole.
func TestPlanRefusesUnknownTensors(t *testing.T) {
	h := llama(8, 8, 64, 1024, 100)
	h.Arch = "mamba"
	m := &model.Model{Hyper: h, Weights: model.Weights{Layers: []model.Layer{{
		AttnNorm: &model.Tensor{Info: gguf.TensorInfo{Name: "blk.0.ssm_norm.weight", Type: gguf.TypeF32}, Rows: 1, Cols: 512},
	}}}}
	_, err := ForModel(m, 2)
	if err == nil || !strings.Contains(err.Error(), "mamba models cannot be split yet") ||
		!strings.Contains(err.Error(), "blk.0.ssm_norm.weight has no tensor-parallel sharding rule") {
		t.Errorf("ForModel over 2: %v", err)
	}
	if _, err := ForModel(m, 1); err != nil {
		t.Errorf("one rank: %v", err)
	}
}

// TestPiecesOfTheNewArchitectures checks the rules of the tensors other
// architectures than llama and GPT-2 add: fused [q; k; v] with grouped-query
// attention (Phi-3's layout), fused [gate; up] (Phi-3), Phi-2's logit bias
// (by vocabulary rows), and the per-head and post norms (whole).
func TestPiecesOfTheNewArchitectures(t *testing.T) {
	h := llama(8, 4, 16, 96, 100) // nq 128, nkv 64
	p, err := New(h, 2, Blocks{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	ten := func(name string, rows, cols int) *model.Tensor {
		return &model.Tensor{Info: gguf.TensorInfo{Name: name, Type: gguf.TypeF32}, Rows: rows, Cols: cols}
	}
	for _, tc := range []struct {
		t    *model.Tensor
		r    int
		want Piece
	}{
		{ten("blk.0.attn_qkv.weight", 128+2*64, 128), 1, Piece{Rows: []Range{{64, 128}, {128 + 32, 128 + 64}, {192 + 32, 192 + 64}},
			Cols: []Range{{0, 128}}}},
		{ten("blk.0.attn_qkv.bias", 1, 128+2*64), 0, Piece{Rows: []Range{{0, 1}}, Cols: []Range{{0, 64}, {128, 160}, {192, 224}}}},
		{ten("blk.0.ffn_up.weight", 2*96, 128), 1, Piece{Rows: []Range{{48, 96}, {96 + 48, 192}}, Cols: []Range{{0, 128}}}},
		{ten("blk.0.ffn_up.weight", 96, 128), 1, Piece{Rows: []Range{{48, 96}}, Cols: []Range{{0, 128}}}},
		{ten("output.bias", 1, 100), 1, Piece{Rows: []Range{{0, 1}}, Cols: []Range{{50, 100}}}},
		{ten("blk.0.attn_q_norm.weight", 1, 16), 1, Piece{Rows: []Range{{0, 1}}, Cols: []Range{{0, 16}}}},
		{ten("blk.0.post_ffw_norm.weight", 1, 128), 1, Piece{Rows: []Range{{0, 1}}, Cols: []Range{{0, 128}}}},
	} {
		got, err := p.Piece(tc.t, tc.r)
		if err != nil {
			t.Errorf("%s: %v", tc.t.Info.Name, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s rank %d: %v, want %v", tc.t.Info.Name, tc.r, got, tc.want)
		}
	}
	if _, err := p.Piece(ten("blk.0.attn_qkv.weight", 128+64+32, 128), 0); err == nil {
		t.Error("fused rows whose KV parts differ were split")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
