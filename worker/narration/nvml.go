//go:build cgo && linux

package narration

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// gpuMemoryOfProcess asks the driver (NVML, loaded at run time: the binary does not link
// it) how many bytes process pid holds on GPU idx. ok is false without a driver, without
// that GPU, or when the driver does not list pid, as happens in a container whose PID
// namespace the driver cannot see.
func gpuMemoryOfProcess(idx, pid int) (used uint64, ok bool) {
	if ret := nvml.Init(); ret != nvml.SUCCESS {
		return 0, false
	}
	defer nvml.Shutdown()
	dev, ret := nvml.DeviceGetHandleByIndex(idx)
	if ret != nvml.SUCCESS {
		return 0, false
	}
	procs, ret := dev.GetComputeRunningProcesses()
	if ret != nvml.SUCCESS {
		return 0, false
	}
	for _, p := range procs {
		if int(p.Pid) == pid {
			return p.UsedGpuMemory, true
		}
	}
	return 0, false
}
