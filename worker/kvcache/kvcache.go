// Package kvcache owns the KV cache's capacity: how many tokens it holds, in
// blocks of how many tokens, what a token costs in bytes, and which blocks each
// sequence holds. Every part of the worker that reasons about KV space asks it:
// the engines store keys and values in the blocks a Pool hands out, the
// scheduler admits and preempts by what the Pool has free, and the memory plan
// (and through it `inspect` and the operator's fit check) sizes the pool with
// the same functions.
//
// Blocks are taken as a sequence grows, not reserved for its worst case, so a
// pool serves as many sequences as their actual lengths allow. Full blocks are
// remembered by their tokens (and every token before them): a new sequence
// whose prompt starts with tokens the pool has seen takes those blocks as they
// are (prefix reuse: a system prompt, a conversation's history) and computes
// only the rest. Blocks no sequence holds stay cached until the pool needs
// them, least recently used first.
//
// When every layer of the model attends only to a sliding window of the latest
// positions (SetWindow), a sequence gives back the blocks wholly older than its
// window as soon as no later query can read them, so a sequence holds at most
// about a window's worth of blocks however long it grows.
package kvcache

import (
	"container/list"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"sync"
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

// DefaultStepTokens is the most tokens one step adds to a sequence unless
// configured otherwise: the scheduler's default prefill chunk (serve's
// --prefill-chunk; the scheduler says why 512).
const DefaultStepTokens = 512

// Tokens is the pool size, in tokens, of a worker that serves concurrency
// sequences of at most maxContext tokens each (serve's --max-context and
// --max-concurrent; the InferenceWorker's serving fields): maxContext ×
// concurrency when maxContext is set, else the model's context, at most 32768.
// seqTokens, when positive, is the most one sequence holds however long it
// grows (SeqTokens: a windowed model's).
func Tokens(contextLength, maxContext, concurrency, seqTokens int) int {
	perSeq := func(n int) int {
		if seqTokens > 0 {
			return min(n, seqTokens)
		}
		return n
	}
	if maxContext > 0 {
		return perSeq(maxContext) * max(concurrency, 1)
	}
	return perSeq(min(contextLength, maxDefaultTokens))
}

// SeqTokens is the most tokens' worth of blocks one sequence holds when every
// layer reads only the last window positions and each step adds at most step
// tokens (WindowBlocks), 0 without a window (a sequence holds all it has).
func SeqTokens(window, step, blockTokens int) int {
	if window <= 0 {
		return 0
	}
	return WindowBlocks(window, max(step, 1), blockTokens) * blockTokens
}

// BlocksFor is how many blocks of blockTokens hold tokens tokens.
func BlocksFor(tokens, blockTokens int) int {
	if tokens <= 0 {
		return 0
	}
	return (tokens + blockTokens - 1) / blockTokens
}

// Pool is a fixed set of blocks shared by every sequence of one engine. It is
// safe for concurrent use: the scheduler's goroutine takes and frees blocks,
// metrics read the counts.
type Pool struct {
	blockTokens, blocks int
	window              int // SetWindow: positions every layer reads back from a query, 0 for all
	seed                maphash.Seed

	mu     sync.Mutex
	free   []int32            // blocks with nothing in them, a stack
	meta   []blockMeta        // by block id
	cached *list.List         // blocks no sequence holds that keep their tokens, least recently used first
	index  map[uint64][]int32 // full blocks by the hash of their tokens and their parent's
	stats  Stats
}

// blockMeta is what the pool knows of one block.
type blockMeta struct {
	refs   int           // sequences holding it
	full   bool          // its tokens are known and indexed
	parent int32         // the block before it in its sequence, -1 for the first
	phash  uint64        // the parent's hash when this block was indexed
	hash   uint64        // of tokens and the parent's hash
	tokens []int         // the block's token ids, when full
	lru    *list.Element // its place in cached while refs == 0
}

// Stats counts prefix reuse: the prompt tokens looked up in the cache and those found.
type Stats struct {
	QueriedTokens, HitTokens uint64
}

// NewPool returns a pool of BlocksFor(tokens, blockTokens) blocks; blockTokens
// <= 0 means DefaultBlockTokens.
func NewPool(tokens, blockTokens int) *Pool {
	if blockTokens <= 0 {
		blockTokens = DefaultBlockTokens
	}
	n := BlocksFor(tokens, blockTokens)
	p := &Pool{blockTokens: blockTokens, blocks: n, seed: maphash.MakeSeed(), free: make([]int32, n),
		meta: make([]blockMeta, n), cached: list.New(), index: map[uint64][]int32{}}
	for i := range p.free {
		p.free[i] = int32(n - 1 - i) // pop order 0, 1, 2, ...
	}
	return p
}

// SetWindow tells the pool that every layer reads only the last window
// positions up to each query (model.Hyper.KVWindow; 0: all of them), before
// any sequence is made: a sequence then gives back the blocks its next query
// can no longer read.
func (p *Pool) SetWindow(window int) { p.window = max(window, 0) }

// dead is how many leading blocks of a sequence no query at position n or
// later reads: those wholly before n - window + 1. 0 without a window.
func (p *Pool) dead(n int) int {
	if p.window <= 0 {
		return 0
	}
	return max(0, n-p.window+1) / p.blockTokens
}

// held is how many blocks a sequence of n filled tokens holds.
func (p *Pool) held(n int) int { return BlocksFor(n, p.blockTokens) - p.dead(n) }

// WindowBlocks is the most blocks one sequence holds at once with a window of
// window positions, when each step adds at most step tokens: the step's
// blocks and the window's before its first query, each possibly split over one
// more block at either end.
func WindowBlocks(window, step, blockTokens int) int {
	return (step + window + 2*blockTokens - 3) / blockTokens
}

// MaxSeqTokens is the longest sequence the pool can hold alone when each step
// adds at most step tokens: its capacity, or without bound (math.MaxInt) when a
// window keeps every sequence within a window's blocks and the pool has them.
func (p *Pool) MaxSeqTokens(step int) int {
	if p.window > 0 && WindowBlocks(p.window, max(step, 1), p.blockTokens) <= p.blocks {
		return math.MaxInt
	}
	return p.CapacityTokens()
}

// BlockTokens is the tokens one block holds.
func (p *Pool) BlockTokens() int { return p.blockTokens }

// Blocks is the number of blocks in the pool.
func (p *Pool) Blocks() int { return p.blocks }

// CapacityTokens is the most tokens the pool holds, over all sequences.
func (p *Pool) CapacityTokens() int { return p.blocks * p.blockTokens }

// FreeBlocks is the number of blocks a sequence may take: empty ones and cached
// ones no sequence holds (taking one forgets its tokens).
func (p *Pool) FreeBlocks() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free) + p.cached.Len()
}

