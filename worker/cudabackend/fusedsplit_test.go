package cudabackend

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/shard"
)

// The library splits a fused tensor into its members by the widths of the
// config it was given (kic_upload: [q; k; v] as heads, heads_kv, heads_kv
// times head_dim rows, [gate; up] as ffn and ffn), and under tensor
// parallelism that config is the rank's share (shard.Plan.Hyper). So each
// rank's piece of a fused tensor must be its own q, k and v rows (gate and up
// rows) in that order, at exactly those widths: checked here on every fixture
// with a fused tensor (GPT-2, GPT-NeoX, Phi-3), at every rank count its
// shapes split over.
func TestFusedPiecesMatchTheRankWidths(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "fidelity", "*.gguf"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	fused := 0
	for _, path := range paths {
		m, err := model.Load(path, "")
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(path), ".gguf")
		for _, n := range []int{2, 4} {
			p, err := shard.ForModel(m, n)
			if err != nil {
				continue // refused shapes: the CPU engine's exactness test checks each refusal
			}
			for r := range n {
				h := p.Hyper(m.Hyper, r)
				nq, nkv, ffn := h.Heads*h.HeadDim, h.HeadsKV*h.HeadDim, h.FeedForward
				for i, l := range m.Weights.Layers {
					check := func(t0 *model.Tensor, widths ...int) {
						if t0 == nil {
							return
						}
						fused++
						pc, err := p.Piece(t0, r)
						if err != nil {
							t.Fatalf("%s over %d, rank %d: %v", name, n, r, err)
						}
						got := pc.Rows
						if t0.Rows == 1 { // a bias: one row of values
							got = pc.Cols
						}
						ok := len(got) == len(widths)
						for j := 0; ok && j < len(widths); j++ {
							ok = got[j].Len() == widths[j]
						}
						if !ok {
							t.Errorf("%s over %d, rank %d, layer %d: %s's piece is %v, want members of %v rows (the rank's widths)",
								name, n, r, i, t0.Info.Name, got, widths)
						}
					}
					check(l.QKV, nq, nkv, nkv)
					check(l.QKVBias, nq, nkv, nkv)
					check(l.GateUp, ffn, ffn)
				}
			}
		}
		m.Close()
	}
	if fused == 0 {
		t.Fatal("no fixture has a fused tensor")
	}
}
