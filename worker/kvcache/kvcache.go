// Package kvcache owns the KV cache's capacity: how many tokens it holds, in
// blocks of how many tokens, what a token costs in bytes, and which blocks each
// sequence holds. Every part of the worker that reasons about KV space asks it:
// the engines store keys and values in the blocks a Pool hands out, the
// scheduler admits and preempts by what the Pool has free, and the memory plan
// (and through it `inspect` and the operator's fit check) sizes the pool with
// the same functions.
//
// Blocks are taken as a sequence grows, not reserved for its worst case, so a
// pool serves as many sequences as their actual lengths allow.
package kvcache

import (
	"errors"
	"fmt"
	"sync"

	"github.com/kubeinfer/kubeinfer/worker/model"
)

// DefaultBlockTokens is the block size when none is configured.
const DefaultBlockTokens = 16

// maxDefaultTokens bounds the pool when no context length was asked for, so that
// a model with a long context does not claim its whole context's worth of KV
// memory per worker by default.
const maxDefaultTokens = 32768

// ErrFull means the pool has too few free blocks for the tokens asked for.
// The scheduler never lets a step get there; an engine returns it (wrapped)
// rather than overcommit.
var ErrFull = errors.New("KV cache is full")

// Tokens is the pool size, in tokens, of a worker that serves concurrency
// sequences of at most maxContext tokens each (serve's --max-context and
// --max-concurrent; the InferenceWorker's serving fields): maxContext ×
// concurrency when maxContext is set, else the model's context, at most 32768.
func Tokens(contextLength, maxContext, concurrency int) int {
	if maxContext > 0 {
		return maxContext * max(concurrency, 1)
	}
	return min(contextLength, maxDefaultTokens)
}

// BlocksFor is how many blocks of blockTokens hold tokens tokens.
func BlocksFor(tokens, blockTokens int) int {
	if tokens <= 0 {
		return 0
	}
	return (tokens + blockTokens - 1) / blockTokens
}

// BytesPerToken is the KV cost of one token over all layers: a key and a value
// of HeadsKV × HeadDim float32s per layer.
func BytesPerToken(h model.Hyper) uint64 {
	return 2 * uint64(h.Blocks) * uint64(h.HeadsKV*h.HeadDim) * 4
}

// Pool is a fixed set of blocks shared by every sequence of one engine. It is
// safe for concurrent use: the scheduler's goroutine takes and frees blocks,
// metrics read the counts.
type Pool struct {
	blockTokens, blocks int

	mu   sync.Mutex
	free []int32 // stack of free block ids
}

// NewPool returns a pool of BlocksFor(tokens, blockTokens) blocks; blockTokens
// <= 0 means DefaultBlockTokens.
func NewPool(tokens, blockTokens int) *Pool {
	if blockTokens <= 0 {
		blockTokens = DefaultBlockTokens
	}
	n := BlocksFor(tokens, blockTokens)
	p := &Pool{blockTokens: blockTokens, blocks: n, free: make([]int32, n)}
	for i := range p.free {
		p.free[i] = int32(n - 1 - i) // pop order 0, 1, 2, ...
	}
	return p
}

// BlockTokens is the tokens one block holds.
func (p *Pool) BlockTokens() int { return p.blockTokens }

// Blocks is the number of blocks in the pool.
func (p *Pool) Blocks() int { return p.blocks }

// CapacityTokens is the most tokens the pool holds, over all sequences.
func (p *Pool) CapacityTokens() int { return p.blocks * p.blockTokens }

// FreeBlocks is the number of blocks no sequence holds.
func (p *Pool) FreeBlocks() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}

// UsedTokens is the token capacity of the blocks sequences hold.
func (p *Pool) UsedTokens() int { return (p.blocks - p.FreeBlocks()) * p.blockTokens }

// Need is how many more blocks a sequence holding from tokens needs to hold to tokens.
func (p *Pool) Need(from, to int) int {
	return max(BlocksFor(to, p.blockTokens)-BlocksFor(from, p.blockTokens), 0)
}

// Grow returns held extended by the blocks that tokens tokens need beyond
// them, all or none: when too few are free it returns held unchanged and an
// error wrapping ErrFull.
func (p *Pool) Grow(held []int32, tokens int) ([]int32, error) {
	err := p.GrowAll([]*[]int32{&held}, []int{tokens})
	return held, err
}

// GrowAll extends each *held[i] to hold tokens[i] tokens, all or none: one
// step of several sequences either gets every block it needs or changes nothing.
func (p *Pool) GrowAll(held []*[]int32, tokens []int) error {
	need := 0
	for i, h := range held {
		need += max(BlocksFor(tokens[i], p.blockTokens)-len(*h), 0)
	}
	if need == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if need > len(p.free) {
		return fmt.Errorf("%w: %d more blocks of %d tokens needed, %d of %d are free",
			ErrFull, need, p.blockTokens, len(p.free), p.blocks)
	}
	for i, h := range held {
		for range BlocksFor(tokens[i], p.blockTokens) - len(*h) {
			*h = append(*h, p.free[len(p.free)-1])
			p.free = p.free[:len(p.free)-1]
		}
	}
	return nil
}

// Release returns blocks to the pool.
func (p *Pool) Release(blocks []int32) {
	p.mu.Lock()
	p.free = append(p.free, blocks...)
	p.mu.Unlock()
}
