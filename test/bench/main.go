// Command bench measures the kubeinfer operator at scale (make bench-operator): it starts a
// devcluster with simulated GPU nodes (KWOK), creates many one-GPU InferenceWorkers, and
// reports how long they take to become Ready compared with creating the same Deployments
// and Services directly (the cluster's floor), the operator's API writes per
// InferenceWorker, its peak memory and CPU, and its writes at rest. Then every
// worker pod downloads and loads its model at once, narrating its progress with the
// worker's own code (load.go), and it reports the API writes of the workers and the
// operator per load, the peak write rate, and how long until every InferenceWorker shows
// its model loaded. See README.md.
//
//	go run ./test/bench --workers 1000 --nodes 250 --gpus-per-node 4
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kubeinfer/kubeinfer/internal/devpaths"
)

type options struct {
	repo                string
	dir                 string
	workers             int
	nodes               int
	gpusPerNode         int
	source              string
	phases              []string
	rest                time.Duration
	settle              time.Duration
	timeout             time.Duration
	createParallelism   int
	kwokPodParallelism  int
	kwokNodeParallelism int
	controlPlaneQPS     int
	manager             string
	build               bool
	managerArgs         []string
	// The load phase (load.go), in the operator phase's cluster after its rest window.
	loadPhase        bool
	loadDuration     time.Duration
	downloadDuration time.Duration
	loadTimeout      time.Duration
}

const namespace = "bench"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-operator:", err)
		os.Exit(1)
	}
}

func run() error {
	var o options
	var phases, managerArgs string
	flag.IntVar(&o.workers, "workers", 1000, "InferenceWorkers to create (1 replica, 1 GPU each)")
	flag.IntVar(&o.nodes, "nodes", 250, "simulated GPU nodes (KWOK)")
	flag.IntVar(&o.gpusPerNode, "gpus-per-node", 4, "nvidia.com/gpu capacity of each node")
	flag.StringVar(&o.source, "source", "url", "model source of every InferenceWorker: url (init container fetches it) or pvc (a pre-bound claim)")
	flag.StringVar(&phases, "phases", "floor,operator,load", "phases to run, in order: floor, operator (each on a fresh devcluster), load (every worker loads its model at once, in the operator phase's cluster after its rest window; needs operator)")
	flag.DurationVar(&o.rest, "rest", 60*time.Second, "how long to count the operator's writes at rest once everything is Ready")
	flag.DurationVar(&o.settle, "settle", 10*time.Second, "pause between all Ready and the rest window (Events the operator queued may still be sent)")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up waiting for Ready after this long (per phase)")
	flag.IntVar(&o.createParallelism, "create-parallelism", 16, "concurrent creates by the bench")
	flag.IntVar(&o.kwokPodParallelism, "kwok-pod-parallelism", 16, "KWOK podPlayStageParallelism (KWOK default 4)")
	flag.IntVar(&o.kwokNodeParallelism, "kwok-node-parallelism", 8, "KWOK nodePlayStageParallelism and nodeLeaseParallelism (KWOK default 4)")
	flag.IntVar(&o.controlPlaneQPS, "control-plane-qps", 0, "client QPS of kube-controller-manager and kube-scheduler (burst twice that); 0 keeps devcluster's (their defaults: 20 and 50)")
	flag.StringVar(&o.manager, "manager", "bin/manager", "operator binary (relative to the repository root)")
	flag.BoolVar(&o.build, "build", true, "go build ./cmd/manager into --manager first")
	flag.StringVar(&managerArgs, "manager-args", "", "extra operator flags, space separated (e.g. --zap-log-level=info)")
	flag.DurationVar(&o.loadDuration, "load-duration", 12*time.Second, "load phase: how long each simulated worker's model load takes (0 to 100%), ±15% between workers")
	flag.DurationVar(&o.downloadDuration, "download-duration", 6*time.Second, "load phase: how long each simulated fetch init container downloads before the load (url source), ±15%; 0 skips the download")
	flag.DurationVar(&o.loadTimeout, "load-timeout", 3*time.Minute, "load phase: give up waiting for every InferenceWorker to be loaded and Ready again after this long")
	flag.StringVar(&o.dir, "dir", filepath.Join(os.TempDir(), "kubeinfer-bench-operator"), "work directory: devcluster state, logs, kubeconfigs (emptied per phase)")
	flag.Parse()
	sawOperator := false
	for _, ph := range strings.Split(phases, ",") {
		switch ph = strings.TrimSpace(ph); ph {
		case "load":
			if !sawOperator {
				return fmt.Errorf("--phases: load runs in the operator phase's cluster, so it must follow operator")
			}
			o.loadPhase = true
			continue
		case "operator":
			sawOperator = true
		}
		o.phases = append(o.phases, ph)
	}
	o.managerArgs = strings.Fields(managerArgs)
	if o.source != "url" && o.source != "pvc" {
		return fmt.Errorf("--source must be url or pvc")
	}
	if o.workers > o.nodes*o.gpusPerNode {
		return fmt.Errorf("%d workers need %d GPUs; the cluster has %d", o.workers, o.workers, o.nodes*o.gpusPerNode)
	}
	wd, _ := os.Getwd()
	repo, err := devpaths.RepoRoot(wd)
	if err != nil {
		return err
	}
	o.repo = repo
	if !filepath.IsAbs(o.manager) {
		o.manager = filepath.Join(repo, o.manager)
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}

	// Build what runs: devcluster (into the work dir) and the operator.
	devclusterBin := filepath.Join(o.dir, "devcluster")
	if err := goBuild(repo, devclusterBin, "./hack/devcluster"); err != nil {
		return err
	}
	if o.build {
		if err := goBuild(repo, o.manager, "./cmd/manager"); err != nil {
			return err
		}
	}

	ctx := context.Background()
	var results []*result
	for _, ph := range o.phases {
		var r *result
		var err error
		switch ph {
		case "floor":
			r, err = runFloor(ctx, o, devclusterBin)
		case "operator":
			r, err = runOperator(ctx, o, devclusterBin)
		default:
			return fmt.Errorf("unknown phase %q", ph)
		}
		if err != nil {
			return fmt.Errorf("%s phase: %w", ph, err)
		}
		results = append(results, r)
	}
	printTable(os.Stdout, o, results)
	return nil
}

