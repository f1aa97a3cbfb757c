package cudabackend

import (
	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
)

// Options configure Open.
type Options struct {
	// LibPath is the --cuda-lib value: the library to load instead of
	// searching ($KUBEINFER_CUDA_LIB, next to the executable, system paths).
	LibPath string
	// Device is the CUDA device ordinal (of the first GPU, with GPUs > 1).
	Device int
	// GPUs is how many GPUs the model is split over with tensor parallelism:
	// devices Device to Device+GPUs-1, rank r on the r-th (worker/shard's
	// plan). 0 means 1, the model on one GPU.
	GPUs int
	// Memory sizes the KV pool, the batch and the scratch; the memory plan
	// (memplan.ForModel) of the same options is what Open checks and allocates.
	Memory memplan.Options
	// DisableGraphs runs decode steps without CUDA graph capture.
	DisableGraphs bool
	// SeparatePrefill prefills one sequence's chunk a pass: PrefillBatch
	// answers engine.ErrNoBatchPrefill, so prompts that arrive together no
	// longer share the weight reads (engine.BatchPrefiller). A measurement
	// knob, also set by EnvBatchPrefill=0.
	SeparatePrefill bool
	// MixedSteps carries prefill chunks in decode steps (StepMixed; else it
	// answers engine.ErrNoMixedStep and a prompt arriving among running
	// streams takes a pass of its own), also set by EnvMixedStep=1; off with
	// SeparatePrefill. Off by default: on the H200 (1B shape) a 128-token
	// prompt among 64 streams cost them 4.59 ms in one step against 5.12 ms
	// apart (BenchmarkMixedStep), but serving 64 streams made 21,291 tok/s
	// with it against 22,091 without, and the median time to first token
	// went from 14 to 26 ms. The mixed pass runs without a CUDA graph, which
	// is where the time is: the 64 streams' decode step alone takes 3.76 ms
	// a pass launched stage by stage (KUBEINFER_CUDA_PROFILE=1) against
	// 2.06 ms from its graph.
	MixedSteps bool
}

// EnvBatchPrefill set to "0" turns batched prefill off (Options.SeparatePrefill).
const EnvBatchPrefill = "KUBEINFER_GPU_BATCH_PREFILL"

// EnvMixedStep set to "1" turns mixed steps on (Options.MixedSteps).
const EnvMixedStep = "KUBEINFER_GPU_MIXED_STEP"

// EnvGPUMask set to "0" turns constrained decoding's masking on the GPU off
// (Backend.MasksOnDevice): constrained greedy rows then copy their logits to
// the host, which masks them, as it does for sampled ones; a way around a
// fault on the device.
const EnvGPUMask = "KUBEINFER_GPU_MASK"

// Sampling chooses how SampleLast picks a row's token on the GPU.
type Sampling = engine.RowSampling
