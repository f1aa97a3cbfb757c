package localrunner

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
)

// podWorker runs one pod: its volumes, init containers, containers, port proxies and status.
type podWorker struct {
	r    *Runner
	uid  types.UID
	ns   string
	name string
	dir  string
	ip   string

	ctx    context.Context // canceled when the pod's processes must stop
	cancel context.CancelFunc
	dirty  chan struct{}

	mu        sync.Mutex
	pod       *corev1.Pod
	grace     time.Duration
	deleting  bool // the pod is being deleted: delete it with grace 0 once stopped
	gone      bool // the pod is no longer in the API
	shutdown_ bool // the runner stops: leave the pod in the API
	volumes   map[string]string
	ports     map[string]map[int32]int32 // container name: container port -> local port
	extraEnv  []string
	listeners []net.Listener

	phase      corev1.PodPhase
	reason     string
	message    string
	startTime  metav1.Time
	initDone   bool
	initStats  []corev1.ContainerStatus
	stats      []corev1.ContainerStatus
	transition map[corev1.PodConditionType]metav1.Time
	writeMu    sync.Mutex
}

func newPodWorker(r *Runner, pod *corev1.Pod) *podWorker {
	ctx, cancel := context.WithCancel(context.Background())
	pw := &podWorker{
		r: r, uid: pod.UID, ns: pod.Namespace, name: pod.Name, pod: pod.DeepCopy(),
		dir: filepath.Join(r.opts.StateDir, "pods", fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID)),
		ctx: ctx, cancel: cancel, dirty: make(chan struct{}, 1),
		phase: corev1.PodPending, startTime: metav1.Now(),
		transition: map[corev1.PodConditionType]metav1.Time{},
	}
	for _, c := range pod.Spec.InitContainers {
		pw.initStats = append(pw.initStats, waitingStatus(c, "PodInitializing", ""))
	}
	for _, c := range pod.Spec.Containers {
		reason := "ContainerCreating"
		if len(pod.Spec.InitContainers) > 0 {
			reason = "PodInitializing"
		}
		pw.stats = append(pw.stats, waitingStatus(c, reason, ""))
	}
	pw.update(pod)
	return pw
}

func waitingStatus(c corev1.Container, reason, msg string) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		Name: c.Name, Image: c.Image, ImageID: "local://" + c.Image,
		State:   corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}},
		Started: ptr.To(false),
	}
}

func (pw *podWorker) logf(format string, args ...any) {
	pw.r.logf("pod %s/%s: "+format, append([]any{pw.ns, pw.name}, args...)...)
}

// update takes a newer version of the pod; a deletion stops the processes.
func (pw *podWorker) update(pod *corev1.Pod) {
	pw.mu.Lock()
	pw.pod = pod.DeepCopy()
	deleting := pod.DeletionTimestamp != nil
	pw.mu.Unlock()
	if deleting {
		grace := 30 * time.Second
		if g := pod.DeletionGracePeriodSeconds; g != nil {
			grace = time.Duration(*g) * time.Second
		}
		pw.mu.Lock()
		pw.deleting = true
		pw.mu.Unlock()
		pw.terminate(grace)
	}
}

func (pw *podWorker) markGone() {
	pw.mu.Lock()
	pw.gone = true
	pw.mu.Unlock()
}

// terminate stops the pod's processes, giving them grace between SIGTERM and SIGKILL.
func (pw *podWorker) terminate(grace time.Duration) {
	pw.mu.Lock()
	if pw.ctx.Err() == nil || grace < pw.grace {
		pw.grace = grace
	}
	pw.mu.Unlock()
	pw.cancel()
}

func (pw *podWorker) shutdown(grace time.Duration) {
	pw.mu.Lock()
	pw.shutdown_ = true
	pw.mu.Unlock()
	pw.terminate(grace)
}

func (pw *podWorker) gracePeriod() time.Duration {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	return pw.grace
}

func (pw *podWorker) markDirty() {
	select {
	case pw.dirty <- struct{}{}:
	default:
	}
}

