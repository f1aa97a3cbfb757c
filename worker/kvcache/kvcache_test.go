package kvcache

import (
	"errors"
	"slices"
	"testing"
)

func seqOf(n int, from int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

func TestReserveIsAllOrNone(t *testing.T) {
	p := NewPool(160, 16)
	if p.Blocks() != 10 || p.CapacityTokens() != 160 || p.FreeBlocks() != 10 {
		t.Fatalf("pool of 160 tokens: %d blocks, %d tokens, %d free", p.Blocks(), p.CapacityTokens(), p.FreeBlocks())
	}
	a := p.NewSeq()
	if err := a.Reserve(seqOf(50, 0)); err != nil || !slices.Equal(a.Blocks(), []int32{0, 1, 2, 3}) || a.Len() != 50 {
		t.Fatalf("reserve 50: %v, blocks %v", err, a.Blocks())
	}
	if err := a.Reserve(seqOf(14, 50)); err != nil || len(a.Blocks()) != 4 {
		t.Fatalf("growing within the last block took blocks: %v, %v", err, a.Blocks())
	}
	b, c := p.NewSeq(), p.NewSeq()
	err := Reserve([]*Seq{b, c}, [][]int{seqOf(48, 100), seqOf(64, 200)}) // 3 + 4 blocks, 6 free
	if !errors.Is(err, ErrFull) || b.Len() != 0 || c.Len() != 0 || p.FreeBlocks() != 6 {
		t.Fatalf("a step needing 7 blocks with 6 free: %v, lengths %d %d, %d free", err, b.Len(), c.Len(), p.FreeBlocks())
	}
	if err := Reserve([]*Seq{b, c}, [][]int{seqOf(32, 100), seqOf(64, 200)}); err != nil || p.FreeBlocks() != 0 || p.UsedTokens() != 160 {
		t.Fatalf("taking all: %v, %d free", err, p.FreeBlocks())
	}
	seen := map[int32]bool{}
	for _, s := range []*Seq{a, b, c} {
		for _, id := range s.Blocks() {
			if seen[id] || id < 0 || id >= 10 {
				t.Fatalf("block %d handed out twice or out of range", id)
			}
			seen[id] = true
		}
	}
	c.Unreserve(20) // the step failed after 20 tokens: blocks beyond them go back
	if c.Len() != 20 || len(c.Blocks()) != 2 || p.FreeBlocks() != 2 {
		t.Fatalf("unreserve: len %d, %d blocks, %d free", c.Len(), len(c.Blocks()), p.FreeBlocks())
	}
	a.Release()
	if p.FreeBlocks() != 6 {
		t.Fatalf("after release: %d free", p.FreeBlocks())
	}
	if p.Need(15, 16) != 0 || p.Need(16, 17) != 1 || p.Need(0, 1) != 1 || p.Need(0, 33) != 3 {
		t.Error("Need counts blocks wrongly")
	}
}

// A prompt that starts with tokens a filled sequence held takes its full blocks, and
// leaves at least one token to compute; a different token in a block ends the match.
func TestPrefixReuse(t *testing.T) {
	p := NewPool(16*8, 16)
	system := seqOf(40, 1000) // 2 full blocks and 8 tokens
	a := p.NewSeq()
	if err := a.Reserve(append(slices.Clone(system), 7, 8, 9)); err != nil {
		t.Fatal(err)
	}
	if s, n := p.NewSeqFromCache(system); n != 0 || s.Len() != 0 {
		t.Fatalf("matched %d tokens of blocks never filled", n)
	}
	a.Filled()

	b, n := p.NewSeqFromCache(append(slices.Clone(system), 1, 2, 3))
	if n != 32 || b.Len() != 32 || !slices.Equal(b.Blocks(), a.Blocks()[:2]) {
		t.Fatalf("matched %d tokens, blocks %v of %v", n, b.Blocks(), a.Blocks())
	}
	// The whole prompt cached: one token stays to compute.
	if _, n := p.NewSeqFromCache(system[:32]); n != 16 {
		t.Errorf("a prompt of exactly two cached blocks matched %d tokens, want 16", n)
	}
	other := slices.Clone(system)
	other[20] = -1
	if _, n := p.NewSeqFromCache(other); n != 16 {
		t.Errorf("a prompt differing in block 2 matched %d tokens, want 16", n)
	}
	if st := p.Stats(); st.HitTokens != 32+16+16 || st.QueriedTokens == 0 {
		t.Errorf("stats %+v", st)
	}
}

// Blocks no sequence holds stay cached and count as free; taking one forgets it,
// least recently used first, and a prompt that needed it finds only what is left.
func TestCachedBlocksAreEvictedLeastRecentlyUsedFirst(t *testing.T) {
	p := NewPool(16*4, 16)
	fill := func(toks []int) *Seq {
		s := p.NewSeq()
		if err := s.Reserve(toks); err != nil {
			t.Fatal(err)
		}
		s.Filled()
		return s
	}
	x, y := seqOf(32, 0), seqOf(32, 500)
	sx, sy := fill(x), fill(y)
	sx.Release()
	sy.Release()
	if p.FreeBlocks() != 4 || p.UsedTokens() != 0 {
		t.Fatalf("released cached blocks: %d free", p.FreeBlocks())
	}
	// x's blocks are the least recently used: a new sequence of 2 blocks takes them.
	fill(seqOf(32, 900))
	if _, n := p.NewSeqFromCache(append(slices.Clone(x), 1)); n != 0 {
		t.Errorf("x matched %d tokens after its blocks were taken", n)
	}
	if _, n := p.NewSeqFromCache(append(slices.Clone(y), 1)); n != 32 {
		t.Errorf("y matched %d tokens, want its 32", n)
	}
}

func TestTokens(t *testing.T) {
	for _, c := range []struct{ ctx, maxCtx, conc, want int }{
		{2048, 0, 8, 2048},       // the model's context
		{131072, 0, 8, 32768},    // at most 32768 by default
		{131072, 4096, 8, 32768}, // explicit: every slot at its context
		{2048, 512, 0, 512},
	} {
		if got := Tokens(c.ctx, c.maxCtx, c.conc); got != c.want {
			t.Errorf("Tokens(%d, %d, %d) = %d, want %d", c.ctx, c.maxCtx, c.conc, got, c.want)
		}
	}
}
