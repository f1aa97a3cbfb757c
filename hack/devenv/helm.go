package devenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// HelmOptions install the operator with charts/kubeinfer, as a platform team would,
// instead of running bin/manager as a process of the test: the operator then runs as the
// chart's Deployment on the local node (whose runner starts bin/manager for it), with the
// chart's CRD, RBAC and leader election, in a namespace that enforces the restricted Pod
// Security Standard.
type HelmOptions struct {
	// Release and Namespace of the install; default kubeinfer, kubeinfer-system.
	Release, Namespace string
	// Set are more --set values, e.g. nodeCacheDir=DIR.
	Set []string
}

// RestrictedLabels make a namespace enforce the restricted Pod Security Standard.
var RestrictedLabels = map[string]string{
	"pod-security.kubernetes.io/enforce": "restricted",
	"pod-security.kubernetes.io/warn":    "restricted",
}

// HelmBinary is Helm built from its Go module (hack/prereqs.sh, cached per machine).
func HelmBinary(repo string) (string, error) {
	cmd := exec.Command(filepath.Join(repo, "hack", "prereqs.sh"), "--path", "helm")
	cmd.Stderr = os.Stderr // a first build says so
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/prereqs.sh --path helm: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Helm runs the Helm binary against the cluster and returns its output.
func (e *Env) Helm(ctx context.Context, args ...string) (string, error) {
	bin, err := HelmBinary(e.Repo)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = e.Repo
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.Kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// installChart installs the operator with the chart and waits until it is available.
// httpProxy is the devcluster's pod proxy, through which the operator reaches workers' pod IPs.
func (e *Env) installChart(ctx context.Context, o Options, httpProxy string) error {
	h := *o.Helm
	if h.Release == "" {
		h.Release = "kubeinfer"
	}
	if h.Namespace == "" {
		h.Namespace = "kubeinfer-system"
	}
	e.operatorNamespace = h.Namespace
	start := time.Now()
	if err := e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: h.Namespace, Labels: RestrictedLabels}}); err != nil {
		return fmt.Errorf("namespace %s: %w", h.Namespace, err)
	}
	// The local node runs every pod on this machine's network: free ports, so that other
	// clusters on the machine do not collide with this one.
	health, err := freeLocalPort()
	if err != nil {
		return err
	}
	metrics, err := freeLocalPort()
	if err != nil {
		return err
	}
	// The worker image stays the chart's default: the local node runs bin/kubeinfer-worker
	// whatever the image says.
	set := append([]string{"healthProbe.port=" + strconv.Itoa(health), "metrics.port=" + strconv.Itoa(metrics),
		"env[0].name=HTTP_PROXY", "env[0].value=" + httpProxy}, h.Set...)
	for i, a := range o.ManagerArgs {
		set = append(set, fmt.Sprintf("extraArgs[%d]=%s", i, a))
	}
	args := []string{"install", h.Release, filepath.Join(e.Repo, "charts", "kubeinfer"), "--namespace", h.Namespace}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	fmt.Fprintf(o.Log, "installing the operator: helm %s\n", strings.Join(args, " "))
	if _, err := e.Helm(ctx, args...); err != nil {
		return err
	}
	if _, err := e.Kubectl(ctx, nil, "wait", "--for", "condition=established", "--timeout", "60s",
		"crd/inferenceworkers.inference.kubeinfer.dev"); err != nil {
		return err
	}
	name := h.Release + "-controller-manager"
	if !strings.Contains(h.Release, "kubeinfer") {
		name = h.Release + "-kubeinfer-controller-manager"
	}
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		d := &appsv1.Deployment{}
		if err := e.Client.Get(ctx, client.ObjectKey{Namespace: h.Namespace, Name: name}, d); err != nil {
			return false, nil
		}
		return d.Status.AvailableReplicas >= 1, nil
	})
	if err != nil {
		pods, _ := e.Kubectl(ctx, nil, "-n", h.Namespace, "get", "pods,events", "-o", "wide")
		return fmt.Errorf("the chart's operator Deployment %s/%s is not available after 2 minutes:\n%s\noperator log:\n%s",
			h.Namespace, name, pods, Tail(e.OperatorLog(), 20))
	}
	fmt.Fprintf(o.Log, "operator installed by helm and available in %s (a pod on the local node; log: %s)\n",
		time.Since(start).Round(100*time.Millisecond), e.OperatorLog())
	return nil
}

// OperatorLog is the operator's log file: the process's, or that of the chart's pod.
func (e *Env) OperatorLog() string {
	if e.operatorNamespace == "" {
		return filepath.Join(e.StateDir, "logs", "manager.log")
	}
	logs, _ := filepath.Glob(filepath.Join(e.StateDir, "pods", e.operatorNamespace+"_*", "logs", "manager.log"))
	if len(logs) == 0 {
		return "(no operator pod has run yet)"
	}
	return logs[len(logs)-1]
}

func freeLocalPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
