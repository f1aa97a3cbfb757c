package cudabackend

import (
	"os"
	"path/filepath"
)

// LibName is the library's file name.
const LibName = "libkubeinfer_cuda.so"

// EnvLib names the environment variable that points at the library.
const EnvLib = "KUBEINFER_CUDA_LIB"

// candidates lists where to look for the library, in order. explicit is the
// --cuda-lib value; env is $KUBEINFER_CUDA_LIB; exe is the running
// executable's path ("" when unknown). An explicit path (flag first, then
// environment) is the only candidate. Otherwise the copy next to the
// executable comes first when it exists, then the bare name, which dlopen
// resolves through LD_LIBRARY_PATH and the loader cache.
func candidates(explicit, env, exe string) []string {
	if explicit != "" {
		return []string{explicit}
	}
	if env != "" {
		return []string{env}
	}
	var out []string
	if exe != "" {
		p := filepath.Join(filepath.Dir(exe), LibName)
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return append(out, LibName)
}

// searchDescription says where candidates looked, for error messages.
func searchDescription(explicit, env, exe string) string {
	switch {
	case explicit != "":
		return explicit + " (--cuda-lib)"
	case env != "":
		return env + " ($" + EnvLib + ")"
	case exe != "":
		return filepath.Dir(exe) + " (next to the executable) or the system library path"
	}
	return "the system library path"
}

func executable() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	return exe
}