func (pw *podWorker) setStatus(init bool, i int, f func(s *corev1.ContainerStatus)) {
	pw.mu.Lock()
	if init {
		f(&pw.initStats[i])
	} else {
		f(&pw.stats[i])
	}
	pw.mu.Unlock()
	pw.markDirty()
}

func (pw *podWorker) run() {
	statusDone := make(chan struct{})
	go func() {
		defer close(statusDone)
		for {
			select {
			case <-pw.ctx.Done():
				return
			case <-pw.dirty:
				pw.writeStatus()
			}
		}
	}()
	defer pw.cleanup()

	pw.ip = pw.r.ips.get()
	pw.markDirty()
	if err := pw.prepare(); err != nil {
		pw.logf("%v", err)
		for i := range pw.stats {
			pw.setStatus(false, i, func(s *corev1.ContainerStatus) {
				s.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: err.Error()}}
			})
		}
		<-pw.ctx.Done()
	} else {
		pw.runContainers()
	}

	<-statusDone
	pw.mu.Lock()
	deleting, gone, shutdown := pw.deleting, pw.gone, pw.shutdown_
	pod := pw.pod
	pw.mu.Unlock()
	if shutdown || gone {
		return
	}
	pw.writeStatus()
	if deleting {
		pw.r.deletePod(pod)
	}
}

// runContainers runs the init containers in order to completion, then the containers until
// they end for good or the pod is stopped.
func (pw *podWorker) runContainers() {
	pod := pw.currentPod()
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if exit := pw.supervise(pod, c, true, i); pw.ctx.Err() != nil {
			return
		} else if exit != 0 {
			pw.mu.Lock()
			pw.phase = corev1.PodFailed
			pw.mu.Unlock()
			pw.markDirty()
			<-pw.ctx.Done()
			return
		}
	}
	pw.mu.Lock()
	pw.initDone = true
	pw.phase = corev1.PodRunning
	pw.mu.Unlock()
	pw.markDirty()

	exits := make([]int, len(pod.Spec.Containers))
	var wg sync.WaitGroup
	for i := range pod.Spec.Containers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exits[i] = pw.supervise(pod, &pod.Spec.Containers[i], false, i)
		}()
	}
	wg.Wait()
	if pw.ctx.Err() == nil { // every container ended and restartPolicy says no restart
		pw.mu.Lock()
		pw.phase = corev1.PodSucceeded
		for _, e := range exits {
			if e != 0 {
				pw.phase = corev1.PodFailed
			}
		}
		pw.mu.Unlock()
		pw.markDirty()
		<-pw.ctx.Done()
	}
}

func (pw *podWorker) currentPod() *corev1.Pod {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	return pw.pod
}

