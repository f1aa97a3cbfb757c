package kvcache

import (
	"slices"

	"github.com/kubeinfer/kubeinfer/worker/model"
)

// Layout is how a model's layers keep their keys and values in the pool's
// blocks. Layers that read every position and layers that read only a sliding
// window (Gemma's global and local layers) cannot share a block table: a
// window layer gives back what falls out of its window, a global layer keeps
// it. So the layers are split into groups of at most Slots layers of one
// window each; a block holds Slots layers' keys and values of BlockTokens
// positions for one group of one sequence, and a sequence keeps a block table
// per group. Blocks of every group come from one pool, so the scheduler counts
// one kind of block. With one window for every layer (or none) there is one
// group of all the layers: a block holds a position's keys and values in every
// layer.
type Layout struct {
	Slots  int     // layers a block holds
	Groups []int   // each group's window: how many of the latest positions its layers read, 0 for all
	Layer  []Place // by layer: its group and its slot in the group's blocks
}

// Place is where a layer's keys and values are: in the blocks of group Group,
// at slot Slot of each.
type Place struct{ Group, Slot int }

// LayoutOf groups layers by their windows (0: every position). Groups of
// full-attention layers come first, so group 0 keeps a sequence's whole
// history whenever any layer reads it (prefix reuse walks group 0's blocks).
// A group holds as many layers as the smallest set of layers sharing a window,
// so that set wastes no slot: Gemma 3's 5 global layers of 34 give blocks of 5
// layers, one group of global layers and six of local ones (one slot unused).
func LayoutOf(windows []int) Layout {
	byWindow := map[int][]int{}
	for l, w := range windows {
		w = max(w, 0)
		byWindow[w] = append(byWindow[w], l)
	}
	keys := make([]int, 0, len(byWindow))
	for w := range byWindow {
		keys = append(keys, w)
	}
	slices.Sort(keys)
	out := Layout{Layer: make([]Place, len(windows))}
	if len(keys) <= 1 {
		w := 0
		if len(keys) == 1 {
			w = keys[0]
		}
		out.Slots, out.Groups = len(windows), []int{w}
		for l := range windows {
			out.Layer[l] = Place{Group: 0, Slot: l}
		}
		return out
	}
	out.Slots = len(windows)
	for _, w := range keys {
		out.Slots = min(out.Slots, len(byWindow[w]))
	}
	for _, w := range keys {
		for i, l := range byWindow[w] {
			if i%out.Slots == 0 {
				out.Groups = append(out.Groups, w)
			}
			out.Layer[l] = Place{Group: len(out.Groups) - 1, Slot: i % out.Slots}
		}
	}
	return out
}

// LayoutFor is the layout of h's layers: model.Hyper.Window of each.
func LayoutFor(h model.Hyper) Layout {
	w := make([]int, h.Blocks)
	for l := range w {
		w[l] = h.Window(l)
	}
	return LayoutOf(w)
}

// Plain is one group of n layers reading window positions (0: all): the
// layout of an engine whose block tables are one per sequence.
func Plain(n, window int) Layout {
	w := make([]int, n)
	for l := range w {
		w[l] = window
	}
	return LayoutOf(w)
}

// SeqBlocks is the most blocks one sequence of tokens tokens holds at once
// when each step adds at most step tokens: every group's blocks of its
// positions, a window group's at most WindowBlocks.
func (l Layout) SeqBlocks(tokens, step, blockTokens int) int {
	n := 0
	for _, w := range l.Groups {
		b := BlocksFor(tokens, blockTokens)
		if w > 0 {
			b = min(b, WindowBlocks(w, max(step, 1), blockTokens))
		}
		n += b
	}
	return n
}

// PoolBlocks is the pool size, in blocks, of an engine that serves
// concurrency sequences of at most maxContext tokens each (serve's
// --max-context and --max-concurrent; the InferenceWorker's serving fields)
// in steps of at most step tokens: each sequence at its longest (a window
// group's blocks at a window and a step), or without maxContext one sequence
// of the model's context, at most maxDefaultTokens.
func (l Layout) PoolBlocks(contextLength, maxContext, concurrency, step, blockTokens int) int {
	if maxContext > 0 {
		return l.SeqBlocks(maxContext, step, blockTokens) * max(concurrency, 1)
	}
	return l.SeqBlocks(min(contextLength, maxDefaultTokens), step, blockTokens)
}

// TokenBlocks is the blocks that hold tokens tokens in every group: a pool
// sized in tokens (serve's --kv-cache-tokens) holds that many positions of
// every layer.
func (l Layout) TokenBlocks(tokens, blockTokens int) int {
	return len(l.Groups) * BlocksFor(tokens, blockTokens)
}

// BlockBytes is the bytes of one block: blockTokens positions' keys and
// values in each of its Slots layers, stored as t.
func (l Layout) BlockBytes(h model.Hyper, t Type, blockTokens int) uint64 {
	return 2 * uint64(l.Slots) * uint64(blockTokens) * t.RowBytes(h)
}
