package cudabackend

import (
	"fmt"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
)

// deviceType maps a tensor's GGUF type to what the library accepts as stored.
func deviceType(t gguf.GGMLType) (int32, error) {
	switch t {
	case gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ8_0:
		return int32(t), nil
	}
	return 0, fmt.Errorf("tensor type %s is not supported on the GPU (F32, F16, BF16, Q8_0)", t)
}
