// Package devenv runs the whole product on one machine: a devcluster (hack/devcluster:
// control plane, simulated GPU nodes and the "local" node whose pods run as processes),
// the InferenceWorker CRD and the operator (bin/manager) as a local process, or, with
// Options.Helm, both installed by `helm install` of charts/kubeinfer (helm.go). `make
// demo` (hack/demo) and `make test-e2e` (test/e2e, with the chart) are built on it.
//
// Every process it starts runs in its own process group with Pdeathsig=SIGKILL, and Stop
// stops them in reverse order, so nothing is left behind, even after a kill -9.
package devenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// Scheme knows the built-in kinds and InferenceWorker.
var Scheme = runtime.NewScheme()

func init() {
	_ = clientgoscheme.AddToScheme(Scheme)
	_ = inferencev1alpha1.AddToScheme(Scheme)
}

// FindRepo walks up from the working directory to the kubeinfer module's root.
func FindRepo() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module github.com/kubeinfer/kubeinfer\n")) {
			return d, nil
		}
		if d == filepath.Dir(d) {
			return "", fmt.Errorf("no kubeinfer repository above %s", wd)
		}
	}
}

// Build builds bin/manager and bin/kubeinfer-worker (`make build`), bin/devcluster, and
// the devcluster's control-plane binaries (cached per machine; the first build takes
// about ten minutes on two cores). Progress goes to log.
func Build(ctx context.Context, repo string, log io.Writer) error {
	steps := []struct {
		what string
		args []string
	}{
		{"bin/manager and bin/kubeinfer-worker (make build)", []string{"make", "--no-print-directory", "build"}},
		{"bin/devcluster", []string{"go", "build", "-o", filepath.Join(repo, "bin", "devcluster"), "./hack/devcluster"}},
		{"the control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (cached per machine; the first build takes ~10 minutes)",
			[]string{filepath.Join(repo, "bin", "devcluster"), "build"}},
	}
	for _, s := range steps {
		start := time.Now()
		fmt.Fprintf(log, "building %s\n", s.what)
		cmd := exec.CommandContext(ctx, s.args[0], s.args[1:]...)
		cmd.Dir = repo
		// The devcluster build prints a line before and after each component it builds; its
		// stdout (the binaries' paths) is not news.
		cmd.Stdout, cmd.Stderr = io.Discard, &prefixWriter{w: log, prefix: "  "}
		if s.args[0] == "make" {
			cmd.Stdout = &prefixWriter{w: log, prefix: "  "}
		}
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s: %w", s.what, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			fmt.Fprintf(log, "  built in %s\n", d.Round(time.Second))
		}
	}
	return nil
}

// Options say what cluster to start.
type Options struct {
	Repo     string
	StateDir string // default <repo>/.devcluster
	// GPUNodes simulated (KWOK) GPU nodes of GPUsPerNode GPUs each; LocalGPUs is the
	// nvidia.com/gpu capacity of the local node, whose pods really run.
	GPUNodes, GPUsPerNode, LocalGPUs int
	// RestartBackoff is the local node's first CrashLoopBackOff delay (default 10s).
	RestartBackoff time.Duration
	// WorkerImage is the operator's --worker-image when it runs as a process (the chart
	// keeps its default): the local node runs bin/kubeinfer-worker whatever the image says.
	WorkerImage string
	// ManagerArgs are added to the operator's command line, e.g. a shorter --autoscaling-interval
	// (with Helm, as the chart's extraArgs).
	ManagerArgs []string
	// Helm, when set, installs the operator with the chart (see HelmOptions) instead of
	// the CRD with kubectl and bin/manager as a process.
	Helm *HelmOptions
	Log  io.Writer
}

// Env is a running devcluster with the CRD installed and the operator running.
type Env struct {
	Repo, StateDir, BinDir string
	Kubeconfig             string
	RESTConfig             *rest.Config
	Client                 client.Client
	Clientset              kubernetes.Interface

	log   io.Writer
	mu    sync.Mutex
	procs []*Proc
	// operatorNamespace is where the chart installed the operator; "" when it runs as a process.
	operatorNamespace string
}

