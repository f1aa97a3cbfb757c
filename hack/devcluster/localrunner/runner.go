// Package localrunner is the kubelet of devcluster's "local" node: it registers the node,
// keeps it Ready, and runs the pods bound to it as local processes. See
// hack/devcluster/README.md for the conventions (volumes, pod IPs, ports, KUBECONFIG).
package localrunner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// DefaultNodeName is the name of the node whose pods run locally.
const DefaultNodeName = "local"

// LabelLocalNode is set to "true" on the local node, for pods that want to land there.
const LabelLocalNode = "kubeinfer.dev/local-node"

// Options configure a Runner.
type Options struct {
	Client   kubernetes.Interface
	NodeName string
	// StateDir holds pods/ (per-pod directories, emptyDirs, logs), pvc/ and images/.
	StateDir string
	// BinDir is where container commands are found (see Placement.BinDir).
	BinDir string
	// GPUs is the node's nvidia.com/gpu capacity, so GPU-asking pods can land here.
	GPUs int
	// APIServerHost/Port are how pod processes reach the API server, with CAFile.
	APIServerHost string
	APIServerPort int
	CAFile        string
	// RestartBackoff is the second restart's delay (the first is immediate), doubling up
	// to 5 minutes; the kubelet's is 10 seconds.
	RestartBackoff time.Duration
	Log            io.Writer
}

// Runner runs the pods of one node as local processes.
type Runner struct {
	opts   Options
	client kubernetes.Interface
	ips    *ipPool

	mu       sync.Mutex
	pods     map[types.UID]*podWorker
	stopping bool
	wg       sync.WaitGroup
	cancel   context.CancelFunc
}

func New(opts Options) (*Runner, error) {
	if opts.Client == nil || opts.StateDir == "" {
		return nil, errors.New("localrunner: Client and StateDir are required")
	}
	if opts.NodeName == "" {
		opts.NodeName = DefaultNodeName
	}
	if opts.RestartBackoff == 0 {
		opts.RestartBackoff = 10 * time.Second
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	return &Runner{opts: opts, client: opts.Client, ips: newIPPool(), pods: map[types.UID]*podWorker{}}, nil
}

func (r *Runner) logf(format string, args ...any) {
	fmt.Fprintf(r.opts.Log, "localrunner: "+format+"\n", args...)
}

// Start registers the node, starts its heartbeat and begins running its pods.
func (r *Runner) Start(ctx context.Context) error {
	ctx, r.cancel = context.WithCancel(ctx)
	if err := r.registerNode(ctx); err != nil {
		return err
	}
	r.wg.Add(1)
	go func() { defer r.wg.Done(); r.heartbeat(ctx) }()

	factory := informers.NewSharedInformerFactoryWithOptions(r.client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", r.opts.NodeName).String()
	}))
	inf := factory.Core().V1().Pods().Informer()
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { r.sync(obj.(*corev1.Pod)) },
		UpdateFunc: func(_, obj any) { r.sync(obj.(*corev1.Pod)) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				r.forget(p)
			}
		},
	})
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return errors.New("pod informer did not sync")
	}
	return nil
}

// Stop kills every pod process (the pods stay in the API) and waits for them.
func (r *Runner) Stop() {
	r.mu.Lock()
	r.stopping = true
	workers := make([]*podWorker, 0, len(r.pods))
	for _, pw := range r.pods {
		workers = append(workers, pw)
	}
	r.mu.Unlock()
	for _, pw := range workers {
		pw.shutdown(5 * time.Second)
	}
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
}

func (r *Runner) sync(pod *corev1.Pod) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return
	}
	if pw, ok := r.pods[pod.UID]; ok {
		pw.update(pod)
		return
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		if pod.DeletionTimestamp != nil { // nothing runs: finish the deletion
			go r.deletePod(pod)
		}
		return
	}
	pw := newPodWorker(r, pod)
	r.pods[pod.UID] = pw
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		pw.run()
		r.mu.Lock()
		delete(r.pods, pod.UID)
		r.mu.Unlock()
	}()
}

// forget handles a pod gone from the API (deleted with grace 0 by someone else).
func (r *Runner) forget(pod *corev1.Pod) {
	r.mu.Lock()
	pw := r.pods[pod.UID]
	r.mu.Unlock()
	if pw != nil {
		pw.markGone()
		pw.terminate(0)
	}
}

// deletePod finishes a pod's graceful deletion once its processes are gone, as a kubelet does.
func (r *Runner) deletePod(pod *corev1.Pod) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := r.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		r.logf("delete pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

func (r *Runner) allocatable() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(memTotal(), resource.BinarySI),
		corev1.ResourcePods:   resource.MustParse("110"),
		"nvidia.com/gpu":      *resource.NewQuantity(int64(r.opts.GPUs), resource.DecimalSI),
	}
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 8 << 30
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 8 << 30
}

