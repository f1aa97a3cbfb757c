package tokenizer

import "container/heap"

// symbol is one piece of a word during BPE: a byte range of the word and the
// token it spells (-1 when no token does, e.g. a character missing from a
// SentencePiece vocabulary). Merged-away symbols become empty.
type symbol struct {
	start, end int
	id         int
	prev, next int // neighbours in the linked list, -1 at the ends
}

// candidate is a possible merge of two neighbouring symbols.
type candidate struct {
	left, right int
	size        int     // byte length of the merged text when queued; detects stale entries
	priority    float64 // lower merges first: BPE rank, or minus the SentencePiece score
	result      int
}

// candidateQueue orders merges like llama.cpp: best priority first, and the
// leftmost among equals.
type candidateQueue []candidate

func (q candidateQueue) Len() int { return len(q) }
func (q candidateQueue) Less(i, j int) bool {
	if q[i].priority != q[j].priority {
		return q[i].priority < q[j].priority
	}
	return q[i].left < q[j].left
}
func (q candidateQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *candidateQueue) Push(x any)   { *q = append(*q, x.(candidate)) }
func (q *candidateQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}

// pairFunc says whether two neighbouring symbols merge, into which token and
// with which priority.
type pairFunc func(left, right *symbol) (priority float64, result int, ok bool)

// mergeSymbols applies the best available merge until none is left, then
// calls emit for the remaining symbols in order; symbols with id -1 are no
// token and the caller decides how to spell them.
func mergeSymbols(syms []symbol, pair pairFunc, emit func(s symbol)) {
	q := make(candidateQueue, 0, len(syms))
	tryPair := func(left, right int) {
		if left < 0 || right < 0 {
			return
		}
		l, r := &syms[left], &syms[right]
		if priority, result, ok := pair(l, r); ok {
			heap.Push(&q, candidate{left: left, right: right, size: r.end - l.start, priority: priority, result: result})
		}
	}
	for i := 1; i < len(syms); i++ {
		tryPair(i-1, i)
	}
	for q.Len() > 0 {
		c := heap.Pop(&q).(candidate)
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
	for i := 0; i >= 0 && len(syms) > 0; i = syms[i].next {
		emit(syms[i])
	}
}