// Start builds nothing (see Build): it starts the devcluster, waits for it, installs the
// CRD and starts the operator. On error everything started is stopped again.
func Start(ctx context.Context, o Options) (_ *Env, err error) {
	if o.StateDir == "" {
		o.StateDir = filepath.Join(o.Repo, ".devcluster")
	}
	if o.WorkerImage == "" {
		o.WorkerImage = "ghcr.io/kubeinfer/kubeinfer-worker:dev"
	}
	if o.RestartBackoff == 0 {
		o.RestartBackoff = 10 * time.Second
	}
	e := &Env{Repo: o.Repo, StateDir: o.StateDir, BinDir: filepath.Join(o.Repo, "bin"), log: o.Log}
	defer func() {
		if err != nil {
			e.Stop()
		}
	}()
	ready := filepath.Join(o.StateDir, "ready")
	_ = os.Remove(ready)
	if err := os.MkdirAll(o.StateDir, 0o755); err != nil {
		return nil, err
	}
	// devcluster's output goes to our log until it is ready, then to <state>/logs (it
	// empties its state dir on start, so the file can only be made once it is up).
	dcOut := &switchWriter{w: &prefixWriter{w: o.Log, prefix: "  "}}
	dc, err := e.startProcess("devcluster", dcOut, nil,
		filepath.Join(e.BinDir, "devcluster"), "up",
		"--state-dir", o.StateDir,
		"--gpu-nodes", strconv.Itoa(o.GPUNodes), "--gpus-per-node", strconv.Itoa(o.GPUsPerNode),
		"--local-gpus", strconv.Itoa(o.LocalGPUs),
		"--restart-backoff", o.RestartBackoff.String())
	if err != nil {
		return nil, err
	}
	start := time.Now()
	fmt.Fprintf(o.Log, "starting devcluster: %d GPU nodes x %d GPUs (KWOK), local node with %d GPU\n",
		o.GPUNodes, o.GPUsPerNode, o.LocalGPUs)
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 5*time.Minute, true, func(context.Context) (bool, error) {
		if dc.Exited() {
			return false, fmt.Errorf("devcluster exited: %v", dc.Err())
		}
		_, err := os.Stat(ready)
		return err == nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("devcluster not ready: %w", err)
	}
	dc.LogPath = filepath.Join(o.StateDir, "logs", "devcluster.log")
	if f, err := os.Create(dc.LogPath); err == nil {
		dcOut.switchTo(f)
	}
	e.Kubeconfig = filepath.Join(o.StateDir, "admin.kubeconfig")
	fmt.Fprintf(o.Log, "devcluster ready in %s: export KUBECONFIG=%s\n", time.Since(start).Round(100*time.Millisecond), e.Kubeconfig)
	if e.RESTConfig, err = clientcmd.BuildConfigFromFlags("", e.Kubeconfig); err != nil {
		return nil, err
	}
	e.RESTConfig.QPS, e.RESTConfig.Burst = 50, 100
	if e.Clientset, err = kubernetes.NewForConfig(e.RESTConfig); err != nil {
		return nil, err
	}
	if e.Client, err = client.New(e.RESTConfig, client.Options{Scheme: Scheme}); err != nil {
		return nil, err
	}

	// The operator reads autoscaled workers' /metrics at their pod IPs, which lead to the
	// local node's pods only through devcluster's pod proxy.
	podProxy, err := freeAddress()
	if err != nil {
		return nil, err
	}
	if _, err := e.StartProcess("pod-proxy", filepath.Join(o.StateDir, "logs", "pod-proxy.log"), nil,
		filepath.Join(e.BinDir, "devcluster"), "pod-proxy", "--listen", podProxy); err != nil {
		return nil, err
	}
	if o.Helm != nil {
		return e, e.installChart(ctx, o, "http://"+podProxy)
	}
	fmt.Fprintln(o.Log, "installing the InferenceWorker CRD: kubectl apply --server-side -k config/crd")
	if _, err := e.Kubectl(ctx, nil, "apply", "--server-side", "-k", filepath.Join(o.Repo, "config", "crd")); err != nil {
		return nil, err
	}
	if _, err := e.Kubectl(ctx, nil, "wait", "--for", "condition=established", "--timeout", "60s",
		"crd/inferenceworkers.inference.kubeinfer.dev"); err != nil {
		return nil, err
	}

	mgr, err := e.StartProcess("manager", filepath.Join(o.StateDir, "logs", "manager.log"),
		[]string{"KUBECONFIG=" + e.Kubeconfig, "HTTP_PROXY=http://" + podProxy},
		filepath.Join(e.BinDir, "manager"), append([]string{"--worker-image", o.WorkerImage,
			"--health-probe-bind-address", "0", "--metrics-bind-address", "0"}, o.ManagerArgs...)...)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Log, "operator running: bin/manager --worker-image %s (pid %d, log: %s)\n", o.WorkerImage, mgr.Pid(), mgr.LogPath)
	return e, nil
}

