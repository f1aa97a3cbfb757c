package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/kubeinfer/kubeinfer/hack/devcluster/localrunner"
	"github.com/kubeinfer/kubeinfer/internal/devpaths"
)

// testWriter sends progress (the first build of the binaries takes minutes) to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestDevcluster starts a whole devcluster and runs pods on its local node and its
// simulated GPU nodes. The binaries are built once per machine (minutes); then it takes
// well under a minute.
func TestDevcluster(t *testing.T) {
	wd, _ := os.Getwd()
	repo, err := devpaths.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	bins, err := ensureBinaries(repo, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	binDir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(binDir, "kubeinfer-testapp"), "./testdata/testapp")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build testapp: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	start := time.Now()
	c, err := startCluster(ctx, config{
		StateDir: t.TempDir(), BinDir: binDir,
		GPUNodes: 1, GPUsPerNode: 4, GPUProduct: "NVIDIA-A100-SXM4-80GB", GPUMemoryMiB: 81920,
		LocalGPUs: 1, RestartBackoff: time.Second, Log: testWriter{t},
	}, bins)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			c.stop()
		}
	}()
	t.Logf("cluster usable after %s", time.Since(start).Round(100*time.Millisecond))
	cs := c.Client
	ns := "default"

	var appPID int
	ok := true
	ok = ok && t.Run("local pod runs with its env and args rewritten", func(t *testing.T) {
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, appDeployment(), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "testapp"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "testapp"}, Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, TargetPort: intstr.FromString("http")},
			}},
		}
		if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		pod := waitPod(t, ctx, cs, ns, "app=testapp", "Ready", func(p *corev1.Pod) bool { return podReady(p) })
		if pod.Spec.NodeName != localrunner.DefaultNodeName {
			t.Errorf("pod on node %q", pod.Spec.NodeName)
		}
		if localrunner.LocalAddress(pod.Status.PodIP) == "" {
			t.Errorf("podIP = %q, want one in the local node's range", pod.Status.PodIP)
		}
		info := appInfo(t, pod)
		appPID = info.PID
		env := map[string]string{}
		for _, kv := range info.Env {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		if env["POD_NAME"] != pod.Name || env["POD_UID"] != string(pod.UID) || env["GREETING"] != "hello" {
			t.Errorf("env POD_NAME=%q POD_UID=%q GREETING=%q", env["POD_NAME"], env["POD_UID"], env["GREETING"])
		}
		i := slices.Index(info.Args, "--port")
		if i < 0 || info.Args[i+1] == "8080" {
			t.Errorf("--port not rewritten to a local port: %q", info.Args)
		}
		if !slices.Contains(info.Args, "auto") || slices.Contains(info.Args, "cuda") {
			t.Errorf("--device cuda not rewritten: %q", info.Args)
		}
		j := slices.Index(info.Args, "--data")
		if j < 0 || !strings.HasPrefix(info.Args[j+1], c.cfg.StateDir) {
			t.Errorf("--data not under the state dir: %q", info.Args)
		} else if _, err := os.Stat(info.Args[j+1]); err != nil {
			t.Errorf("the app's file in its emptyDir: %v", err)
		}
		// The KUBECONFIG holds the pod's own service account token.
		rc, err := clientcmd.BuildConfigFromFlags("", env["KUBECONFIG"])
		if err != nil {
			t.Fatalf("KUBECONFIG %q: %v", env["KUBECONFIG"], err)
		}
		podClient := kubernetes.NewForConfigOrDie(rc)
		review, err := podClient.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("API server with the pod's KUBECONFIG: %v", err)
		}
		if u := review.Status.UserInfo.Username; u != "system:serviceaccount:default:default" {
			t.Errorf("pod's user = %q", u)
		}
		// The Service's endpoints lead to the pod, as `devcluster proxy` uses them.
		var addrs []string
		_ = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			addrs, _ = serviceEndpoints(ctx, cs, ns, "testapp", "")
			return len(addrs) == 1, nil
		})
		if len(addrs) != 1 {
			t.Fatalf("service endpoints = %q", addrs)
		}
		if resp, err := http.Get("http://" + addrs[0] + "/readyz"); err != nil {
			t.Errorf("through the Service's endpoint: %v", err)
		} else {
			resp.Body.Close()
		}
	})

	ok = ok && t.Run("a crashed process restarts", func(t *testing.T) {
		pod := waitPod(t, ctx, cs, ns, "app=testapp", "Ready", podReady)
		resp, err := http.Get(fmt.Sprintf("http://%s:8080/exit?code=3", localrunner.LocalAddress(pod.Status.PodIP)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		pod = waitPod(t, ctx, cs, ns, "app=testapp", "restarted and Ready", func(p *corev1.Pod) bool {
			return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount == 1 && podReady(p)
		})
		last := pod.Status.ContainerStatuses[0].LastTerminationState.Terminated
		if last == nil || last.ExitCode != 3 || !strings.Contains(last.Message, "exiting with code 3") {
			t.Errorf("lastState.terminated = %+v", last)
		}
		if pid := appInfo(t, pod).PID; pid == appPID {
			t.Errorf("same pid %d after the restart", pid)
		} else {
			appPID = pid
		}
	})

	ok = ok && t.Run("GPU pods land on simulated GPU nodes", func(t *testing.T) {
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, gpuDeployment("gpu-small", 2, "NVIDIA-A100-SXM4-80GB"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		pod := waitPod(t, ctx, cs, ns, "app=gpu-small", "Running", podReady)
		t.Logf("gpu-small Running on %s after %s", pod.Spec.NodeName, time.Since(pod.CreationTimestamp.Time).Round(time.Second))
		if pod.Spec.NodeName != "gpu-node-1" {
			t.Errorf("pod on %q, want gpu-node-1", pod.Spec.NodeName)
		}
		// Eight GPUs fit nowhere until a bigger node is added.
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, gpuDeployment("gpu-big", 8, "NVIDIA-H100-80GB-HBM3"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := createNode(ctx, cs, gpuNode("gpu-node-big", 8, "NVIDIA-H100-80GB-HBM3", 81559)); err != nil {
			t.Fatal(err)
		}
		pod = waitPod(t, ctx, cs, ns, "app=gpu-big", "Running", podReady)
		t.Logf("gpu-big Running on %s after %s", pod.Spec.NodeName, time.Since(pod.CreationTimestamp.Time).Round(time.Second))
		if pod.Spec.NodeName != "gpu-node-big" {
			t.Errorf("pod on %q, want gpu-node-big", pod.Spec.NodeName)
		}
	})

	// The last step runs only after the others passed; its own failure ends the test anyway.
	_ = ok && t.Run("deleting the Deployments removes pods and processes", func(t *testing.T) {
		for _, name := range []string{"testapp", "gpu-small", "gpu-big"} {
			if err := cs.AppsV1().Deployments(ns).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}); err != nil {
				t.Fatal(err)
			}
		}
		err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			return err == nil && len(pods.Items) == 0, nil
		})
		if err != nil {
			pods, _ := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			t.Fatalf("%d pods left: %v", len(pods.Items), err)
		}
		if processAlive(appPID) {
			t.Errorf("testapp process %d still runs after its pod was deleted", appPID)
		}
	})

	pids := []int{}
	for _, p := range c.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	c.stop()
	stopped = true
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("process %d still runs after stop", pid)
		}
	}
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	// A zombie would still answer signal 0; /proc/<pid>/stat tells the state.
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(data))
	return len(fields) > 2 && fields[2] != "Z" && syscall.Kill(pid, 0) == nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil
		}
	}
	return false
}

