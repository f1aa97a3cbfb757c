package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/cudabackend"
	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/load"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/narration"
	"github.com/kubeinfer/kubeinfer/worker/scheduler"
	"github.com/kubeinfer/kubeinfer/worker/server"
)

func init() {
	commands["serve"] = command{summary: "serve a model over an OpenAI-compatible HTTP API", run: runServe}
}

// serveConfig is everything serve is configured with, from flags or
// KUBEINFER_* environment variables (a flag wins).
type serveConfig struct {
	Model         string
	Arch          string
	ServedName    string
	Host          string
	Port          int
	MaxConcurrent int
	MaxQueue      int
	MaxContext    int
	PrefillChunk  int
	PrefillHold   int
	SerialSteps   bool
	// SchedulingPolicy is fcfs or priority (server.Config.Priority).
	SchedulingPolicy string
	// KVCacheType and GPUMemoryUtilization size and type the GPU's KV pool (memplan.Options).
	KVCacheType          string
	GPUMemoryUtilization float64
	Device               string
	CUDALib              string
	GPUs                 int // tensor-parallel GPUs
	ShutdownGrace        time.Duration
	// InferenceEvents (All, Sampled or Off) and InferenceEventsInterval
	// configure the narration of requests as Kubernetes Events.
	InferenceEvents         string
	InferenceEventsInterval time.Duration
	TerminationLog          string
	// LoadStallTimeout fails a load that makes no progress for this long; 0 never does.
	LoadStallTimeout time.Duration
	// Request limits (server.Limits computes what 0 means).
	MaxRequestBytes   int64
	MaxConnections    int
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// APIKeyFile holds the API keys clients must send, one a line; re-read when it changes.
	APIKeyFile string
}

// exitShutdownCut is serve's exit code when the shutdown grace period ended
// with requests still running: they were cut short.
const exitShutdownCut = 5

// terminationLogPath is where Kubernetes reads a container's last words.
const terminationLogPath = "/dev/termination-log"

func (c *serveConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Model, "model", "", "GGUF model file (required)")
	fs.StringVar(&c.Arch, "arch", "", "declared architecture family, llama or gpt (required)")
	fs.StringVar(&c.ServedName, "served-name", "", "model name in the API (default: the file name without .gguf)")
	fs.StringVar(&c.Host, "host", "", "address to listen on (default: all)")
	fs.IntVar(&c.Port, "port", 8000, "port to listen on")
	fs.IntVar(&c.MaxConcurrent, "max-concurrent", 8, "sequences generated together")
	fs.IntVar(&c.MaxQueue, "max-queue", -1, "requests waiting for a slot before 429 (default 4 × max-concurrent)")
	fs.StringVar(&c.SchedulingPolicy, "scheduling-policy", string(v1alpha1.SchedulingFCFS),
		"fcfs (first come first served; a request's priority other than 0 is refused) or priority (by the request's priority field, lower first)")
	fs.IntVar(&c.MaxContext, "max-context", 0, "tokens per request, prompt included (default: the model's context)")
	fs.IntVar(&c.PrefillChunk, "prefill-chunk", scheduler.DefaultPrefillChunk,
		"most prompt tokens prefilled per step, between the running streams' decode steps")
	fs.IntVar(&c.PrefillHold, "prefill-hold", -1,
		fmt.Sprintf("most decode steps a new prompt waits, while other streams decode, for more prompts to share its prefill pass (0: never; default %d on a GPU, 0 on the CPU engine)", scheduler.DefaultPrefillHold))
	fs.BoolVar(&c.SerialSteps, "serial-steps", false,
		"decode each step after the last step's tokens are streamed rather than during it (to measure what the overlap is worth)")
	fs.StringVar(&c.KVCacheType, "kv-cache-type", string(kvcache.Auto),
		"how the KV cache stores keys and values: auto (f16 on a GPU, f32 on the CPU), f32, f16, bf16 or q8_0")
	fs.Float64Var(&c.GPUMemoryUtilization, "gpu-memory-utilization", memplan.DefaultGPUMemoryUtilization,
		"share of the GPU's memory the worker takes: weights, buffers, and a KV cache that fills the rest")
	fs.StringVar(&c.Device, "device", cudabackend.DeviceAuto, "auto (the GPU if there is one, else the CPU engine), cpu or cuda")
	fs.IntVar(&c.GPUs, "gpus", 1, "GPUs to split the model over with tensor parallelism (devices 0 to gpus-1; the operator passes spec.gpu.count)")
	fs.StringVar(&c.CUDALib, "cuda-lib", "", "path of libkubeinfer_cuda.so (default: $KUBEINFER_CUDA_LIB, next to this binary, the library path)")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 25*time.Second, "time running requests get to finish after SIGTERM")
	fs.StringVar(&c.InferenceEvents, "inference-events", "Sampled", "narrate requests as Kubernetes Events: All, Sampled or Off")
	fs.DurationVar(&c.InferenceEventsInterval, "inference-events-interval", 30*time.Second, "at most one sampled inference event per interval")
	fs.StringVar(&c.TerminationLog, "termination-log", terminationLogPath, "file the model load error is written to")
	fs.DurationVar(&c.LoadStallTimeout, "load-stall-timeout", 5*time.Minute,
		"fail the model load (exit code 3) when it makes no progress for this long; 0 disables the check")
	fs.Int64Var(&c.MaxRequestBytes, "max-request-bytes", 0, "largest request body, 413 past it (default: 16 bytes per context token + 64 KiB)")
	fs.IntVar(&c.MaxConnections, "max-connections", 0, "most open client connections (default: 2 × (max-concurrent + max-queue) + 64)")
	fs.DurationVar(&c.ReadHeaderTimeout, "read-header-timeout", server.DefaultReadHeaderTimeout, "time a client has to send its request headers")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", server.DefaultReadTimeout, "time a client has to send a request body once it is read")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", server.DefaultWriteTimeout,
		"time each write of a response (one streamed chunk) may take; a stream lasts as long as the client reads it")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", server.DefaultIdleTimeout, "time a keep-alive connection waits for its next request")
	fs.StringVar(&c.APIKeyFile, "api-key-file", "",
		"file of API keys, one a line, that requests must send as 'Authorization: Bearer KEY' (re-read when it changes; probes and /metrics stay open); empty: no authentication")
}

