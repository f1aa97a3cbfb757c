//go:build tools

// Package tools exists only so this directory is a Go module whose go.mod/go.sum pin the
// Argo CD multi-call binary that test/gitops builds (see test/gitops/binaries_test.go).
package tools

import _ "github.com/argoproj/argo-cd/v3/cmd"