// supervise runs a container until it ends for good (by restartPolicy; an init container
// until it succeeds) or the pod stops, restarting it with CrashLoopBackOff-style delays,
// and returns the last exit code.
func (pw *podWorker) supervise(pod *corev1.Pod, c *corev1.Container, init bool, idx int) int {
	policy := pod.Spec.RestartPolicy
	logPath := filepath.Join(pw.dir, "logs", c.Name+".log")
	var delay, next time.Duration = 0, pw.r.opts.RestartBackoff
	for {
		pl := pw.placement(c)
		ps, err := processSpec(pod, c, pl)
		var p *process
		if err == nil {
			p, err = startProcess(ps, logPath)
		}
		var term *corev1.ContainerStateTerminated
		if err != nil {
			now := metav1.Now()
			term = &corev1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: err.Error(), StartedAt: now, FinishedAt: now}
			pw.logf("container %s: %v", c.Name, err)
		} else {
			pw.setStatus(init, idx, func(s *corev1.ContainerStatus) {
				s.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(p.startedAt)}}
				s.ContainerID = fmt.Sprintf("local://%d", p.cmd.Process.Pid)
				s.Ready = false
				s.Started = ptr.To(init || c.StartupProbe == nil)
			})
			probeCtx, stopProbes := context.WithCancel(pw.ctx)
			if !init {
				go pw.probe(probeCtx, c, idx, p, pl)
			}
			select {
			case <-p.done:
			case <-pw.ctx.Done():
				p.stop(pw.gracePeriod())
			}
			stopProbes()
			<-p.done
			term = &corev1.ContainerStateTerminated{
				ExitCode: int32(p.exitCode), Reason: "Completed",
				StartedAt: metav1.NewTime(p.startedAt), FinishedAt: metav1.NewTime(p.finishedAt),
				ContainerID: fmt.Sprintf("local://%d", p.cmd.Process.Pid),
			}
			if p.exitCode != 0 {
				term.Reason = "Error"
				term.Message = p.stderr.String()
			}
			pw.logf("container %s exited with code %d", c.Name, p.exitCode)
		}
		restart := pw.ctx.Err() == nil && term.ExitCode != 0 && policy != corev1.RestartPolicyNever
		if !init && policy == corev1.RestartPolicyAlways && pw.ctx.Err() == nil {
			restart = true
		}
		if !restart {
			pw.setStatus(init, idx, func(s *corev1.ContainerStatus) {
				s.State = corev1.ContainerState{Terminated: term}
				s.Ready, s.Started = false, ptr.To(false)
			})
			return int(term.ExitCode)
		}
		// A container that ran for 10 minutes starts over with no delay, as on a kubelet.
		if p != nil && p.finishedAt.Sub(p.startedAt) > 10*time.Minute {
			delay, next = 0, pw.r.opts.RestartBackoff
		}
		pw.setStatus(init, idx, func(s *corev1.ContainerStatus) {
			s.LastTerminationState = corev1.ContainerState{Terminated: term}
			s.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason:  "CrashLoopBackOff",
				Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", delay, c.Name, pw.name, pw.ns, pw.uid),
			}}
			s.Ready, s.Started = false, ptr.To(false)
		})
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-pw.ctx.Done():
				return int(term.ExitCode)
			}
		}
		delay, next = next, min(2*next, 5*time.Minute)
		pw.setStatus(init, idx, func(s *corev1.ContainerStatus) { s.RestartCount++ })
	}
}

// placement is where container c runs on this machine.
func (pw *podWorker) placement(c *corev1.Container) Placement {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	pl := Placement{
		// Processes see the address they can bind to as their pod IP.
		BinDir: pw.r.opts.BinDir, Ports: pw.ports[c.Name], PodIP: LocalAddress(pw.ip), HostIP: "127.0.0.1",
		WorkDir:         filepath.Join(pw.dir, "work"),
		BaseEnv:         baseEnv(),
		ExtraEnv:        pw.extraEnv,
		NodeAllocatable: pw.r.allocatable(),
		Lookup:          pw.lookup,
	}
	for _, m := range c.VolumeMounts {
		host, ok := pw.volumes[m.Name]
		if !ok {
			continue
		}
		if m.SubPath != "" {
			host = filepath.Join(host, m.SubPath)
			_ = os.MkdirAll(host, 0o755)
		}
		pl.Mounts = append(pl.Mounts, Mount{ContainerPath: m.MountPath, HostPath: host})
	}
	return pl
}

// baseEnv is what a process inherits from the runner's environment: enough to find
// programs, libraries (CUDA) and a GPU.
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "LANG", "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "NVIDIA_VISIBLE_DEVICES"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func (pw *podWorker) lookup(kind, name, key string) (string, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	data, err := pw.objectData(ctx, kind, name)
	if apierrors.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	v, ok := data[key]
	return v, ok, nil
}

