package localrunner

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestProcessSpec(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "kubeinfer-worker"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: "w-abc", Namespace: "ns1", UID: "uid-1", Labels: map[string]string{"app": "w"},
	}, Spec: corev1.PodSpec{NodeName: "local", ServiceAccountName: "w-worker"}}
	c := &corev1.Container{
		Name:    "worker",
		Command: []string{"/usr/local/bin/kubeinfer-worker"},
		Args: []string{"serve", "--model", "/models/m.gguf", "--port", "8000", "--device", "cuda",
			"--cache=/models/cache", "--other", "/modelsX/y", "--listen=$(POD_IP)", "--max-context", "8000",
			"--metrics-bind-address=:8000", "--health-probe-bind-address=:8081"},
		Env: []corev1.EnvVar{
			{Name: "IW_NAME", Value: "w"},
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
			{Name: "POD_UID", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.uid"}}},
			{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
			{Name: "MEM", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
			{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}},
			{Name: "OPT", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "missing"}, Key: "k", Optional: ptr.To(true)}}},
			{Name: "CACHE", Value: "/tmp/cache"},
			{Name: "GREETING", Value: "hello $(IW_NAME) $$(IW_NAME) $(UNDEFINED)"},
		},
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}},
	}
	pl := Placement{
		BinDir: bin,
		Mounts: []Mount{
			{ContainerPath: "/models", HostPath: "/state/pvc/ns1/models"},
			{ContainerPath: "/models/cache", HostPath: "/state/pods/p/volumes/cache"},
			{ContainerPath: "/tmp", HostPath: "/state/pods/p/volumes/tmp"},
		},
		Ports:    map[int32]int32{8000: 41234},
		PodIP:    "127.0.1.7",
		HostIP:   "127.0.0.1",
		WorkDir:  "/state/pods/p/work",
		BaseEnv:  []string{"PATH=/usr/bin", "HOME=/root"},
		ExtraEnv: []string{"KUBECONFIG=/state/pods/p/kubeconfig", "KUBERNETES_SERVICE_HOST=127.0.0.1"},
		Lookup: func(kind, name, key string) (string, bool, error) {
			if kind == "secret" && name == "s" && key == "k" {
				return "sekret", true, nil
			}
			return "", false, nil
		},
	}
	got, err := processSpec(pod, c, pl)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(bin, "kubeinfer-worker"); got.Path != want {
		t.Errorf("Path = %q, want %q", got.Path, want)
	}
	wantArgs := []string{"serve", "--model", "/state/pvc/ns1/models/m.gguf", "--port", "41234", "--device", "auto",
		"--cache=/state/pods/p/volumes/cache", "--other", "/modelsX/y", "--listen=127.0.1.7", "--max-context", "8000",
		"--metrics-bind-address=127.0.0.1:41234", "--health-probe-bind-address=:8081"}
	if !slices.Equal(got.Args, wantArgs) {
		t.Errorf("Args =\n %q\nwant\n %q", got.Args, wantArgs)
	}
	wantEnv := []string{
		"PATH=/usr/bin", "HOME=/root", "HOSTNAME=w-abc", "TMPDIR=/state/pods/p/volumes/tmp",
		"IW_NAME=w", "POD_NAME=w-abc", "POD_NAMESPACE=ns1", "POD_UID=uid-1", "POD_IP=127.0.1.7", "APP=w",
		"MEM=2048", "TOKEN=sekret", "CACHE=/state/pods/p/volumes/tmp/cache",
		"GREETING=hello w $(IW_NAME) $(UNDEFINED)",
		"KUBECONFIG=/state/pods/p/kubeconfig", "KUBERNETES_SERVICE_HOST=127.0.0.1",
	}
	if !slices.Equal(got.Env, wantEnv) {
		t.Errorf("Env =\n %q\nwant\n %q", got.Env, wantEnv)
	}
	if got.Dir != "/state/pods/p/work" {
		t.Errorf("Dir = %q", got.Dir)
	}
}

func TestProcessSpecErrors(t *testing.T) {
	pod := &corev1.Pod{}
	for name, c := range map[string]*corev1.Container{
		"no command": {Name: "c", Image: "img"},
		"missing secret": {Name: "c", Command: []string{"x"}, Env: []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}}}},
		"unsupported field": {Name: "c", Command: []string{"x"}, Env: []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nope"}}}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := processSpec(pod, c, Placement{Lookup: func(string, string, string) (string, bool, error) { return "", false, nil }})
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestCommandNotInBinDirIsKept(t *testing.T) {
	if got := resolveCommand(t.TempDir(), "sh"); got != "sh" {
		t.Errorf("resolveCommand = %q, want sh (looked up in PATH at start)", got)
	}
}

func TestTailBuffer(t *testing.T) {
	tb := newTailBuffer(2, 30)
	_, _ = tb.Write([]byte("one\ntwo\nthr"))
	_, _ = tb.Write([]byte("ee\nfour"))
	if got := tb.String(); got != "two\nthree\nfour" && got != "three\nfour" {
		t.Errorf("tail = %q", got)
	}
	tb = newTailBuffer(80, 8)
	_, _ = tb.Write([]byte(strings.Repeat("x", 20) + "\n"))
	if got := tb.String(); len(got) != 8 {
		t.Errorf("tail not capped to 8 bytes: %q", got)
	}
}

func TestIPPool(t *testing.T) {
	p := newIPPool()
	p.start = 0 // random by default, so devclusters side by side get different addresses
	a, b := p.get(), p.get()
	if a != "10.244.128.1" || b != "10.244.128.2" {
		t.Fatalf("got %s %s", a, b)
	}
	p.put(a)
	if c := p.get(); c != a {
		t.Errorf("released address not reused: %s", c)
	}
	if l := LocalAddress(a); l != "127.244.128.1" {
		t.Errorf("LocalAddress(%s) = %q", a, l)
	}
	if l := LocalAddress("10.244.0.5"); l != "" {
		t.Errorf("LocalAddress of a KWOK pod IP = %q, want none", l)
	}
	for range 300 {
		p.get()
	}
	if ip := p.get(); !strings.HasPrefix(ip, "10.244.129.") {
		t.Errorf("after 302 addresses got %s", ip)
	}
	last := newIPPool()
	last.start = ipPoolSize - 1
	if a, b := last.get(), last.get(); a != "10.244.255.254" || b != "10.244.128.1" {
		t.Errorf("at the end of the range got %s then %s, want 10.244.255.254 then 10.244.128.1", a, b)
	}
}