func goBuild(repo, out, pkg string) error {
	logf("building %s", pkg)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = repo
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

var benchStart = time.Now()

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%7.1fs] %s\n", time.Since(benchStart).Seconds(), fmt.Sprintf(format, args...))
}

// result is what one phase measured.
type result struct {
	phase      string
	created    time.Duration // last create returned
	allReady   time.Duration // apply to all Ready
	p50, p90   time.Duration
	ready      int
	timedOut   bool
	flaps      int
	components map[string]procStat // control plane CPU over the phase
	loadAvg    string
	operator   *operatorResult
	load       *loadResult // the load phase, run in this (the operator) phase's cluster
}

type operatorResult struct {
	writesToReady   int
	writesSettle    []writeRecord
	writesAtRest    []writeRecord
	writeKinds      map[string]int
	readKinds       map[string]int
	failures        map[string]int
	atReady, atEnd  procStat
	startCPU        float64
	reconciles      string
	statusPutsCheck string
}

// startDevclusterRetry starts devcluster, once more if the first start fails: its local
// runner sometimes exits on a conflict writing the local node's status while 250 nodes
// are created ("Operation cannot be fulfilled on nodes \"local\"").
func startDevclusterRetry(ctx context.Context, o options, devclusterBin, dir string) (*devcluster, error) {
	d, err := startDevcluster(ctx, o, devclusterBin, dir)
	if err == nil {
		return d, nil
	}
	logf("devcluster failed to start, trying once more: %v", err)
	if err := os.Rename(filepath.Join(dir, "devcluster.log"), filepath.Join(dir, "devcluster.failed.log")); err != nil {
		return nil, err
	}
	_ = os.RemoveAll(filepath.Join(dir, "assets"))
	_ = os.RemoveAll(filepath.Join(dir, "cache"))
	return startDevcluster(ctx, o, devclusterBin, dir)
}

// phaseDir empties and returns the work directory of a phase.
func phaseDir(o options, name string) (string, error) {
	d := filepath.Join(o.dir, name)
	if err := os.RemoveAll(d); err != nil {
		return "", err
	}
	return d, os.MkdirAll(d, 0o755)
}

