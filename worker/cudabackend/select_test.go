package cudabackend

import (
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
		{model.Hyper{Arch: "llama", SlidingWindow: 4096}, "the CUDA engine does not run llama with a sliding window models yet"},
		{model.Hyper{Arch: "gemma3"}, "the CUDA engine does not run gemma3 models yet"},
		{model.Hyper{Arch: "gptneox"}, "the CUDA engine does not run gptneox models yet"},
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
