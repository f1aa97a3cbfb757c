package cudabackend

import (
	"fmt"
	"os"
	"strings"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// Devices the --device flag accepts.
const (
	DeviceAuto = "auto"
	DeviceCPU  = "cpu"
	DeviceCUDA = "cuda"
)

// Select picks the engine for the --device flag value:
//
//   - "cpu": the CPU engine.
//   - "cuda": the CUDA engine, or Available's / Open's error (library not
//     found, no CUDA device, model does not fit), never a silent fallback.
//   - "auto" (or ""): the CUDA engine when Available; otherwise the CPU engine,
//     with note saying why CUDA was not used. A model that does not fit on
//     the GPU is still an error: the operator sized the pod for the GPU.
//
// note is empty unless the choice deserves a log line.
func Select(m *model.Model, device string, opts Options) (b engine.Backend, note string, err error) {
	switch device {
	case DeviceCPU:
		b, err = newCPU(m, opts)
		return b, cpuKVNote(opts), err
	case DeviceCUDA:
		if err := Available(opts.LibPath); err != nil {
			return nil, "", fmt.Errorf("--device cuda: %w", err)
		}
		if err := Runs(m.Hyper); err != nil {
			return nil, "", fmt.Errorf("--device cuda: %w", err)
		}
		b, err = Open(m, opts)
		return b, "", err
	case DeviceAuto, "":
		if aerr := Available(opts.LibPath); aerr != nil {
			b, err = newCPU(m, opts)
			return b, strings.TrimSpace(fmt.Sprintf("CUDA unavailable (%v); using the CPU engine. %s", aerr, cpuKVNote(opts))), err
		}
		if rerr := Runs(m.Hyper); rerr != nil {
			b, err = newCPU(m, opts)
			return b, fmt.Sprintf("%v; using the CPU engine", rerr), err
		}
		b, err = Open(m, opts)
		return b, "", err
	}
	return nil, "", fmt.Errorf("unknown device %q (want cpu, cuda or auto)", device)
}

// cudaArchs are the architectures the CUDA library computes: every one the
// worker loads, sliding windows included (the attention kernels read the
// window's part of each sequence's KV blocks).
var cudaArchs = map[string]bool{
	"llama": true, "qwen2": true, "qwen3": true, "gemma2": true, "gemma3": true, "phi3": true,
	"gpt2": true, "gptneox": true, "phi2": true, "starcoder2": true,
}

// Runs says whether the CUDA engine computes the model's architecture; one it
// does not runs on the CPU engine (auto) or is refused (cuda).
func Runs(h model.Hyper) error {
	if !cudaArchs[h.Arch] {
		return fmt.Errorf("the CUDA engine does not run %s models yet", h.Arch)
	}
	return nil
}

// EnvCPUMatvecInt8 set to "0" keeps the serving CPU engine's products with
// K-quant weights in float32 (engine.CPUOptions.MatvecInt8), as the GPU's
// KUBEINFER_CUDA_MATVEC_INT8=0 does there.
const EnvCPUMatvecInt8 = "KUBEINFER_CPU_MATVEC_INT8"

// newCPU is the CPU engine with the KV cache the same options give the GPU, in
// tokens (Auto stores it as float32 there), rounding activations to int8 for
// K-quant weights as llama.cpp does unless EnvCPUMatvecInt8 is "0".
func newCPU(m *model.Model, opts Options) (engine.Backend, error) {
	c, err := engine.NewCPU(m, engine.CPUOptions{KVCacheTokens: opts.Memory.WithDefaults(m.Hyper).KVCacheTokens,
		KVType: opts.Memory.KVType, MatvecInt8: os.Getenv(EnvCPUMatvecInt8) != "0"})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// cpuKVNote says what a KV cache type asked of the CPU engine does there: the
// numerics, not the memory (empty for Auto and F32, which need no word).
func cpuKVNote(opts Options) string {
	kt := opts.Memory.KVType.Or(kvcache.F32)
	if kt == kvcache.F32 {
		return ""
	}
	return fmt.Sprintf("The CPU engine rounds keys and values to %s as a GPU stores them, but keeps them as float32: the KV cache type saves GPU memory only.", kt)
}