// setupNamespace creates the bench namespace and, for the pvc source, a bound claim.
func setupNamespace(ctx context.Context, cs kubernetes.Interface, o options) error {
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if o.source != "pvc" {
		return nil
	}
	pv, pvc := modelsVolume(namespace)
	got, err := cs.CoreV1().PersistentVolumeClaims(namespace).Create(ctx, pvc, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	pv.Spec.ClaimRef.UID = got.UID
	pv.Spec.ClaimRef.ResourceVersion = got.ResourceVersion
	if pv, err = cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		return err
	}
	// No PV controller runs: mark both bound as it would.
	pv.Status.Phase = corev1.VolumeBound
	if _, err := cs.CoreV1().PersistentVolumes().UpdateStatus(ctx, pv, metav1.UpdateOptions{}); err != nil {
		return err
	}
	got.Status.Phase = corev1.ClaimBound
	got.Status.AccessModes = got.Spec.AccessModes
	got.Status.Capacity = pv.Spec.Capacity
	_, err = cs.CoreV1().PersistentVolumeClaims(namespace).UpdateStatus(ctx, got, metav1.UpdateOptions{})
	return err
}

// createAll runs create(i) for every worker with the bench's parallelism and returns how
// long it took.
func createAll(o options, create func(i int) error) (time.Duration, error) {
	return createAllN(o.workers, o.createParallelism, create)
}

