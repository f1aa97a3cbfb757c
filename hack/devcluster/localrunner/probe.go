package localrunner

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// probe runs a container's startup, readiness and liveness probes while process p lives:
// readiness sets the container's Ready, a failed startup or liveness probe stops the
// process (supervise then restarts it).
func (pw *podWorker) probe(ctx context.Context, c *corev1.Container, idx int, p *process, pl Placement) {
	if sp := c.StartupProbe; sp != nil {
		if !pw.probeLoop(ctx, c, sp, pl, func(bool) bool { return true }) {
			if ctx.Err() == nil {
				pw.logf("container %s: startup probe failed, restarting it", c.Name)
				p.stop(pw.terminationGrace())
			}
			return
		}
		pw.setStatus(false, idx, func(s *corev1.ContainerStatus) { s.Started = ptr.To(true) })
	}
	if rp := c.ReadinessProbe; rp != nil {
		go pw.probeLoop(ctx, c, rp, pl, func(ok bool) bool {
			pw.setStatus(false, idx, func(s *corev1.ContainerStatus) { s.Ready = ok })
			return false
		})
	} else {
		pw.setStatus(false, idx, func(s *corev1.ContainerStatus) { s.Ready = true })
	}
	if lp := c.LivenessProbe; lp != nil {
		if !pw.probeLoop(ctx, c, lp, pl, func(ok bool) bool { return !ok }) && ctx.Err() == nil {
			pw.logf("container %s: liveness probe failed, restarting it", c.Name)
			p.stop(pw.terminationGrace())
		}
	}
}

func (pw *podWorker) terminationGrace() time.Duration {
	if g := pw.currentPod().Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return 30 * time.Second
}

// probeLoop runs pr every period until ctx ends. After successThreshold successes or
// failureThreshold failures in a row it calls onResult; when that returns true the loop
// stops and returns the result. It returns false when ctx ends.
func (pw *podWorker) probeLoop(ctx context.Context, c *corev1.Container, pr *corev1.Probe, pl Placement, onResult func(ok bool) (stop bool)) bool {
	period := 10 * time.Second
	if pr.PeriodSeconds > 0 {
		period = time.Duration(pr.PeriodSeconds) * time.Second
	}
	timeout := time.Duration(max(pr.TimeoutSeconds, 1)) * time.Second
	successT, failureT := max(pr.SuccessThreshold, 1), pr.FailureThreshold
	if failureT <= 0 {
		failureT = 3
	}
	wait := time.Duration(pr.InitialDelaySeconds) * time.Second
	var successes, failures int32
	for {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = period
		ok := check(ctx, c, pr, pl, timeout)
		if ok {
			successes, failures = successes+1, 0
		} else {
			successes, failures = 0, failures+1
		}
		if (ok && successes >= successT) || (!ok && failures >= failureT) {
			if onResult(ok) {
				return ok
			}
		}
	}
}

// check runs one probe against the container's process.
func check(ctx context.Context, c *corev1.Container, pr *corev1.Probe, pl Placement, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case pr.HTTPGet != nil:
		g := pr.HTTPGet
		scheme := "http"
		if g.Scheme == corev1.URISchemeHTTPS {
			scheme = "https"
		}
		url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort("127.0.0.1", strconv.Itoa(localPort(c, g.Port, pl))), g.Path)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false
		}
		for _, h := range g.HTTPHeaders {
			req.Header.Add(h.Name, h.Value)
		}
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // as the kubelet
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode >= 200 && resp.StatusCode < 400
	case pr.TCPSocket != nil:
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(localPort(c, pr.TCPSocket.Port, pl))))
		if err != nil {
			return false
		}
		conn.Close()
		return true
	case pr.Exec != nil && len(pr.Exec.Command) > 0:
		pc := c.DeepCopy()
		pc.Command, pc.Args = pr.Exec.Command, nil
		ps, err := processSpec(&corev1.Pod{}, pc, pl)
		if err != nil {
			return false
		}
		cmd := exec.CommandContext(ctx, ps.Path, ps.Args...)
		cmd.Env, cmd.Dir = ps.Env, ps.Dir
		return cmd.Run() == nil
	default: // gRPC probes are not run
		return true
	}
}

// localPort is the local port a probe's port (a number or a container port name) maps to.
func localPort(c *corev1.Container, port intstr.IntOrString, pl Placement) int {
	n := port.IntVal
	if port.Type == intstr.String {
		for _, cp := range c.Ports {
			if cp.Name == port.StrVal {
				n = cp.ContainerPort
			}
		}
	}
	if hp, ok := pl.Ports[n]; ok {
		return int(hp)
	}
	return int(n)
}
