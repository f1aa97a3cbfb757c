package cudabackend

import (
	"slices"
	"testing"
)

func TestBlockPool(t *testing.T) {
	p := newBlockPool(10)
	a, ok := p.alloc(4)
	if !ok || !slices.Equal(a, []int32{0, 1, 2, 3}) {
		t.Fatalf("alloc(4) = %v, %v", a, ok)
	}
	if _, ok := p.alloc(7); ok {
		t.Fatal("alloc(7) with 6 free succeeded")
	}
	if p.available() != 6 {
		t.Fatalf("a failed alloc changed the pool: %d free", p.available())
	}
	b, _ := p.alloc(6)
	if p.available() != 0 {
		t.Fatalf("%d free after taking all", p.available())
	}
	p.release(a)
	c, ok := p.alloc(4)
	if !ok {
		t.Fatal("released blocks are not reusable")
	}
	seen := map[int32]bool{}
	for _, id := range append(b, c...) {
		if seen[id] || id < 0 || id >= 10 {
			t.Fatalf("block %d handed out twice or out of range", id)
		}
		seen[id] = true
	}
	if e, ok := p.alloc(0); !ok || len(e) != 0 {
		t.Fatal("alloc(0) should succeed with no blocks")
	}
}

func TestBlocksFor(t *testing.T) {
	for _, tc := range []struct{ tokens, bt, want int }{{1, 16, 1}, {16, 16, 1}, {17, 16, 2}, {0, 16, 0}, {131072, 16, 8192}} {
		if got := blocksFor(tc.tokens, tc.bt); got != tc.want {
			t.Errorf("blocksFor(%d, %d) = %d, want %d", tc.tokens, tc.bt, got, tc.want)
		}
	}
}
