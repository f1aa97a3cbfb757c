package narration

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// ProcessMemory is the MemoryProbe of the CPU engine: the worker's resident memory, which
// is where the model's weights live there. A GPU device reports nothing until a probe
// that asks the driver (NVML) is plugged in by the CUDA backend, so no VRAM figure is
// ever invented.
func ProcessMemory(device string) (mib int64, kind string, ok bool) {
	if device != "CPU" {
		return 0, "", false
	}
	kib, ok := residentKiB("/proc/self/status")
	if !ok {
		return 0, "", false
	}
	return kib / 1024, "RAM", true
}

// residentKiB reads VmRSS from a /proc/<pid>/status file.
func residentKiB(path string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "VmRSS:") {
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(line, "VmRSS:"))
		if len(fields) == 0 {
			return 0, false
		}
		v, err := strconv.ParseInt(fields[0], 10, 64)
		return v, err == nil
	}
	return 0, false
}
