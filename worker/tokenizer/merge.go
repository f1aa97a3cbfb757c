package tokenizer

import "unicode/utf8"

// symbol is one piece of a word during BPE: a byte range of the word and the
// token it spells (-1 when no token does, e.g. a character missing from a
// SentencePiece vocabulary). Merged-away symbols become empty.
//
// Fields are 32 bits (the text of one BPE run is below maxRunBytes): a long
// word has a symbol per byte, and their size is most of what tokenizing it
// costs in memory.
type symbol struct {
	start, end int32
	id         int32
	prev, next int32 // neighbours in the linked list, -1 at the ends
}

// candidate is a possible merge of two neighbouring symbols.
type candidate struct {
	priority    float64 // lower merges first: BPE rank, or minus the SentencePiece score
	left, right int32
	size        int32 // byte length of the merged text when queued; detects stale entries
	result      int32
}

// maxRunBytes bounds the input of one encodeText call so that symbol fields
// fit 32 bits even after the text grows (GPT-2's byte symbols take up to 2
// bytes, SentencePiece's space symbol 3); longer text is encoded in runs of
// this size (see runs).
const maxRunBytes = 1 << 28

// candidateQueue is a binary heap of merges ordered like llama.cpp: best
// priority first, and the leftmost among equals. It is written out rather
// than using container/heap, whose interface boxes every candidate: a long
// word would allocate twice per merge.
type candidateQueue []candidate

func (q candidateQueue) less(i, j int) bool {
	if q[i].priority != q[j].priority {
		return q[i].priority < q[j].priority
	}
	return q[i].left < q[j].left
}

func (q *candidateQueue) push(c candidate) {
	*q = append(*q, c)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *candidateQueue) pop() candidate {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h.less(l, m) {
			m = l
		}
		if r < len(h) && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}

// pairFunc says whether two neighbouring symbols merge, into which token and
// with which priority.
type pairFunc func(left, right *symbol) (priority float64, result int, ok bool)

// mergeSymbols applies the best available merge until none is left, then
// calls emit for the remaining symbols in order; symbols with id -1 are no
// token and the caller decides how to spell them.
func mergeSymbols(syms []symbol, pair pairFunc, emit func(s symbol)) {
	q := make(candidateQueue, 0, len(syms))
	tryPair := func(left, right int32) {
		if left < 0 || right < 0 {
			return
		}
		l, r := &syms[left], &syms[right]
		if priority, result, ok := pair(l, r); ok {
			q.push(candidate{left: left, right: right, size: r.end - l.start, priority: priority, result: int32(result)})
		}
	}
	for i := int32(1); i < int32(len(syms)); i++ {
		tryPair(i-1, i)
	}
	for len(q) > 0 {
		c := q.pop()
		l, r := &syms[c.left], &syms[c.right]
		if l.start == l.end || r.start == r.end || l.next != c.right || r.end-l.start != c.size {
			continue // one side was merged into something else since
		}
		l.end = r.end
		l.id = c.result
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = c.left
		}
		r.start = r.end
		tryPair(l.prev, c.left)
		tryPair(c.left, l.next)
	}
	for i := int32(0); i >= 0 && len(syms) > 0; i = syms[i].next {
		emit(syms[i])
	}
}

// runs cuts text into pieces of at most max (maxRunBytes) bytes at character boundaries.
// Only text longer than 256 MiB is cut, where a merge across the cut is
// lost.
func runs(text string, max int) []string {
	if len(text) <= max {
		return []string{text}
	}
	var out []string
	for len(text) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	return append(out, text)
}
