package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"os"

	"github.com/kubeinfer/kubeinfer/hack/devcluster/localrunner"
)

// podProxy is an HTTP proxy to the pods of the local node, for programs on this machine
// that talk to pods by their IP as they would inside a cluster (the operator reads the
// autoscaled workers' /metrics): started with HTTP_PROXY=http://<listen>, their requests
// to http://10.244.X.Y:PORT/... reach the pod at its local address 127.244.X.Y (see
// localrunner.LocalAddress). Go never sends loopback addresses, like the API server's,
// through HTTP_PROXY.
func podProxy(args []string) error {
	fs := flag.NewFlagSet("devcluster pod-proxy", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:8001", "local address to listen on")
	_ = fs.Parse(args)
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "devcluster: HTTP proxy to the local node's pods on %s\n", l.Addr())
	return http.Serve(l, podProxyHandler())
}

func podProxyHandler() http.Handler {
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		host, port, _ := net.SplitHostPort(r.In.URL.Host)
		r.Out.URL.Scheme = "http"
		r.Out.URL.Host = net.JoinHostPort(localrunner.LocalAddress(host), port)
		r.Out.Host = r.In.Host
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.URL.Host)
		switch {
		case err != nil || !r.URL.IsAbs():
			http.Error(w, "pod-proxy: want an absolute http:// URL to a pod IP and port", http.StatusBadRequest)
		case localrunner.LocalAddress(host) == "":
			http.Error(w, "pod-proxy: "+host+" is not a pod IP of the local node (10.244.128.0/17)", http.StatusBadGateway)
		default:
			rp.ServeHTTP(w, r)
		}
	})
}
