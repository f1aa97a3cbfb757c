// Command devcluster runs a local Kubernetes cluster without Docker or a GPU: etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler as local processes, GPU nodes
// simulated by KWOK, and one node named "local" whose pods run as local processes. See
// README.md.
//
//	go run ./hack/devcluster [up] [flags]      start, print the KUBECONFIG, run until Ctrl-C
//	go run ./hack/devcluster build             build/cache the binaries and print their paths
//	go run ./hack/devcluster add-node [flags]  add a simulated GPU node to the running cluster
//	go run ./hack/devcluster proxy [flags]     forward a local port to a Service's ready pods
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubeinfer/kubeinfer/internal/devpaths"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "devcluster:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	sub := "up"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "up":
		return up(args)
	case "build":
		return build(args)
	case "add-node":
		return addNode(args)
	case "proxy":
		return proxy(args)
	case "pod-proxy":
		return podProxy(args)
	default:
		return fmt.Errorf("unknown command %q (want up, build, add-node, proxy or pod-proxy)", sub)
	}
}

func defaultStateDir() string {
	wd, _ := os.Getwd()
	if repo, err := devpaths.RepoRoot(wd); err == nil {
		return filepath.Join(repo, ".devcluster")
	}
	return ".devcluster"
}

func up(args []string) error {
	fs := flag.NewFlagSet("devcluster up", flag.ExitOnError)
	cfg := config{Log: os.Stderr}
	fs.StringVar(&cfg.StateDir, "state-dir", defaultStateDir(), "directory for certificates, kubeconfigs, logs, etcd data and pod volumes (emptied on start, except pvc/ and images/)")
	fs.StringVar(&cfg.BinDir, "bin-dir", "", "where the local node finds container commands (default <repo>/bin)")
	fs.IntVar(&cfg.GPUNodes, "gpu-nodes", 2, "number of simulated GPU nodes (KWOK)")
	fs.IntVar(&cfg.GPUsPerNode, "gpus-per-node", 8, "nvidia.com/gpu capacity of each simulated GPU node")
	fs.StringVar(&cfg.GPUProduct, "gpu-product", "NVIDIA-H100-80GB-HBM3", "nvidia.com/gpu.product label of the simulated GPU nodes")
	fs.Int64Var(&cfg.GPUMemoryMiB, "gpu-memory-mib", 81559, "nvidia.com/gpu.memory label (MiB per GPU) of the simulated GPU nodes")
	fs.IntVar(&cfg.LocalGPUs, "local-gpus", 1, "nvidia.com/gpu capacity of the local node, so GPU-asking pods can run here (they get --device auto)")
	fs.DurationVar(&cfg.RestartBackoff, "restart-backoff", 10*time.Second, "first CrashLoopBackOff delay of the local node (doubles up to 5m, as the kubelet's)")
	readyFile := fs.String("ready-file", "", "file to write the admin kubeconfig path to once the cluster is usable (default <state-dir>/ready)")
	_ = fs.Parse(args)

	wd, _ := os.Getwd()
	repo, err := devpaths.RepoRoot(wd)
	if err != nil {
		return err
	}
	if cfg.BinDir == "" {
		cfg.BinDir = filepath.Join(repo, "bin")
	}
	if cfg.StateDir, err = filepath.Abs(cfg.StateDir); err != nil {
		return err
	}
	if *readyFile == "" {
		*readyFile = filepath.Join(cfg.StateDir, "ready")
	}
	_ = os.Remove(*readyFile)

	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	bins, err := ensureBinaries(repo, os.Stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	c, err := startCluster(ctx, cfg, bins)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(os.Stderr, "devcluster: stopping")
		c.stop()
		_ = os.Remove(*readyFile)
		fmt.Fprintln(os.Stderr, "devcluster: stopped")
	}()
	if err := os.WriteFile(*readyFile, []byte(c.Kubeconfig+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "devcluster: ready in %s: %d GPU nodes x %d %s, local node running %s/*\n",
		time.Since(start).Round(100*time.Millisecond), cfg.GPUNodes, cfg.GPUsPerNode, cfg.GPUProduct, cfg.BinDir)
	fmt.Fprintf(os.Stderr, "devcluster: logs in %s/logs; Ctrl-C stops everything\n", cfg.StateDir)
	// The one line on stdout, for scripts: eval "$(... | head -1)" or wait for --ready-file.
	fmt.Printf("export KUBECONFIG=%s\n", c.Kubeconfig)

	select {
	case <-ctx.Done():
		return nil
	case msg := <-c.Exited:
		return fmt.Errorf("%s", msg)
	}
}

func build(args []string) error {
	fs := flag.NewFlagSet("devcluster build", flag.ExitOnError)
	_ = fs.Parse(args)
	wd, _ := os.Getwd()
	repo, err := devpaths.RepoRoot(wd)
	if err != nil {
		return err
	}
	b, err := ensureBinaries(repo, os.Stderr)
	if err != nil {
		return err
	}
	for _, p := range []string{b.Etcd, b.APIServer, b.ControllerManager, b.Scheduler, b.KWOK} {
		fmt.Println(p)
	}
	return nil
}

// clientFor returns a client for the devcluster whose state dir is given.
func clientFor(stateDir string) (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(stateDir, "admin.kubeconfig"))
	if err != nil {
		return nil, fmt.Errorf("is a devcluster running? %w", err)
	}
	return kubernetes.NewForConfig(rc)
}

func addNode(args []string) error {
	fs := flag.NewFlagSet("devcluster add-node", flag.ExitOnError)
	stateDir := fs.String("state-dir", defaultStateDir(), "state dir of the running devcluster")
	name := fs.String("name", "", "node name (default gpu-node-<unix time>)")
	gpus := fs.Int("gpus", 8, "nvidia.com/gpu capacity")
	product := fs.String("gpu-product", "NVIDIA-H100-80GB-HBM3", "nvidia.com/gpu.product label")
	mem := fs.Int64("gpu-memory-mib", 81559, "nvidia.com/gpu.memory label (MiB per GPU)")
	_ = fs.Parse(args)
	if *name == "" {
		*name = fmt.Sprintf("gpu-node-%d", time.Now().Unix())
	}
	cs, err := clientFor(*stateDir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := createNode(ctx, cs, gpuNode(*name, *gpus, *product, *mem)); err != nil {
		return err
	}
	fmt.Printf("node/%s created (%d x %s); KWOK marks it Ready within a second\n", *name, *gpus, *product)
	return nil
}
