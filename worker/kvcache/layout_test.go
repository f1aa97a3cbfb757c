package kvcache

import (
	"math"
	"slices"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/model"
)

// gemma3Windows is Gemma 3 4B's pattern: 34 layers, every sixth global, the rest windowed.
func gemma3Windows() []int {
	w := make([]int, 34)
	for l := range w {
		if l%6 != 5 {
			w[l] = 1024
		}
	}
	return w
}

func TestLayoutOf(t *testing.T) {
	for _, c := range []struct {
		name    string
		windows []int
		slots   int
		groups  []int
	}{
		{"no window", []int{0, 0, 0, 0}, 4, []int{0}},
		{"every layer windowed", []int{6, 6, 6}, 3, []int{6}},
		{"gemma 2: alternating", []int{6, 0, 6, 0, 6, 0}, 3, []int{0, 6}},
		{"gemma 3 4B: 5 global of 34", gemma3Windows(), 5, []int{0, 1024, 1024, 1024, 1024, 1024, 1024}},
		{"one global of 4", []int{8, 8, 0, 8}, 1, []int{0, 8, 8, 8}},
	} {
		l := LayoutOf(c.windows)
		if l.Slots != c.slots || !slices.Equal(l.Groups, c.groups) {
			t.Errorf("%s: %d slots, groups %v; want %d, %v", c.name, l.Slots, l.Groups, c.slots, c.groups)
			continue
		}
		// Every layer has a place of its window, no two layers share one.
		seen := map[Place]bool{}
		for layer, at := range l.Layer {
			if at.Slot < 0 || at.Slot >= l.Slots || at.Group < 0 || at.Group >= len(l.Groups) || seen[at] {
				t.Errorf("%s: layer %d at %+v", c.name, layer, at)
			}
			seen[at] = true
			if l.Groups[at.Group] != c.windows[layer] {
				t.Errorf("%s: layer %d of window %d in a group of window %d", c.name, layer, c.windows[layer], l.Groups[at.Group])
			}
		}
	}
	// The Gemma 3 4B layout holds far less for a long sequence than keeping every layer's every position.
	l := LayoutOf(gemma3Windows())
	plain := Plain(34, 0)
	mixed, all := uint64(l.SeqBlocks(32768, 512, 16)*l.Slots), uint64(plain.SeqBlocks(32768, 512, 16)*plain.Slots)
	if mixed*4 > all {
		t.Errorf("32768 tokens: %d layer-blocks with window groups, %d keeping everything: want under a quarter", mixed, all)
	}
}

// mixedPool is a pool for 4 layers alternating windowed (window 6) and global, as Gemma 2's, in blocks of 4:
// one group of each.
func mixedPool(blocks int) *Pool {
	return NewPoolFor(LayoutOf([]int{6, 0, 6, 0}), blocks, 4)
}

// In a mixed pool a sequence keeps its global group's every block and gives back its window group's old ones;
// Need bounds every step; the pool counts both kinds.
func TestMixedWindowsKeepGlobalBlocks(t *testing.T) {
	const bt, window = 4, 6
	for _, step := range []int{1, 3, 8} {
		p := mixedPool(400)
		if p.Groups() != 2 {
			t.Fatalf("%d groups, want 2", p.Groups())
		}
		s := p.NewSeq()
		for n := 0; n < 200; {
			k, _ := growStep(t, p, s, n, step)
			n += k
			full := BlocksFor(n, bt)
			win := full - max(0, n-window+1)/bt
			if len(s.GroupBlocks(0)) != full || len(s.GroupBlocks(1)) != full || s.Held() != full+win {
				t.Fatalf("step %d at %d tokens: holds %d (tables %d, %d), want %d global + %d window",
					step, n, s.Held(), len(s.GroupBlocks(0)), len(s.GroupBlocks(1)), full, win)
			}
			if p.FreeBlocks() != p.Blocks()-s.Held() {
				t.Fatalf("%d free of %d with %d held", p.FreeBlocks(), p.Blocks(), s.Held())
			}
		}
		s.Release()
		if p.FreeBlocks() != p.Blocks() {
			t.Errorf("after release: %d of %d free", p.FreeBlocks(), p.Blocks())
		}
	}
	// The longest sequence alone: k global blocks and at most WindowBlocks window ones.
	p := mixedPool(20)
	wb := WindowBlocks(window, 8, bt)
	if got, want := p.MaxSeqTokens(8), (20-wb)*bt; got != want {
		t.Errorf("MaxSeqTokens(8) of 20 blocks = %d, want %d", got, want)
	}
	if got := p.CapacityTokens(); got != 40 {
		t.Errorf("CapacityTokens = %d, want 40 (20 blocks over 2 groups)", got)
	}
	w := NewPoolFor(LayoutOf([]int{6, 4, 6}), 20, bt) // windows only: unbounded once the pool has both windows
	if got := w.MaxSeqTokens(8); got != math.MaxInt {
		t.Errorf("two window groups: MaxSeqTokens = %d, want unbounded", got)
	}
}

