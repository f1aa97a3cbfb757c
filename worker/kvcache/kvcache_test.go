package kvcache

import (
	"errors"
	"slices"
	"testing"
)

func TestPoolGrowsAllOrNone(t *testing.T) {
	p := NewPool(160, 16)
	if p.Blocks() != 10 || p.CapacityTokens() != 160 || p.FreeBlocks() != 10 {
		t.Fatalf("pool of 160 tokens: %d blocks, %d tokens, %d free", p.Blocks(), p.CapacityTokens(), p.FreeBlocks())
	}
	a, err := p.Grow(nil, 50) // 4 blocks
	if err != nil || !slices.Equal(a, []int32{0, 1, 2, 3}) {
		t.Fatalf("Grow(nil, 50) = %v, %v", a, err)
	}
	if a, err = p.Grow(a, 64); err != nil || len(a) != 4 {
		t.Fatalf("growing within the last block took blocks: %v, %v", a, err)
	}
	b, err := p.Grow(nil, 16*7)
	if !errors.Is(err, ErrFull) || b != nil || p.FreeBlocks() != 6 {
		t.Fatalf("Grow of 7 blocks with 6 free: %v, %v, %d free", b, err, p.FreeBlocks())
	}
	if b, err = p.Grow(nil, 16*6); err != nil || p.FreeBlocks() != 0 || p.UsedTokens() != 160 {
		t.Fatalf("taking all: %v, %d free", err, p.FreeBlocks())
	}
	p.Release(a)
	c, err := p.Grow(nil, 64)
	if err != nil {
		t.Fatal("released blocks are not reusable")
	}
	seen := map[int32]bool{}
	for _, id := range append(b, c...) {
		if seen[id] || id < 0 || id >= 10 {
			t.Fatalf("block %d handed out twice or out of range", id)
		}
		seen[id] = true
	}
	if p.Need(15, 16) != 0 || p.Need(16, 17) != 1 || p.Need(0, 1) != 1 || p.Need(0, 33) != 3 {
		t.Error("Need counts blocks wrongly")
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
