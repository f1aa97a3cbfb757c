package cudabackend

import "errors"

// ErrNoDevice wraps the library's "no CUDA device" answers.
var ErrNoDevice = errors.New("no CUDA device")

// DeviceInfo describes one GPU.
type DeviceInfo struct {
	Name              string
	Ordinal           int
	ComputeCapability string
	SMs               int
	TotalBytes        uint64
	FreeBytes         uint64
	MemoryClockKHz    int
	MemoryBusWidth    int
	DriverVersion     int
	RuntimeVersion    int
}