// Kubectl runs the real kubectl against the cluster and returns its stdout; an error
// carries its stderr.
func (e *Env) Kubectl(ctx context.Context, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.Kubeconfig)
	cmd.Dir = e.Repo
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out.String(), nil
}

// Devcluster runs a devcluster subcommand (add-node, ...) against this cluster.
func (e *Env) Devcluster(ctx context.Context, sub string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(e.BinDir, "devcluster"), append([]string{sub, "--state-dir", e.StateDir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("devcluster %s: %w: %s", sub, err, out)
	}
	return string(out), nil
}

// Proxy starts `devcluster proxy` for a Service on a free local port and returns the
// OpenAI base URL through it. Stop ends it.
func (e *Env) Proxy(ctx context.Context, ns, svc string) (string, error) {
	addr, err := freeAddress()
	if err != nil {
		return "", err
	}
	p, err := e.StartProcess("proxy-"+svc, filepath.Join(e.StateDir, "logs", "proxy-"+ns+"-"+svc+".log"), nil,
		filepath.Join(e.BinDir, "devcluster"), "proxy", "--state-dir", e.StateDir, "--service", svc, "-n", ns, "--listen", addr)
	if err != nil {
		return "", err
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		if p.Exited() {
			return false, fmt.Errorf("devcluster proxy exited: %s", Tail(p.LogPath, 5))
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil, nil
	})
	if err != nil {
		return "", err
	}
	return "http://" + addr + "/v1", nil
}

// PVCDir is where the local node finds the files of a PersistentVolumeClaim.
func (e *Env) PVCDir(ns, claim string) string {
	return filepath.Join(e.StateDir, "pvc", ns, claim)
}

// CreateModelsPVC creates a PersistentVolumeClaim bound to a hostPath PersistentVolume at
// PVCDir(ns, claim). The devcluster runs no volume binder, so both are created bound, as
// the binder would leave them; the scheduler then places pods that mount the claim.
func (e *Env) CreateModelsPVC(ctx context.Context, ns, claim string) error {
	dir := e.PVCDir(ns, claim)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	size := resource.MustParse("10Gi")
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "devenv-" + ns + "-" + claim},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadOnlyMany, corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir}},
			ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: ns, Name: claim},
		},
	}
	if err := e.Client.Create(ctx, pv); err != nil {
		return fmt.Errorf("create PersistentVolume %s: %w", pv.Name, err)
	}
	pv.Status.Phase = corev1.VolumeBound
	if err := e.Client.Status().Update(ctx, pv); err != nil {
		return err
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: claim, Namespace: ns,
			Annotations: map[string]string{"pv.kubernetes.io/bind-completed": "yes"}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadOnlyMany},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
			VolumeName:       pv.Name,
			StorageClassName: ptr.To(""),
		},
	}
	if err := e.Client.Create(ctx, pvc); err != nil {
		return fmt.Errorf("create PersistentVolumeClaim %s/%s: %w", ns, claim, err)
	}
	pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound,
		AccessModes: pvc.Spec.AccessModes, Capacity: corev1.ResourceList{corev1.ResourceStorage: size}}
	return e.Client.Status().Update(ctx, pvc)
}

