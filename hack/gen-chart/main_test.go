package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubeinfer/kubeinfer/internal/devpaths"
)

// helm is the Helm binary built from its Go module (hack/prereqs.sh, cached per machine).
func helm(t *testing.T, root string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(root, "hack", "prereqs.sh"), "--path", "helm")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/prereqs.sh --path helm: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, _ := os.Getwd()
	root, err := devpaths.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func runCmd(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// objects parses a multi-document stream into objects keyed "Kind namespace/name".
func objects(t *testing.T, data []byte) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, doc := range splitDocs(data) {
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			t.Fatalf("parse %q: %v", doc, err)
		}
		if obj == nil {
			continue // a document of comments only
		}
		meta, _ := obj["metadata"].(map[string]any)
		out[fmt.Sprintf("%v %v/%v", obj["kind"], meta["namespace"], meta["name"])] = obj
	}
	return out
}

// normalize drops what differs by design: the labels each tool adds to say who manages
// an object, and its release.
func normalize(obj map[string]any) {
	meta, _ := obj["metadata"].(map[string]any)
	labels, _ := meta["labels"].(map[string]any)
	for _, k := range chartLabelKeys {
		delete(labels, k)
	}
	if len(labels) == 0 {
		delete(meta, "labels")
	}
	if ann, _ := meta["annotations"].(map[string]any); ann != nil {
		delete(ann, "helm.sh/resource-policy")
	}
}

// TestChartMatchesKustomize: `helm template` of the chart with the default values (and
// config/'s image placeholders) yields the same objects as `kubectl kustomize
// config/default`, less its Namespace (Helm installs into the release's) and the labels
// that say which tool manages them. A change to config/ that the chart lacks, or the
// reverse, fails here.
func TestChartMatchesKustomize(t *testing.T) {
	root := repoRoot(t)
	rendered := runCmd(t, root, helm(t, root), "template", "kubeinfer", "charts/kubeinfer", "--namespace", kustomizeNamespace,
		"--set", "image.repository=controller,image.tag=latest,worker.image.repository=worker,worker.image.tag=latest")
	built := runCmd(t, root, "kubectl", "kustomize", "config/default")
	chart, config := objects(t, rendered), objects(t, built)
	delete(config, "Namespace <nil>/"+kustomizeNamespace)

	var keys []string
	for k := range config {
		keys = append(keys, k)
	}
	for k := range chart {
		if _, ok := config[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		c, inConfig := config[k]
		h, inChart := chart[k]
		switch {
		case !inChart:
			t.Errorf("%s is in config/default but not in the chart", k)
			continue
		case !inConfig:
			t.Errorf("%s is in the chart but not in config/default", k)
			continue
		}
		normalize(c)
		normalize(h)
		if !reflect.DeepEqual(c, h) {
			cy, _ := yaml.Marshal(c)
			hy, _ := yaml.Marshal(h)
			t.Errorf("%s differs between config/default and the chart:\n%s", k, lineDiff(string(cy), string(hy)))
		}
	}
	t.Logf("compared %d objects", len(keys))
}

// lineDiff lists the lines only one side has, marked - (config) and + (chart).
func lineDiff(a, b string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	ca, cb := count(a), count(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if cb[l] > 0 {
			cb[l]--
			continue
		}
		out = append(out, "- "+l)
	}
	for _, l := range strings.Split(b, "\n") {
		if ca[l] > 0 {
			ca[l]--
			continue
		}
		out = append(out, "+ "+l)
	}
	return strings.Join(out, "\n")
}

// TestChartRendersItsOptions: the values README documents render to valid objects: a
// PodMonitor with credentials, plain-HTTP metrics, no metrics, a node cache directory,
// no CRD; and `helm lint --strict` passes.
func TestChartRendersItsOptions(t *testing.T) {
	root := repoRoot(t)
	h := helm(t, root)
	runCmd(t, root, h, "lint", "--strict", "charts/kubeinfer")
	cases := []struct {
		name string
		set  string
		want []string // substrings of the rendering
		not  []string
	}{
		{"defaults", "", []string{"kind: CustomResourceDefinition", "helm.sh/resource-policy: keep", "--leader-elect",
			"image: ghcr.io/kubeinfer/kubeinfer-operator:0.1.0", "--worker-image=ghcr.io/kubeinfer/kubeinfer-worker:0.1.0"},
			[]string{"kind: PodMonitor", "--node-cache-dir"}},
		{"pod monitor", "metrics.podMonitor.enabled=true,metrics.podMonitor.bearerTokenSecret.name=prometheus-token,metrics.podMonitor.labels.release=prom",
			[]string{"kind: PodMonitor", "scheme: https", "name: prometheus-token", "release: prom"}, nil},
		{"plain metrics", "metrics.secure=false,metrics.port=8080,metrics.podMonitor.enabled=true",
			[]string{"--metrics-secure=false", "--metrics-bind-address=:8080", "name: http"}, []string{"scheme: https"}},
		{"no metrics", "metrics.enabled=false", []string{"--metrics-bind-address=0"}, []string{"kind: Service\n"}},
		{"operator settings", "nodeCacheDir=/data/models,maxConcurrentReconciles=16,leaderElection=false,image.tag=v1,worker.image.tag=v1,env[0].name=HF_ENDPOINT,env[0].value=https://hf-mirror.example",
			[]string{"--node-cache-dir=/data/models", "--max-concurrent-reconciles=16", "kubeinfer-operator:v1", "kubeinfer-worker:v1",
				"name: HF_ENDPOINT", "value: https://hf-mirror.example"},
			[]string{"--leader-elect"}},
		{"no CRD", "crds.install=false", nil, []string{"kind: CustomResourceDefinition"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"template", "kubeinfer", "charts/kubeinfer", "--namespace", "ops"}
			if c.set != "" {
				args = append(args, "--set", c.set)
			}
			out := string(runCmd(t, root, h, args...))
			objects(t, []byte(out)) // valid YAML
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("rendering lacks %q", w)
				}
			}
			for _, n := range c.not {
				if strings.Contains(out, n) {
					t.Errorf("rendering has %q", n)
				}
			}
		})
	}
}

// TestGeneratedTemplatesAreCurrent: the committed crds.yaml and rbac.yaml are what the
// generator writes now (make test checks the same with git diff after make manifests).
func TestGeneratedTemplatesAreCurrent(t *testing.T) {
	root := repoRoot(t)
	crds, err := renderCRDs(root, crdDir)
	if err != nil {
		t.Fatal(err)
	}
	rbac, err := renderRBAC(runCmd(t, root, "kubectl", "kustomize", "config/default"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"crds.yaml": crds, "rbac.yaml": rbac} {
		got, err := os.ReadFile(filepath.Join(root, chartTemplates, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s/%s is stale: run make manifests", chartTemplates, name)
		}
	}
}
