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
	if p.Need(15, 16, 1) != 0 || p.Need(16, 17, 1) != 1 || p.Need(0, 1, 1) != 1 || p.Need(0, 33, 8) != 3 {
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

func TestPoolBlocks(t *testing.T) {
	w := WindowBlocks(4096, 512, 16) // Mistral's window and the default chunk: the blocks a sequence keeps
	if w*16 < 4096+512 || w*16 > 4096+512+32 {
		t.Fatalf("WindowBlocks(4096, 512, 16) = %d", w)
	}
	for _, c := range []struct{ ctx, maxCtx, conc, window, want int }{
		{2048, 0, 8, 0, 2048 / 16},          // the model's context
		{131072, 0, 8, 0, 32768 / 16},       // at most 32768 by default
		{131072, 4096, 8, 0, 8 * 4096 / 16}, // explicit: every slot at its context
		{2048, 512, 0, 0, 512 / 16},
		{32768, 32768, 8, 4096, 8 * w}, // windowed: every slot at its window
		{32768, 0, 1, 4096, w},
		{32768, 1024, 8, 4096, 8 * 1024 / 16}, // a context shorter than the window
	} {
		if got := Plain(4, c.window).PoolBlocks(c.ctx, c.maxCtx, c.conc, 512, 16); got != c.want {
			t.Errorf("PoolBlocks(%d, %d, %d) with window %d = %d, want %d", c.ctx, c.maxCtx, c.conc, c.window, got, c.want)
		}
	}
}

// With a window, a growing sequence gives back the blocks its next query cannot read, in steps of any size up
// to the one Need was told, and Need bounds what it takes on the way: never more than WindowBlocks at once.
func TestWindowGivesBackBlocksOutOfReach(t *testing.T) {
	const bt, window = 4, 6
	for _, step := range []int{1, 3, 8} {
		p := NewPool(400, bt)
		p.SetWindow(window)
		s := p.NewSeq()
		bound := p.Need(0, 300, step)
		if bound != WindowBlocks(window, step, bt) || bound >= BlocksFor(300, bt) {
			t.Fatalf("step %d: Need(0, 300) = %d, want WindowBlocks %d, far below %d", step, bound, WindowBlocks(window, step, bt), BlocksFor(300, bt))
		}
		peak := 0
		for n := 0; n < 300; {
			k, held := growStep(t, p, s, n, step)
			peak = max(peak, held)
			n += k
			// Every block holding a position the next query (at n) reads is still held.
			first := max(0, n-window+1) / bt
			if s.Held() != len(s.Blocks())-first {
				t.Fatalf("step %d at %d tokens: holds %d of %d blocks, want all from block %d", step, n, s.Held(), len(s.Blocks()), first)
			}
			if p.FreeBlocks() != p.Blocks()-s.Held() {
				t.Fatalf("step %d: %d free of %d with %d held", step, p.FreeBlocks(), p.Blocks(), s.Held())
			}
		}
		if peak > bound {
			t.Errorf("step %d: held %d blocks at once, more than WindowBlocks %d", step, peak, bound)
		}
		s.Release()
		if p.FreeBlocks() != p.Blocks() {
			t.Errorf("after release: %d of %d free", p.FreeBlocks(), p.Blocks())
		}
	}
}

// A pool of a few blocks serves a windowed sequence of any length; without the window it fills up.
func TestWindowedSequenceOutgrowsThePool(t *testing.T) {
	grow := func(window int) error {
		p := NewPool(16, 4) // 4 blocks
		p.SetWindow(window)
		s := p.NewSeq()
		for n := range 100 {
			if err := s.Reserve([]int{n}); err != nil {
				return err
			}
			s.Filled()
		}
		return nil
	}
	if err := grow(6); err != nil {
		t.Errorf("window 6 in 4 blocks of 4: %v", err)
	}
	if err := grow(0); !errors.Is(err, ErrFull) {
		t.Errorf("no window: %v, want ErrFull", err)
	}
}

// Blocks given back stay cached by their tokens, so a prompt that starts the same way still finds them; a block
// whose parent was given back is not indexed (the parent may hold other tokens by then).
func TestWindowedBlocksStayCachedForPrefixes(t *testing.T) {
	p := NewPool(64, 4)
	p.SetWindow(5)
	a := p.NewSeq()
	if err := a.Reserve(seqOf(8, 0)); err != nil { // blocks 0-1
		t.Fatal(err)
	}
	a.Filled() // the next query (8) reads from 4: block 0 is given back, cached
	if a.Held() != 1 {
		t.Fatalf("held %d, want 1", a.Held())
	}
	if err := a.Reserve(seqOf(8, 8)); err != nil { // blocks 2-3, parent of 2 is held
		t.Fatal(err)
	}
	a.Filled()
	b, n := p.NewSeqFromCache(seqOf(17, 0))
	if n != 16 {
		t.Fatalf("prefix of a windowed sequence: %d cached tokens, want 16", n)
	}
	b.Release()
	// A second sequence whose first block differs but whose later tokens match finds nothing.
	other := append([]int{99, 98, 97, 96}, seqOf(13, 4)...)
	if c, n := p.NewSeqFromCache(other); n != 0 {
		t.Fatalf("a different first block matched %d tokens", n)
	} else {
		c.Release()
	}
	a.Release()

	// Window 1: each block is given back as soon as it is full, before the next is indexed.
	q := NewPool(64, 4)
	q.SetWindow(1)
	d := q.NewSeq()
	for i := range 3 {
		if err := d.Reserve(seqOf(4, 4*i)); err != nil {
			t.Fatal(err)
		}
		d.Filled()
	}
	if e, n := q.NewSeqFromCache(seqOf(13, 0)); n != 4 {
		t.Fatalf("blocks filled after their parent was given back were indexed: %d tokens matched, want 4", n)
	} else {
		e.Release()
	}
	d.Release()
}

// growStep adds the next step's tokens to s, which holds n: 1 + (n*7)%step of them, so that a run of steps
// takes every size up to step; it fails the test if the pool takes more blocks than Need said. It returns the
// count added and the blocks s held at the step's peak (reserved, before Filled gives any back).
func growStep(t *testing.T, p *Pool, s *Seq, n, step int) (added, held int) {
	t.Helper()
	k := 1 + (n*7)%step
	before := s.Held()
	need := p.Need(n, n+k, step)
	if err := s.Reserve(seqOf(k, n)); err != nil {
		t.Fatal(err)
	}
	if took := s.Held() - before; took > need {
		t.Fatalf("step %d at %d tokens: took %d blocks, Need said %d", step, n, took, need)
	}
	held = s.Held()
	s.Filled()
	return k, held
}
