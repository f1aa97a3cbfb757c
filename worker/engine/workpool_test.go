package engine

import (
	"sync/atomic"
	"testing"
	"time"
)

// countJob counts how often each index is done.
type countJob struct{ hits []atomic.Int32 }

func (j *countJob) runRange(_, lo, hi int) {
	for i := lo; i < hi; i++ {
		j.hits[i].Add(1)
	}
}

// Jobs of alternating sizes take part of the helpers, then all, then part again: a helper that was not in
// one job must not count itself into the next one twice (the caller would wait forever, or return while the
// helper still works), and every index of every job is done exactly once.
func TestWorkPoolJobsOfChangingSizes(t *testing.T) {
	const workers, minChunk = 8, 1
	p := newWorkPool(workers)
	defer p.close()
	done := make(chan struct{})
	var bad atomic.Int64
	go func() {
		defer close(done)
		for i := range 20000 {
			// 2 chunks (one helper) or 32 chunks (every helper), in turn.
			total := 2
			if i%2 == 1 {
				total = 64
			}
			j := &countJob{hits: make([]atomic.Int32, total)}
			p.run(j, total, minChunk)
			for k := range j.hits {
				if j.hits[k].Load() != 1 {
					bad.Add(1)
				}
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the pool's caller still waits for its helpers after 2 minutes")
	}
	if n := bad.Load(); n != 0 {
		t.Fatalf("%d indices done other than once", n)
	}
}
