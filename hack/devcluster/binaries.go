package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kubeinfer/kubeinfer/internal/devpaths"
)

// Versions of the components devcluster runs. k8sVersion must match hack/k8s/go.mod and
// hack/setup-envtest.sh (the kube-apiserver is shared with envtest); kwokVersion must
// match hack/kwok/go.mod.
const (
	k8sVersion  = "1.37.2"
	kwokVersion = "v0.8.0"
)

// binaries are the paths of the programs a devcluster runs.
type binaries struct {
	Etcd, APIServer, ControllerManager, Scheduler, KWOK string
}

// ensureBinaries returns the control-plane binaries, building the missing ones from the
// Go module proxy (minutes on first use per machine). Progress goes to log.
func ensureBinaries(repo string, log io.Writer) (binaries, error) {
	// etcd and kube-apiserver are envtest's, so one build serves both.
	cmd := exec.Command(filepath.Join(repo, "hack", "setup-envtest.sh"))
	cmd.Dir = repo
	cmd.Stderr = log
	out, err := cmd.Output()
	if err != nil {
		return binaries{}, fmt.Errorf("hack/setup-envtest.sh: %w", err)
	}
	envtest := strings.TrimSpace(string(out))
	k8sDir := filepath.Join(devpaths.CacheRoot(), "k8s", k8sVersion)
	kwokDir := filepath.Join(devpaths.CacheRoot(), "kwok", kwokVersion)
	b := binaries{
		Etcd:              filepath.Join(envtest, "etcd"),
		APIServer:         filepath.Join(envtest, "kube-apiserver"),
		ControllerManager: filepath.Join(k8sDir, "kube-controller-manager"),
		Scheduler:         filepath.Join(k8sDir, "kube-scheduler"),
		KWOK:              filepath.Join(kwokDir, "kwok"),
	}
	k8sLDFlags := versionLDFlags("k8s.io/component-base/version", k8sVersion)
	steps := []struct {
		out, moduleDir, pkg, ldflags, estimate string
	}{
		{b.ControllerManager, "hack/k8s", "k8s.io/kubernetes/cmd/kube-controller-manager", k8sLDFlags, "5-10 minutes on 2 cores"},
		{b.Scheduler, "hack/k8s", "k8s.io/kubernetes/cmd/kube-scheduler", k8sLDFlags, "2-4 minutes on 2 cores"},
		{b.KWOK, "hack/kwok", "sigs.k8s.io/kwok/cmd/kwok", "-s -w", "2-4 minutes on 2 cores"},
	}
	for _, s := range steps {
		if err := buildOnce(repo, s.out, s.moduleDir, s.pkg, s.ldflags, s.estimate, log); err != nil {
			return binaries{}, err
		}
	}
	return b, nil
}

// versionLDFlags stamps a Kubernetes command's version the way its release build does, so
// `--version` and the version skew checks see v<version> rather than v0.0.0-master.
func versionLDFlags(pkg, version string) string {
	parts := strings.SplitN(version, ".", 3)
	return fmt.Sprintf("-s -w -X %[1]s.gitVersion=v%[2]s -X %[1]s.gitMajor=%[3]s -X %[1]s.gitMinor=%[4]s -X %[1]s.gitTreeState=clean",
		pkg, version, parts[0], parts[1])
}

// buildOnce builds pkg from the module in moduleDir into out unless out exists. A lock
// file keeps two devclusters or test runs on one machine from building it at once.
func buildOnce(repo, out, moduleDir, pkg, ldflags, estimate string, log io.Writer) error {
	if isExecutable(out) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(filepath.Dir(out), ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it too
	// Whoever held the lock before may have built it.
	if isExecutable(out) {
		return nil
	}
	name := filepath.Base(out)
	fmt.Fprintf(log, "devcluster: building %s from %s (takes %s, once per machine; cached in %s)\n", name, pkg, estimate, filepath.Dir(out))
	start := time.Now()
	tmp := out + ".tmp"
	cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, "-ldflags", ldflags, pkg)
	cmd.Dir = filepath.Join(repo, moduleDir)
	cmd.Stdout, cmd.Stderr = log, log
	// The hack modules are not part of a workspace; a GOWORK or GOFLAGS=-mod=vendor from the
	// caller would break them.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("build %s: %w", name, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Fprintf(log, "devcluster: built %s in %s\n", name, time.Since(start).Round(time.Second))
	return nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
