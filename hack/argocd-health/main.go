// Command argocd-health writes config/argocd/argocd-cm.yaml, the argocd-cm snippet that
// installs config/argocd/health.lua as Argo CD's health check for InferenceWorkers, so
// the script and the snippet never differ. Run from the repository root:
//
//	go run ./hack/argocd-health
package main

import (
	"fmt"
	"os"
	"strings"
)

const (
	scriptPath  = "config/argocd/health.lua"
	snippetPath = "config/argocd/argocd-cm.yaml"
	// healthKey is the argocd-cm key Argo CD reads a resource's health script from.
	healthKey = "resource.customizations.health.inference.kubeinfer.dev_InferenceWorker"
)

// renderSnippet embeds the Lua script as a YAML block scalar in an argocd-cm ConfigMap.
func renderSnippet(script string) string {
	var b strings.Builder
	b.WriteString(`# Generated from config/argocd/health.lua by "go run ./hack/argocd-health". DO NOT EDIT.
# Merge into Argo CD's argocd-cm, e.g.
#   kubectl -n argocd patch configmap argocd-cm --type merge --patch-file config/argocd/argocd-cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: argocd
  labels:
    app.kubernetes.io/name: argocd-cm
    app.kubernetes.io/part-of: argocd
data:
`)
	fmt.Fprintf(&b, "  %s: |\n", healthKey)
	for _, line := range strings.Split(strings.TrimRight(script, "\n"), "\n") {
		if line == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("    " + line + "\n")
	}
	return b.String()
}

func main() {
	script, err := os.ReadFile(scriptPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "argocd-health: %v (run from the repository root)\n", err)
		os.Exit(1)
	}
	if err := os.WriteFile(snippetPath, []byte(renderSnippet(string(script))), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "argocd-health: %v\n", err)
		os.Exit(1)
	}
}
