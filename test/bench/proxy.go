package main

import (
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// countingProxy sits between the operator and the API server and counts the operator's
// requests. Every request it forwards is the operator's, so its write count is exact,
// whatever user agent or credentials the operator has; the kube-apiserver's own
// apiserver_request_total has no label that tells clients apart.
type countingProxy struct {
	URL string
	srv *http.Server

	mu     sync.Mutex
	writes map[string]int // "VERB resource" -> count
	reads  map[string]int
	// failures counts responses other than 2xx by request kind and code.
	failures map[string]int
	total    int
	log      []writeRecord // every write, in order
}

type writeRecord struct {
	at   time.Time
	verb string
	path string
	code int // the response's status code; 0 while it is in flight
}

func newCountingProxy(upstream *rest.Config) (*countingProxy, error) {
	target, err := url.Parse(upstream.Host)
	if err != nil {
		return nil, err
	}
	tr, err := rest.TransportFor(upstream)
	if err != nil {
		return nil, err
	}
	p := &countingProxy{writes: map[string]int{}, reads: map[string]int{}, failures: map[string]int{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = target.Host
		},
		Transport: tr,
		// Watches stream: flush every chunk at once.
		FlushInterval: -1,
		// A client that gives a request up (a narrator's 10 s timeout) shows as a 502 in
		// the failures; the line per request on stderr says no more.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.URL = "http://" + l.Addr().String()
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, logIndex := p.count(r)
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		rp.ServeHTTP(sw, r)
		p.mu.Lock()
		if logIndex >= 0 {
			p.log[logIndex].code = sw.code
		}
		if sw.code >= 300 {
			p.failures[fmt.Sprintf("%s -> %d", key, sw.code)]++
		}
		p.mu.Unlock()
	})}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// statusWriter remembers the response code; Flush keeps watches streaming.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) { w.code = code; w.ResponseWriter.WriteHeader(code) }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// count records the request; for a write it returns its index in the log.
func (p *countingProxy) count(r *http.Request) (string, int) {
	verb := r.Method
	isWrite := false
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodDelete:
		isWrite = true
	case http.MethodPatch:
		isWrite = true
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/apply-patch") {
			verb = "APPLY"
		}
	case http.MethodGet:
		switch {
		case r.URL.Query().Get("watch") == "true":
			verb = "WATCH"
		case isCollection(r.URL.Path):
			verb = "LIST"
		}
	}
	key := verb + " " + resourceOf(r.URL.Path)
	p.mu.Lock()
	defer p.mu.Unlock()
	if isWrite {
		p.writes[key]++
		p.total++
		p.log = append(p.log, writeRecord{at: time.Now(), verb: verb, path: r.URL.String()})
		return key, len(p.log) - 1
	}
	p.reads[key]++
	return key, -1
}

// Writes returns the number of writes so far.
func (p *countingProxy) Writes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// Snapshot copies the per-kind counts.
func (p *countingProxy) Snapshot() (writes, reads, failures map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.writes), maps.Clone(p.reads), maps.Clone(p.failures)
}

// WritesSince returns the writes made after the n-th.
func (p *countingProxy) WritesSince(n int) []writeRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]writeRecord(nil), p.log[n:]...)
}

func (p *countingProxy) Close() { _ = p.srv.Close() }

// WriteKubeconfig writes a kubeconfig that reaches the API server through the proxy.
func (p *countingProxy) WriteKubeconfig(path string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["bench"] = &clientcmdapi.Cluster{Server: p.URL}
	kc.AuthInfos["operator"] = &clientcmdapi.AuthInfo{}
	kc.Contexts["bench"] = &clientcmdapi.Context{Cluster: "bench", AuthInfo: "operator", Namespace: "default"}
	kc.CurrentContext = "bench"
	return clientcmd.WriteToFile(*kc, path)
}

// resourceOf turns /api/v1/namespaces/ns/pods/name/status into "pods/status" and
// /apis/g/v/namespaces/ns/res into "res.g".
func resourceOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var group string
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		group, parts = parts[1], parts[3:]
	default:
		return path
	}
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) != 2 {
		parts = parts[2:]
	}
	if len(parts) == 0 {
		return "discovery"
	}
	res := parts[0]
	if group != "" {
		res += "." + group
	}
	if len(parts) >= 3 {
		res += "/" + parts[2]
	}
	return res
}

func isCollection(path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return false
	}
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) != 2 {
		parts = parts[2:]
	}
	return len(parts) == 1
}

// formatCounts prints counts sorted by size, with per-worker rates.
func formatCounts(m map[string]int, workers int) string {
	type kv struct {
		k string
		v int
	}
	var list []kv
	for k, v := range m {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].v != list[j].v {
			return list[i].v > list[j].v
		}
		return list[i].k < list[j].k
	})
	var b strings.Builder
	for _, e := range list {
		fmt.Fprintf(&b, "    %-58s %7d  %6.2f/worker\n", e.k, e.v, float64(e.v)/float64(workers))
	}
	return b.String()
}
