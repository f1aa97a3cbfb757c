package cudabackend

import "github.com/kubeinfer/kubeinfer/worker/memplan"

// Options configure Open.
type Options struct {
	// LibPath is the --cuda-lib value: the library to load instead of
	// searching ($KUBEINFER_CUDA_LIB, next to the executable, system paths).
	LibPath string
	// Device is the CUDA device ordinal.
	Device int
	// Memory sizes the KV pool, the batch and the scratch; the memory plan
	// (memplan.ForModel) of the same options is what Open checks and allocates.
	Memory memplan.Options
	// DisableGraphs runs decode steps without CUDA graph capture.
	DisableGraphs bool
}

// Sampling chooses how SampleLast picks tokens on the GPU.
type Sampling struct {
	Temperature float32 // <= 0: greedy
	TopK        int
	TopP        float32
	Seed, Step  uint64
}