func (pw *podWorker) objectData(ctx context.Context, kind, name string) (map[string]string, error) {
	data := map[string]string{}
	if kind == "secret" {
		s, err := pw.r.client.CoreV1().Secrets(pw.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		for k, v := range s.Data {
			data[k] = string(v)
		}
		return data, nil
	}
	cm, err := pw.r.client.CoreV1().ConfigMaps(pw.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	for k, v := range cm.BinaryData {
		data[k] = string(v)
	}
	for k, v := range cm.Data {
		data[k] = v
	}
	return data, nil
}

// prepare makes the pod's directories and volumes, its KUBECONFIG when it has a service
// account token, and its port proxies.
func (pw *podWorker) prepare() error {
	pod := pw.currentPod()
	for _, d := range []string{"logs", "work", "volumes"} {
		if err := os.MkdirAll(filepath.Join(pw.dir, d), 0o755); err != nil {
			return err
		}
	}
	volumes := map[string]string{}
	var tokenFile, caFile string
	for _, v := range pod.Spec.Volumes {
		dir := filepath.Join(pw.dir, "volumes", v.Name)
		switch {
		case v.PersistentVolumeClaim != nil:
			dir = filepath.Join(pw.r.opts.StateDir, "pvc", pw.ns, v.PersistentVolumeClaim.ClaimName)
		case v.Image != nil:
			dir = filepath.Join(pw.r.opts.StateDir, "images", sanitize(v.Image.Reference))
		case v.HostPath != nil:
			dir = v.HostPath.Path
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		volumes[v.Name] = dir
		var err error
		switch {
		case v.ConfigMap != nil:
			err = pw.writeKeys(dir, "configmap", v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional)
		case v.Secret != nil:
			err = pw.writeKeys(dir, "secret", v.Secret.SecretName, v.Secret.Items, v.Secret.Optional)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				switch {
				case src.ServiceAccountToken != nil:
					tokenFile = filepath.Join(dir, src.ServiceAccountToken.Path)
					err = pw.writeToken(pod, src.ServiceAccountToken, tokenFile)
				case src.ConfigMap != nil:
					err = pw.writeKeys(dir, "configmap", src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional)
					for _, it := range src.ConfigMap.Items {
						if it.Key == "ca.crt" {
							caFile = filepath.Join(dir, it.Path)
						}
					}
				case src.Secret != nil:
					err = pw.writeKeys(dir, "secret", src.Secret.Name, src.Secret.Items, src.Secret.Optional)
				case src.DownwardAPI != nil:
					err = pw.writeDownward(dir, pod, src.DownwardAPI.Items)
				}
				if err != nil {
					break
				}
			}
		case v.DownwardAPI != nil:
			err = pw.writeDownward(dir, pod, v.DownwardAPI.Items)
		}
		if err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
	}
	extraEnv := []string{
		"KUBERNETES_SERVICE_HOST=" + pw.r.opts.APIServerHost,
		"KUBERNETES_SERVICE_PORT=" + strconv.Itoa(pw.r.opts.APIServerPort),
	}
	if tokenFile != "" {
		if caFile == "" {
			caFile = pw.r.opts.CAFile
		}
		kc := filepath.Join(pw.dir, "kubeconfig")
		if err := pw.writeKubeconfig(kc, tokenFile, caFile); err != nil {
			return err
		}
		extraEnv = append(extraEnv, "KUBECONFIG="+kc)
	}
	ports := map[string]map[int32]int32{}
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, cp := range c.Ports {
			if cp.Protocol != "" && cp.Protocol != corev1.ProtocolTCP {
				continue
			}
			l, err := net.Listen("tcp", net.JoinHostPort(LocalAddress(pw.ip), strconv.Itoa(int(cp.ContainerPort))))
			if err != nil {
				return fmt.Errorf("port %d: %w", cp.ContainerPort, err)
			}
			local, err := freePort()
			if err != nil {
				l.Close()
				return err
			}
			if ports[c.Name] == nil {
				ports[c.Name] = map[int32]int32{}
			}
			ports[c.Name][cp.ContainerPort] = int32(local)
			pw.mu.Lock()
			pw.listeners = append(pw.listeners, l)
			pw.mu.Unlock()
			go forward(l, "127.0.0.1:"+strconv.Itoa(local))
		}
	}
	pw.mu.Lock()
	pw.volumes, pw.ports, pw.extraEnv = volumes, ports, extraEnv
	pw.mu.Unlock()
	return nil
}

// forward accepts connections on l and relays each to target, until l is closed.
func forward(l net.Listener, target string) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			up, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(up, conn); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
			go func() { _, _ = io.Copy(conn, up); conn.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
			<-done
			<-done
		}()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (pw *podWorker) writeKeys(dir, kind, name string, items []corev1.KeyToPath, optional *bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	data, err := pw.objectData(ctx, kind, name)
	if apierrors.IsNotFound(err) && optional != nil && *optional {
		return nil
	}
	if err != nil {
		return err
	}
	if len(items) == 0 {
		for k := range data {
			items = append(items, corev1.KeyToPath{Key: k, Path: k})
		}
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return fmt.Errorf("%s %s has no key %q", kind, name, it.Key)
		}
		if err := writeFileAtomic(filepath.Join(dir, it.Path), []byte(v)); err != nil {
			return err
		}
	}
	return nil
}

