package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The operator sizes models from their headers (worker/modelsize) but must not link
// the inference code: a smaller binary, and a change to the engine cannot break it.
func TestManagerDoesNotLinkInference(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/kubeinfer/kubeinfer/"
	forbidden := []string{"worker/tokenizer", "worker/engine", "worker/scheduler", "worker/server",
		"worker/cudabackend", "worker/load", "worker/fetch", "worker/chattemplate", "worker/narration"}
	deps := strings.Fields(string(out))
	for _, f := range forbidden {
		for _, d := range deps {
			if d == mod+f {
				t.Errorf("cmd/manager links %s", f)
			}
		}
	}
	if !strings.Contains(string(out), mod+"worker/modelsize") {
		t.Errorf("cmd/manager does not link worker/modelsize; its dependencies:\n%s", out)
	}
}
