package cudabackend

// blockPool hands out fixed-size KV cache blocks by index. The device holds
// the pool; the Go side decides which blocks a sequence owns and passes each
// sequence's block table with every forward call.
type blockPool struct {
	free []int32 // stack of free block ids
}

func newBlockPool(n int) *blockPool {
	p := &blockPool{free: make([]int32, n)}
	for i := range p.free {
		p.free[i] = int32(n - 1 - i) // pop order 0, 1, 2, ...
	}
	return p
}

// alloc takes k blocks, all or none.
func (p *blockPool) alloc(k int) ([]int32, bool) {
	if k < 0 || k > len(p.free) {
		return nil, false
	}
	n := len(p.free) - k
	out := make([]int32, k)
	for i := range out {
		out[i] = p.free[len(p.free)-1-i]
	}
	p.free = p.free[:n]
	return out, true
}

// release returns blocks to the pool.
func (p *blockPool) release(ids []int32) { p.free = append(p.free, ids...) }

// available is the number of free blocks.
func (p *blockPool) available() int { return len(p.free) }

// blocksFor is how many blocks hold tokens tokens.
func blocksFor(tokens, blockTokens int) int { return (tokens + blockTokens - 1) / blockTokens }
