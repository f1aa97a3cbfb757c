package engine

import "sync"

// comm is the collective the CPU engine's simulated tensor-parallel ranks
// meet in, NCCL's all-reduce done in process: every rank calls allReduce
// with its buffer of the same length, and each returns with the element-wise
// sum of all of them, added in rank order so every rank holds the same bits.
// A nil comm is one rank, for which an all-reduce is nothing.
type comm struct {
	n    int
	bufs [][]float32 // each rank's posted buffer
	sums [][]float32 // each rank's result, before it overwrites its buffer

	mu      sync.Mutex
	cond    *sync.Cond
	arrived int
	phase   uint64
}

func newComm(n int) *comm {
	c := &comm{n: n, bufs: make([][]float32, n), sums: make([][]float32, n)}
	c.cond = sync.NewCond(&c.mu)
	return c
}

// barrier returns once all n ranks have called it.
func (c *comm) barrier() {
	c.mu.Lock()
	defer c.mu.Unlock()
	phase := c.phase
	c.arrived++
	if c.arrived == c.n {
		c.arrived = 0
		c.phase++
		c.cond.Broadcast()
		return
	}
	for phase == c.phase {
		c.cond.Wait()
	}
}

// allReduce replaces x, rank's buffer, by the sum over ranks.
func (c *comm) allReduce(rank int, x []float32) {
	if c == nil {
		return
	}
	c.bufs[rank] = x
	c.barrier() // every buffer is posted
	sum := sized(&c.sums[rank], len(x))
	copy(sum, c.bufs[0])
	for r := 1; r < c.n; r++ {
		for i, v := range c.bufs[r][:len(x)] {
			sum[i] += v
		}
	}
	c.barrier() // every rank has read every buffer
	copy(x, sum)
}
