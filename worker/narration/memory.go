package narration

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// ProcessMemory is the worker's MemoryProbe. On the CPU engine it is the resident memory,
// which is where the model's weights live there. On a GPU ("GPU0", "GPU1", ...) it is what
// the driver says this process holds on that device, asked through NVML, and on the GPUs of
// a split model ("GPU0,GPU1") the most it holds on any of them; without the driver's answer
// there is no figure, so no VRAM is ever invented.
func ProcessMemory(device string) (mib int64, kind string, ok bool) {
	if strings.HasPrefix(device, "GPU") {
		var most uint64
		for _, d := range strings.Split(device, ",") {
			idx, err := strconv.Atoi(strings.TrimPrefix(d, "GPU"))
			if err != nil || !strings.HasPrefix(d, "GPU") {
				return 0, "", false
			}
			used, ok := gpuMemoryOfProcess(idx, os.Getpid())
			if !ok {
				return 0, "", false
			}
			most = max(most, used)
		}
		return int64((most + 1<<20 - 1) >> 20), "VRAM", true
	}
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
