package localrunner

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Mount maps a container's mount path to the local directory that stands in for it.
type Mount struct {
	ContainerPath, HostPath string
}

// Placement is what the runner decided for one pod on this machine; with the pod and a
// container it determines the container's process (see processSpec).
type Placement struct {
	// BinDir holds the programs containers name as their command: `kubeinfer-worker` or
	// `/usr/local/bin/kubeinfer-worker` runs <BinDir>/kubeinfer-worker when that exists.
	BinDir string
	// Mounts of this container, from its volumeMounts and the pod's volumes.
	Mounts []Mount
	// Ports maps the container's ports to the local ports its process listens on.
	Ports map[int32]int32
	// PodIP and HostIP are the values of status.podIP and status.hostIP.
	PodIP, HostIP string
	// WorkDir is the process's directory when the container names none, and its TMPDIR
	// when it mounts nothing at /tmp.
	WorkDir string
	// BaseEnv comes first in the process environment (PATH, HOME, ...); the container's
	// env is added after it and wins.
	BaseEnv []string
	// ExtraEnv is added after the container's env: KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT.
	ExtraEnv []string
	// NodeAllocatable stands in for unset limits in resourceFieldRef, as on a kubelet.
	NodeAllocatable corev1.ResourceList
	// Lookup returns a key of a ConfigMap ("configmap") or Secret ("secret") in the pod's
	// namespace, for configMapKeyRef and secretKeyRef; found is false if it does not exist.
	Lookup func(kind, name, key string) (value string, found bool, err error)
}

// ProcessSpec is how a container runs as a local process.
type ProcessSpec struct {
	Path string
	Args []string // not including argv[0]
	Env  []string
	Dir  string
}

// processSpec is the local process for container c of pod: the command resolved in the
// bin dir, env resolved (downward API, ConfigMap and Secret keys, $(VAR) references),
// mount paths in args and env values rewritten to their local directories, the container
// ports in `--port` rewritten to the local ports, and `--device cuda` to `--device auto`
// so a GPU is used where there is one and the CPU engine otherwise.
func processSpec(pod *corev1.Pod, c *corev1.Container, pl Placement) (ProcessSpec, error) {
	argv := append(append([]string{}, c.Command...), c.Args...)
	if len(c.Command) == 0 {
		return ProcessSpec{}, fmt.Errorf("container %s has no command: the local node cannot know image %q's entrypoint", c.Name, c.Image)
	}
	env, err := containerEnv(pod, c, pl)
	if err != nil {
		return ProcessSpec{}, err
	}
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	for i := range argv {
		argv[i] = expand(argv[i], vars)
	}
	dir := pl.WorkDir
	if c.WorkingDir != "" {
		dir = pl.hostPath(c.WorkingDir)
	}
	return ProcessSpec{
		Path: resolveCommand(pl.BinDir, argv[0]),
		Args: rewriteArgs(argv[1:], c, pl),
		Env:  env,
		Dir:  dir,
	}, nil
}

// resolveCommand prefers the program of that name in binDir, whatever directory the
// container image keeps it in.
func resolveCommand(binDir, cmd string) string {
	if binDir != "" {
		p := filepath.Join(binDir, filepath.Base(cmd))
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return cmd
}

func rewriteArgs(args []string, c *corev1.Container, pl Placement) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		if !strings.HasPrefix(a, "-") {
			hasValue = false
		}
		switch {
		case a == "--device" && i+1 < len(args) && args[i+1] == "cuda":
			out = append(out, a, "auto")
			i++
			continue
		case hasValue && name == "--device" && value == "cuda":
			out = append(out, "--device=auto")
			continue
		case a == "--port" && i+1 < len(args):
			out = append(out, a, pl.port(args[i+1]))
			i++
			continue
		case hasValue && name == "--port":
			out = append(out, "--port="+pl.port(value))
			continue
		case hasValue && strings.HasSuffix(name, "-address") && pl.mapsPort(strings.TrimPrefix(value, ":")) && strings.HasPrefix(value, ":"):
			// --metrics-bind-address=:8443 and the like: the runner listens on the pod IP's
			// port and forwards, so the process takes its local port on loopback.
			out = append(out, name+"=127.0.0.1:"+pl.port(value[1:]))
			continue
		case hasValue:
			out = append(out, name+"="+pl.hostPath(value))
			continue
		}
		out = append(out, pl.hostPath(a))
	}
	return out
}

// mapsPort says whether s is a container port number with a local port.
func (pl Placement) mapsPort(s string) bool {
	n, err := strconv.ParseInt(s, 10, 32)
	_, ok := pl.Ports[int32(n)]
	return err == nil && ok
}

// port maps a container port number to its local port; anything else is kept.
func (pl Placement) port(s string) string {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return s
	}
	if hp, ok := pl.Ports[int32(n)]; ok {
		return strconv.Itoa(int(hp))
	}
	return s
}

