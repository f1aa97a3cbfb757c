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

// The official OpenAI Python SDK against a real worker serving the trained model, the Node SDK test's checks
// in Python (testdata/sdk/openai_python.py). The SDK is vendored in third_party/openai-python (the Python
// package index is out of this project's reach; see its README) and runs on Debian's python3 with Debian's
// packages of its dependencies, which hack/python-sdk-deps.sh installs when they are missing.
func TestOpenAIPythonSDK(t *testing.T) {
	python := pythonWithSDKDeps(t)
	sdk, err := filepath.Abs("../../third_party/openai-python")
	if err != nil {
		t.Fatal(err)
	}
	tr := startTrained(t, Config{MaxConcurrent: 16, MaxQueue: 128})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, python, "testdata/sdk/openai_python.py", tr.url+"/v1", "llama-go")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+sdk, "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	t.Logf("results: %s", stdout.String())
	if err != nil {
		t.Fatalf("the Python SDK checks failed: %v\n%s", err, stderr.String())
	}
}

// pythonWithSDKDeps returns Debian's python3 once the SDK's dependencies import, installing them if they do not.
func pythonWithSDKDeps(t *testing.T) string {
	t.Helper()
	const python = "/usr/bin/python3" // Debian's: the packages below are its
	imports := exec.Command(python, "-c", "import httpx, pydantic, anyio, distro, sniffio, tqdm, jsonschema")
	if imports.Run() == nil {
		return python
	}
	out, err := exec.Command("bash", "../../hack/python-sdk-deps.sh").CombinedOutput()
	if err != nil {
		t.Fatalf("the OpenAI Python SDK's dependencies are missing and hack/python-sdk-deps.sh could not install them "+
			"(it needs apt-get and Debian's archive): %v\n%s", err, out)
	}
	return python
}
