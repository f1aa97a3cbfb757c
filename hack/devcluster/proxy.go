package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubeinfer/kubeinfer/hack/devcluster/localrunner"
)

// proxy forwards a local port to a Service, like `kubectl port-forward svc/NAME`: there is
// no kube-proxy, so ClusterIPs lead nowhere, but the Service's EndpointSlices list the
// ready pods' addresses, and the local node's pods are reachable at their local addresses
// (pod IP 10.244.X.Y at 127.244.X.Y, see localrunner.LocalAddress). Pods on KWOK nodes run
// nothing and are skipped.
func proxy(args []string) error {
	fs := flag.NewFlagSet("devcluster proxy", flag.ExitOnError)
	stateDir := fs.String("state-dir", defaultStateDir(), "state dir of the running devcluster")
	ns := fs.String("n", "default", "namespace of the Service")
	svc := fs.String("service", "", "Service name (required)")
	portName := fs.String("service-port", "", "name of the Service port (default: its first port)")
	listen := fs.String("listen", "127.0.0.1:8000", "local address to listen on")
	_ = fs.Parse(args)
	if *svc == "" {
		return errors.New("proxy: --service is required")
	}
	cs, err := clientFor(*stateDir)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "devcluster: forwarding %s to service %s/%s\n", l.Addr(), *ns, *svc)
	var next atomic.Uint64
	for {
		conn, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			addrs, err := serviceEndpoints(ctx, cs, *ns, *svc, *portName)
			cancel()
			if err != nil || len(addrs) == 0 {
				fmt.Fprintf(os.Stderr, "devcluster: service %s/%s has no ready endpoint (%v)\n", *ns, *svc, err)
				return
			}
			target := addrs[next.Add(1)%uint64(len(addrs))]
			up, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				fmt.Fprintf(os.Stderr, "devcluster: %s: %v\n", target, err)
				return
			}
			defer up.Close()
			go func() { _, _ = io.Copy(up, conn); up.(*net.TCPConn).CloseWrite() }()
			_, _ = io.Copy(conn, up)
		}()
	}
}

// serviceEndpoints returns host:port of the Service's ready endpoints for the named port
// (or the first port when name is empty).
func serviceEndpoints(ctx context.Context, cs kubernetes.Interface, ns, svc, portName string) ([]string, error) {
	slices, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + svc,
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range slices.Items {
		var port int32 = -1
		for _, p := range s.Ports {
			if p.Port != nil && (portName == "" || (p.Name != nil && *p.Name == portName)) {
				port = *p.Port
				break
			}
		}
		if port < 0 {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, a := range e.Addresses {
				if local := localrunner.LocalAddress(a); local != "" {
					out = append(out, net.JoinHostPort(local, strconv.Itoa(int(port))))
				}
			}
		}
	}
	return out, nil
}
