//go:build gitops

package gitops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubeinfer/kubeinfer/internal/devpaths"
)

// argoCDVersion must match test/gitops/tools/go.mod. v3.6.x needs Go 1.27, which the go
// command fetches through the module proxy (GOTOOLCHAIN below).
const (
	argoCDVersion   = "v3.6.1"
	argoCDToolchain = "go1.27.0"
	argoCDModule    = "github.com/argoproj/argo-cd/v3"
)

func findRepoRoot(t *testing.T) string {
	wd, _ := os.Getwd()
	repo, err := devpaths.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// argoCD is the cached multi-call binary, the CRDs of the same version, and a directory
// for PATH with the helper scripts Argo CD's image has in /usr/local/bin.
type argoCD struct{ Binary, CRDDir, ScriptDir string }

// ensureArgoCD builds Argo CD's single binary (cmd/, which dispatches on argv[0]:
// argocd-application-controller, argocd-repo-server, ...) from test/gitops/tools unless
// it is cached, and copies the module's manifests/crds next to it. ~20-30 minutes on 2
// cores the first time per machine.
func ensureArgoCD(t *testing.T, repo string) argoCD {
	dir := filepath.Join(devpaths.CacheRoot(), "argocd", argoCDVersion)
	a := argoCD{Binary: filepath.Join(dir, "argocd"), CRDDir: filepath.Join(dir, "crds"), ScriptDir: filepath.Join(dir, "scripts")}
	if isExecutable(a.Binary) && fileExists(filepath.Join(a.CRDDir, "application-crd.yaml")) && isExecutable(filepath.Join(a.ScriptDir, "git-verify-wrapper.sh")) {
		return a
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it too
	modDir := filepath.Join(repo, "test", "gitops", "tools")
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-buildvcs=false", "GOTOOLCHAIN="+argoCDToolchain)
	if !isExecutable(a.Binary) {
		t.Logf("building Argo CD %s from %s/cmd with %s (20-30 minutes on 2 cores, once per machine; cached in %s)", argoCDVersion, argoCDModule, argoCDToolchain, dir)
		start := time.Now()
		tmp := a.Binary + ".tmp"
		cmd := exec.Command("go", "build", "-trimpath", "-o", tmp,
			"-ldflags", "-s -w -X "+argoCDModule+"/common.version="+strings.TrimPrefix(argoCDVersion, "v"),
			argoCDModule+"/cmd")
		cmd.Dir, cmd.Env = modDir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build Argo CD: %v\n%s", err, out)
		}
		if err := os.Rename(tmp, a.Binary); err != nil {
			t.Fatal(err)
		}
		t.Logf("built Argo CD in %s", time.Since(start).Round(time.Second))
	}
	// The CRDs (manifests/crds) and git-verify-wrapper.sh come from the same module
	// version; the repo server runs the script for every manifest generation.
	cmd := exec.Command("go", "mod", "download", "-json", argoCDModule)
	cmd.Dir, cmd.Env = modDir, env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", argoCDModule, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		t.Fatalf("go mod download %s: no Dir in %s", argoCDModule, out)
	}
	if err := os.MkdirAll(a.CRDDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"application-crd.yaml", "applicationset-crd.yaml", "appproject-crd.yaml"} {
		data, err := os.ReadFile(filepath.Join(m.Dir, "manifests", "crds", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(a.CRDDir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script, err := os.ReadFile(filepath.Join(m.Dir, "hack", "git-verify-wrapper.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(a.ScriptDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.ScriptDir, "git-verify-wrapper.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	return a
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// goBuild builds a package of the root module into out.
func goBuild(t *testing.T, repo, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = repo
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitTCP(t *testing.T, addr string, timeout time.Duration, p *process) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if p != nil && p.exited() {
			t.Fatalf("%s exited before listening on %s; see %s", p.name, addr, p.logPath)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s after %s", addr, timeout)
}

// process is a child of the test: its own process group, killed if the test dies
// (Pdeathsig), stopped with SIGTERM (then SIGKILL) at cleanup. Output goes to logPath.
type process struct {
	name, logPath string
	cmd           *exec.Cmd
	done          chan struct{}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// startProcess runs argv (argv[0] is what the program sees as its name; path is the executable)
// with extra environment variables, logging to <logDir>/<name>.log.
func startProcess(t *testing.T, logDir, name, path string, argv []string, env ...string) *process {
	t.Helper()
	logPath := filepath.Join(logDir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: path, Args: argv, Env: append(os.Environ(), env...), Stdout: f, Stderr: f}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	})
	return p
}

// cluster talks to the devcluster: typed and dynamic clients with a REST mapper that
// re-discovers after CRDs are installed.
type cluster struct {
	Kubeconfig string
	Config     *rest.Config
	Client     kubernetes.Interface
	Dynamic    dynamic.Interface
	Mapper     *restmapper.DeferredDiscoveryRESTMapper
}

func newCluster(t *testing.T, kubeconfig string) *cluster {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{
		Kubeconfig: kubeconfig,
		Config:     cfg,
		Client:     kubernetes.NewForConfigOrDie(cfg),
		Dynamic:    dynamic.NewForConfigOrDie(cfg),
		Mapper:     restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
	}
}

// decodeYAML splits a multi-document YAML stream into objects.
func decodeYAML(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs
			}
			t.Fatalf("decode YAML: %v", err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// resource returns the dynamic client for obj's kind, in its namespace if namespaced.
func (c *cluster) resource(ctx context.Context, gvk schema.GroupVersionKind, ns string) (dynamic.ResourceInterface, error) {
	m, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		c.Mapper.Reset()
		m, err = c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.Dynamic.Resource(m.Resource).Namespace(ns), nil
	}
	return c.Dynamic.Resource(m.Resource), nil
}

// apply server-side applies objects (field manager "kubeinfer-gitops-test").
func (c *cluster) apply(t *testing.T, ctx context.Context, objs ...*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		data, err := json.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		var lastErr error
		// Right after a CRD is created its kind may not be served for a moment.
		for i := 0; i < 30; i++ {
			r, err := c.resource(ctx, o.GroupVersionKind(), o.GetNamespace())
			if err == nil {
				_, err = r.Patch(ctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "kubeinfer-gitops-test", Force: ptrTo(true)})
			}
			if lastErr = err; err == nil || !(meta.IsNoMatchError(err) || apierrors.IsNotFound(err)) {
				break
			}
			time.Sleep(time.Second)
		}
		if lastErr != nil {
			t.Fatalf("apply %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), lastErr)
		}
	}
}

func (c *cluster) applyFile(t *testing.T, ctx context.Context, path string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeYAML(t, data)
	c.apply(t, ctx, objs...)
	return objs
}

// waitCRDs waits until the CustomResourceDefinitions among objs are Established.
func (c *cluster) waitCRDs(t *testing.T, ctx context.Context, objs []*unstructured.Unstructured) {
	t.Helper()
	crds := c.Dynamic.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		poll(t, ctx, time.Minute, "CRD "+o.GetName()+" Established", func() (bool, error) {
			got, err := crds.Get(ctx, o.GetName(), metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
	}
	c.Mapper.Reset()
}

// poll calls f every 250ms until it returns true, failing the test after timeout. Errors
// from f are retried (and reported if the timeout passes).
func poll(t *testing.T, ctx context.Context, timeout time.Duration, what string, f func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		ok, err := f()
		if ok {
			return
		}
		lastErr = err
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, lastErr)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func ptrTo[T any](v T) *T { return &v }

func must(t *testing.T, err error, what ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprint(what...), err)
	}
}
