//go:build tools

package k8s

// The control-plane commands built from this module: kube-apiserver (envtest, devcluster)
// and kube-controller-manager/kube-scheduler (devcluster). Importing them here keeps their
// dependencies in go.mod/go.sum.
import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
