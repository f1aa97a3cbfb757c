package grammar

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Vocab is a model's vocabulary as the matcher sees it: every token that can
// be generated, by its bytes, in a trie, and the end-of-generation tokens,
// which a grammar allows only where it may end. Build it once per model.
type Vocab struct {
	size int
	eog  []int32
	// The trie in compressed rows: node i's children are the edges
	// childStart[i]:childStart[i+1] (byte, node), the tokens that end at it
	// toks[tokStart[i]:tokStart[i+1]]. Node 0 is the root.
	childStart []int32
	edgeByte   []byte
	edgeNode   []int32
	tokStart   []int32
	toks       []int32
	pieces     [][]byte
}

// NewVocab builds the trie of pieces (what each token id decodes to). eog
// marks end-of-generation tokens; skip marks tokens that are never generated
// under a grammar (control tokens: their text is markup, not content). Tokens
// with no bytes are never allowed.
func NewVocab(pieces [][]byte, eog, skip func(id int) bool) *Vocab {
	v := &Vocab{size: len(pieces), pieces: pieces}
	ids := make([]int32, 0, len(pieces))
	for id, p := range pieces {
		switch {
		case eog(id):
			v.eog = append(v.eog, int32(id))
		case len(p) > 0 && !skip(id):
			ids = append(ids, int32(id))
		}
	}
	sort.Slice(ids, func(a, b int) bool {
		if c := strings.Compare(string(pieces[ids[a]]), string(pieces[ids[b]])); c != 0 {
			return c < 0
		}
		return ids[a] < ids[b]
	})
	// Breadth first, so that the children of a node get consecutive numbers.
	type span struct{ lo, hi, depth int }
	queue := []span{{0, len(ids), 0}}
	v.childStart = append(v.childStart, 0)
	v.tokStart = append(v.tokStart, 0)
	for qi := 0; qi < len(queue); qi++ {
		sp := queue[qi]
		i := sp.lo
		for i < sp.hi && len(pieces[ids[i]]) == sp.depth {
			v.toks = append(v.toks, ids[i])
			i++
		}
		v.tokStart = append(v.tokStart, int32(len(v.toks)))
		for i < sp.hi {
			b := pieces[ids[i]][sp.depth]
			j := i
			for j < sp.hi && pieces[ids[j]][sp.depth] == b {
				j++
			}
			v.edgeByte = append(v.edgeByte, b)
			v.edgeNode = append(v.edgeNode, int32(len(queue)))
			queue = append(queue, span{i, j, sp.depth + 1})
			i = j
		}
		v.childStart = append(v.childStart, int32(len(v.edgeByte)))
	}
	return v
}

// Size is the vocabulary's size: the length of a mask in bits.
func (v *Vocab) Size() int { return v.size }

// MaskWords is the length of a token mask in 64-bit words.
func (v *Vocab) MaskWords() int { return (v.size + 63) / 64 }

// node is one frame of a parse stack: the grammar position to match next, and
// the frame to return to at the end of the current alternative.
type node struct {
	pos    int32
	parent *node
}

// state is a set of parse stacks (each with a byte to match on top), and
// whether the input so far is a complete sentence.
type state struct {
	stacks []*node
	accept bool
	cached bool
	next   [256]*state // transitions by byte, filled on first use (cached states only)
	mask   []uint64    // the tokens allowed here, filled on first use (cached states only)
}

// Machine is a grammar bound to a vocabulary, with its cache of parse states,
// their transitions and their token masks. It is safe for concurrent use and
// meant to be shared by every request that uses the same grammar.
type Machine struct {
	g *Grammar
	v *Vocab

	mu        sync.Mutex
	states    map[string]*state
	maxStates int
	start     *state
	dead      *state
	keyBuf    []byte
}

// stateBytes is what one cached state costs besides its mask: the transition
// row, its stacks and map entry.
const stateBytes = 256*8 + 256

