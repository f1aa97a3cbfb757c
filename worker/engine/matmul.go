package engine

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// matrix is a weight matrix as the file stores it (rows × cols, row r at
// data[r*rowBytes:]), a view of the model's mapping: the CPU engine never
// converts a matrix as a whole, so its memory stays the file's size. Products
// decode a block at a time through the type's kernels (gguf's type table).
type matrix struct {
	name       string
	typ        gguf.GGMLType
	rows, cols int
	rowBytes   int
	data       []byte
	k          gguf.Kernels
}

// newMatrix is data as rows × cols of t's type: all of t, or a rank's shard of it.
func newMatrix(t *model.Tensor, rows, cols int, data []byte) (*matrix, error) {
	k, ok := t.Info.Type.Kernels()
	if !ok {
		return nil, t.Info.CheckSupported()
	}
	rb, err := t.Info.Type.RowBytes(uint64(cols))
	if err != nil {
		return nil, fmt.Errorf("tensor %s: %w", t.Info.Name, err)
	}
	if uint64(len(data)) != rb*uint64(rows) {
		return nil, fmt.Errorf("tensor %s: %d bytes of data, want %d rows of %d", t.Info.Name, len(data), rows, rb)
	}
	return &matrix{name: t.Info.Name, typ: t.Info.Type, rows: rows, cols: cols, rowBytes: int(rb), data: data, k: k}, nil
}

// rowsView is rows [lo, hi) of m, sharing its data: the halves of a fused
// gate/up tensor.
func (m *matrix) rowsView(lo, hi int) *matrix {
	v := *m
	v.rows, v.data = hi-lo, m.data[lo*m.rowBytes:hi*m.rowBytes]
	return &v
}

func (m *matrix) row(r int) []byte { return m.data[r*m.rowBytes : (r+1)*m.rowBytes] }

// rowFloat32 decodes row r into dst (cols values): an embedding lookup.
func (m *matrix) rowFloat32(dst []float32, r int) { m.k.Dequantize(dst[:m.cols], m.row(r)) }

// fusedTokens is the largest token count whose products run the type's dot
// kernel on the encoded row for every token; larger batches decode each row
// once into a scratch row and reuse it for all tokens (prefill).
const fusedTokens = 2

// rowsPerChunk is the least number of rows a worker takes at a time, so that
// claiming work costs little next to doing it.
const rowsPerChunk = 16

// tileRows is how many rows a prefill product of a float matrix decodes and
// takes through all its tokens before moving on: each token's activations are
// then read once per tileRows rows instead of once per row (F16 1B-shape
// prefill on 2 cores: 32-37 tok/s row by row, 41-43 tiled).
const tileRows = 8

// rangeJob is work over an index range that workPool splits between goroutines.
type rangeJob interface {
	// runRange does indices [lo, hi) on the given worker (0 is the caller).
	runRange(worker, lo, hi int)
}

// workPool runs jobs on a fixed set of goroutines, started once per engine,
// so a decode step's hundreds of matrix products neither start goroutines nor
// allocate. Workers claim chunks of a job with an atomic counter, so a core
// busy with other work takes fewer. run is called by one goroutine at a time
// (the engine's forward holds its lock).
//
// A job is announced by a generation counter that idle helpers spin on for a
// while before they park: a decode step's products are tens to hundreds of
// microseconds each, about what waking a parked goroutine costs, so helpers
// woken through the scheduler for each one arrived too late to help (two
// workers were slower than one). Between steps they park.
type workPool struct {
	workers int
	quit    chan struct{}

	// job is the current job's generation (incremented for each) and its
	// helpers: 1..active take part. One word, so a helper reads the two of the
	// same job: one that saw a job it was not in, then the next job's count,
	// would join that job a second time and its caller would wait forever.
	gen      atomic.Uint64 // generation << activeBits | active
	pending  atomic.Int32  // helpers of the current job still working
	sleeping []atomic.Bool // by helper: parked on its park channel
	park     []chan struct{}

	job          rangeJob
	total, chunk int
	next         atomic.Int64
}

// spinChecks is how many times an idle helper checks for a job before it
// parks (a few hundred microseconds); it yields every yieldEvery checks so
// that other goroutines of the process still run.
const (
	spinChecks = 1 << 16
	yieldEvery = 256
	activeBits = 16 // workers are far fewer than 1<<16 (newWorkPool)
)

func newWorkPool(workers int) *workPool {
	p := &workPool{workers: min(max(1, workers), 1<<activeBits-1), quit: make(chan struct{})}
	p.sleeping = make([]atomic.Bool, p.workers)
	p.park = make([]chan struct{}, p.workers)
	for id := 1; id < p.workers; id++ {
		p.park[id] = make(chan struct{}, 1)
		go p.worker(id)
	}
	return p
}

func (p *workPool) worker(id int) {
	var seen uint64
	for {
		g, ok := p.await(id, seen)
		if !ok {
			return
		}
		seen = g
		if id <= int(g&(1<<activeBits-1)) {
			p.loop(id)
			p.pending.Add(-1)
		}
	}
}

// await returns the generation after seen, spinning, then parked; ok is false
// when the pool is closed.
func (p *workPool) await(id int, seen uint64) (uint64, bool) {
	for i := 0; ; i++ {
		if g := p.gen.Load(); g != seen {
			return g, true
		}
		if i%yieldEvery == yieldEvery-1 {
			runtime.Gosched()
		}
		if i < spinChecks {
			continue
		}
		p.sleeping[id].Store(true)
		if g := p.gen.Load(); g != seen {
			if !p.sleeping[id].CompareAndSwap(true, false) {
				<-p.park[id] // run took the flag: its wake-up is on the way
			}
			return g, true
		}
		select {
		case <-p.park[id]:
			i = 0
		case <-p.quit:
			return 0, false
		}
	}
}

