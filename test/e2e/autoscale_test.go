//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/hack/devenv"
)

// autoscalingInterval is the operator's --autoscaling-interval in this suite.
const autoscalingInterval = 2 * time.Second

// TestAutoscalingOnLoad: a load generator keeps requests in flight on a real worker; the
// operator reads them from the workers' /metrics and scales the InferenceWorker up to its
// bound, holds it there while the load is steady, and scales it down once the load has
// stopped for scaleDownDelaySeconds, telling each step in a ScaledUp or ScaledDown Event.
func TestAutoscalingOnLoad(t *testing.T) {
	const name = "autoscaled"
	w := gptOnCPU(name)
	w.events = "Sampled" // the scaling Events are the story here, not one per request
	applyManifest(t, name, w.manifest()+`  serving:
    maxConcurrentRequests: 2
  autoscaling:
    minReplicas: 1
    maxReplicas: 2
    targetInFlightPerReplica: 2
    scaleDownDelaySeconds: 8
`)
	waitReady(t, name)
	base, err := env.Proxy(context.Background(), ns, name)
	if err != nil {
		t.Fatal(err)
	}

	// The load: 6 clients, each sending its next request as soon as the last one ends, so
	// about 6 requests are always in flight (running or queued): 3 workers' worth at 2 each.
	ctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	var wg sync.WaitGroup
	var sent, failed atomic.Int64
	for c := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				_, err := devenv.Chat(ctx, base, name, "func main() {", 400, fmt.Sprintf("load-%d-%d", c, i))
				sent.Add(1)
				if err != nil && ctx.Err() == nil {
					failed.Add(1)
				}
			}
		}()
	}
	start := time.Now()
	iw := waitIW(t, name, "scaled up to maxReplicas 2", time.Minute, func(iw *inferencev1alpha1.InferenceWorker) bool {
		return iw.Status.Autoscaling != nil && iw.Status.Autoscaling.DesiredReplicas == 2
	})
	if *iw.Spec.Replicas != 1 {
		t.Errorf("spec.replicas = %d: the autoscaler must not write the spec", *iw.Spec.Replicas)
	}
	waitEvent(t, name, "ScaledUp", func(ev *eventView) bool {
		return ev.Reason == inferencev1alpha1.ReasonScaledUp && strings.Contains(ev.Note, "from 1 to 2 workers")
	})
	waitIW(t, name, "Ready with 2 workers", 2*time.Minute, func(iw *inferencev1alpha1.InferenceWorker) bool {
		return devenv.IsReady(iw) && iw.Status.ReadyReplicas == 2
	})
	t.Logf("scaled up and both workers ready %s after the load started", time.Since(start).Round(100*time.Millisecond))

	// Steady load: no flapping. 4 readings at the suite's 2 s interval.
	steady := time.Now()
	for time.Since(steady) < 4*autoscalingInterval {
		var d appsv1.Deployment
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
			t.Fatal(err)
		}
		if *d.Spec.Replicas != 2 {
			t.Fatalf("replicas = %d under steady load, want 2", *d.Spec.Replicas)
		}
		time.Sleep(500 * time.Millisecond)
	}
	stopLoad()
	wg.Wait()
	t.Logf("load: %d requests, %d failed", sent.Load(), failed.Load())
	if failed.Load() > 0 {
		t.Errorf("%d of %d requests failed under load", failed.Load(), sent.Load())
	}

	stopped := time.Now()
	waitIW(t, name, "scaled down to minReplicas 1", time.Minute, func(iw *inferencev1alpha1.InferenceWorker) bool {
		return iw.Status.Autoscaling != nil && iw.Status.Autoscaling.DesiredReplicas == 1
	})
	if took := time.Since(stopped); took < 8*time.Second {
		t.Errorf("scaled down %s after the load stopped, before scaleDownDelaySeconds (8 s)", took.Round(100*time.Millisecond))
	}
	waitEvent(t, name, "ScaledDown", func(ev *eventView) bool {
		return ev.Reason == inferencev1alpha1.ReasonScaledDown && strings.Contains(ev.Note, "from 2 to 1 workers")
	})
	evs, err := env.Events(context.Background(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	ups, downs := 0, 0
	for _, e := range evs {
		switch e.Reason {
		case inferencev1alpha1.ReasonScaledUp:
			ups++
		case inferencev1alpha1.ReasonScaledDown:
			downs++
		}
	}
	if ups != 1 || downs != 1 {
		t.Errorf("%d ScaledUp and %d ScaledDown Events, want one of each (no flapping)", ups, downs)
	}
	out := kubectl(t, nil, "describe", "inferenceworker", name)
	section := out[strings.LastIndex(out, "\nEvents:")+1:]
	t.Logf("kubectl describe inferenceworker %s (events):\n%s", name, section)
	if i, j := strings.Index(section, "ScaledUp"), strings.Index(section, "ScaledDown"); i < 0 || j < i {
		t.Errorf("kubectl describe does not show ScaledUp before ScaledDown:\n%s", section)
	}
}