// NewMachine binds g to v. cacheBytes bounds the memory of the state cache
// (transitions and masks); past it, states are computed each time they are
// needed.
func NewMachine(g *Grammar, v *Vocab, cacheBytes int64) (*Machine, error) {
	per := int64(stateBytes + 8*v.MaskWords())
	m := &Machine{g: g, v: v, states: map[string]*state{}, maxStates: int(max(cacheBytes/per, 16))}
	m.dead = &state{cached: true}
	for i := range m.dead.next {
		m.dead.next[i] = m.dead
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var tops []*node
	accept := false
	for _, a := range g.alts[g.root] {
		if err := m.expand(&node{pos: a}, &tops, &accept, 0); err != nil {
			return nil, err
		}
	}
	m.start = m.intern(tops, accept)
	if m.start == m.dead {
		return nil, errors.New("grammar: matches nothing")
	}
	return m, nil
}

// maxExpandDepth bounds the expansion of one position, which a grammar
// without left recursion needs only as deep as its rules nest.
const maxExpandDepth = 1 << 12

// expand moves from n to every stack whose top is a byte to match, following
// rule references and returns; a stack that returns past its bottom marks
// acceptance.
func (m *Machine) expand(n *node, out *[]*node, accept *bool, depth int) error {
	if depth > maxExpandDepth {
		return errors.New("grammar: nesting too deep")
	}
	g := m.g
	for {
		e := g.elems[n.pos]
		switch e.kind {
		case kBytes:
			*out = append(*out, n)
			return nil
		case kEnd:
			if n.parent == nil {
				*accept = true
				return nil
			}
			n = n.parent
			depth++
			if depth > maxExpandDepth {
				return errors.New("grammar: nesting too deep")
			}
		case kRef:
			// The return frame; a reference at the end of its alternative
			// returns straight to the caller's caller (a tail call), which keeps
			// right-recursive repetition from growing the stack.
			ret := n.parent
			if g.elems[n.pos+1].kind != kEnd {
				ret = &node{pos: n.pos + 1, parent: n.parent}
			}
			for _, a := range g.alts[e.arg] {
				if err := m.expand(&node{pos: a, parent: ret}, out, accept, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
	}
}

// intern returns the state of the stacks, deduplicated; the same stacks give
// the same cached state while the cache has room.
func (m *Machine) intern(tops []*node, accept bool) *state {
	if len(tops) == 0 && !accept {
		return m.dead
	}
	keys := make([]string, len(tops))
	for i, t := range tops {
		var b []byte
		for n := t; n != nil; n = n.parent {
			b = binary.AppendUvarint(b, uint64(n.pos)+1)
		}
		keys[i] = string(append(b, 0))
	}
	order := make([]int, len(tops))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return keys[order[a]] < keys[order[b]] })
	kb := m.keyBuf[:0]
	if accept {
		kb = append(kb, 1)
	} else {
		kb = append(kb, 0)
	}
	var stacks []*node
	for i, o := range order {
		if i > 0 && keys[o] == keys[order[i-1]] {
			continue
		}
		kb = append(kb, keys[o]...)
		stacks = append(stacks, tops[o])
	}
	m.keyBuf = kb
	if s, ok := m.states[string(kb)]; ok {
		return s
	}
	s := &state{stacks: stacks, accept: accept}
	if len(m.states) < m.maxStates {
		s.cached = true
		m.states[string(kb)] = s
	}
	return s
}

// step is the state after byte b, or m.dead.
func (m *Machine) step(s *state, b byte) (*state, error) {
	if n := s.next[b]; n != nil {
		return n, nil
	}
	var tops []*node
	accept := false
	for _, t := range s.stacks {
		if m.g.sets[m.g.elems[t.pos].arg].has(b) {
			if err := m.expand(&node{pos: t.pos + 1, parent: t.parent}, &tops, &accept, 0); err != nil {
				return nil, err
			}
		}
	}
	n := m.intern(tops, accept)
	if s.cached && n.cached {
		s.next[b] = n
	}
	return n, nil
}

// computeMask walks the vocabulary's trie from s, pruning at the first byte
// the grammar refuses.
func (m *Machine) computeMask(s *state) ([]uint64, error) {
	v := m.v
	mask := make([]uint64, v.MaskWords())
	if s.accept {
		for _, id := range v.eog {
			mask[id>>6] |= 1 << (id & 63)
		}
	}
	type item struct {
		node int32
		st   *state
	}
	work := []item{{0, s}}
	for len(work) > 0 {
		it := work[len(work)-1]
		work = work[:len(work)-1]
		for e := v.childStart[it.node]; e < v.childStart[it.node+1]; e++ {
			ns, err := m.step(it.st, v.edgeByte[e])
			if err != nil {
				return nil, err
			}
			if ns == m.dead {
				continue
			}
			child := v.edgeNode[e]
			for _, id := range v.toks[v.tokStart[child]:v.tokStart[child+1]] {
				mask[id>>6] |= 1 << (id & 63)
			}
			if v.childStart[child] < v.childStart[child+1] {
				work = append(work, item{child, ns})
			}
		}
	}
	if s.cached {
		s.mask = mask
	}
	return mask, nil
}

// Matcher follows one generation through the grammar. It is not safe for
// concurrent use; make one per request with NewMatcher.
type Matcher struct {
	m *Machine
	s *state
}

// NewMatcher starts a matcher at the grammar's start.
func (m *Machine) NewMatcher() *Matcher { return &Matcher{m: m, s: m.start} }

// Allowed returns the mask of tokens that may come next (bit id of word
// id/64): those whose bytes continue a sentence of the grammar, and the
// end-of-generation tokens where the sentence may end. The mask is shared:
// do not modify it.
func (mt *Matcher) Allowed() ([]uint64, error) {
	m := mt.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if mt.s.mask != nil {
		return mt.s.mask, nil
	}
	return m.computeMask(mt.s)
}

// ErrRejected is returned by Accept for a token the grammar does not allow.
var ErrRejected = errors.New("token not allowed by the grammar")

// Accept advances past tok. An end-of-generation token is accepted where the
// sentence may end and leaves the matcher where it is.
func (mt *Matcher) Accept(tok int) error {
	m := mt.m
	if tok < 0 || tok >= m.v.size {
		return fmt.Errorf("token %d: %w", tok, ErrRejected)
	}
	if slices.Contains(m.v.eog, int32(tok)) {
		if !mt.s.accept {
			return fmt.Errorf("end of generation before the grammar's end: %w", ErrRejected)
		}
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := mt.s
	for _, b := range m.v.pieces[tok] {
		ns, err := m.step(s, b)
		if err != nil {
			return err
		}
		if ns == m.dead {
			return fmt.Errorf("token %d (%q): %w", tok, m.v.pieces[tok], ErrRejected)
		}
		s = ns
	}
	mt.s = s
	return nil
}

// AcceptBytes advances past text, as if generated; it reports whether the
// grammar allowed it.
func (mt *Matcher) AcceptBytes(text []byte) bool {
	m := mt.m
	m.mu.Lock()
	defer m.mu.Unlock()
	s := mt.s
	for _, b := range text {
		ns, err := m.step(s, b)
		if err != nil || ns == m.dead {
			return false
		}
		s = ns
	}
	mt.s = s
	return true
}

// CanEnd reports whether what was accepted is a complete sentence.
func (mt *Matcher) CanEnd() bool { return mt.s.accept }

// Done reports whether the sentence is complete and nothing may follow it:
// generation can stop without waiting for the model's end token.
func (mt *Matcher) Done() bool { return mt.s.accept && len(mt.s.stacks) == 0 }

// CachedStates is how many parse states the machine keeps (for tests and
// metrics).
func (m *Machine) CachedStates() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.states)
}

// Vocab is the vocabulary the machine was bound to.
func (m *Machine) Vocab() *Vocab { return m.v }
