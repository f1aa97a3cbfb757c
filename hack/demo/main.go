// Command demo runs kubeinfer end to end on this machine (`make demo`): it builds the
// binaries, starts a devcluster whose "local" node runs pods as local processes, installs
// the CRD, runs the operator, provides the models the samples point at, applies
// config/samples, waits until every InferenceWorker is Ready, asks each one a question
// through its Service, and shows `kubectl get` and `kubectl describe` with the narration
// Events. Then it stops everything, or with --keep keeps it running until Ctrl-C.
//
//	go run ./hack/demo [--keep] [--state-dir DIR]
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/hack/devenv"
)

const (
	namespace  = "default"
	samplesDir = "config/samples"
	modelsDir  = "worker/testdata/models"
)

// demoModels maps the model files the samples name (a PVC path, or the path of a URL) to
// the project's small models (hack/train): a llama and a GPT-2 trained on the Go
// toolchain's source, whose chat template turns the question into a Go comment.
var demoModels = map[string]string{
	"demo/llama-go.gguf": "llama-go.gguf",
	"demo/gpt-go.gguf":   "gpt-go.gguf",
}

// demoPrompt is what the demo asks each model. The models write Go, so the question is a
// doc comment; their answer is the code that follows it.
const demoPrompt = "Reverse returns s with its runes in reverse order."

func main() {
	keep := flag.Bool("keep", false, "keep the cluster, operator and workers running until Ctrl-C")
	stateDir := flag.String("state-dir", "", "devcluster state directory (default <repo>/.devcluster)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *keep, *stateDir); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// sample is one InferenceWorker of config/samples and the model file the demo provides.
type sample struct {
	file  string
	iw    *inferencev1alpha1.InferenceWorker
	model string // path of the model file in the repository
}

func run(ctx context.Context, out io.Writer, keep bool, stateDir string) (err error) {
	start := time.Now()
	step := func(format string, a ...any) {
		fmt.Fprintf(out, "\n==> "+format+"\n", a...)
	}
	repo, err := devenv.FindRepo()
	if err != nil {
		return err
	}
	samples, err := loadSamples(repo)
	if err != nil {
		return err
	}

	step("Building the binaries (the first build on a machine takes minutes)")
	if err := devenv.Build(ctx, repo, out); err != nil {
		return err
	}

	step("Starting a devcluster whose workers run as local processes")
	env, err := devenv.Start(ctx, devenv.Options{
		Repo: repo, StateDir: stateDir,
		// No simulated GPU nodes: the workers land on the local node, which really runs
		// them; it advertises one GPU so GPU samples fit (--device cuda becomes auto).
		GPUNodes: 0, GPUsPerNode: 8, LocalGPUs: 1,
		Log: out,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "\n==> Stopping the workers, the operator and the devcluster")
		env.Stop()
		if left := devenv.ProcessesUsing(env.StateDir); len(left) > 0 {
			for _, pid := range left {
				fmt.Fprintln(out, "left running:", devenv.Describe(pid))
			}
			if err == nil {
				err = fmt.Errorf("%d processes left running", len(left))
			}
			return
		}
		fmt.Fprintln(out, "stopped; no process left")
	}()

	step("Providing the models the samples point at")
	if err := provideModels(ctx, env, out, samples); err != nil {
		return err
	}

	step("kubectl apply -k config/samples")
	applied, err := env.Kubectl(ctx, nil, "apply", "-k", filepath.Join(repo, samplesDir))
	if err != nil {
		return err
	}
	fmt.Fprint(out, applied)

	step("Waiting until every InferenceWorker is Ready")
	if err := waitReady(ctx, env, out, samples); err != nil {
		return err
	}

	step("Asking each InferenceWorker through its Service (devcluster proxy)")
	proxies := map[string]string{}
	for _, s := range samples {
		base, err := env.Proxy(ctx, namespace, s.iw.Name)
		if err != nil {
			return err
		}
		proxies[s.iw.Name] = base
		fmt.Fprintf(out, "POST %s/chat/completions  model=%s  %q\n", base, servedName(s.iw), demoPrompt)
		reply, err := devenv.Chat(ctx, base, servedName(s.iw), demoPrompt, 32, "demo-"+s.iw.Name)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  %s answered in %s (%d prompt tokens, %d generated, finish %s, correlation id %s):\n",
			s.iw.Name, reply.Elapsed.Round(time.Millisecond), reply.PromptTokens, reply.OutputTokens, reply.FinishReason, reply.CorrelationID)
		fmt.Fprintf(out, "    | // %s\n", demoPrompt)
		for _, line := range strings.Split(strings.TrimRight(reply.Content, "\n"), "\n") {
			fmt.Fprintf(out, "    | %s\n", strings.ReplaceAll(line, "\t", "    "))
		}
	}
	fmt.Fprintf(out, "  (%s: models of about 4M parameters trained for a few minutes on the Go source tree\n"+
		"   by hack/train; they write Go-shaped code, not correct code)\n", strings.Join(modelNames(samples), " and "))

	// Narration goes through a queue in the worker: wait until the Events are there.
	for _, s := range samples {
		_ = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			evs, err := env.Events(ctx, namespace, s.iw.Name)
			return err == nil && devenv.FindEvent(evs, "InferenceComplete") != nil, nil
		})
	}

	step("kubectl get inferenceworkers -o wide")
	if err := show(ctx, env, out, "get", "inferenceworkers", "-o", "wide"); err != nil {
		return err
	}
	step("kubectl describe inferenceworkers")
	if err := show(ctx, env, out, "describe", "inferenceworkers"); err != nil {
		return err
	}
	fmt.Fprintf(out, "\ndemo finished in %s\n", time.Since(start).Round(time.Second))

	if keep {
		step("Running until Ctrl-C")
		fmt.Fprintf(out, "export KUBECONFIG=%s\n", env.Kubeconfig)
		for name, base := range proxies {
			fmt.Fprintf(out, "%-10s %s  e.g. curl -s %s/models\n", name, base, base)
		}
		fmt.Fprintf(out, "worker logs: %s/pods/<namespace>_<pod>_<uid>/logs/worker.log; operator log: %s/logs/manager.log\n",
			env.StateDir, env.StateDir)
		<-ctx.Done()
	}
	return nil
}

