//go:build cgo && linux

package cudabackend

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/model"
)

// buildFake compiles testdata/fake.c into dir/name with extra gcc flags.
func buildFake(t *testing.T, dir, name string, flags ...string) string {
	t.Helper()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("no C compiler: %v", err)
	}
	out := filepath.Join(dir, name)
	args := append([]string{"-shared", "-fPIC", "-I../../cuda/include", "-DABI_SKEW=0", "-o", out, "testdata/fake.c"}, flags...)
	if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", cc, args, err, b)
	}
	return out
}

// The fake library goes through the real dlopen/dlsym path and answers as the
// real one does on a machine without a GPU.
func TestAvailableNoDevice(t *testing.T) {
	lib := buildFake(t, t.TempDir(), LibName)
	err := Available(lib)
	if !errors.Is(err, ErrNoDevice) {
		t.Fatalf("Available = %v, want ErrNoDevice", err)
	}
	if want := "no CUDA device: fake library (cudaErrorNoDevice)"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	m, err := model.Load("../testdata/fidelity/gpt2.gguf", "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := Open(m, Options{LibPath: lib}); !errors.Is(err, ErrNoDevice) {
		t.Errorf("Open without a device: %v", err)
	}
	for _, dev := range []string{"cuda", "auto"} {
		b, note, err := Select(m, dev, Options{LibPath: lib})
		switch dev {
		case "cuda":
			if err == nil || !strings.HasPrefix(err.Error(), "--device cuda: no CUDA device: ") {
				t.Errorf("Select cuda: %v", err)
			}
		case "auto":
			if err != nil || b.Name() != "cpu" || !strings.Contains(note, "no CUDA device") {
				t.Errorf("Select auto = %v, %q, %v", b, note, err)
			}
		}
	}
}

func TestAvailableFromEnvironment(t *testing.T) {
	lib := buildFake(t, t.TempDir(), "custom.so")
	t.Setenv(EnvLib, lib)
	if err := Available(""); !errors.Is(err, ErrNoDevice) {
		t.Fatalf("Available via $%s = %v, want ErrNoDevice (the library was found)", EnvLib, err)
	}
}

func TestAvailableNotFound(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope", LibName)
	err := Available(missing)
	if err == nil || errors.Is(err, ErrNoDevice) {
		t.Fatalf("Available(%s) = %v", missing, err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, LibName+" not found in "+missing+" (--cuda-lib)") || !strings.Contains(msg, "dlopen") {
		t.Errorf("message %q", msg)
	}

	t.Setenv(EnvLib, "")
	t.Setenv("LD_LIBRARY_PATH", t.TempDir())
	err = Available("")
	if err == nil {
		t.Skip("a libkubeinfer_cuda.so is installed on this machine")
	}
	if !strings.Contains(err.Error(), "not found in ") || !strings.Contains(err.Error(), "the system library path") {
		t.Errorf("message %q", err)
	}
}

func TestRejectsForeignLibraries(t *testing.T) {
	dir := t.TempDir()
	lib := buildFake(t, dir, "missing.so", "-DMISSING_FORWARD")
	if err := Available(lib); err == nil || !strings.Contains(err.Error(), "symbol kic_forward is missing") {
		t.Errorf("library without kic_forward: %v", err)
	}
	skew := buildFake(t, dir, "skew.so", "-UABI_SKEW", "-DABI_SKEW=1")
	if err := Available(skew); err == nil || !strings.Contains(err.Error(), "ABI version") {
		t.Errorf("library of another ABI version: %v", err)
	}
}