// hostPath rewrites a path under a container mount path (the longest that matches) to the
// mount's local directory; other strings are kept.
func (pl Placement) hostPath(s string) string {
	best := -1
	for i, m := range pl.Mounts {
		mp := strings.TrimSuffix(m.ContainerPath, "/")
		if mp == "" {
			continue
		}
		if s == mp || strings.HasPrefix(s, mp+"/") {
			if best < 0 || len(mp) > len(strings.TrimSuffix(pl.Mounts[best].ContainerPath, "/")) {
				best = i
			}
		}
	}
	if best < 0 {
		return s
	}
	m := pl.Mounts[best]
	return m.HostPath + strings.TrimPrefix(s, strings.TrimSuffix(m.ContainerPath, "/"))
}

func containerEnv(pod *corev1.Pod, c *corev1.Container, pl Placement) ([]string, error) {
	var order []string
	vars := map[string]string{}
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, kv := range pl.BaseEnv {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	set("HOSTNAME", pod.Name)
	tmp := pl.WorkDir
	for _, m := range pl.Mounts {
		if strings.TrimSuffix(m.ContainerPath, "/") == "/tmp" {
			tmp = m.HostPath
		}
	}
	if tmp != "" {
		set("TMPDIR", tmp)
	}
	for _, e := range c.Env {
		v := e.Value
		switch {
		case e.ValueFrom == nil:
			v = expand(v, vars)
		case e.ValueFrom.FieldRef != nil:
			fv, err := fieldValue(pod, pl, e.ValueFrom.FieldRef.FieldPath)
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			v = fv
		case e.ValueFrom.ResourceFieldRef != nil:
			rv, err := resourceValue(c, pl, e.ValueFrom.ResourceFieldRef)
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			v = rv
		case e.ValueFrom.ConfigMapKeyRef != nil || e.ValueFrom.SecretKeyRef != nil:
			kind, name, key, optional := "configmap", "", "", false
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				name, key, optional = r.Name, r.Key, r.Optional != nil && *r.Optional
			} else {
				r := e.ValueFrom.SecretKeyRef
				kind, name, key, optional = "secret", r.Name, r.Key, r.Optional != nil && *r.Optional
			}
			if pl.Lookup == nil {
				return nil, fmt.Errorf("env %s: no %s lookup", e.Name, kind)
			}
			lv, found, err := pl.Lookup(kind, name, key)
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			if !found {
				if optional {
					continue
				}
				return nil, fmt.Errorf("env %s: %s %s has no key %q", e.Name, kind, name, key)
			}
			v = lv
		default:
			return nil, fmt.Errorf("env %s: unsupported valueFrom", e.Name)
		}
		set(e.Name, pl.hostPath(v))
	}
	for _, kv := range pl.ExtraEnv {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	env := make([]string, 0, len(order))
	for _, k := range order {
		env = append(env, k+"="+vars[k])
	}
	return env, nil
}

// fieldValue is a downward API field of the pod.
func fieldValue(pod *corev1.Pod, pl Placement, path string) (string, error) {
	if k, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[k], nil
	}
	if k, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[k], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.hostIPs":
		return pl.HostIP, nil
	case "status.podIP", "status.podIPs":
		return pl.PodIP, nil
	}
	return "", fmt.Errorf("unsupported fieldRef %q", path)
}

// subscript parses `metadata.labels['key']`.
func subscript(path, field string) (string, bool) {
	rest, ok := strings.CutPrefix(path, field+"['")
	if !ok || !strings.HasSuffix(rest, "']") {
		return "", false
	}
	return strings.TrimSuffix(rest, "']"), true
}

func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s=%q", k, m[k])
	}
	return b.String()
}

// resourceValue is a resourceFieldRef, rounded up to the divisor as the kubelet does; an
// unset limit is the node's allocatable.
func resourceValue(c *corev1.Container, pl Placement, ref *corev1.ResourceFieldSelector) (string, error) {
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok {
		return "", fmt.Errorf("unsupported resourceFieldRef %q", ref.Resource)
	}
	list := c.Resources.Limits
	if kind == "requests" {
		list = c.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(name)]
	if !ok {
		q, ok = pl.NodeAllocatable[corev1.ResourceName(name)]
		if !ok || kind == "requests" {
			q = resource.Quantity{}
		}
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	v := math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue()))
	return strconv.FormatInt(int64(v), 10), nil
}

// expand replaces $(VAR) with the value of VAR when it is defined and $$ with $, like the
// kubelet; undefined references stay as written.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteByte(s[i])
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// sanitize makes an image reference into one directory name.
func sanitize(ref string) string {
	return strings.NewReplacer("/", "_", ":", "_", "@", "_").Replace(ref)
}
