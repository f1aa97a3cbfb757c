// Package grammar constrains generation to a formal language: a context-free
// grammar over bytes (built with Builder, or compiled from a JSON Schema by
// FromJSONSchema), a token-level matcher that says which tokens of a vocabulary
// may come next, and the cache that makes that cheap. It is the structured
// output of the OpenAI API (response_format) and the argument shape of tool
// calls.
//
// The grammar works on bytes, not characters, so every token's bytes are
// checked as they are, partial UTF-8 included; the JSON grammars spell out
// well-formed UTF-8 so that what they accept is valid text. A parse state is a
// set of stacks of grammar positions (as llama.cpp's GBNF sampler keeps them);
// states are interned by content, each remembers its transitions by byte and
// the mask of tokens it allows, so after the first visit a state costs a map
// lookup (XGrammar and llguidance precompute such masks ahead; here they are
// filled on first use and kept for every later request with the same grammar).
package grammar

import (
	"errors"
	"fmt"
)

// byteSet is a set of bytes.
type byteSet [4]uint64

func (s *byteSet) add(b byte)      { s[b>>6] |= 1 << (b & 63) }
func (s *byteSet) has(b byte) bool { return s[b>>6]&(1<<(b&63)) != 0 }
func (s *byteSet) addRange(lo, hi byte) {
	for c := int(lo); c <= int(hi); c++ {
		s.add(byte(c))
	}
}
func (s *byteSet) union(o byteSet) {
	for i := range s {
		s[i] |= o[i]
	}
}
func (s byteSet) empty() bool { return s == byteSet{} }

// Expr is a grammar expression. Build them with Lit, Bytes, Seq, Alt, Rep,
// Opt, Star and Plus, and name them with Builder.Rule.
type Expr interface{ isExpr() }

type (
	litExpr string
	setExpr byteSet
	seqExpr []Expr
	altExpr []Expr
	repExpr struct {
		e        Expr
		min, max int // max < 0: unbounded
	}
	// Rule is a named, possibly recursive, part of a grammar.
	Rule struct {
		name string
		body Expr
		id   int32
	}
)

func (litExpr) isExpr() {}
func (setExpr) isExpr() {}
func (seqExpr) isExpr() {}
func (altExpr) isExpr() {}
func (repExpr) isExpr() {}
func (*Rule) isExpr()   {}

// Lit matches s exactly.
func Lit(s string) Expr { return litExpr(s) }

// Range matches one byte in [lo, hi].
func Range(lo, hi byte) Expr {
	var s byteSet
	s.addRange(lo, hi)
	return setExpr(s)
}

// Bytes matches one of the bytes given.
func Bytes(bs ...byte) Expr {
	var s byteSet
	for _, b := range bs {
		s.add(b)
	}
	return setExpr(s)
}

// Seq matches its parts one after the other.
func Seq(parts ...Expr) Expr { return seqExpr(parts) }

// Alt matches one of its choices.
func Alt(choices ...Expr) Expr { return altExpr(choices) }

// Rep matches e at least min and at most max times; max < 0 means no limit.
func Rep(e Expr, min, max int) Expr { return repExpr{e, min, max} }

// Opt matches e or nothing.
func Opt(e Expr) Expr { return repExpr{e, 0, 1} }

// Star matches e any number of times.
func Star(e Expr) Expr { return repExpr{e, 0, -1} }

// Plus matches e at least once.
func Plus(e Expr) Expr { return repExpr{e, 1, -1} }