// envName maps a flag name to its environment variable: max-context →
// KUBEINFER_MAX_CONTEXT.
func envName(flagName string) string {
	return "KUBEINFER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseWithEnv sets flags from the environment, then from args.
func parseWithEnv(fs *flag.FlagSet, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f.Name)); ok && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	if err != nil {
		return err
	}
	return parseFlags(fs, args)
}

func (c *serveConfig) validate() error {
	var errs []error
	if c.Model == "" {
		errs = append(errs, errors.New("--model is required"))
	}
	if c.Arch == "" {
		errs = append(errs, errors.New("--arch is required"))
	}
	if c.MaxConcurrent < 1 {
		errs = append(errs, errors.New("--max-concurrent must be at least 1"))
	}
	if c.PrefillChunk < 1 {
		errs = append(errs, errors.New("--prefill-chunk must be at least 1"))
	}
	if c.PrefillHold < -1 {
		errs = append(errs, errors.New("--prefill-hold must be 0 or more (or -1: the device's default)"))
	}
	if p := v1alpha1.SchedulingPolicy(c.SchedulingPolicy); p != v1alpha1.SchedulingFCFS && p != v1alpha1.SchedulingPriority {
		errs = append(errs, fmt.Errorf("--scheduling-policy %q: want fcfs or priority", c.SchedulingPolicy))
	}
	if _, err := kvcache.ParseType(c.KVCacheType); err != nil {
		errs = append(errs, fmt.Errorf("--kv-cache-type: %w", err))
	}
	if !(c.GPUMemoryUtilization > 0 && c.GPUMemoryUtilization <= 1) {
		errs = append(errs, fmt.Errorf("--gpu-memory-utilization %g: want a fraction greater than 0 and at most 1, e.g. 0.9", c.GPUMemoryUtilization))
	}
	if c.MaxRequestBytes < 0 || c.MaxConnections < 0 {
		errs = append(errs, errors.New("--max-request-bytes and --max-connections must be positive, or 0 for the default"))
	}
	for name, d := range map[string]time.Duration{"--read-header-timeout": c.ReadHeaderTimeout, "--read-timeout": c.ReadTimeout,
		"--write-timeout": c.WriteTimeout, "--idle-timeout": c.IdleTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s %s: want a positive duration (a worker without timeouts can be held by slow clients)", name, d))
		}
	}
	switch c.Device {
	case cudabackend.DeviceAuto, cudabackend.DeviceCPU, cudabackend.DeviceCUDA:
	default:
		errs = append(errs, fmt.Errorf("--device %q: want auto, cpu or cuda", c.Device))
	}
	switch c.InferenceEvents {
	case "All", "Sampled", "Off":
	default:
		errs = append(errs, fmt.Errorf("--inference-events %q: want All, Sampled or Off", c.InferenceEvents))
	}
	if c.ServedName == "" {
		base := c.Model[strings.LastIndex(c.Model, "/")+1:]
		c.ServedName = strings.TrimSuffix(base, ".gguf")
	}
	return errors.Join(errs...)
}

