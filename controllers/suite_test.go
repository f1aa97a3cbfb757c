package controllers

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/modelsize"
)

// The envtest suite: one real kube-apiserver + etcd for the whole package, started in
// TestMain. There is no kube-controller-manager, scheduler or kubelet, so tests play their
// part by writing Deployment and pod status themselves.

var (
	testScheme = runtime.NewScheme()
	cfg        *rest.Config
	k8sClient  client.Client
	testEnv    *envtest.Environment
)

const testWorkerImage = "registry.test/kubeinfer:test"

func TestMain(m *testing.M) {
	utilruntime.Must(clientgoscheme.AddToScheme(testScheme))
	utilruntime.Must(inferencev1alpha1.AddToScheme(testScheme))
	// Controller logs are noise in a passing run; KUBEINFER_TEST_LOG=1 shows them.
	logOut := io.Discard
	if os.Getenv("KUBEINFER_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	logf.SetLogger(zap.New(zap.WriteTo(logOut), zap.UseDevMode(true)))
	klog.SetLogger(logf.Log)

	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run `make test`, or\n"+
			"  KUBEBUILDER_ASSETS=\"$(hack/setup-envtest.sh)\" go test ./controllers/")
		os.Exit(1)
	}
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	var err error
	if cfg, err = testEnv.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "start envtest: %v\n", err)
		os.Exit(1)
	}
	if k8sClient, err = client.New(cfg, client.Options{Scheme: testScheme}); err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		_ = testEnv.Stop()
		os.Exit(1)
	}
	code := m.Run()
	if err := testEnv.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stop envtest: %v\n", err)
	}
	os.Exit(code)
}

// newNamespace gives each test its own namespace so tests cannot see each other's objects.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "iw-test-"}}
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

// recordedEvent is one Event the reconciler asked to emit.
type recordedEvent struct {
	Type, Reason, Action, Note string
}

// recordingRecorder keeps Events in memory so tests can assert exactly which were emitted
// by one reconcile; the manager test checks real Events in the API server.
type recordingRecorder struct {
	mu     sync.Mutex
	events []recordedEvent
}

func (r *recordingRecorder) Eventf(_ runtime.Object, _ runtime.Object, eventtype, reason, action, note string, args ...interface{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, recordedEvent{eventtype, reason, action, fmt.Sprintf(note, args...)})
}

// take returns the Events recorded since the last call.
func (r *recordingRecorder) take() []recordedEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.events
	r.events = nil
	return evs
}

var _ events.EventRecorder = &recordingRecorder{}

// writeCounter counts every request that could change the cluster.
type writeCounter struct{ n atomic.Int64 }

func (w *writeCounter) funcs() interceptor.Funcs {
	count := func() { w.n.Add(1) }
	return interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			count()
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			count()
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			count()
			return c.Patch(ctx, obj, patch, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			count()
			return c.Apply(ctx, obj, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			count()
			return c.Delete(ctx, obj, opts...)
		},
		SubResourceCreate: func(ctx context.Context, c client.Client, sub string, obj, subObj client.Object, opts ...client.SubResourceCreateOption) error {
			count()
			return c.SubResource(sub).Create(ctx, obj, subObj, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			count()
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			count()
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
		SubResourceApply: func(ctx context.Context, c client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
			count()
			return c.SubResource(sub).Apply(ctx, obj, opts...)
		},
	}
}

// testReconciler is a reconciler talking straight to the API server (no cache), so a test
// sees the effect of each Reconcile call at once, plus its write counter and Events.
type testReconciler struct {
	*InferenceWorkerReconciler
	writes   *writeCounter
	recorder *recordingRecorder
}

func newTestReconciler(t *testing.T) *testReconciler {
	t.Helper()
	direct, err := client.NewWithWatch(cfg, client.Options{Scheme: testScheme})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	wc := &writeCounter{}
	rec := &recordingRecorder{}
	return &testReconciler{
		InferenceWorkerReconciler: &InferenceWorkerReconciler{
			Client:      interceptor.NewClient(direct, wc.funcs()),
			APIReader:   direct,
			Recorder:    rec,
			WorkerImage: testWorkerImage,
			Sizer:       &modelsize.Sizer{},
		},
		writes:   wc,
		recorder: rec,
	}
}