// waitPod waits for exactly one pod matching selector to satisfy ok.
func waitPod(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, selector, what string, ok func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last []corev1.Pod
	var found *corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, nil
		}
		last = pods.Items
		for i := range pods.Items {
			if ok(&pods.Items[i]) {
				found = &pods.Items[i]
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		for _, p := range last {
			data, _ := json.MarshalIndent(p.Status, "", "  ")
			t.Logf("pod %s on %q: %s", p.Name, p.Spec.NodeName, data)
		}
		t.Fatalf("no pod %s is %s: %v", selector, what, err)
	}
	return found
}

type info struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
	PID  int      `json:"pid"`
}

// appInfo asks the testapp in pod, at its pod IP and container port, for its args and env.
func appInfo(t *testing.T, pod *corev1.Pod) info {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s:8080/info", localrunner.LocalAddress(pod.Status.PodIP)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var i info
	if err := json.Unmarshal(data, &i); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	return i
}

func appDeployment() *appsv1.Deployment {
	labels := map[string]string{"app": "testapp"}
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http")}},
			PeriodSeconds: 1, FailureThreshold: 3,
		}
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "testapp"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector:                  map[string]string{localrunner.LabelLocalNode: "true"},
					TerminationGracePeriodSeconds: ptr.To[int64](5),
					Volumes:                       []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
					InitContainers: []corev1.Container{{
						Name: "init", Image: "busybox", Command: []string{"sh", "-c", `echo init > "$0"`, "/data/init"},
						VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
					}},
					Containers: []corev1.Container{{
						Name:    "app",
						Image:   "ghcr.io/kubeinfer/testapp:dev",
						Command: []string{"/usr/local/bin/kubeinfer-testapp"},
						Args:    []string{"--port", "8080", "--data", "/data/file", "--device", "cuda"},
						Ports:   []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
						Env: []corev1.EnvVar{
							{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
							{Name: "POD_UID", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.uid"}}},
							{Name: "GREETING", Value: "hello"},
						},
						VolumeMounts:   []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
						StartupProbe:   probe("/readyz"),
						ReadinessProbe: probe("/readyz"),
						LivenessProbe:  probe("/healthz"),
					}},
				},
			},
		},
	}
}

func gpuDeployment(name string, gpus int64, product string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	q := *resource.NewQuantity(gpus, resource.DecimalSI)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{labelGPUProduct: product},
					Tolerations:  []corev1.Toleration{{Key: string(gpuResource), Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
					Containers: []corev1.Container{{
						Name: "worker", Image: "ghcr.io/kubeinfer/kubeinfer:dev", Command: []string{"kubeinfer-worker"},
						Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{gpuResource: q}, Requests: corev1.ResourceList{gpuResource: q}},
					}},
				},
			},
		},
	}
}