func runServe(ctx context.Context, e *env, args []string) error {
	var c serveConfig
	fs := newFlagSet("serve", "--model FILE --arch llama|gpt [flags]", e.stderr)
	c.flags(fs)
	if err := parseWithEnv(fs, args); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(e.stderr, err)
		}
		return errUsage
	}
	if err := c.validate(); err != nil || fs.NArg() != 0 {
		fmt.Fprintln(e.stderr, err)
		fs.Usage()
		return errUsage
	}
	family, err := model.ParseFamily(c.Arch)
	if err != nil {
		return err
	}
	log := e.log
	narrator := newNarrator(c, log)
	// Narration outlives the serving context: its last words (draining, a failed
	// load) are sent after SIGTERM, then flushed before exit.
	narrCtx, stopNarration := context.WithCancel(context.Background())
	go narrator.Run(narrCtx)
	defer func() { stopNarration(); narrator.Wait() }()

	keys, err := c.apiKeys(ctx, log)
	if err != nil {
		return err
	}
	srv := server.New(server.Config{ServedName: c.ServedName, MaxConcurrent: c.MaxConcurrent, MaxQueue: c.MaxQueue,
		MaxContext: c.MaxContext, PrefillChunk: c.PrefillChunk, PrefillHold: c.PrefillHold, SerialSteps: c.SerialSteps, Narrator: narrator, Collectors: narrator.Collectors(), Log: log,
		MaxRequestBytes: c.MaxRequestBytes, MaxConnections: c.MaxConnections, ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout, IdleTimeout: c.IdleTimeout, APIKeys: keys,
		Priority: v1alpha1.SchedulingPolicy(c.SchedulingPolicy) == v1alpha1.SchedulingPriority})

	// Listen before loading, so that liveness probes pass while a big model loads.
	ln, err := net.Listen("tcp", net.JoinHostPort(c.Host, fmt.Sprint(c.Port)))
	if err != nil {
		return err
	}
	httpSrv := srv.HTTPServer()
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(srv.Listener(ln)) }()
	log.Info("listening", "address", ln.Addr().String(), "servedName", c.ServedName, "inferenceEvents", c.InferenceEvents,
		"inferenceEventsInterval", c.InferenceEventsInterval.String())

	tracker := load.NewTracker(narrator.OnModelLoading, nil)
	m, err := load.Watch(ctx, tracker, c.LoadStallTimeout, stallCheckInterval(c.LoadStallTimeout), func() (*load.Model, error) {
		return load.Load(load.Options{Path: c.Model, Family: family, Backend: c.newBackend(log), Log: log,
			Plan: c.memoryPlan, Progress: tracker.Update, Prewarm: c.prewarm(), WarmBatch: c.MaxConcurrent})
	})
	if err == nil {
		logKVCache(log, m.Backend, c.KVCacheType)
		if err = srv.Start(ctx, m); err != nil {
			m.Close()
		}
	}
	if err != nil {
		srv.ModelLoadFailed(err)
		writeTerminationLog(c.TerminationLog, "model load failed: "+err.Error())
		_ = httpSrv.Close()
		return exitCodeError{code: v1alpha1.WorkerExitModelLoadFailed, err: fmt.Errorf("model load failed: %w", err)}
	}

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", c.ShutdownGrace.String())
	narrator.OnDraining(srv.Stats().Running)
	grace, cancel := context.WithTimeout(context.Background(), c.ShutdownGrace)
	defer cancel()
	_ = srv.Shutdown(grace)
	// Handlers return once the scheduler has finished or cut their requests.
	stop, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := httpSrv.Shutdown(stop); err != nil {
		_ = httpSrv.Close()
	}
	if n := srv.CutRequests(); n > 0 {
		err := fmt.Errorf("the shutdown grace period (%s) ended before %d requests finished; they were cut short", c.ShutdownGrace, n)
		log.Info("stopped", "cutRequests", n)
		writeTerminationLog(c.TerminationLog, err.Error())
		return exitCodeError{code: exitShutdownCut, err: err}
	}
	log.Info("stopped")
	return nil
}

// logKVCache says what the KV cache got: on a GPU the pool gpuMemoryUtilization left, and the
// plan it completes (what the load allocated; hack/realshape compares it with the memory measured).
func logKVCache(log logr.Logger, b engine.Backend, kvType string) {
	kv := b.KV()
	kvs := []any{"device", b.Device(), "kvCacheType", kvType, "kvCacheTokens", kv.CapacityTokens(), "blocks", kv.Blocks()}
	if p, ok := b.(interface{ Plan() memplan.Plan }); ok {
		plan := p.Plan()
		kvs = append(kvs, "planMiB", memplan.CeilMiB(plan.Total()), "kvCacheMiB", memplan.CeilMiB(plan.KVCache))
	}
	log.Info("KV cache", kvs...)
}

