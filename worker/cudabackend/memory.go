package cudabackend

import (
	"fmt"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
)

// deviceType maps a tensor's GGUF type to what the library accepts as stored.
// The library has kernels for F32, F16, BF16 and Q8_0 only: the other types
// the worker supports (gguf.SupportedTypes) run on the CPU engine until it has
// kernels for them.
func deviceType(t gguf.GGMLType) (int32, error) {
	switch t {
	case gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ8_0:
		return int32(t), nil
	}
	if t.Supported() {
		return 0, fmt.Errorf("tensor type %s has no CUDA kernels yet (the GPU runs F32, F16, BF16 and Q8_0); "+
			"the CPU engine runs it: use --device cpu", t)
	}
	return 0, fmt.Errorf("tensor type %s is not supported (supported: %s)", t, gguf.SupportedTypeNames())
}
