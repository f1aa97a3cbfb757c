package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubeinfer/kubeinfer/hack/devcluster/localrunner"
)

// Address ranges. Nothing routes them (there is no kube-proxy or CNI): the Service range
// only gives ClusterIPs to Services, KWOK hands pod IPs on GPU nodes out of podCIDR, and
// pods on the local node get loopback addresses (see localrunner).
const (
	serviceCIDR = "10.96.0.0/16"
	clusterCIDR = "10.244.0.0/16"
	// kwokPodCIDR is the part of clusterCIDR KWOK allocates simulated pod IPs from; the
	// local node uses the upper half (see localrunner.LocalAddress).
	kwokPodCIDR = "10.244.0.0/17"
	// saIssuer is the service account token issuer, the in-cluster API server name.
	saIssuer = "https://kubernetes.default.svc.cluster.local"

	// kwokNodeAnnotation marks the nodes KWOK simulates; the local node does not have it.
	kwokNodeAnnotation = "kwok.x-k8s.io/node"
)

// The controllers a devcluster needs for Deployments, Services and namespaces.
var controllers = []string{
	"deployment-controller",
	"replicaset-controller",
	"garbage-collector-controller",
	"namespace-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	"endpointslice-controller",
	"pod-garbage-collector-controller",
	// Removes the not-ready taint the API server puts on new nodes once they are Ready.
	"node-lifecycle-controller",
	// Publishes kube-root-ca.crt, which service account token volumes project.
	"root-ca-certificate-publisher-controller",
}

//go:embed kwok/stages.yaml
var kwokStages string

type config struct {
	StateDir     string
	BinDir       string // where the local runner finds container commands
	GPUNodes     int
	GPUsPerNode  int
	GPUProduct   string
	GPUMemoryMiB int64
	LocalGPUs    int
	// RestartBackoff is the local runner's first CrashLoopBackOff delay (kubelet: 10s).
	RestartBackoff time.Duration
	Log            io.Writer
}

// cluster is a running devcluster.
type cluster struct {
	cfg        config
	pki        *pki
	procs      []*proc
	Kubeconfig string
	Host       string // API server URL
	RESTConfig *rest.Config
	Client     kubernetes.Interface
	runner     *localrunner.Runner
	cancel     context.CancelFunc
	// Exited is closed when a control-plane process exits on its own.
	Exited chan string
}