// writeTerminationLog writes msg as one line to path when path exists and
// is writable; Kubernetes shows it as the container's termination message.
func writeTerminationLog(path, msg string) {
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, strings.ReplaceAll(msg, "\n", " "))
}

// newNarrator tells people what this worker does: always in the log, and as Events on
// the InferenceWorker when the operator's environment says which one (in a cluster).
func newNarrator(c serveConfig, log logr.Logger) *narration.Narrator {
	cfg := narration.Config{
		Log:         log.WithName("narration"),
		Mode:        v1alpha1.InferenceEventsMode(c.InferenceEvents),
		MinInterval: c.InferenceEventsInterval,
		Arch:        c.Arch,
		ServedName:  c.ServedName,
		Target:      c.Model,
		Memory:      narration.ProcessMemory,
	}
	narrateToPod(&cfg, log)
	return narration.New(cfg)
}

// narrateToPod names the narrating process after its pod and, when the operator's environment
// says which InferenceWorker it works for, sends the narration there as Events; elsewhere
// (a laptop, a test) it narrates to the log only.
func narrateToPod(cfg *narration.Config, log logr.Logger) {
	host, _ := os.Hostname()
	cfg.Actor = "kubeinfer-worker/" + host
	target, ok := narration.TargetFromEnv(os.Getenv)
	if !ok {
		return
	}
	cfg.Actor = "kubeinfer-worker/" + target.PodName
	cfg.Target = target.String()
	sink, err := narration.NewEventSink(target)
	if err != nil {
		log.Error(err, "narrating to the log only: cannot reach the API server", "target", target.String())
		return
	}
	cfg.Sink = sink
}

// stallCheckInterval is how often the load watchdog looks: often enough to honour short
// timeouts (tests), rarely enough to cost nothing.
func stallCheckInterval(timeout time.Duration) time.Duration {
	return min(max(timeout/10, 10*time.Millisecond), time.Second)
}

// cudaOptions are the CUDA loader's options for this configuration.
func (c serveConfig) cudaOptions() cudabackend.Options {
	return cudabackend.Options{LibPath: c.CUDALib, Memory: c.memoryOptions(), GPUs: c.GPUs}
}

// memoryOptions size the KV cache and buffers: the operator computes the same from the
// InferenceWorker's serving fields (controllers.workerPlanOptions).
func (c serveConfig) memoryOptions() memplan.Options {
	kt, _ := kvcache.ParseType(c.KVCacheType) // validated
	return memplan.Options{MaxContext: c.MaxContext, Concurrency: c.MaxConcurrent, PrefillChunk: c.PrefillChunk, KVType: kt,
		GPUMemoryUtilization: c.GPUMemoryUtilization, GPUs: c.GPUs}
}

// memoryPlan is what the CUDA loader allocates for m with this configuration, reported
// with the load (kubeinfer.dev/required-mib) so the operator schedules by it.
func (c serveConfig) memoryPlan(m *model.Model) memplan.Plan {
	// A model that does not split over --gpus has no plan; its load fails with the same words.
	p, _ := memplan.ForModel(m, c.memoryOptions())
	return p
}

// prewarm starts the GPU's context while the model file is parsed (nil for --device cpu).
func (c serveConfig) prewarm() func() {
	if c.Device == cudabackend.DeviceCPU {
		return nil
	}
	return func() { _ = cudabackend.Available(c.CUDALib) }
}

// newBackend applies the --device rules: cuda must get the GPU, auto falls back to the
// CPU engine and says why, cpu is the CPU engine.
func (c serveConfig) newBackend(log logr.Logger) load.NewBackend {
	return func(m *model.Model) (engine.Backend, error) {
		b, note, err := cudabackend.Select(m, c.Device, c.cudaOptions())
		if note != "" {
			log.Info(note, "device", c.Device)
		}
		return b, err
	}
}

// apiKeyReloadInterval is how often the API key file is re-read: the kubelet updates a
// mounted Secret within about a minute, so a rotation takes effect soon after that.
const apiKeyReloadInterval = 2 * time.Second

// apiKeys loads --api-key-file and keeps it fresh until ctx ends; nil without the flag.
func (c serveConfig) apiKeys(ctx context.Context, log logr.Logger) (*server.APIKeys, error) {
	if c.APIKeyFile == "" {
		return nil, nil
	}
	keys, err := server.LoadAPIKeys(c.APIKeyFile, log.WithName("api-keys"))
	if err != nil {
		return nil, fmt.Errorf("--api-key-file: %w", err)
	}
	go keys.Run(ctx, apiKeyReloadInterval)
	return keys, nil
}
