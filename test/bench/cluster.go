package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubeinfer/kubeinfer/internal/devpaths"
)

// devcluster is one run of `hack/devcluster up` as a child process.
type devcluster struct {
	cmd        *exec.Cmd
	done       chan struct{}
	stateDir   string
	Kubeconfig string
	Config     *rest.Config
}

// kwokConfig tunes KWOK for throughput. KWOK loads ~/.kwok/kwok.yaml before the --config
// that devcluster passes (its stages), so running devcluster with HOME pointing at a
// directory that holds this file changes KWOK's options without touching devcluster.
// KWOK's own client has no rate limit; its stage workers (4 by default) are what caps how
// fast simulated pods go Running.
func kwokConfig(podParallelism, nodeParallelism int) string {
	return fmt.Sprintf(`apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  podPlayStageParallelism: %d
  nodePlayStageParallelism: %d
  nodeLeaseParallelism: %d
`, podParallelism, nodeParallelism, nodeParallelism)
}

// fasterControlPlane makes a KUBEINFER_CACHE whose kube-controller-manager and
// kube-scheduler run the cached ones with a higher client QPS (devcluster leaves their
// defaults: 20/30 per controller-manager controller, 50/100 for the scheduler), and whose
// other binaries are the cached ones.
func fasterControlPlane(dir string, qps int) (string, error) {
	real := devpaths.CacheRoot()
	cache := filepath.Join(dir, "cache")
	k8s := filepath.Join("k8s", k8sVersion)
	kwok := filepath.Join("kwok", kwokVersion, "kwok")
	for _, d := range []string{k8s, filepath.Dir(kwok)} {
		if err := os.MkdirAll(filepath.Join(cache, d), 0o755); err != nil {
			return "", err
		}
	}
	if err := os.Symlink(filepath.Join(real, kwok), filepath.Join(cache, kwok)); err != nil {
		return "", err
	}
	if err := os.Symlink(filepath.Join(real, "envtest"), filepath.Join(cache, "envtest")); err != nil {
		return "", err
	}
	for _, name := range []string{"kube-controller-manager", "kube-scheduler"} {
		script := fmt.Sprintf("#!/bin/sh\nexec %q \"$@\" --kube-api-qps=%d --kube-api-burst=%d\n", filepath.Join(real, k8s, name), qps, 2*qps)
		if err := os.WriteFile(filepath.Join(cache, k8s, name), []byte(script), 0o755); err != nil {
			return "", err
		}
	}
	return cache, nil
}

// Versions of devcluster's cached binaries (hack/devcluster/binaries.go).
const (
	k8sVersion  = "1.37.2"
	kwokVersion = "v0.8.0"
)

// startDevcluster starts devcluster (built into binDir) with the bench's node shape and
// waits for its ready file.
func startDevcluster(ctx context.Context, o options, devclusterBin, dir string) (*devcluster, error) {
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(filepath.Join(home, ".kwok"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(home, ".kwok", "kwok.yaml"),
		[]byte(kwokConfig(o.kwokPodParallelism, o.kwokNodeParallelism)), 0o644); err != nil {
		return nil, err
	}
	stateDir := filepath.Join(dir, "cluster")
	readyFile := filepath.Join(dir, "ready")
	_ = os.Remove(readyFile)
	logf, err := os.Create(filepath.Join(dir, "devcluster.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(devclusterBin, "up",
		"--state-dir", stateDir,
		"--ready-file", readyFile,
		"--gpu-nodes", strconv.Itoa(o.nodes),
		"--gpus-per-node", strconv.Itoa(o.gpusPerNode),
		"--local-gpus", "0",
	)
	cmd.Dir = o.repo
	cmd.Stdout, cmd.Stderr = logf, logf
	// The binaries stay in the user's cache although HOME moves for KWOK's sake.
	cmd.Env = append(os.Environ(), "HOME="+home, "KUBEINFER_CACHE="+devpaths.CacheRoot())
	if o.controlPlaneQPS > 0 {
		cache, err := fasterControlPlane(dir, o.controlPlaneQPS)
		if err != nil {
			return nil, err
		}
		cmd.Env = append(cmd.Env, "KUBEINFER_CACHE="+cache)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	d := &devcluster{cmd: cmd, done: make(chan struct{}), stateDir: stateDir}
	go func() { _ = cmd.Wait(); logf.Close(); close(d.done) }()

	deadline := time.After(5 * time.Minute)
	for {
		if data, err := os.ReadFile(readyFile); err == nil && len(data) > 0 {
			d.Kubeconfig = strings.TrimSpace(string(data))
			break
		}
		select {
		case <-ctx.Done():
			d.stop()
			return nil, ctx.Err()
		case <-d.done:
			return nil, fmt.Errorf("devcluster exited before it was ready:\n%s", tail(logf.Name(), 20))
		case <-deadline:
			d.stop()
			return nil, fmt.Errorf("devcluster not ready after 5 minutes:\n%s", tail(logf.Name(), 20))
		case <-time.After(250 * time.Millisecond):
		}
	}
	d.Config, err = clientcmd.BuildConfigFromFlags("", d.Kubeconfig)
	if err != nil {
		d.stop()
		return nil, err
	}
	// The bench's own client must never be the bottleneck it measures.
	d.Config.QPS, d.Config.Burst = -1, 0
	return d, nil
}

// stop sends SIGTERM to devcluster, which stops its control plane, and waits.
func (d *devcluster) stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(60 * time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
	}
}

// components returns the control-plane processes devcluster started, by name.
func (d *devcluster) components() map[string]int {
	out := map[string]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil || st.ppid != d.cmd.Process.Pid {
			continue
		}
		out[st.comm] = pid
	}
	return out
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		lines = append(lines, s.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// procStat is what /proc/<pid>/stat and status say about a process's cost.
type procStat struct {
	comm      string
	ppid      int
	cpuSecond float64 // utime + stime
	hwmKiB    int64   // VmHWM: peak resident set
	rssKiB    int64   // VmRSS
}

func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	s := string(data)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return procStat{}, errors.New("malformed stat")
	}
	st := procStat{comm: s[open+1 : closing]}
	f := strings.Fields(s[closing+2:])
	// After the comm: state(0) ppid(1) ... utime(11) stime(12), numbered from field 3.
	if len(f) < 13 {
		return procStat{}, errors.New("short stat")
	}
	st.ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	st.cpuSecond = (ut + stime) / 100 // USER_HZ is 100 on Linux
	if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			switch k {
			case "VmHWM":
				st.hwmKiB = n
			case "VmRSS":
				st.rssKiB = n
			}
		}
	}
	return st, nil
}
