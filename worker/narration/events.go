package narration

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/internal/coreevents"
)

// Names shared with the operator, which reads ModelLoaded Events into status.model.
const (
	ReportingController     = inferencev1alpha1.EventReportingController
	AnnotationAction        = inferencev1alpha1.AnnotationAction
	AnnotationDurationMS    = inferencev1alpha1.AnnotationDurationMS
	AnnotationTokensIn      = inferencev1alpha1.AnnotationTokensIn
	AnnotationTokensOut     = inferencev1alpha1.AnnotationTokensOut
	AnnotationCorrelationID = inferencev1alpha1.AnnotationCorrelationID
	AnnotationDevice        = inferencev1alpha1.AnnotationDevice
	AnnotationModel         = inferencev1alpha1.AnnotationModel
	AnnotationParameters    = inferencev1alpha1.AnnotationParameters
	AnnotationVRAMMiB       = inferencev1alpha1.AnnotationVRAMMiB
	AnnotationRAMMiB        = inferencev1alpha1.AnnotationRAMMiB
	AnnotationRequiredMiB   = inferencev1alpha1.AnnotationRequiredMiB
	AnnotationWeightsBytes  = inferencev1alpha1.AnnotationWeightsBytes
)

// Target is the InferenceWorker and Pod a worker narrates about, from the downward-API
// environment the operator gives its pods.
type Target struct {
	Name, Namespace, UID string // the InferenceWorker
	PodName, PodUID      string
}

// TargetFromEnv reads the Target; ok is false outside a cluster (no InferenceWorker env).
func TargetFromEnv(getenv func(string) string) (Target, bool) {
	t := Target{
		Name:      getenv(inferencev1alpha1.EnvInferenceWorkerName),
		Namespace: getenv(inferencev1alpha1.EnvInferenceWorkerNamespace),
		UID:       getenv(inferencev1alpha1.EnvInferenceWorkerUID),
		PodName:   getenv(inferencev1alpha1.EnvPodName),
		PodUID:    getenv(inferencev1alpha1.EnvPodUID),
	}
	return t, t.Name != "" && t.Namespace != ""
}

// String is how logs name the target.
func (t Target) String() string { return "InferenceWorker " + t.Namespace + "/" + t.Name }

// EventSink writes narrations as events.k8s.io/v1 Events regarding the InferenceWorker,
// related to the worker's Pod, through the core/v1 API with the legacy timestamps that
// `kubectl describe` sorts by (see internal/coreevents). The worker's Role allows only
// creating and patching Events in its namespace, which is all this needs.
type EventSink struct {
	// Client is only the core/v1 client: the whole clientset would triple the binary.
	Client corev1client.EventsGetter
	Target Target
	now    func() time.Time
}

// NewEventSink connects to the API server with the standard client-go rules: KUBECONFIG
// or ~/.kube/config if present, else the pod's in-cluster ServiceAccount.
func NewEventSink(t Target) (*EventSink, error) {
	cfg, err := restConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes client config: %w", err)
	}
	cs, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return &EventSink{Client: cs, Target: t}, nil
}

func restConfig() (*rest.Config, error) {
	if os.Getenv("KUBECONFIG") == "" {
		if cfg, err := rest.InClusterConfig(); err == nil {
			return cfg, nil
		}
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{}).ClientConfig()
}

// maxNoteBytes is the API server's limit on an Event's note.
const maxNoteBytes = 1024

// Emit creates one Event, or for Fields.Patch updates the annotations of the Event
// named Fields.EventName (an Event's note is immutable; its metadata is not).
func (s *EventSink) Emit(ctx context.Context, f Fields) error {
	events := s.Client.Events(s.Target.Namespace)
	if f.Patch {
		// A merge patch keeps what it does not name: clear the progress annotations this
		// progress does not set (an ETA no longer known, a stall that is over).
		ann := map[string]any{}
		for _, k := range inferencev1alpha1.ProgressAnnotationKeys {
			ann[k] = nil
		}
		for k, v := range f.Progress.Annotations() {
			ann[k] = v
		}
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": ann}})
		if err != nil {
			return err
		}
		_, err = events.Patch(ctx, s.eventName(f, time.Time{}), types.MergePatchType, patch, metav1.PatchOptions{})
		if !apierrors.IsNotFound(err) {
			if err != nil {
				return fmt.Errorf("patch event %s on %s: %w", f.Reason, s.Target, err)
			}
			return nil
		}
		// The Event is not there: its create was refused or timed out (a thousand workers
		// loading at once can meet API Priority and Fairness), or it expired. Make it again,
		// with this progress, rather than patch nothing until the load ends.
	}
	if _, err := events.Create(ctx, coreevents.FromEventsV1(s.event(f)), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create event %s on %s: %w", f.Reason, s.Target, err)
	}
	return nil
}