func (pw *podWorker) writeDownward(dir string, pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile) error {
	for _, it := range items {
		if it.FieldRef == nil {
			continue // resourceFieldRef files are not written
		}
		v, err := fieldValue(pod, Placement{PodIP: LocalAddress(pw.ip), HostIP: "127.0.0.1"}, it.FieldRef.FieldPath)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(dir, it.Path), []byte(v)); err != nil {
			return err
		}
	}
	return nil
}

// writeToken writes a service account token bound to the pod, and keeps it fresh in the
// background (at 80% of its life, as a kubelet does) while the pod runs.
func (pw *podWorker) writeToken(pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection, path string) error {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	expiration := int64(3600)
	if src.ExpirationSeconds != nil {
		expiration = *src.ExpirationSeconds
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: &expiration,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if src.Audience != "" {
		req.Spec.Audiences = []string{src.Audience}
	}
	issue := func(ctx context.Context) (time.Duration, error) {
		tr, err := pw.r.client.CoreV1().ServiceAccounts(pw.ns).CreateToken(ctx, sa, req, metav1.CreateOptions{})
		if err != nil {
			return 0, fmt.Errorf("token for service account %s: %w", sa, err)
		}
		if err := writeFileAtomic(path, []byte(tr.Status.Token)); err != nil {
			return 0, err
		}
		return time.Until(tr.Status.ExpirationTimestamp.Time) * 8 / 10, nil
	}
	ctx, cancel := context.WithTimeout(pw.ctx, 30*time.Second)
	refresh, err := issue(ctx)
	cancel()
	if err != nil {
		return err
	}
	go func() {
		for {
			select {
			case <-pw.ctx.Done():
				return
			case <-time.After(refresh):
			}
			ctx, cancel := context.WithTimeout(pw.ctx, 30*time.Second)
			d, err := issue(ctx)
			cancel()
			if err != nil {
				pw.logf("refresh token: %v", err)
				d = 30 * time.Second
			}
			refresh = d
		}
	}()
	return nil
}

// writeKubeconfig writes the KUBECONFIG a pod's processes get: the API server, the cluster
// CA and the pod's service account token file, which client-go re-reads as it is renewed.
func (pw *podWorker) writeKubeconfig(path, tokenFile, caFile string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["devcluster"] = &clientcmdapi.Cluster{
		Server:               fmt.Sprintf("https://%s:%d", pw.r.opts.APIServerHost, pw.r.opts.APIServerPort),
		CertificateAuthority: caFile,
	}
	kc.AuthInfos["serviceaccount"] = &clientcmdapi.AuthInfo{TokenFile: tokenFile}
	kc.Contexts["devcluster"] = &clientcmdapi.Context{Cluster: "devcluster", AuthInfo: "serviceaccount", Namespace: pw.ns}
	kc.CurrentContext = "devcluster"
	return clientcmd.WriteToFile(*kc, path)
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (pw *podWorker) cleanup() {
	pw.mu.Lock()
	ls := pw.listeners
	pw.listeners = nil
	pw.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	if pw.ip != "" {
		pw.r.ips.put(pw.ip)
	}
	// Logs stay for post-mortems until the next devcluster start; emptyDirs go.
	_ = os.RemoveAll(filepath.Join(pw.dir, "volumes"))
	_ = os.RemoveAll(filepath.Join(pw.dir, "work"))
}
