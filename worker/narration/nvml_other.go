//go:build !(cgo && linux)

package narration

// gpuMemoryOfProcess needs NVML, which needs cgo; without it there is no driver figure.
func gpuMemoryOfProcess(idx, pid int) (uint64, bool) { return 0, false }
