package server

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubeinfer/kubeinfer/internal/devpaths"
)

// The official OpenAI Node SDK against a real worker serving the trained
// model: chat, streams, n and seeds, json_schema over 100 seeds validated by
// Ajv, a tool round trip, embeddings, errors and models.
// hack/fetch-sdk-clients.sh installs the SDK from the npm registry into the
// user cache; the test runs it when the SDK is missing and fails when that
// does not help, as a skipped SDK test would pass unnoticed.
func TestOpenAINodeSDK(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("the Node SDK test needs node: %v", err)
	}
	modules := sdkModules(t)
	tr := startTrained(t, Config{MaxConcurrent: 16, MaxQueue: 128})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, "testdata/sdk/openai_node.mjs", tr.url+"/v1", "llama-go")
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	t.Logf("results: %s", stdout.String())
	if err != nil {
		t.Fatalf("the Node SDK checks failed: %v\n%s", err, stderr.String())
	}
}

// sdkModules returns the node_modules directory with the SDK, fetching it
// if it is missing.
func sdkModules(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KUBEINFER_SDK_CACHE")
	if dir == "" {
		dir = filepath.Join(devpaths.CacheRoot(), "sdk-node")
	}
	modules := filepath.Join(dir, "node_modules")
	want := filepath.Join(modules, "openai", "package.json")
	if _, err := os.Stat(want); err == nil {
		return modules
	}
	var out bytes.Buffer
	cmd := exec.Command("bash", "../../hack/fetch-sdk-clients.sh")
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if _, statErr := os.Stat(want); statErr != nil {
		t.Fatalf("the OpenAI Node SDK is missing and hack/fetch-sdk-clients.sh could not install it "+
			"(it needs npm and the npm registry): %v\n%s", fmt.Errorf("%v; %v", err, statErr), out.String())
	}
	return modules
}
