package controllers

import (
	"bufio"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/internal/coreevents"
)

// TestKubectlDescribeListsEventsInOrder: the operator's Events (through the recorder
// cmd/manager builds) and the real worker's narration, written as its ServiceAccount,
// appear in `kubectl describe` in the order they happened. Without the legacy timestamps
// kubectl sorts by, the worker's ModelLoading Event (patched, so named apart) came after
// its InferenceComplete Events.
func TestKubectlDescribeListsEventsInOrder(t *testing.T) {
	ns := newNamespace(t)
	r := newTestReconciler(t)
	sample := loadSample(t, "inference_v1alpha1_inferenceworker_gpt.yaml")
	sample.Spec.Narration.InferenceEvents = inferencev1alpha1.InferenceEventsAll
	iw := createIW(t, ns, sample)
	r.reconcile(t, iw)
	iw = getIW(t, iw)

	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	broadcaster := events.NewBroadcaster(coreevents.Sink{Client: core})
	if err := broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(testScheme, FieldOwner)
	recorder.Eventf(iw, nil, corev1.EventTypeNormal, inferencev1alpha1.ReasonCreated, "Create", "Created the workers")
	waitCoreEvents(t, iw, 1)
	time.Sleep(1100 * time.Millisecond) // a second apart: kubectl's sort has one-second precision

	d := getObj(t, ns, "gpt-go", &appsv1.Deployment{})
	newWorkerSim(t, ns, "gpt-go").pod("gpt-go-0", loadingPod)
	pod := getObj(t, ns, "gpt-go-0", &corev1.Pod{})
	model, err := filepath.Abs("../worker/testdata/models/gpt-go.gguf")
	if err != nil {
		t.Fatal(err)
	}
	w := startWorker(t, d, pod, serviceAccountKubeconfig(t, ns, d.Spec.Template.Spec.ServiceAccountName), model)
	w.waitReady(t)
	w.complete(t, "order-1", 2)
	w.complete(t, "order-2", 2)
	waitEvents(t, iw, "InferenceComplete", 2)
	time.Sleep(1100 * time.Millisecond)
	recorder.Eventf(iw, nil, corev1.EventTypeNormal, inferencev1alpha1.ReasonServing, "Serve", "Serving")

	evs := waitCoreEvents(t, iw, 6) // Created, ModelLoading, ModelLoaded, 2 InferenceComplete, Serving
	var want []string
	for _, e := range evs {
		want = append(want, e.Reason)
	}
	if i, j := slices.Index(want, "ModelLoading"), slices.Index(want, "InferenceComplete"); i < 0 || j < 0 || i > j ||
		want[0] != inferencev1alpha1.ReasonCreated || want[len(want)-1] != inferencev1alpha1.ReasonServing {
		t.Fatalf("the Events did not happen in the order this test needs: %v", want)
	}
	describe := kubectlDescribe(t, ns, iw.Name)
	if got := describedReasons(eventsSection(describe)); !slices.Equal(got, want) {
		t.Errorf("kubectl describe lists the Events as %v, want them as they happened: %v\n%s", got, want, eventsSection(describe))
	}
}

// waitCoreEvents waits for at least n Events about iw, by anyone, and returns them in the
// order they happened (eventTime).
func waitCoreEvents(t *testing.T, iw *inferencev1alpha1.InferenceWorker, n int) []corev1.Event {
	t.Helper()
	var evs []corev1.Event
	eventually(t, "Events about the InferenceWorker", func() bool {
		var list corev1.EventList
		if err := k8sClient.List(context.Background(), &list, client.InNamespace(iw.Namespace)); err != nil {
			t.Fatal(err)
		}
		evs = evs[:0]
		for _, e := range list.Items {
			if e.InvolvedObject.UID == iw.UID {
				evs = append(evs, e)
			}
		}
		return len(evs) >= n
	})
	slices.SortStableFunc(evs, func(a, b corev1.Event) int { return a.EventTime.Compare(b.EventTime.Time) })
	return evs
}

// describedReasons is the Reason column of kubectl describe's Events table.
func describedReasons(section string) []string {
	var reasons []string
	sc := bufio.NewScanner(strings.NewReader(section))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && (f[0] == corev1.EventTypeNormal || f[0] == corev1.EventTypeWarning) {
			reasons = append(reasons, f[1])
		}
	}
	return reasons
}