// CopyFile copies src to dst, creating dst's directory.
func CopyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// Stop stops every process started, newest first: proxies, the operator, then the
// devcluster, which stops its pods and control plane.
func (e *Env) Stop() {
	e.mu.Lock()
	procs := e.procs
	e.procs = nil
	e.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].Stop(90 * time.Second)
	}
}

// Pids are the processes Env started that still run (none after Stop).
func (e *Env) Pids() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []int
	for _, p := range e.procs {
		if !p.Exited() {
			out = append(out, p.Pid())
		}
	}
	return out
}

// Proc is a process Env started, in its own process group.
type Proc struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
}

// StartProcess starts a program with its output in logPath; Stop stops it.
func (e *Env) StartProcess(name, logPath string, env []string, path string, args ...string) (*Proc, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	p, err := e.startProcess(name, logf, env, path, args...)
	if err != nil {
		return nil, err
	}
	p.LogPath = logPath
	return p, nil
}

func (e *Env) startProcess(name string, logf io.WriteCloser, env []string, path string, args ...string) (*Proc, error) {
	cmd := exec.Command(path, args...)
	cmd.Dir = e.Repo
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so Ctrl-C reaches only us and we stop it in order; killed by
	// the kernel if we die first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	e.mu.Lock()
	e.procs = append(e.procs, p)
	e.mu.Unlock()
	return p, nil
}

func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited says whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is the process's exit error once it has ended.
func (p *Proc) Err() error {
	<-p.done
	return p.err
}

// Stop sends SIGTERM to the process group, SIGKILL after grace, and waits.
func (p *Proc) Stop(grace time.Duration) {
	pid := p.cmd.Process.Pid
	if !p.Exited() {
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-p.done
		}
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// Tail returns the last n lines of a file.
func Tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ProcessAlive says whether pid is a running (not zombie) process.
func ProcessAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesized command name.
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// prefixWriter indents each line written through it.
type prefixWriter struct {
	w      io.Writer
	prefix string
	mu     sync.Mutex
	buf    bytes.Buffer
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	for {
		line, err := p.buf.ReadString('\n')
		if err != nil {
			p.buf.Reset()
			p.buf.WriteString(line)
			return len(b), nil
		}
		fmt.Fprint(p.w, p.prefix+line)
	}
}

// switchWriter writes to one writer, then to a file from switchTo on; it closes the file.
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
	f  *os.File
}

func (s *switchWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

func (s *switchWriter) switchTo(f *os.File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w, s.f = f, f
}

func (s *switchWriter) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		return s.f.Close()
	}
	return nil
}

// ProcessesUsing returns the processes (other than this one) whose command line or
// environment names dir: after Stop, none of a devcluster's may be left.
func ProcessesUsing(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() || !ProcessAlive(pid) {
			continue
		}
		for _, f := range []string{"cmdline", "environ"} {
			data, _ := os.ReadFile(filepath.Join("/proc", ent.Name(), f))
			if bytes.Contains(data, []byte(dir+"/")) || bytes.Contains(data, []byte(dir+"\x00")) {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// Describe is a process's command line, for reports of processes left behind.
func Describe(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return fmt.Sprintf("%d %s", pid, strings.TrimSpace(strings.ReplaceAll(string(data), "\x00", " ")))
}

// freeAddress is a loopback address with a port free now.
func freeAddress() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
