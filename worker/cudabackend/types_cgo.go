//go:build cgo && linux

package cudabackend

import (
	"fmt"
	"strings"

	"github.com/kubeinfer/kubeinfer/cuda/layout"
	"github.com/kubeinfer/kubeinfer/worker/gguf"
)

// deviceType maps a tensor's GGUF type to what the library accepts as stored: the types of
// cuda/layout/types.h, the library's own table, compiled in.
func deviceType(t gguf.GGMLType) (int32, error) {
	var names []string
	for _, lt := range layout.Types() {
		if lt.DType == int(t) {
			return int32(t), nil
		}
		names = append(names, lt.Name)
	}
	if t.Supported() {
		return 0, fmt.Errorf("tensor type %s has no CUDA kernels (the GPU runs %s); the CPU engine runs it: use --device cpu",
			t, strings.Join(names, ", "))
	}
	return 0, fmt.Errorf("tensor type %s is not supported (supported: %s)", t, gguf.SupportedTypeNames())
}