// A prompt that starts with a sequence's tokens reuses its global blocks and the window blocks its next query
// reads, even when the prefix is longer than the window; a prompt differing in its first block reuses nothing;
// once the window blocks are evicted the prefix stops where they are missing.
func TestMixedWindowsReusePrefixes(t *testing.T) {
	p := mixedPool(64)
	a := p.NewSeq()
	if err := a.Reserve(seqOf(40, 0)); err != nil {
		t.Fatal(err)
	}
	a.Filled()
	a.Release()
	b, n := p.NewSeqFromCache(seqOf(41, 0))
	if n != 40 {
		t.Fatalf("cached prefix %d tokens, want 40", n)
	}
	// The next query (40) reads positions 35..39 of the window group: block 8 (32..35) and 9 (36..39).
	dead := max(0, 40-6+1) / 4
	if len(b.GroupBlocks(1)) != 10 || b.Held() != 10+10-dead {
		t.Fatalf("holds %d blocks (window table %d), want 10 global + %d window", b.Held(), len(b.GroupBlocks(1)), 10-dead)
	}
	if err := b.Reserve([]int{40}); err != nil {
		t.Fatal(err)
	}
	b.Filled()
	b.Release()

	if c, n := p.NewSeqFromCache(append([]int{99, 98, 97, 96}, seqOf(37, 4)...)); n != 0 {
		t.Fatalf("a different first block matched %d tokens", n)
	} else {
		c.Release()
	}

	// Without the window group's last block the prefix ends one block earlier, where that group has the blocks
	// its next query reads (window blocks given back stay cached, so 7 and 8 are still there).
	q := mixedPool(64)
	s := q.NewSeq()
	if err := s.Reserve(seqOf(40, 0)); err != nil {
		t.Fatal(err)
	}
	s.Filled()
	last := s.GroupBlocks(1)[9]
	s.Release()
	q.mu.Lock()
	q.cached.Remove(q.meta[last].lru) // as takeLocked evicts it
	q.meta[last].lru = nil
	q.forgetLocked(last)
	q.free = append(q.free, last)
	q.mu.Unlock()
	m, n := q.NewSeqFromCache(seqOf(41, 0))
	if n != 36 {
		t.Fatalf("window block 9 evicted: cached prefix %d tokens, want 36", n)
	}
	for g := range q.Groups() {
		for b := m.dropped[g]; b < len(m.GroupBlocks(g)); b++ {
			if id := m.GroupBlocks(g)[b]; q.meta[id].group != g || !slices.Equal(q.meta[id].tokens, seqOf(4, 4*b)) {
				t.Fatalf("group %d block %d holds %v", g, b, q.meta[id].tokens)
			}
		}
	}
	m.Release()
	if q.FreeBlocks() != q.Blocks() {
		t.Errorf("after release: %d of %d free", q.FreeBlocks(), q.Blocks())
	}
}

// A query reads every earlier position of a global layer and a window of a windowed one.
func TestReadBytes(t *testing.T) {
	h := model.Hyper{Blocks: 4, HeadsKV: 2, HeadDim: 32, SlidingWindow: 8, SWALayers: []bool{true, false, true, false}}
	row := F16.RowBytes(h) // 2 heads x 32 x 2 bytes
	if row != 128 {
		t.Fatalf("row %d bytes", row)
	}
	for _, c := range []struct{ pos, positions int }{
		{0, 4},            // its own position in each layer
		{5, 4 * 6},        // within the window everywhere
		{99, 2*100 + 2*8}, // global layers read 100, window layers 8
		{7, 4 * 8},        // exactly the window
		{8, 2*9 + 2*8},    // one past it
	} {
		if got, want := ReadBytes(h, F16, c.pos), uint64(2*c.positions)*row; got != want {
			t.Errorf("ReadBytes at %d = %d, want %d (%d positions' keys and values)", c.pos, got, want, c.positions)
		}
	}
	h.SlidingWindow = 0
	if got, want := ReadBytes(h, F32, 9), uint64(10*4)*BytesPerToken(h, F32)/4; got != want {
		t.Errorf("no window: %d, want %d", got, want)
	}
}
