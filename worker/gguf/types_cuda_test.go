package gguf_test

import (
	"testing"

	"github.com/kubeinfer/kubeinfer/cuda/layout"
	"github.com/kubeinfer/kubeinfer/worker/gguf"
)

// The CUDA library's table of the types it takes (cuda/layout/types.h, compiled here) says
// what this package's table says of each: name, elements and bytes per block; and it takes
// every type the worker supports.
func TestCUDATypesMatchTheTable(t *testing.T) {
	if !layout.Available {
		t.Fatal("this test compiles cuda/layout/types.h: run it with cgo (CGO_ENABLED=1 and a C compiler)")
	}
	inCUDA := map[gguf.GGMLType]bool{}
	for _, lt := range layout.Types() {
		g := gguf.GGMLType(lt.DType)
		inCUDA[g] = true
		if g.String() != lt.Name || g.BlockSize() != uint64(lt.Block) || g.BlockBytes() != uint64(lt.BlockBytes) {
			t.Errorf("types.h row %+v; gguf says %s, %d elements, %d bytes", lt, g, g.BlockSize(), g.BlockBytes())
		}
		if !g.Supported() {
			t.Errorf("types.h takes %s, which the worker does not support", lt.Name)
		}
	}
	for _, g := range gguf.SupportedTypes() {
		if !inCUDA[g] {
			t.Errorf("the worker supports %s but the CUDA library's table lacks it", g)
		}
	}
}