// UsedTokens is the token capacity of the blocks sequences hold.
func (p *Pool) UsedTokens() int { return (p.blocks - p.FreeBlocks()) * p.blockTokens }

// Stats returns the prefix reuse counts so far.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Need is how many more blocks than it holds a sequence of from filled
// tokens takes, at most, on its way to to tokens in steps of at most step
// tokens each (a decode step: 1; a prefill: the scheduler's chunk). With a
// window the blocks that fall out of it are given back along the way, so a
// long prompt needs at most WindowBlocks, not its whole length.
func (p *Pool) Need(from, to, step int) int {
	peak := BlocksFor(to, p.blockTokens) - p.dead(from)
	if p.window > 0 {
		peak = min(peak, WindowBlocks(p.window, max(step, 1), p.blockTokens))
	}
	return max(peak-p.held(from), 0)
}

// Seq is one sequence's claim on the pool: its blocks in position order and
// its tokens. Engines keep one per sequence and store position i's keys and
// values in block Blocks()[i/BlockTokens()]. A Seq is used by one goroutine at
// a time (the engine's), while the pool is shared.
type Seq struct {
	pool    *Pool
	blocks  []int32
	tokens  []int
	filled  int // tokens whose keys and values the engine has written (Filled)
	dropped int // leading blocks given back (out of the window); their entries in blocks are stale
}

