package cudabackend

import (
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/model"
)

func TestRuns(t *testing.T) {
	for _, c := range []struct {
		h    model.Hyper
		want string
	}{
		{model.Hyper{Arch: "llama"}, ""},
		{model.Hyper{Arch: "qwen2"}, ""},
		{model.Hyper{Arch: "gpt2"}, ""},
		{model.Hyper{Arch: "llama", SlidingWindow: 4096}, ""},
		{model.Hyper{Arch: "gemma3", SlidingWindow: 1024}, ""},
		{model.Hyper{Arch: "gptneox"}, ""},
		{model.Hyper{Arch: "mamba"}, "the CUDA engine does not run mamba models yet"},
	} {
		err := Runs(c.h)
		if got := ""; err != nil {
			got = err.Error()
			if got != c.want {
				t.Errorf("Runs(%s, window %d) = %q, want %q", c.h.Arch, c.h.SlidingWindow, got, c.want)
			}
		} else if c.want != "" {
			t.Errorf("Runs(%s, window %d) = nil, want %q", c.h.Arch, c.h.SlidingWindow, c.want)
		}
	}
}

// The GPU tests (gpu_test.go) compare the CUDA engine with the CPU engine on every fidelity fixture the CUDA
// engine runs: each architecture it runs, and sliding windows, must have one, or it would go unchecked there.
func TestFidelityFixturesCoverTheCUDAArchitectures(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "fidelity", "*.gguf"))
	covered := map[string]bool{}
	for _, p := range paths {
		m, err := model.Load(p, "")
		if err != nil {
			t.Fatal(err)
		}
		h := m.Hyper
		m.Close()
		if Runs(h) != nil {
			continue
		}
		covered[h.Arch] = true
		if h.SlidingWindow > 0 {
			covered["sliding window"] = true
		}
	}
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	for _, arch := range append(slices.Sorted(maps.Keys(cudaArchs)), "sliding window") {
		if !covered[arch] {
			t.Errorf("no fidelity fixture the CUDA engine runs has %s", arch)
		}
	}
}