func (r *Runner) nodeConditions(now metav1.Time) []corev1.NodeCondition {
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	return []corev1.NodeCondition{
		cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "local runner is posting ready status"),
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "local runner has sufficient memory available"),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "local runner has no disk pressure"),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "local runner has sufficient PID available"),
	}
}

func (r *Runner) registerNode(ctx context.Context) error {
	name := r.opts.NodeName
	labels := map[string]string{
		"kubernetes.io/hostname": name,
		"kubernetes.io/os":       runtime.GOOS,
		"kubernetes.io/arch":     runtime.GOARCH,
		LabelLocalNode:           "true",
	}
	if r.opts.GPUs > 0 {
		labels["nvidia.com/gpu.product"] = "kubeinfer-local"
		labels["nvidia.com/gpu.count"] = strconv.Itoa(r.opts.GPUs)
	}
	now := metav1.Now()
	alloc := r.allocatable()
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Status: corev1.NodeStatus{
			Capacity:    alloc,
			Allocatable: alloc,
			Conditions:  r.nodeConditions(now),
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: "127.0.0.1"},
				{Type: corev1.NodeHostName, Address: name},
			},
			NodeInfo: corev1.NodeSystemInfo{
				OperatingSystem: runtime.GOOS, Architecture: runtime.GOARCH,
				KubeletVersion: "v0.0.0-kubeinfer-localrunner", ContainerRuntimeVersion: "local://process",
			},
		},
	}
	got, err := r.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		got, err = r.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("register node %s: %w", name, err)
	}
	got.Status = node.Status
	if _, err := r.client.CoreV1().Nodes().UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("node %s status: %w", name, err)
	}
	return r.renewLease(ctx, got)
}

func (r *Runner) renewLease(ctx context.Context, node *corev1.Node) error {
	leases := r.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, node.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: node.Name, Namespace: corev1.NamespaceNodeLease,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node.Name), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: &now},
		}
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.RenewTime = &now
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

// heartbeat renews the node lease every 10 seconds and the Ready condition every minute.
func (r *Runner) heartbeat(ctx context.Context) {
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		node, err := r.client.CoreV1().Nodes().Get(ctx, r.opts.NodeName, metav1.GetOptions{})
		if err != nil {
			if ctx.Err() == nil {
				r.logf("heartbeat: %v", err)
			}
			continue
		}
		if err := r.renewLease(ctx, node); err != nil && ctx.Err() == nil {
			r.logf("renew lease: %v", err)
		}
		if time.Since(last) >= time.Minute {
			node.Status.Conditions = r.nodeConditions(metav1.Now())
			if _, err := r.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err == nil {
				last = time.Now()
			}
		}
	}
}

// Pod addresses. The API server refuses loopback addresses in EndpointSlices, so a local
// pod's status.podIP is 10.244.128.0/17 (the upper half of the cluster CIDR; KWOK gives out
// the lower half) and its processes and port proxies use the loopback address with the same
// last three octets: pod IP 10.244.X.Y is reachable at 127.244.X.Y. Linux routes all of
// 127.0.0.0/8 to the loopback interface, so no setup is needed.

// LocalAddress is the loopback address at which a local pod with podIP is reachable, or
// "" if podIP is not a local pod's.
func LocalAddress(podIP string) string {
	if rest, ok := strings.CutPrefix(podIP, "10.244."); ok {
		var x, y int
		if _, err := fmt.Sscanf(rest, "%d.%d", &x, &y); err == nil && x >= 128 {
			return "127.244." + rest
		}
	}
	return ""
}

// ipPool hands each pod its own pod IP in 10.244.128.1-10.244.255.254, upwards from a
// random start: devclusters running side by side on one machine (tests of several
// packages) share the loopback addresses, and would otherwise all give their first pod
// 127.244.128.1 and collide on its ports.
type ipPool struct {
	mu    sync.Mutex
	used  map[int]bool
	start int
}

const ipPoolSize = 128 * 254

func newIPPool() *ipPool { return &ipPool{used: map[int]bool{}, start: rand.IntN(ipPoolSize)} }

func (p *ipPool) get() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 0; ; i++ {
		if n := (p.start + i) % ipPoolSize; !p.used[n] {
			p.used[n] = true
			return fmt.Sprintf("10.244.%d.%d", 128+n/254, 1+n%254)
		}
	}
}

func (p *ipPool) put(ip string) {
	var a, b int
	if _, err := fmt.Sscanf(ip, "10.244.%d.%d", &a, &b); err == nil {
		p.mu.Lock()
		delete(p.used, (a-128)*254+b-1)
		p.mu.Unlock()
	}
}