// loadSamples reads the InferenceWorkers of config/samples and finds the model file each
// one needs.
func loadSamples(repo string) ([]sample, error) {
	files, err := filepath.Glob(filepath.Join(repo, samplesDir, "inference_*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no samples in %s: %v", samplesDir, err)
	}
	var out []sample
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		iw := &inferencev1alpha1.InferenceWorker{}
		if err := yaml.UnmarshalStrict(data, iw); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		name, err := modelFileName(iw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		file, ok := demoModels[name]
		if !ok {
			return nil, fmt.Errorf("%s points at model %q, which the demo does not provide (it knows %v)", f, name, keys(demoModels))
		}
		out = append(out, sample{file: f, iw: iw, model: filepath.Join(repo, modelsDir, file)})
	}
	return out, nil
}

// modelFileName is the file a sample's model source names: the PVC path, or the URL's path.
func modelFileName(iw *inferencev1alpha1.InferenceWorker) (string, error) {
	src := iw.Spec.Model.Source
	switch {
	case src.PVC != nil:
		return src.PVC.Path, nil
	case src.URL != nil:
		u, err := url.Parse(src.URL.URL)
		if err != nil {
			return "", err
		}
		return strings.TrimPrefix(u.Path, "/"), nil
	default:
		return "", errors.New("the demo provides models for pvc and url sources only")
	}
}

