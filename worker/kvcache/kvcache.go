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
// Layers that attend only to a sliding window of the latest positions keep
// their keys and values in blocks of their own (Layout): a sequence gives back
// those wholly older than the window as soon as no later query can read them,
// so it holds at most about a window's worth of them however long it grows,
// while the blocks of layers that read every position are kept.
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
	groups              []int // each layer group's window (Layout.Groups): positions it reads back from a query, 0 for all
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
	group  int           // the layer group it holds keys and values of, when full
	parent int32         // group 0: the block before it in its sequence, -1 for the first; other groups: group 0's block of the same positions
	phash  uint64        // the parent's hash when this block was indexed
	hash   uint64        // of tokens and the parent's hash
	tokens []int         // the block's token ids, when full
	lru    *list.Element // its place in cached while refs == 0
}

// Stats counts prefix reuse: the prompt tokens looked up in the cache and those found.
type Stats struct {
	QueriedTokens, HitTokens uint64
}

// NewPool returns a pool of BlocksFor(tokens, blockTokens) blocks of one
// group of layers that read every position; blockTokens <= 0 means
// DefaultBlockTokens.
func NewPool(tokens, blockTokens int) *Pool {
	if blockTokens <= 0 {
		blockTokens = DefaultBlockTokens
	}
	return NewPoolFor(Layout{Groups: []int{0}}, BlocksFor(tokens, blockTokens), blockTokens)
}

// NewPoolFor returns a pool of blocks blocks of blockTokens positions (<= 0:
// DefaultBlockTokens) for the groups of l: each sequence keeps a block table
// per group.
func NewPoolFor(l Layout, blocks, blockTokens int) *Pool {
	if blockTokens <= 0 {
		blockTokens = DefaultBlockTokens
	}
	groups := slices.Clone(l.Groups)
	if len(groups) == 0 {
		groups = []int{0}
	}
	p := &Pool{blockTokens: blockTokens, blocks: blocks, groups: groups, seed: maphash.MakeSeed(), free: make([]int32, blocks),
		meta: make([]blockMeta, blocks), cached: list.New(), index: map[uint64][]int32{}}
	for i := range p.free {
		p.free[i] = int32(blocks - 1 - i) // pop order 0, 1, 2, ...
	}
	return p
}

// SetWindow tells a pool of one group that every layer reads only the last
// window positions up to each query (0: all of them), before any sequence is
// made: a sequence then gives back the blocks its next query can no longer
// read.
func (p *Pool) SetWindow(window int) {
	if len(p.groups) != 1 {
		panic("kvcache: SetWindow on a pool of several layer groups")
	}
	p.groups[0] = max(window, 0)
}

// Groups is how many block tables each sequence keeps.
func (p *Pool) Groups() int { return len(p.groups) }

// dead is how many leading blocks of group g of a sequence no query at
// position n or later reads: those wholly before n - window + 1. 0 without a
// window.
func (p *Pool) dead(g, n int) int {
	w := p.groups[g]
	if w <= 0 {
		return 0
	}
	return max(0, n-w+1) / p.blockTokens
}

// held is how many blocks of group g a sequence of n filled tokens holds.
func (p *Pool) held(g, n int) int { return BlocksFor(n, p.blockTokens) - p.dead(g, n) }

// WindowBlocks is the most blocks one sequence holds at once with a window of
// window positions, when each step adds at most step tokens: the step's
// blocks and the window's before its first query, each possibly split over one
// more block at either end.
func WindowBlocks(window, step, blockTokens int) int {
	return (step + window + 2*blockTokens - 3) / blockTokens
}

// MaxSeqTokens is the longest sequence the pool can hold alone when each step
// adds at most step tokens: as many positions as its blocks hold in every
// group, a window group at most a window's blocks; without bound
// (math.MaxInt) when every group is windowed and the pool has their windows.
func (p *Pool) MaxSeqTokens(step int) int {
	l := Layout{Groups: p.groups}
	bt := p.blockTokens
	// The most blocks of positions k with SeqBlocks(k) within the pool (SeqBlocks grows with k, by at most
	// one block a group).
	lo, hi := 0, p.blocks
	for lo < hi {
		k := (lo + hi + 1) / 2
		if l.SeqBlocks(k*bt, step, bt) <= p.blocks {
			lo = k
		} else {
			hi = k - 1
		}
	}
	if lo == p.blocks && !slices.Contains(p.groups, 0) && l.SeqBlocks((p.blocks+1)*bt, step, bt) <= p.blocks {
		return math.MaxInt
	}
	return lo * bt
}

