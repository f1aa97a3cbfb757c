// Package k8s exists only so this directory is a Go module whose go.mod/go.sum pin
// the Kubernetes control-plane sources used by hack/setup-envtest.sh.
package k8s
