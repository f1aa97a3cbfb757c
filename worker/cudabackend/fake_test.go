//go:build cgo && linux

package cudabackend

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/internal/kicabi"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// fakeSource is a stand-in for libkubeinfer_cuda.so written from the library's header, so it has
// exactly the ABI's symbols: it answers as the real library does on a machine without a GPU. With
// -DMISSING_FORWARD it lacks kic_forward; -DABI_SKEW=n shifts its ABI version.
func fakeSource(t *testing.T) string {
	t.Helper()
	header, err := os.ReadFile(filepath.Join("..", "..", kicabi.HeaderPath))
	if err != nil {
		t.Fatal(err)
	}
	funcs, err := kicabi.Parse(string(header))
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{
		"kic_abi_version":  "return KIC_ABI_VERSION + ABI_SKEW;",
		"kic_version":      `return "fake";`,
		"kic_last_error":   "return err;",
		"kic_device_count": "*count = 0; return no_device();",
	}
	var b strings.Builder
	b.WriteString(`#include "kubeinfer_cuda.h"
static __thread const char *err = "";
static kic_status no_device(void) {
	err = "no CUDA device: fake library (cudaErrorNoDevice)";
	return KIC_ERR_NO_DEVICE;
}
`)
	for _, f := range funcs {
		body, ok := bodies[f.Name]
		switch {
		case ok:
		case f.Return == "kic_status":
			body = "return no_device();"
		case f.Return == "void":
			body = ""
		default:
			body = "return 0;"
		}
		var params []string
		for _, p := range f.Params {
			params = append(params, p.Type+" "+p.Name)
		}
		if len(params) == 0 {
			params = []string{"void"}
		}
		if f.Name == "kic_forward" {
			b.WriteString("#ifndef MISSING_FORWARD\n")
		}
		fmt.Fprintf(&b, "%s %s(%s) { %s }\n", f.Return, f.Name, strings.Join(params, ", "), body)
		if f.Name == "kic_forward" {
			b.WriteString("#endif\n")
		}
	}
	return b.String()
}

// buildFake compiles the fake library into dir/name with extra gcc flags.
func buildFake(t *testing.T, dir, name string, flags ...string) string {
	t.Helper()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Fatalf("no C compiler: %v", err)
	}
	src := filepath.Join(dir, name+".c")
	if err := os.WriteFile(src, []byte(fakeSource(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	args := append([]string{"-shared", "-fPIC", "-Wall", "-Werror", "-Wno-unused-parameter", "-I../../cuda/include",
		"-DABI_SKEW=0", "-o", out, src}, flags...)
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
