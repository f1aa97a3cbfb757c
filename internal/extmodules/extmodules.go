// Package extmodules finds, in the Go module cache, the files of the other projects that the
// tests check kubeinfer against: their CRDs and their protocol documents. The versions are
// the ones go.mod requires (the tests read the projects' Go types too), so go.mod is the one
// place that pins them. Nothing here is linked into the binaries: the operator writes these
// projects' objects as unstructured data and discovers whether their CRDs are installed.
package extmodules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/kubeinfer/kubeinfer/internal/devpaths"
)

// The modules.
const (
	// GatewayAPIInferenceExtension ships the InferencePool CRD (inference.networking.k8s.io/v1)
	// and the model server protocol that endpoint pickers read.
	GatewayAPIInferenceExtension = "sigs.k8s.io/gateway-api-inference-extension"
	// PrometheusOperatorAPI holds the monitoring.coreos.com Go types, from which the project
	// generates its CRDs with controller-gen (the module ships no CRD files, and the
	// repository's root module, whose example/ has them, is not served by the module proxy).
	PrometheusOperatorAPI = "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring"
	// KEDA ships the ScaledObject CRD (keda.sh/v1alpha1) that config/samples/keda is checked against.
	KEDA = "github.com/kedacore/keda/v2"
)

// pinned are modules the tests read files of but no Go code imports, at the version pinned
// here rather than in go.mod: requiring them would pull their whole dependency graph (and
// its k8s.io versions) into the operator's build for a few YAML files.
var pinned = map[string]string{
	KEDA: "v2.21.0",
}

// Module is a module as go.mod requires it.
type Module struct{ Path, Version, Dir string }

var cache sync.Map // path → Module

// Find is the module go.mod requires, downloaded into the module cache if need be.
func Find(path string) (Module, error) {
	if m, ok := cache.Load(path); ok {
		return m.(Module), nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return Module{}, err
	}
	root, err := devpaths.RepoRoot(wd)
	if err != nil {
		return Module{}, err
	}
	var m Module
	steps := [][]string{{"list", "-m", "-json", path}, {"mod", "download", "-json", path}}
	if v, ok := pinned[path]; ok {
		steps = [][]string{{"mod", "download", "-json", path + "@" + v}}
	}
	for _, args := range steps {
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return Module{}, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		if err := json.Unmarshal(out, &m); err != nil {
			return Module{}, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
		}
		if m.Dir != "" { // listed and already in the module cache
			break
		}
	}
	if m.Dir == "" {
		return Module{}, fmt.Errorf("%s: not in the module cache after go mod download (go.mod must require it)", path)
	}
	cache.Store(path, m)
	return m, nil
}

// File is a file of the module, e.g. File(GatewayAPIInferenceExtension, "config/crd/bases/inference.networking.k8s.io_inferencepools.yaml").
func File(module, path string) (string, error) {
	m, err := Find(module)
	if err != nil {
		return "", err
	}
	p := filepath.Join(m.Dir, filepath.FromSlash(path))
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s@%s has no %s: %w", m.Path, m.Version, path, err)
	}
	return p, nil
}
