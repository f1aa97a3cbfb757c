// Command manager runs the kubeinfer operator: the InferenceWorker controller.
package main

import (
	"crypto/tls"
	"flag"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/discovery"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/controllers"
	"github.com/kubeinfer/kubeinfer/internal/coreevents"
	"github.com/kubeinfer/kubeinfer/worker/modelsize"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(inferencev1alpha1.AddToScheme(scheme))
}

func main() {
	var (
		metricsAddr          string
		secureMetrics        bool
		probeAddr            string
		enableLeaderElection bool
		workerImage          string
		concurrentReconciles int
		loadInterval         time.Duration
		loadConcurrency      int
		leaderElectionNS     string
		nodeCacheDir         string
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0",
		"Address the metrics endpoint binds to, e.g. :8443 (HTTPS) or :8080 (HTTP); 0 disables it.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS with Kubernetes authentication and authorization.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", false,
		"Elect a leader so that only one replica of the manager reconciles at a time.")
	flag.StringVar(&workerImage, "worker-image", "ghcr.io/kubeinfer/kubeinfer-worker:dev",
		"Worker image for InferenceWorkers that do not set spec.image.")
	// In a pod, controller-runtime finds its namespace in the ServiceAccount's files; the
	// Deployment also sets POD_NAMESPACE, so that does not depend on where the token is.
	flag.StringVar(&leaderElectionNS, "leader-election-namespace", os.Getenv("POD_NAMESPACE"),
		"Namespace of the leader election Lease (default $POD_NAMESPACE, else the pod's own).")
	flag.StringVar(&nodeCacheDir, "node-cache-dir", controllers.DefaultNodeCacheDir,
		"Directory on each node where InferenceWorkers with url.cache.type Node keep downloaded models (a hostPath volume, writable by UID 65532).")
	flag.IntVar(&concurrentReconciles, "max-concurrent-reconciles", 4,
		"InferenceWorkers reconciled at once; each reconcile mostly waits on API round trips.")
	flag.DurationVar(&loadInterval, "autoscaling-interval", 10*time.Second,
		"Least time between two reads of an autoscaled InferenceWorker's load (each worker's /metrics); also its reconcile period.")
	flag.IntVar(&loadConcurrency, "autoscaling-max-concurrent-reads", 32,
		"Workers' /metrics read at once for autoscaling, over all InferenceWorkers.")
	zapOpts := zap.Options{Development: false}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")

	metricsOpts := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: secureMetrics,
		// HTTP/2 is off because of the HTTP/2 rapid reset CVEs (as in the kubebuilder scaffold).
		TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
	if secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	// Only the operator's own children are cached: a cluster may hold many more
	// Deployments and pods than the operator cares about.
	ownChildren := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{"app.kubernetes.io/managed-by": "kubeinfer"})}
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsOpts,
		HealthProbeBindAddress:  probeAddr,
		LeaderElection:          enableLeaderElection,
		LeaderElectionID:        "kubeinfer-operator.inference.kubeinfer.dev",
		LeaderElectionNamespace: leaderElectionNS,
		Controller:              config.Controller{MaxConcurrentReconciles: concurrentReconciles},
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&appsv1.Deployment{}:     ownChildren,
			&corev1.Service{}:        ownChildren,
			&corev1.ServiceAccount{}: ownChildren,
			&rbacv1.Role{}:           ownChildren,
			&rbacv1.RoleBinding{}:    ownChildren,
			&corev1.Pod{}:            ownChildren,
			// Only the workers' narration Events (labelled with their InferenceWorker), and
			// only GPU nodes labelled by gpu-feature-discovery with their memory.
			&corev1.Event{}: {Label: labelExists(inferencev1alpha1.LabelWorker)},
			&corev1.Node{}:  {Label: labelExists("nvidia.com/gpu.memory")},
		}},
	})
	if err != nil {
		log.Error(err, "unable to create manager")
		os.Exit(1)
	}

	// The operator's Events go through the core API with the timestamps kubectl describe
	// sorts by, like the workers' (internal/coreevents); the manager's own recorder writes
	// events.k8s.io Events without them.
	coreClient, err := corev1client.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		log.Error(err, "unable to create the Events client")
		os.Exit(1)
	}
	broadcaster := events.NewBroadcaster(coreevents.Sink{Client: coreClient})
	ctx := ctrl.SetupSignalHandler()
	if err := broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		log.Error(err, "unable to start recording Events")
		os.Exit(1)
	}
	defer broadcaster.Shutdown()

	disco, err := discovery.NewDiscoveryClientForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		log.Error(err, "unable to create the discovery client")
		os.Exit(1)
	}
	load := &controllers.LoadProbe{Interval: loadInterval, MaxConcurrent: loadConcurrency}
	if err := (&controllers.Metrics{Reader: mgr.GetClient(), Load: load}).Register(metrics.Registry); err != nil {
		log.Error(err, "unable to register the operator's metrics")
		os.Exit(1)
	}
	if err := (&controllers.InferenceWorkerReconciler{
		Client:       mgr.GetClient(),
		APIReader:    mgr.GetAPIReader(),
		Recorder:     broadcaster.NewRecorder(scheme, "kubeinfer-operator"),
		WorkerImage:  workerImage,
		Sizer:        &modelsize.Sizer{},
		Load:         load,
		Kinds:        controllers.NewServedKinds(disco),
		NodeCacheDir: nodeCacheDir,
	}).SetupWithManager(mgr); err != nil {
		log.Error(err, "unable to create controller", "controller", "InferenceWorker")
		os.Exit(1)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up ready check")
		os.Exit(1)
	}

	log.Info("starting manager", "workerImage", workerImage)
	if err := mgr.Start(ctx); err != nil {
		log.Error(err, "problem running manager")
		os.Exit(1)
	}
}

// labelExists selects objects that carry the label key, whatever its value.
func labelExists(key string) labels.Selector {
	req, err := labels.NewRequirement(key, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant, valid key
	}
	return labels.NewSelector().Add(*req)
}