// eventName is unique per regarding object and time, as client-go's recorder makes
// them, or the InferenceWorker's name and Fields.EventName for an Event that is patched later
// (which also starts with its creation time, so that names sort as the Events happened).
func (s *EventSink) eventName(f Fields, now time.Time) string {
	if f.EventName != "" {
		return s.Target.Name + "." + f.EventName
	}
	return fmt.Sprintf("%s.%x", s.Target.Name, now.UnixNano())
}

func (s *EventSink) event(f Fields) *eventsv1.Event {
	now := time.Now()
	if s.now != nil {
		now = s.now()
	}
	typ := corev1.EventTypeNormal
	if f.Warning {
		typ = corev1.EventTypeWarning
	}
	ann := map[string]string{
		AnnotationAction:     f.Action,
		AnnotationDurationMS: strconv.FormatInt(f.DurationMS, 10),
		AnnotationModel:      f.ModelRef,
	}
	if f.Device != "" {
		ann[AnnotationDevice] = f.Device
	}
	if f.Parameters > 0 {
		ann[AnnotationParameters] = strconv.FormatInt(f.Parameters, 10)
	}
	if f.Action == ActionInferenceComplete {
		ann[AnnotationTokensIn] = strconv.Itoa(f.TokensIn)
		ann[AnnotationTokensOut] = strconv.Itoa(f.TokensOut)
		ann[AnnotationCorrelationID] = f.CorrelationID
	}
	if f.RequiredMiB > 0 {
		ann[AnnotationRequiredMiB] = strconv.FormatInt(f.RequiredMiB, 10)
	}
	if f.Unready {
		ann[inferencev1alpha1.AnnotationUnready] = "true"
	}
	if f.WeightsBytes > 0 {
		ann[AnnotationWeightsBytes] = strconv.FormatInt(f.WeightsBytes, 10)
	}
	if f.Progress != nil {
		maps.Copy(ann, f.Progress.Annotations())
	}
	switch {
	case f.MemoryMiB > 0 && f.MemoryKind == "VRAM":
		ann[AnnotationVRAMMiB] = strconv.FormatInt(f.MemoryMiB, 10)
		if f.GPUs > 1 {
			ann[inferencev1alpha1.AnnotationGPUs] = strconv.Itoa(f.GPUs)
		}
	case f.MemoryMiB > 0:
		ann[AnnotationRAMMiB] = strconv.FormatInt(f.MemoryMiB, 10)
	}
	t := s.Target
	ev := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      s.eventName(f, now),
			Namespace: t.Namespace,
			// The operator caches and watches only Events with this label.
			Labels:      map[string]string{inferencev1alpha1.LabelWorker: t.Name},
			Annotations: ann,
		},
		EventTime:           metav1.NewMicroTime(now),
		ReportingController: ReportingController,
		ReportingInstance:   t.PodName,
		Action:              f.Action,
		Reason:              f.Reason,
		Type:                typ,
		Note:                truncateUTF8(f.Sentence, maxNoteBytes),
		Regarding: corev1.ObjectReference{
			APIVersion: inferencev1alpha1.GroupVersion.String(),
			Kind:       "InferenceWorker",
			Name:       t.Name,
			Namespace:  t.Namespace,
			UID:        types.UID(t.UID),
		},
	}
	if t.PodName != "" {
		ev.Related = &corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Name: t.PodName, Namespace: t.Namespace, UID: types.UID(t.PodUID)}
	}
	if ev.ReportingInstance == "" {
		ev.ReportingInstance = "local"
	}
	return ev
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