// createAllN runs create(i) for i in [0, n) on parallelism goroutines; it stops at the
// first error.
func createAllN(n, parallelism int, create func(i int) error) (time.Duration, error) {
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range parallelism {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := create(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}

// waitReady waits for the tracker with progress lines, up to the timeout.
func waitReady(o options, t *readyTracker, start time.Time, extra func() string) bool {
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	deadline := time.After(o.timeout)
	for {
		select {
		case <-t.done:
			return true
		case <-deadline:
			return false
		case <-tick.C:
			seen, ready := t.counts()
			logf("  %5.0fs: %d seen, %d/%d ready%s", time.Since(start).Seconds(), seen, ready, o.workers, extra())
		}
	}
}

func componentCPU(d *devcluster, before map[string]procStat) map[string]procStat {
	out := map[string]procStat{}
	for name, pid := range d.components() {
		st, err := readStat(pid)
		if err != nil {
			continue
		}
		st.cpuSecond -= before[name].cpuSecond
		out[name] = st
	}
	self, _ := readStat(os.Getpid())
	self.cpuSecond -= before["bench"].cpuSecond
	out["bench"] = self
	return out
}

func componentBaseline(d *devcluster) map[string]procStat {
	out := map[string]procStat{}
	for name, pid := range d.components() {
		if st, err := readStat(pid); err == nil {
			out[name] = st
		}
	}
	self, _ := readStat(os.Getpid())
	out["bench"] = self
	return out
}

func loadAvg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// runFloor creates the operator's children directly and waits for their pods.
func runFloor(ctx context.Context, o options, devclusterBin string) (*result, error) {
	dir, err := phaseDir(o, "floor")
	if err != nil {
		return nil, err
	}
	logf("floor: starting devcluster (%d nodes x %d GPUs) in %s", o.nodes, o.gpusPerNode, dir)
	d, err := startDevclusterRetry(ctx, o, devclusterBin, dir)
	if err != nil {
		return nil, err
	}
	defer d.stop()
	cs, err := kubernetes.NewForConfig(d.Config)
	if err != nil {
		return nil, err
	}
	if err := setupNamespace(ctx, cs, o); err != nil {
		return nil, err
	}
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := newReadyTracker(o.workers)
	trackDeployments(tctx, cs, namespace, t)
	time.Sleep(time.Second) // let the informer list and watch
	base := componentBaseline(d)

	logf("floor: creating %d x (ServiceAccount, Role, RoleBinding, Service, Deployment)", o.workers)
	start := time.Now()
	created, err := createAll(o, func(i int) error {
		name := workerNameOf(i)
		if _, err := cs.CoreV1().ServiceAccounts(namespace).Create(ctx, floorServiceAccount(namespace, name), metav1.CreateOptions{}); err != nil {
			return err
		}
		if _, err := cs.RbacV1().Roles(namespace).Create(ctx, floorRole(namespace, name), metav1.CreateOptions{}); err != nil {
			return err
		}
		if _, err := cs.RbacV1().RoleBindings(namespace).Create(ctx, floorRoleBinding(namespace, name), metav1.CreateOptions{}); err != nil {
			return err
		}
		if _, err := cs.CoreV1().Services(namespace).Create(ctx, floorService(namespace, name), metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := cs.AppsV1().Deployments(namespace).Create(ctx, floorDeployment(namespace, name, o.source), metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return nil, err
	}
	logf("floor: created in %s; waiting for all Deployments ready", created.Round(time.Millisecond))
	ok := waitReady(o, t, start, func() string { return "" })
	r := &result{phase: "floor", created: created, timedOut: !ok, loadAvg: loadAvg()}
	r.finishTimes(t, start)
	r.components = componentCPU(d, base)
	logf("floor: %d/%d ready in %s", r.ready, o.workers, r.allReady.Round(time.Millisecond))
	return r, nil
}

func (r *result) finishTimes(t *readyTracker, start time.Time) {
	_, r.ready = t.counts()
	r.allReady = t.percentile(start, 1)
	r.p50 = t.percentile(start, 0.5)
	r.p90 = t.percentile(start, 0.9)
	t.mu.Lock()
	r.flaps = t.flaps
	t.mu.Unlock()
}

// runOperator runs the operator and creates InferenceWorkers.
func runOperator(ctx context.Context, o options, devclusterBin string) (*result, error) {
	dir, err := phaseDir(o, "operator")
	if err != nil {
		return nil, err
	}
	logf("operator: starting devcluster (%d nodes x %d GPUs) in %s", o.nodes, o.gpusPerNode, dir)
	d, err := startDevclusterRetry(ctx, o, devclusterBin, dir)
	if err != nil {
		return nil, err
	}
	defer d.stop()
	cs, err := kubernetes.NewForConfig(d.Config)
	if err != nil {
		return nil, err
	}
	dc, err := dynamic.NewForConfig(d.Config)
	if err != nil {
		return nil, err
	}
	if err := installCRD(ctx, dc, o.repo); err != nil {
		return nil, fmt.Errorf("install CRD: %w", err)
	}
	if err := setupNamespace(ctx, cs, o); err != nil {
		return nil, err
	}

	proxy, err := newCountingProxy(d.Config)
	if err != nil {
		return nil, err
	}
	defer proxy.Close()
	kubeconfig := filepath.Join(dir, "operator.kubeconfig")
	if err := proxy.WriteKubeconfig(kubeconfig); err != nil {
		return nil, err
	}
	metricsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	op, err := startOperator(o, dir, kubeconfig, metricsPort)
	if err != nil {
		return nil, err
	}
	defer op.stop()
	startCPU := 0.0
	if st, err := readStat(op.pid()); err == nil {
		startCPU = st.cpuSecond
	}
	logf("operator: running (pid %d, %.2f CPU s to start), %d writes before any InferenceWorker", op.pid(), startCPU, proxy.Writes())
	writesBefore := proxy.Writes()

	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := newReadyTracker(o.workers)
	trackInferenceWorkers(tctx, dc, namespace, t)
	time.Sleep(time.Second)
	base := componentBaseline(d)

	logf("operator: creating %d InferenceWorkers (source %s)", o.workers, o.source)
	start := time.Now()
	created, err := createAll(o, func(i int) error {
		_, err := dc.Resource(iwResource).Namespace(namespace).Create(ctx, inferenceWorker(namespace, workerNameOf(i), o.source), metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return nil, err
	}
	logf("operator: created in %s; waiting for all Ready=True", created.Round(time.Millisecond))
	ok := waitReady(o, t, start, func() string {
		st, _ := readStat(op.pid())
		return fmt.Sprintf(", operator writes %d, CPU %.1fs", proxy.Writes()-writesBefore, st.cpuSecond)
	})
	r := &result{phase: "operator", created: created, timedOut: !ok}
	r.finishTimes(t, start)
	r.components = componentCPU(d, base)
	r.loadAvg = loadAvg()
	or := &operatorResult{startCPU: startCPU}
	r.operator = or
	readyWrites := proxy.Writes()
	or.writesToReady = readyWrites - writesBefore
	or.atReady, _ = readStat(op.pid())
	logf("operator: %d/%d ready in %s, %d writes; settling %s, then counting writes for %s at rest",
		r.ready, o.workers, r.allReady.Round(time.Millisecond), or.writesToReady, o.settle, o.rest)

	time.Sleep(o.settle)
	settled := proxy.Writes()
	or.writesSettle = proxy.WritesSince(readyWrites)[:settled-readyWrites]
	time.Sleep(o.rest)
	or.writesAtRest = proxy.WritesSince(settled)
	or.writeKinds, or.readKinds, or.failures = proxy.Snapshot()
	or.atEnd, _ = readStat(op.pid())
	or.reconciles = scrapeOperatorMetrics(metricsPort)
	or.statusPutsCheck = crossCheckStatusWrites(ctx, cs, or.writeKinds)
	if o.loadPhase {
		logf("load: every InferenceWorker's pod downloads and loads its model at once")
		if r.load, err = runLoad(ctx, o, d, cs, dc, proxy, op, metricsPort); err != nil {
			return nil, fmt.Errorf("load phase: %w", err)
		}
	}
	return r, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// installCRD creates the InferenceWorker CRD from config/crd/bases and waits for it.
func installCRD(ctx context.Context, dc dynamic.Interface, repo string) error {
	files, err := filepath.Glob(filepath.Join(repo, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs in config/crd/bases: %v", err)
	}
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	var names []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(data, &u.Object); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if _, err := dc.Resource(crds).Create(ctx, u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		names = append(names, u.GetName())
	}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, n := range names {
			u, err := dc.Resource(crds).Get(ctx, n, metav1.GetOptions{})
			if err != nil || !conditionTrue(u, "Established") {
				return false, nil
			}
		}
		// The established CRD still takes a moment to be served.
		_, err := dc.Resource(iwResource).Namespace("default").List(ctx, metav1.ListOptions{Limit: 1})
		return err == nil, nil
	})
}

// operatorProc is the running operator.
type operatorProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func (p *operatorProc) pid() int { return p.cmd.Process.Pid }

func startOperator(o options, dir, kubeconfig string, metricsPort int) (*operatorProc, error) {
	// Run a copy, so a rebuild of bin/manager by someone else mid-run changes nothing.
	bin := filepath.Join(dir, "manager")
	data, err := os.ReadFile(o.manager)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "manager.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--kubeconfig=" + kubeconfig,
		"--health-probe-bind-address=0",
		"--metrics-bind-address=127.0.0.1:" + strconv.Itoa(metricsPort),
		"--metrics-secure=false",
	}, o.managerArgs...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	p := &operatorProc{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); logFile.Close(); close(p.done) }()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return nil, fmt.Errorf("operator exited:\n%s", tail(logPath, 20))
		case <-time.After(200 * time.Millisecond):
		}
		if data, _ := os.ReadFile(logPath); strings.Contains(string(data), "Starting workers") {
			return p, nil
		}
	}
	p.stop()
	return nil, fmt.Errorf("operator did not start its workers in 2 minutes:\n%s", tail(logPath, 20))
}

func (p *operatorProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// scrapeOperatorMetrics summarizes controller-runtime's reconcile metrics.
func scrapeOperatorMetrics(port int) string {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return "metrics: " + err.Error()
	}
	defer resp.Body.Close()
	want := regexp.MustCompile(`^(controller_runtime_reconcile_total|controller_runtime_reconcile_errors_total|controller_runtime_reconcile_time_seconds_(sum|count)|workqueue_adds_total|workqueue_retries_total|controller_runtime_max_concurrent_reconciles|workqueue_queue_duration_seconds_(sum|count)|rest_client_requests_total)\{`)
	var lines []string
	s := bufio.NewScanner(resp.Body)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := s.Text()
		if !want.MatchString(line) || strings.HasSuffix(line, " 0") {
			continue
		}
		if strings.HasPrefix(line, "workqueue") && !strings.Contains(line, `name="inferenceworker"`) {
			continue
		}
		lines = append(lines, "    "+line)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// crossCheckStatusWrites compares the proxy's count of InferenceWorker status writes with
// the API server's apiserver_request_total, where only the operator writes that
// subresource.
func crossCheckStatusWrites(ctx context.Context, cs kubernetes.Interface, writes map[string]int) string {
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return "apiserver metrics: " + err.Error()
	}
	var server int
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "apiserver_request_total{") && strings.Contains(line, `resource="inferenceworkers"`) &&
			strings.Contains(line, `subresource="status"`) && (strings.Contains(line, `verb="PUT"`) || strings.Contains(line, `verb="PATCH"`) || strings.Contains(line, `verb="APPLY"`)) {
			f := strings.Fields(line)
			n, _ := strconv.ParseFloat(f[len(f)-1], 64)
			server += int(n)
		}
	}
	var proxied int
	for k, v := range writes {
		if strings.HasSuffix(k, "inferenceworkers.inference.kubeinfer.dev/status") {
			proxied += v
		}
	}
	verdict := "agree"
	if server != proxied {
		verdict = "DIFFER"
	}
	return fmt.Sprintf("InferenceWorker status writes: proxy %d, kube-apiserver apiserver_request_total %d (%s)", proxied, server, verdict)
}

func printTable(w io.Writer, o options, results []*result) {
	var floor, op *result
	for _, r := range results {
		switch r.phase {
		case "floor":
			floor = r
		case "operator":
			op = r
		}
	}
	cpQPS := "default"
	if o.controlPlaneQPS > 0 {
		cpQPS = strconv.Itoa(o.controlPlaneQPS)
	}
	fmt.Fprintf(w, "\nbench-operator: %d InferenceWorkers (1 replica, 1 GPU, %s source) on %d KWOK nodes x %d GPUs; KWOK pod/node parallelism %d/%d; controller-manager/scheduler QPS %s; %d concurrent creates; operator %s %s\n\n",
		o.workers, o.source, o.nodes, o.gpusPerNode, o.kwokPodParallelism, o.kwokNodeParallelism, cpQPS, o.createParallelism, o.manager, strings.Join(o.managerArgs, " "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	sec := func(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }
	fmt.Fprintln(tw, "phase\tcreated in\tp50 ready\tp90 ready\tall ready\tready\tload avg (1/5/15m) at end")
	for _, r := range results {
		suffix := ""
		if r.timedOut {
			suffix = " (TIMED OUT)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\t%d/%d\t%s\n", r.phase, sec(r.created), sec(r.p50), sec(r.p90), sec(r.allReady), suffix, r.ready, o.workers, r.loadAvg)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tvalue\tgoal")
	if floor != nil && op != nil && floor.allReady > 0 {
		ratio := op.allReady.Seconds() / floor.allReady.Seconds()
		fmt.Fprintf(tw, "apply -> all Ready, operator / floor\t%.2f (%s / %s)\t<= 1.5 %s\n", ratio, sec(op.allReady), sec(floor.allReady), verdict(ratio <= 1.5))
	}
	if op != nil && op.operator != nil {
		or := op.operator
		fmt.Fprintf(tw, "operator API writes per InferenceWorker (apply -> all Ready)\t%.2f (%d)\t\n", float64(or.writesToReady)/float64(o.workers), or.writesToReady)
		fmt.Fprintf(tw, "operator writes in the %s settle after all Ready\t%d\t\n", o.settle, len(or.writesSettle))
		fmt.Fprintf(tw, "operator writes during %s at rest\t%d\t0 %s\n", o.rest, len(or.writesAtRest), verdict(len(or.writesAtRest) == 0))
		fmt.Fprintf(tw, "operator peak RSS (VmHWM)\t%.0f MiB\t\n", float64(or.atEnd.hwmKiB)/1024)
		fmt.Fprintf(tw, "operator CPU: start / apply -> Ready / total at end\t%.1fs / %.1fs / %.1fs\t\n", or.startCPU, or.atReady.cpuSecond-or.startCPU, or.atEnd.cpuSecond)
		fmt.Fprintf(tw, "InferenceWorkers that went Ready and back (flaps)\t%d\t\n", op.flaps)
	}
	tw.Flush()
	if op != nil && op.load != nil {
		printLoad(w, op.load)
	}
	for _, r := range results {
		fmt.Fprintf(w, "\n%s: CPU seconds per process over the phase (apply -> all Ready):\n", r.phase)
		var names []string
		for n := range r.components {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(w, "    %-26s %7.1fs  (RSS peak %4.0f MiB)\n", n, r.components[n].cpuSecond, float64(r.components[n].hwmKiB)/1024)
		}
	}
	if op != nil && op.operator != nil {
		or := op.operator
		fmt.Fprintf(w, "\noperator writes by verb and resource (whole run):\n%s", formatCounts(or.writeKinds, o.workers))
		fmt.Fprintf(w, "operator reads by verb and resource (whole run):\n%s", formatCounts(or.readKinds, o.workers))
		if len(or.failures) > 0 {
			fmt.Fprintf(w, "operator requests that failed (kind -> HTTP code):\n%s", formatCounts(or.failures, o.workers))
		}
		fmt.Fprintf(w, "cross-check: %s\n", or.statusPutsCheck)
		for _, list := range []struct {
			name string
			ws   []writeRecord
		}{{"settle", or.writesSettle}, {"rest", or.writesAtRest}} {
			for i, wr := range list.ws {
				if i == 20 {
					fmt.Fprintf(w, "    ... %d more\n", len(list.ws)-20)
					break
				}
				fmt.Fprintf(w, "  %s write: %s %s %s\n", list.name, wr.at.Format("15:04:05.000"), wr.verb, wr.path)
			}
		}
		fmt.Fprintf(w, "operator metrics at end:\n%s\n", or.reconciles)
	}
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}