// BlockTokens is the tokens one block holds.
func (p *Pool) BlockTokens() int { return p.blockTokens }

// Blocks is the number of blocks in the pool.
func (p *Pool) Blocks() int { return p.blocks }

// CapacityTokens is the most tokens the pool holds, over all sequences, in
// every group: its blocks' positions shared among the groups.
func (p *Pool) CapacityTokens() int { return p.blocks / len(p.groups) * p.blockTokens }

// FreeBlocks is the number of blocks a sequence may take: empty ones and cached
// ones no sequence holds (taking one forgets its tokens).
func (p *Pool) FreeBlocks() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free) + p.cached.Len()
}

// UsedTokens is the token capacity of the blocks sequences hold, counted as
// CapacityTokens counts.
func (p *Pool) UsedTokens() int { return (p.blocks - p.FreeBlocks()) * p.blockTokens / len(p.groups) }

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
	n := 0
	for g, w := range p.groups {
		peak := BlocksFor(to, p.blockTokens) - p.dead(g, from)
		if w > 0 {
			peak = min(peak, WindowBlocks(w, max(step, 1), p.blockTokens))
		}
		n += max(peak-p.held(g, from), 0)
	}
	return n
}

// Seq is one sequence's claim on the pool: per layer group, its blocks in
// position order; and its tokens. Engines keep one per sequence and store
// position i's keys and values of a layer of group g in block
// GroupBlocks(g)[i/BlockTokens()]. A Seq is used by one goroutine at a time
// (the engine's), while the pool is shared.
type Seq struct {
	pool    *Pool
	blocks  [][]int32 // by group; every group has as many entries
	tokens  []int
	filled  int   // tokens whose keys and values the engine has written (Filled)
	dropped []int // by group: leading blocks given back (out of the window); their entries in blocks are stale
}

// NewSeq returns an empty sequence.
func (p *Pool) NewSeq() *Seq {
	return &Seq{pool: p, blocks: make([][]int32, len(p.groups)), dropped: make([]int, len(p.groups))}
}

// Len is the tokens the sequence holds.
func (s *Seq) Len() int { return len(s.tokens) }

// Blocks are the blocks of the sequence's first layer group (its only one
// unless the model mixes windows), in position order: GroupBlocks(0).
func (s *Seq) Blocks() []int32 { return s.blocks[0] }

// GroupBlocks are the sequence's blocks of layer group g, in position order
// (do not modify). With a window, the leading ones no query reads any more
// (Held does not count them) have been given back and may hold another
// sequence's keys by now.
func (s *Seq) GroupBlocks(g int) []int32 { return s.blocks[g] }

// Held is how many blocks the sequence holds, over its groups.
func (s *Seq) Held() int {
	n := 0
	for g := range s.blocks {
		n += len(s.blocks[g]) - s.dropped[g]
	}
	return n
}