// provideModels copies the files of PVC sources onto their claims and serves those of URL
// sources over HTTP at their URL, after checking the sample's digest.
func provideModels(ctx context.Context, env *devenv.Env, out io.Writer, samples []sample) error {
	claims := map[string]bool{}
	for _, s := range samples {
		src := s.iw.Spec.Model.Source
		rel, _ := filepath.Rel(env.Repo, s.model)
		switch {
		case src.PVC != nil:
			if !claims[src.PVC.ClaimName] {
				if err := env.CreateModelsPVC(ctx, namespace, src.PVC.ClaimName); err != nil {
					return err
				}
				claims[src.PVC.ClaimName] = true
				fmt.Fprintf(out, "PersistentVolumeClaim %s: bound to a hostPath volume at %s\n", src.PVC.ClaimName, env.PVCDir(namespace, src.PVC.ClaimName))
			}
			dst := filepath.Join(env.PVCDir(namespace, src.PVC.ClaimName), filepath.FromSlash(src.PVC.Path))
			if err := devenv.CopyFile(s.model, dst); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: %s -> claim %s, path %s\n", s.iw.Name, rel, src.PVC.ClaimName, src.PVC.Path)
		case src.URL != nil:
			sum, err := fileSHA256(s.model)
			if err != nil {
				return err
			}
			if sum != src.URL.SHA256 {
				return fmt.Errorf("%s: sha256 %s, but %s has %s: update the sample", s.file, src.URL.SHA256, rel, sum)
			}
			if err := serveFile(ctx, src.URL.URL, s.model); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: serving %s at %s (sha256 %s…); the worker's init container downloads it\n", s.iw.Name, rel, src.URL.URL, sum[:12])
		}
	}
	return nil
}

// serveFile serves one file at rawURL (an http://127.0.0.1:PORT/... address) until ctx ends.
func serveFile(ctx context.Context, rawURL, path string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	if u.Scheme != "http" {
		return fmt.Errorf("the demo serves models over http only, not %s", rawURL)
	}
	l, err := net.Listen("tcp", u.Host)
	if err != nil {
		return fmt.Errorf("serve the model at %s: %w (is another demo running?)", rawURL, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+u.Path, func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, path) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return nil
}

func fileSHA256(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// waitReady prints each InferenceWorker's Ready condition as it changes until all are Ready.
func waitReady(ctx context.Context, env *devenv.Env, out io.Writer, samples []sample) error {
	last := map[string]string{}
	start := time.Now()
	err := wait.PollUntilContextTimeout(ctx, time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		all := true
		for _, s := range samples {
			iw, err := env.InferenceWorker(ctx, namespace, s.iw.Name)
			if err != nil {
				return false, nil
			}
			line := "no status yet"
			if c := devenv.Condition(iw, inferencev1alpha1.ConditionReady); c != nil {
				line = fmt.Sprintf("Ready=%s %s: %s", c.Status, c.Reason, c.Message)
			}
			if line != last[s.iw.Name] {
				fmt.Fprintf(out, "[%5s] %-10s %s\n", time.Since(start).Round(time.Second), s.iw.Name, line)
				last[s.iw.Name] = line
			}
			all = all && devenv.IsReady(iw)
		}
		return all, nil
	})
	if err != nil {
		_ = show(ctx, env, out, "describe", "inferenceworkers")
		_ = show(ctx, env, out, "get", "pods", "-o", "wide")
		return fmt.Errorf("InferenceWorkers not Ready after 5 minutes (worker logs: %s/pods/*/logs): %w", env.StateDir, err)
	}
	return nil
}

func show(ctx context.Context, env *devenv.Env, out io.Writer, args ...string) error {
	s, err := env.Kubectl(ctx, nil, args...)
	fmt.Fprint(out, s)
	return err
}

func servedName(iw *inferencev1alpha1.InferenceWorker) string {
	if iw.Spec.Model.ServedName != "" {
		return iw.Spec.Model.ServedName
	}
	return iw.Name
}

func modelNames(samples []sample) []string {
	var out []string
	for _, s := range samples {
		out = append(out, filepath.Base(s.model))
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