// Builder collects the rules of a grammar.
type Builder struct {
	rules []*Rule
	named map[string]*Rule
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder { return &Builder{named: map[string]*Rule{}} }

// Rule returns the rule called name, creating it undefined the first time,
// so rules can refer to each other before they are defined.
func (b *Builder) Rule(name string) *Rule {
	if r, ok := b.named[name]; ok {
		return r
	}
	r := &Rule{name: name, id: int32(len(b.rules))}
	b.rules = append(b.rules, r)
	b.named[name] = r
	return r
}

// Has reports whether a rule called name exists.
func (b *Builder) Has(name string) bool { _, ok := b.named[name]; return ok }

// Define sets the rule's body.
func (r *Rule) Define(e Expr) *Rule { r.body = e; return r }

// Defined reports whether the rule has a body.
func (r *Rule) Defined() bool { return r.body != nil }

// elem kinds of the flattened grammar.
const (
	kEnd   = iota // end of an alternative: return to the caller
	kBytes        // one byte of sets[arg]
	kRef          // the rule arg
)

type elem struct {
	kind uint8
	arg  int32
}

// Grammar is a compiled grammar: every alternative of every rule laid out in
// one array of elements, each alternative ending with kEnd.
type Grammar struct {
	elems []elem
	alts  [][]int32 // per rule, the start of each alternative in elems
	sets  []byteSet
	root  int32
	names []string
}

// MaxElements bounds a compiled grammar's size (a schema with maxLength of a
// million would otherwise be a million elements); Compile refuses larger ones.
const MaxElements = 1 << 17

// ErrTooLarge is returned for grammars over MaxElements.
var ErrTooLarge = errors.New("grammar too large")

// Compile lays out the grammar reachable from root.
func (b *Builder) Compile(root *Rule) (*Grammar, error) {
	c := &compiler{b: b, g: &Grammar{}, setIdx: map[byteSet]int32{}, done: map[*Rule]bool{}}
	c.g.root = root.id
	c.queue = append(c.queue, root)
	for len(c.queue) > 0 {
		r := c.queue[0]
		c.queue = c.queue[1:]
		if err := c.rule(r); err != nil {
			return nil, err
		}
	}
	if err := c.g.checkLeftRecursion(); err != nil {
		return nil, err
	}
	return c.g, nil
}

type compiler struct {
	b      *Builder
	g      *Grammar
	setIdx map[byteSet]int32
	queue  []*Rule
	done   map[*Rule]bool
	anon   int
}

func (c *compiler) ref(r *Rule) int32 {
	if !c.done[r] {
		c.done[r] = true
		c.queue = append(c.queue, r)
	}
	return r.id
}

func (c *compiler) newRule(e Expr) *Rule {
	c.anon++
	r := c.b.Rule(fmt.Sprintf("\x00anon%d", c.anon))
	r.body = e
	return r
}

func (c *compiler) rule(r *Rule) error {
	if r.body == nil {
		return fmt.Errorf("grammar rule %q is not defined", r.name)
	}
	for int(r.id) >= len(c.g.alts) {
		c.g.alts = append(c.g.alts, nil)
		c.g.names = append(c.g.names, "")
	}
	c.g.names[r.id] = r.name
	var choices []Expr
	if a, ok := r.body.(altExpr); ok {
		choices = a
	} else {
		choices = []Expr{r.body}
	}
	for _, ch := range choices {
		start := int32(len(c.g.elems))
		if err := c.seq(ch); err != nil {
			return err
		}
		c.g.elems = append(c.g.elems, elem{kind: kEnd})
		c.g.alts[r.id] = append(c.g.alts[r.id], start)
		if len(c.g.elems) > MaxElements {
			return ErrTooLarge
		}
	}
	return nil
}

// seq appends the elements of e as one alternative's sequence.
func (c *compiler) seq(e Expr) error {
	switch e := e.(type) {
	case litExpr:
		for i := 0; i < len(e); i++ {
			var s byteSet
			s.add(e[i])
			c.set(s)
		}
	case setExpr:
		if byteSet(e).empty() {
			return errors.New("grammar: empty byte set")
		}
		c.set(byteSet(e))
	case seqExpr:
		for _, p := range e {
			if err := c.seq(p); err != nil {
				return err
			}
		}
	case *Rule:
		c.g.elems = append(c.g.elems, elem{kind: kRef, arg: c.ref(e)})
	case altExpr:
		if len(e) == 1 {
			return c.seq(e[0])
		}
		c.g.elems = append(c.g.elems, elem{kind: kRef, arg: c.ref(c.newRule(e))})
	case repExpr:
		return c.rep(e)
	default:
		return fmt.Errorf("grammar: unknown expression %T", e)
	}
	if len(c.g.elems) > MaxElements {
		return ErrTooLarge
	}
	return nil
}

func (c *compiler) set(s byteSet) {
	idx, ok := c.setIdx[s]
	if !ok {
		idx = int32(len(c.g.sets))
		c.g.sets = append(c.g.sets, s)
		c.setIdx[s] = idx
	}
	c.g.elems = append(c.g.elems, elem{kind: kBytes, arg: idx})
}

// rep lays out e{min,max}: min copies, then a right-recursive tail, so that
// stacks stay shallow while it repeats.
func (c *compiler) rep(e repExpr) error {
	if e.max >= 0 && (e.max < e.min || e.min < 0) {
		return fmt.Errorf("grammar: repetition {%d,%d}", e.min, e.max)
	}
	if e.min > MaxElements || e.max > MaxElements {
		return ErrTooLarge
	}
	item := e.e
	switch item.(type) {
	case *Rule, setExpr: // one element each
	default:
		item = c.newRule(item)
	}
	for range e.min {
		if err := c.seq(item); err != nil {
			return err
		}
	}
	switch {
	case e.max < 0:
		star := c.newRule(nil)
		star.body = Alt(Seq(item, star), Seq())
		return c.seq(star)
	case e.max > e.min:
		// opt_k ::= item opt_{k-1} | ε
		var tail *Rule
		for k := 1; k <= e.max-e.min; k++ {
			r := c.newRule(nil)
			if tail == nil {
				r.body = Alt(item, Seq())
			} else {
				r.body = Alt(Seq(item, tail), Seq())
			}
			tail = r
		}
		return c.seq(tail)
	}
	return nil
}

// nullable says which rules can match the empty string.
func (g *Grammar) nullable() []bool {
	null := make([]bool, len(g.alts))
	for changed := true; changed; {
		changed = false
		for r, alts := range g.alts {
			if null[r] {
				continue
			}
			for _, a := range alts {
				if g.seqNullable(a, null) {
					null[r], changed = true, true
					break
				}
			}
		}
	}
	return null
}

func (g *Grammar) seqNullable(p int32, null []bool) bool {
	for ; g.elems[p].kind != kEnd; p++ {
		if e := g.elems[p]; e.kind == kBytes || !null[e.arg] {
			return false
		}
	}
	return true
}

// checkLeftRecursion refuses grammars where a rule can reach itself without
// consuming a byte: the matcher would expand it forever.
func (g *Grammar) checkLeftRecursion() error {
	null := g.nullable()
	// first[r] = rules r can expand to at its left edge.
	edges := make([][]int32, len(g.alts))
	for r, alts := range g.alts {
		for _, a := range alts {
			for p := a; g.elems[p].kind == kRef; p++ {
				edges[r] = append(edges[r], g.elems[p].arg)
				if !null[g.elems[p].arg] {
					break
				}
			}
		}
	}
	state := make([]uint8, len(g.alts)) // 0 new, 1 on the path, 2 done
	var visit func(r int32) error
	visit = func(r int32) error {
		state[r] = 1
		for _, n := range edges[r] {
			switch state[n] {
			case 1:
				return fmt.Errorf("grammar: rule %q is left-recursive", g.names[n])
			case 0:
				if err := visit(n); err != nil {
					return err
				}
			}
		}
		state[r] = 2
		return nil
	}
	for r := range g.alts {
		if state[r] == 0 {
			if err := visit(int32(r)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Size is the number of elements of the compiled grammar.
func (g *Grammar) Size() int { return len(g.elems) }