// proc is one control-plane process, in its own process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// startCluster starts etcd, the control plane, KWOK and the local runner, and returns once
// the cluster can run pods. On error everything started is stopped again.
func startCluster(ctx context.Context, cfg config, bins binaries) (_ *cluster, err error) {
	if err := resetStateDir(cfg.StateDir); err != nil {
		return nil, err
	}
	c := &cluster{cfg: cfg, Exited: make(chan string, 8)}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	if err := c.writePKI(); err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdClient, etcdPeer, apiPort := ports[0], ports[1], ports[2]
	c.Host = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	kubeconfigs := map[string][2]string{ // file: user, cert
		"admin":                   {"kubernetes-admin", "admin"},
		"kube-controller-manager": {"system:kube-controller-manager", "kube-controller-manager"},
		"kube-scheduler":          {"system:kube-scheduler", "kube-scheduler"},
	}
	for name, uc := range kubeconfigs {
		if err := c.writeKubeconfig(filepath.Join(cfg.StateDir, name+".kubeconfig"), uc[0], uc[1]); err != nil {
			return nil, err
		}
	}
	c.Kubeconfig = filepath.Join(cfg.StateDir, "admin.kubeconfig")
	p := c.pki.path

	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(etcdPeer)
	if err := c.spawn("etcd", bins.Etcd,
		"--name=devcluster",
		"--data-dir="+filepath.Join(cfg.StateDir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=devcluster="+peerURL,
		"--logger=zap", "--log-level=warn",
	); err != nil {
		return nil, err
	}
	if err := c.spawn("kube-apiserver", bins.APIServer,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(apiPort),
		"--tls-cert-file="+p("apiserver.crt"), "--tls-private-key-file="+p("apiserver.key"),
		"--client-ca-file="+p("ca.crt"),
		"--service-account-issuer="+saIssuer,
		"--service-account-key-file="+p("sa.pub"),
		"--service-account-signing-key-file="+p("sa.key"),
		"--service-cluster-ip-range="+serviceCIDR,
		"--authorization-mode=Node,RBAC",
		"--allow-privileged=true",
		// WatchList turns a watch from resourceVersion "" or "0" into a watch-list stream,
		// which needs etcd progress notifications that Debian's etcd 3.4 lacks: such watches
		// (KWOK's) end at once and their clients only catch up on relists, with backoff.
		"--feature-gates=WatchList=false",
		// New nodes would start with the not-ready taint until the node lifecycle controller
		// notices they are Ready, which takes up to a minute and holds pods back meanwhile.
		"--disable-admission-plugins=TaintNodesByCondition",
		// The `kubernetes` Service's Endpoints may not hold a loopback address.
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	); err != nil {
		return nil, err
	}
	if err := c.connect(ctx); err != nil {
		return nil, err
	}
	if err := c.spawn("kube-controller-manager", bins.ControllerManager,
		"--kubeconfig="+filepath.Join(cfg.StateDir, "kube-controller-manager.kubeconfig"),
		"--authentication-kubeconfig="+filepath.Join(cfg.StateDir, "kube-controller-manager.kubeconfig"),
		"--authorization-kubeconfig="+filepath.Join(cfg.StateDir, "kube-controller-manager.kubeconfig"),
		"--bind-address=127.0.0.1", "--secure-port=0",
		"--leader-elect=false",
		"--controllers="+strings.Join(controllers, ","),
		"--service-account-private-key-file="+p("sa.key"),
		"--root-ca-file="+p("ca.crt"),
		"--use-service-account-credentials=true",
		"--service-cluster-ip-range="+serviceCIDR,
		"--cluster-cidr="+clusterCIDR,
		"--allocate-node-cidrs=false",
		// A simulated or local node does not go away on its own; the default 5 minutes
		// would keep orphaned pods of a removed node around for as long.
		"--terminated-pod-gc-threshold=100",
		// The ReplicaSet controller waits until its informer has seen its own last write; over
		// etcd 3.4 (no progress notifications) the informer's resource version can stay behind
		// until some other change, so a ReplicaSet's readyReplicas could stay stale for minutes
		// (seen with two pods turning Ready one after the other).
		"--feature-gates=StaleControllerConsistencyReplicaSet=false",
	); err != nil {
		return nil, err
	}
	if err := c.spawn("kube-scheduler", bins.Scheduler,
		"--kubeconfig="+filepath.Join(cfg.StateDir, "kube-scheduler.kubeconfig"),
		"--authentication-kubeconfig="+filepath.Join(cfg.StateDir, "kube-scheduler.kubeconfig"),
		"--authorization-kubeconfig="+filepath.Join(cfg.StateDir, "kube-scheduler.kubeconfig"),
		"--bind-address=127.0.0.1", "--secure-port=0",
		"--leader-elect=false",
	); err != nil {
		return nil, err
	}
	kwokConfig := filepath.Join(cfg.StateDir, "kwok.yaml")
	if err := os.WriteFile(kwokConfig, []byte(kwokStages), 0o644); err != nil {
		return nil, err
	}
	if err := c.spawn("kwok", bins.KWOK,
		"--kubeconfig="+c.Kubeconfig,
		"--config="+kwokConfig,
		"--manage-nodes-with-annotation-selector="+kwokNodeAnnotation+"=fake",
		"--cidr="+kwokPodCIDR,
		"--node-ip=10.240.0.1",
		"--node-lease-duration-seconds=40",
	); err != nil {
		return nil, err
	}

	for i := 1; i <= cfg.GPUNodes; i++ {
		n := gpuNode(fmt.Sprintf("gpu-node-%d", i), cfg.GPUsPerNode, cfg.GPUProduct, cfg.GPUMemoryMiB)
		if err := createNode(ctx, c.Client, n); err != nil {
			return nil, err
		}
	}

	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.runner, err = localrunner.New(localrunner.Options{
		Client:         c.Client,
		NodeName:       localrunner.DefaultNodeName,
		StateDir:       cfg.StateDir,
		BinDir:         cfg.BinDir,
		GPUs:           cfg.LocalGPUs,
		APIServerHost:  "127.0.0.1",
		APIServerPort:  apiPort,
		CAFile:         p("ca.crt"),
		RestartBackoff: cfg.RestartBackoff,
		Log:            cfg.Log,
	})
	if err != nil {
		return nil, err
	}
	if err := c.runner.Start(runCtx); err != nil {
		return nil, fmt.Errorf("local runner: %w", err)
	}
	if err := c.waitUsable(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// resetStateDir empties the state dir except the directories users put files in (model
// files for PVCs and image volumes), so each start is a fresh cluster.
func resetStateDir(dir string) error {
	keep := map[string]bool{"pvc": true, "images": true}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if !keep[e.Name()] {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	for _, d := range []string{"logs", "pvc", "images"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	return nil
}

func (c *cluster) writePKI() error {
	var err error
	if c.pki, err = newPKI(filepath.Join(c.cfg.StateDir, "pki")); err != nil {
		return err
	}
	if err := c.pki.issue("apiserver", "kube-apiserver", nil, []string{
		"127.0.0.1", "localhost", "10.96.0.1", "kubernetes", "kubernetes.default",
		"kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
	}); err != nil {
		return err
	}
	for _, u := range []struct{ name, cn, org string }{
		{"admin", "kubernetes-admin", "system:masters"},
		{"kube-controller-manager", "system:kube-controller-manager", ""},
		{"kube-scheduler", "system:kube-scheduler", ""},
	} {
		var orgs []string
		if u.org != "" {
			orgs = []string{u.org}
		}
		if err := c.pki.issue(u.name, u.cn, orgs, nil); err != nil {
			return err
		}
	}
	return c.pki.serviceAccountKey()
}

func (c *cluster) writeKubeconfig(path, user, cert string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["devcluster"] = &clientcmdapi.Cluster{Server: c.Host, CertificateAuthority: c.pki.path("ca.crt")}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{
		ClientCertificate: c.pki.path(cert + ".crt"),
		ClientKey:         c.pki.path(cert + ".key"),
	}
	kc.Contexts["devcluster"] = &clientcmdapi.Context{Cluster: "devcluster", AuthInfo: user, Namespace: "default"}
	kc.CurrentContext = "devcluster"
	return clientcmd.WriteToFile(*kc, path)
}

// spawn starts a control-plane process with its output in <state>/logs/<name>.log.
func (c *cluster) spawn(name, path string, args ...string) error {
	logf, err := os.Create(filepath.Join(c.cfg.StateDir, "logs", name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so stopping it reaches its children too; and killed by the
	// kernel if devcluster dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	pr := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		logf.Close()
		close(pr.done)
		select {
		case c.Exited <- fmt.Sprintf("%s exited: %v (see %s)", name, err, logf.Name()):
		default:
		}
	}()
	c.procs = append(c.procs, pr)
	fmt.Fprintf(c.cfg.Log, "devcluster: started %s (pid %d)\n", name, cmd.Process.Pid)
	return nil
}

// connect waits for the API server to be ready and makes the admin client.
func (c *cluster) connect(ctx context.Context) error {
	var err error
	c.RESTConfig, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return err
	}
	c.RESTConfig.QPS, c.RESTConfig.Burst = 100, 200
	if c.Client, err = kubernetes.NewForConfig(c.RESTConfig); err != nil {
		return err
	}
	var last error
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		if msg := c.exited(); msg != "" {
			return false, errors.New(msg)
		}
		_, last = c.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("kube-apiserver not ready (%v): %w", last, err)
	}
	return nil
}

func (c *cluster) exited() string {
	select {
	case msg := <-c.Exited:
		return msg
	default:
		return ""
	}
}

// waitUsable waits until a pod can be created: the controller-manager has made the
// default ServiceAccount and the root CA ConfigMap, and the nodes are Ready.
func (c *cluster) waitUsable(ctx context.Context) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if msg := c.exited(); msg != "" {
			return false, errors.New(msg)
		}
		if _, err := c.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			last = "default ServiceAccount: " + err.Error()
			return false, nil
		}
		if _, err := c.Client.CoreV1().ConfigMaps("default").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{}); err != nil {
			last = "kube-root-ca.crt: " + err.Error()
			return false, nil
		}
		nodes, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		if len(nodes.Items) < c.cfg.GPUNodes+1 {
			last = fmt.Sprintf("%d of %d nodes registered", len(nodes.Items), c.cfg.GPUNodes+1)
			return false, nil
		}
		for _, n := range nodes.Items {
			if !nodeReady(&n) {
				last = "node " + n.Name + " not Ready"
				return false, nil
			}
			for _, t := range n.Spec.Taints {
				if t.Key == corev1.TaintNodeNotReady {
					last = "node " + n.Name + " still has the not-ready taint"
					return false, nil
				}
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("cluster not usable (%s): %w", last, err)
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// stop stops the local runner (and with it every pod process) and then the control plane
// in reverse start order: SIGTERM to each process group, SIGKILL after 10 seconds.
func (c *cluster) stop() {
	if c.runner != nil {
		c.runner.Stop()
	}
	if c.cancel != nil {
		c.cancel()
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		pr := c.procs[i]
		_ = syscall.Kill(-pr.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-pr.done:
		case <-time.After(10 * time.Second):
			fmt.Fprintf(c.cfg.Log, "devcluster: %s did not stop in 10s, killing it\n", pr.name)
			_ = syscall.Kill(-pr.cmd.Process.Pid, syscall.SIGKILL)
			<-pr.done
		}
		// Anything it left in its group goes too.
		_ = syscall.Kill(-pr.cmd.Process.Pid, syscall.SIGKILL)
	}
	c.procs = nil
}

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// createNode creates a node, or replaces its labels and status if it exists.
func createNode(ctx context.Context, cs kubernetes.Interface, n *corev1.Node) error {
	status := n.Status
	got, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("node %s already exists", n.Name)
	}
	if err != nil {
		return fmt.Errorf("create node %s: %w", n.Name, err)
	}
	// Node creation keeps the status today, but set the capacity explicitly in case it
	// does not: KWOK's initialize stage keeps whatever capacity it finds.
	if got.Status.Capacity.Name(gpuResource, "").IsZero() && !status.Capacity.Name(gpuResource, "").IsZero() {
		got.Status.Capacity, got.Status.Allocatable = status.Capacity, status.Allocatable
		if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("set node %s capacity: %w", n.Name, err)
		}
	}
	return nil
}