func (p *workPool) loop(id int) {
	for {
		lo := int(p.next.Add(int64(p.chunk))) - p.chunk
		if lo >= p.total {
			return
		}
		p.job.runRange(id, lo, min(lo+p.chunk, p.total))
	}
}

// run does job over [0, total) in chunks of at least minChunk indices.
func (p *workPool) run(job rangeJob, total, minChunk int) {
	// About four chunks per worker balance uneven cores without much claiming.
	chunk := max(minChunk, (total+4*p.workers-1)/(4*p.workers))
	helpers := min(p.workers-1, (total+chunk-1)/chunk-1)
	if helpers <= 0 {
		job.runRange(0, 0, total)
		return
	}
	p.job, p.total, p.chunk = job, total, chunk
	p.next.Store(0)
	p.pending.Store(int32(helpers))
	p.gen.Store((p.gen.Load()>>activeBits+1)<<activeBits | uint64(helpers))
	for id := 1; id <= helpers; id++ {
		if p.sleeping[id].CompareAndSwap(true, false) {
			p.park[id] <- struct{}{}
		}
	}
	p.loop(0)
	for i := 1; p.pending.Load() != 0; i++ {
		if i%yieldEvery == 0 {
			runtime.Gosched()
		}
	}
	p.job = nil
}

func (p *workPool) close() { close(p.quit) }

// matmul is out[t][r] = x[t]·w[r] (+ bias[r]) for n tokens: x is n × w.cols,
// out is n × w.rows. Rows are split between the pool's workers, so each
// streams its own part of w once for all tokens.
type matmul struct {
	pool    *workPool
	scratch [][]float32 // per worker: tileRows decoded rows
	sums    []float32   // the tokens' sums of 16 (gguf.SumsOf16), for the fused kernels
	// int8: matrices whose type has an integer kernel (gguf.Kernels.DotQ8) multiply the tokens rounded to
	// int8 (q8, one per token), as llama.cpp's CPU kernels do (CPUOptions.MatvecInt8).
	int8  bool
	q8    []gguf.Q8K
	useQ8 bool // this product's

	out, x, bias []float32
	w            *matrix
	n            int
}

func newMatmul(workers, maxCols int, int8 bool) *matmul {
	mm := &matmul{pool: newWorkPool(workers), int8: int8}
	mm.scratch = make([][]float32, mm.pool.workers)
	for i := range mm.scratch {
		mm.scratch[i] = make([]float32, tileRows*maxCols)
	}
	return mm
}

func (mm *matmul) run(out, x []float32, w *matrix, bias []float32, n int) {
	mm.useQ8 = mm.int8 && w.k.DotQ8 != nil && w.cols%gguf.QK8K == 0
	if mm.useQ8 {
		for len(mm.q8) < n {
			mm.q8 = append(mm.q8, gguf.Q8K{})
		}
		for t := range n {
			gguf.QuantizeQ8K(&mm.q8[t], x[t*w.cols:(t+1)*w.cols])
		}
	} else if n <= fusedTokens {
		per := w.cols / 16
		if cap(mm.sums) < n*per {
			mm.sums = make([]float32, n*per)
		}
		mm.sums = mm.sums[:n*per]
		for t := range n {
			gguf.SumsOf16(mm.sums[t*per:(t+1)*per], x[t*w.cols:(t+1)*w.cols])
		}
	}
	mm.out, mm.x, mm.w, mm.bias, mm.n = out, x, w, bias, n
	mm.pool.run(mm, w.rows, rowsPerChunk)
	mm.out, mm.x, mm.w, mm.bias = nil, nil, nil, nil
}

func (mm *matmul) runRange(worker, lo, hi int) {
	w, n, in, rows := mm.w, mm.n, mm.w.cols, mm.w.rows
	x, out := mm.x[:n*in], mm.out[:n*rows]
	bias := func(r int) float32 {
		if mm.bias != nil {
			return mm.bias[r]
		}
		return 0
	}
	if mm.useQ8 {
		// (Tiled as below, a Q4_K_M prefill ran no faster: its integer products, not the reads, bound it.)
		for r := lo; r < hi; r++ {
			row, b := w.row(r), bias(r)
			for t := range n {
				out[t*rows+r] = w.k.DotQ8(row, &mm.q8[t]) + b
			}
		}
		return
	}
	if n <= fusedTokens {
		per := in / 16
		for r := lo; r < hi; r++ {
			row := w.row(r)
			for t := range n {
				out[t*rows+r] = w.k.Dot(row, x[t*in:(t+1)*in], mm.sums[t*per:(t+1)*per]) + bias(r)
			}
		}
		return
	}
	buf := mm.scratch[worker][:tileRows*in]
	for r0 := lo; r0 < hi; r0 += tileRows {
		r1 := min(r0+tileRows, hi)
		for r := r0; r < r1; r++ {
			w.k.Dequantize(buf[(r-r0)*in:(r-r0+1)*in], w.row(r))
		}
		for t := range n {
			xt, o := x[t*in:(t+1)*in], out[t*rows:(t+1)*rows]
			for r := r0; r < r1; r++ {
				o[r] = dot(xt, buf[(r-r0)*in:(r-r0+1)*in]) + bias(r)
			}
		}
	}
}

func (mm *matmul) close() { mm.pool.close() }

// funcJob adapts a function to rangeJob for work that runs once per layer
// (attention), where a closure's allocation does not matter.
type funcJob func(worker, i int)

func (f funcJob) runRange(worker, lo, hi int) {
	for i := lo; i < hi; i++ {
		f(worker, i)
	}
}

// defaultWorkers is the number of goroutines a CPU engine computes with.
func defaultWorkers() int { return runtime.GOMAXPROCS(0) }