// NewSeqFromCache returns a sequence holding the longest cached prefix of
// prompt made of whole blocks, leaving at least one token of the prompt to
// compute (its logits are what the caller wants), and how many tokens that is.
//
// Group 0's blocks are found by their tokens and their parent's; another
// group's by their tokens and group 0's block of the same positions. A prefix
// counts when every group has the blocks its next query reads: all of them,
// or a window group's last window.
func (p *Pool) NewSeqFromCache(prompt []int) (*Seq, int) {
	s := p.NewSeq()
	p.mu.Lock()
	defer p.mu.Unlock()
	bt := p.blockTokens
	var chain []int32
	parent := int32(-1)
	for b := 0; (b+1)*bt <= len(prompt)-1; b++ {
		id, ok := p.lookupLocked(0, parent, prompt[b*bt:(b+1)*bt])
		if !ok {
			break
		}
		chain = append(chain, id)
		parent = id
	}
	// found[g][b]: group g's block of positions b, for the longest prefix every group has.
	found := make([][]int32, len(p.groups))
	k := len(chain)
	for ; k > 0; k-- {
		ok := true
		for g := 1; g < len(p.groups) && ok; g++ {
			found[g] = make([]int32, k)
			for b := p.dead(g, k*bt); b < k && ok; b++ {
				found[g][b], ok = p.lookupLocked(g, chain[b], prompt[b*bt:(b+1)*bt])
			}
		}
		if ok {
			break
		}
	}
	found[0] = chain[:k]
	n := k * bt
	for g := range p.groups {
		// Blocks no query from n on reads are not taken: their entries stay 0, never read.
		s.dropped[g] = p.dead(g, n)
		s.blocks[g] = make([]int32, k)
		for b := s.dropped[g]; b < k; b++ {
			p.acquireLocked(found[g][b])
			s.blocks[g][b] = found[g][b]
		}
	}
	s.tokens = append(s.tokens, prompt[:n]...)
	s.filled = n
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
		for g := range s.blocks {
			need += max(BlocksFor(len(s.tokens)+len(tokens[i]), p.blockTokens)-len(s.blocks[g]), 0)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if need > len(p.free)+p.cached.Len() {
		return fmt.Errorf("%w: %d more blocks of %d tokens needed, %d of %d are free",
			ErrFull, need, p.blockTokens, len(p.free)+p.cached.Len(), p.blocks)
	}
	for i, s := range seqs {
		for g := range s.blocks {
			for range BlocksFor(len(s.tokens)+len(tokens[i]), p.blockTokens) - len(s.blocks[g]) {
				s.blocks[g] = append(s.blocks[g], p.takeLocked())
			}
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
	for g := range s.blocks {
		keep := max(BlocksFor(n, p.blockTokens), s.dropped[g])
		for _, id := range s.blocks[g][keep:] {
			p.releaseLocked(id)
		}
		s.blocks[g] = s.blocks[g][:keep]
	}
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
		if b > 0 && b-1 < s.dropped[0] {
			// Given back, the parent may hold other tokens by now: indexed under it, this block
			// could be found after a prefix it was not computed from.
			break
		}
		parent := int32(-1)
		if b > 0 {
			parent = s.blocks[0][b-1]
		}
		toks := s.tokens[b*bt : (b+1)*bt]
		twin := s.blocks[0][b]
		p.indexLocked(0, twin, parent, toks)
		if !p.meta[twin].full {
			continue
		}
		for g := 1; g < len(s.blocks); g++ {
			// Keyed by group 0's block of the same positions, which stands for the whole prefix.
			p.indexLocked(g, s.blocks[g][b], twin, toks)
		}
	}
	s.filled = len(s.tokens)
	s.dropLocked()
}

// dropLocked gives back the leading blocks no query after the filled tokens
// reads. They stay cached by their tokens, like a finished sequence's.
func (s *Seq) dropLocked() {
	for g := range s.blocks {
		for ; s.dropped[g] < s.pool.dead(g, s.filled); s.dropped[g]++ {
			s.pool.releaseLocked(s.blocks[g][s.dropped[g]])
		}
	}
}

// Release gives the sequence's blocks back; full ones stay cached for reuse
// until the pool needs them.
func (s *Seq) Release() {
	p := s.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	for g := range s.blocks {
		for _, id := range s.blocks[g][s.dropped[g]:] {
			p.releaseLocked(id)
		}
		s.blocks[g], s.dropped[g] = nil, 0
	}
	s.tokens, s.filled = nil, 0
}

func (p *Pool) hash(group int, parent int32, tokens []int) uint64 {
	var h maphash.Hash
	h.SetSeed(p.seed)
	var b [8]byte
	put := func(v uint64) {
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		h.Write(b[:])
	}
	put(uint64(group))
	put(uint64(uint32(parent)))
	if parent >= 0 {
		put(p.meta[parent].hash)
	}
	for _, t := range tokens {
		put(uint64(t))
	}
	return h.Sum64()
}

// lookupLocked finds group's full block holding tokens after parent (for a
// group other than 0, group 0's block of the same positions); the tokens are
// compared, so a hash collision can only cost a miss.
func (p *Pool) lookupLocked(group int, parent int32, tokens []int) (int32, bool) {
	for _, id := range p.index[p.hash(group, parent, tokens)] {
		m := &p.meta[id]
		// The parent's hash too: a parent taken for other tokens since must not match.
		if m.full && m.group == group && m.parent == parent &&
			(parent < 0 || p.meta[parent].full && m.phash == p.meta[parent].hash) && slices.Equal(m.tokens, tokens) {
			return id, true
		}
	}
	return 0, false
}

func (p *Pool) indexLocked(group int, id, parent int32, tokens []int) {
	if _, ok := p.lookupLocked(group, parent, tokens); ok {
		return // another sequence computed the same block first; this copy stays private
	}
	m := &p.meta[id]
	m.full, m.group, m.parent, m.tokens = true, group, parent, slices.Clone(tokens)
	if parent >= 0 {
		m.phash = p.meta[parent].hash
	}
	m.hash = p.hash(group, parent, tokens)
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