// NewSeq returns an empty sequence.
func (p *Pool) NewSeq() *Seq { return &Seq{pool: p} }

// Len is the tokens the sequence holds.
func (s *Seq) Len() int { return len(s.tokens) }

// Blocks are the sequence's blocks, in position order (do not modify). With a
// window, the leading ones no query reads any more (Held does not count them)
// have been given back and may hold another sequence's keys by now.
func (s *Seq) Blocks() []int32 { return s.blocks }

// Held is how many blocks the sequence holds.
func (s *Seq) Held() int { return len(s.blocks) - s.dropped }

// NewSeqFromCache returns a sequence holding the longest cached prefix of
// prompt made of whole blocks, leaving at least one token of the prompt to
// compute (its logits are what the caller wants), and how many tokens that is.
func (p *Pool) NewSeqFromCache(prompt []int) (*Seq, int) {
	s := &Seq{pool: p}
	p.mu.Lock()
	defer p.mu.Unlock()
	parent := int32(-1)
	bt := p.blockTokens
	for b := 0; (b+1)*bt <= len(prompt)-1; b++ {
		toks := prompt[b*bt : (b+1)*bt]
		id, ok := p.lookupLocked(parent, toks)
		if !ok {
			break
		}
		p.acquireLocked(id)
		s.blocks = append(s.blocks, id)
		parent = id
	}
	n := len(s.blocks) * bt
	s.tokens = append(s.tokens, prompt[:n]...)
	s.filled = n
	s.dropLocked()
	p.stats.QueriedTokens += uint64(len(prompt))
	p.stats.HitTokens += uint64(n)
	return s, n
}

