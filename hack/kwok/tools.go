//go:build tools

// Package kwok exists only so this directory is a Go module whose go.mod/go.sum pin the
// KWOK command that devcluster builds (see hack/devcluster/binaries.go).
package kwok

import _ "sigs.k8s.io/kwok/cmd/kwok"
