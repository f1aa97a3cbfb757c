// Package gitops holds the GitOps end-to-end test: a real Argo CD, built from
// its Go module (test/gitops/tools), syncs InferenceWorkers from a local Git repository
// into a devcluster where the kubeinfer operator runs and the worker pods really load
// their models. It is behind the build tag "gitops", so `go test ./...` skips it:
//
//	make test-gitops    # go test -tags gitops ./test/gitops -run TestGitOps -v -timeout 40m
//
// See README.md in this directory.
package gitops