// Reserve appends tokens to each sequence, taking the blocks they need, all or
// none: one step of several sequences either gets every block it needs or
// changes nothing and returns an error wrapping ErrFull. The engine then
// writes the tokens' keys and values and calls Filled.
func Reserve(seqs []*Seq, tokens [][]int) error {
	if len(seqs) == 0 {
		return nil
	}
	p := seqs[0].pool
	need := 0
	for i, s := range seqs {
		need += max(BlocksFor(len(s.tokens)+len(tokens[i]), p.blockTokens)-len(s.blocks), 0)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if need > len(p.free)+p.cached.Len() {
		return fmt.Errorf("%w: %d more blocks of %d tokens needed, %d of %d are free",
			ErrFull, need, p.blockTokens, len(p.free)+p.cached.Len(), p.blocks)
	}
	for i, s := range seqs {
		for range BlocksFor(len(s.tokens)+len(tokens[i]), p.blockTokens) - len(s.blocks) {
			s.blocks = append(s.blocks, p.takeLocked())
		}
		s.tokens = append(s.tokens, tokens[i]...)
	}
	return nil
}

// Reserve is Reserve for one sequence.
func (s *Seq) Reserve(tokens []int) error { return Reserve([]*Seq{s}, [][]int{tokens}) }

// Unreserve drops the tokens after the first n that were reserved but not
// filled (the engine's step failed), and the blocks only they needed.
func (s *Seq) Unreserve(n int) {
	n = max(n, s.filled)
	if n >= len(s.tokens) {
		return
	}
	p := s.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	keep := max(BlocksFor(n, p.blockTokens), s.dropped)
	for _, id := range s.blocks[keep:] {
		p.releaseLocked(id)
	}
	s.blocks = s.blocks[:keep]
	s.tokens = s.tokens[:n]
}

// Filled tells the pool that the engine has written the keys and values of
// every reserved token: the blocks that are now full become reusable by
// prompts that start with the same tokens, and with a window, the blocks the
// next query can no longer read are given back.
func (s *Seq) Filled() {
	p := s.pool
	bt := p.blockTokens
	p.mu.Lock()
	defer p.mu.Unlock()
	for b := s.filled / bt; (b+1)*bt <= len(s.tokens); b++ {
		parent := int32(-1)
		if b > 0 {
			if b-1 < s.dropped {
				// Given back, the parent may hold other tokens by now: indexed under it, this block
				// could be found after a prefix it was not computed from.
				break
			}
			parent = s.blocks[b-1]
		}
		p.indexLocked(s.blocks[b], parent, s.tokens[b*bt:(b+1)*bt])
	}
	s.filled = len(s.tokens)
	s.dropLocked()
}

// dropLocked gives back the leading blocks no query after the filled tokens
// reads. They stay cached by their tokens, like a finished sequence's.
func (s *Seq) dropLocked() {
	for ; s.dropped < s.pool.dead(s.filled); s.dropped++ {
		s.pool.releaseLocked(s.blocks[s.dropped])
	}
}

// Release gives the sequence's blocks back; full ones stay cached for reuse
// until the pool needs them.
func (s *Seq) Release() {
	p := s.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range s.blocks[s.dropped:] {
		p.releaseLocked(id)
	}
	s.blocks, s.tokens, s.filled, s.dropped = nil, nil, 0, 0
}

func (p *Pool) hash(parent int32, tokens []int) uint64 {
	var h maphash.Hash
	h.SetSeed(p.seed)
	var b [8]byte
	put := func(v uint64) {
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		h.Write(b[:])
	}
	put(uint64(uint32(parent)))
	if parent >= 0 {
		put(p.meta[parent].hash)
	}
	for _, t := range tokens {
		put(uint64(t))
	}
	return h.Sum64()
}

// lookupLocked finds the full block holding tokens after parent; the tokens are
// compared, so a hash collision can only cost a miss.
func (p *Pool) lookupLocked(parent int32, tokens []int) (int32, bool) {
	for _, id := range p.index[p.hash(parent, tokens)] {
		m := &p.meta[id]
		// The parent's hash too: a parent taken for other tokens since must not match.
		if m.full && m.parent == parent && (parent < 0 || p.meta[parent].full && m.phash == p.meta[parent].hash) &&
			slices.Equal(m.tokens, tokens) {
			return id, true
		}
	}
	return 0, false
}

func (p *Pool) indexLocked(id, parent int32, tokens []int) {
	if _, ok := p.lookupLocked(parent, tokens); ok {
		return // another sequence computed the same block first; this copy stays private
	}
	m := &p.meta[id]
	m.full, m.parent, m.tokens = true, parent, slices.Clone(tokens)
	if parent >= 0 {
		m.phash = p.meta[parent].hash
	}
	m.hash = p.hash(parent, tokens)
	p.index[m.hash] = append(p.index[m.hash], id)
}

func (p *Pool) acquireLocked(id int32) {
	m := &p.meta[id]
	if m.refs == 0 && m.lru != nil {
		p.cached.Remove(m.lru)
		m.lru = nil
	}
	m.refs++
}

func (p *Pool) releaseLocked(id int32) {
	m := &p.meta[id]
	if m.refs--; m.refs > 0 {
		return
	}
	if m.full {
		m.lru = p.cached.PushBack(id)
		return
	}
	p.free = append(p.free, id)
}

// takeLocked hands out a block: an empty one, else the least recently used
// cached one, whose tokens are forgotten (blocks cached after it can no longer
// be reached and age out in turn).
func (p *Pool) takeLocked() int32 {
	var id int32
	if n := len(p.free); n > 0 {
		id = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		e := p.cached.Front()
		id = p.cached.Remove(e).(int32)
		p.meta[id].lru = nil
		p.forgetLocked(id)
	}
	p.meta[id].refs = 1
	return id
}

func (p *Pool) forgetLocked(id int32) {
	m := &p.meta[id]
	ids := p.index[m.hash]
	if i := slices.Index(ids, id); i >= 0 {
		ids = slices.Delete(ids, i, i+1)
	}
	if len(ids) == 0 {
		delete(p.index, m.hash)
	} else {
		p.index[m.hash] = ids
	}
	m.full, m.tokens, m.parent = false, nil, -1
}
