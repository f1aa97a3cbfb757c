// Package devpaths says where the project's development tools keep things: the
// per-machine cache that every clone of the repository shares (tools built from
// source, reference data), and the repository's root. hack/cache-dir.sh is the
// same rule for the shell scripts.
package devpaths

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
)

// CacheRoot is $KUBEINFER_CACHE, else $XDG_CACHE_HOME/kubeinfer, else ~/.cache/kubeinfer.
func CacheRoot() string {
	if d := os.Getenv("KUBEINFER_CACHE"); d != "" {
		return d
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "kubeinfer")
}

// RepoRoot walks up from dir to the directory of the root module's go.mod.
func RepoRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module github.com/kubeinfer/kubeinfer\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("not inside the kubeinfer repository (no go.mod of github.com/kubeinfer/kubeinfer above " + dir + ")")
		}
	}
}
