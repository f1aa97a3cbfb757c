// Package coreevents writes events.k8s.io/v1 Events through the core/v1 Events API, with
// the legacy timestamps filled in, so that `kubectl describe` lists them in the order they
// happened.
//
// kubectl describe sorts a resource's Events by lastTimestamp alone (k8s.io/kubectl
// pkg/util/event.SortableEvents, used by describe.DescribeEvents), at one-second precision.
// The events.k8s.io/v1 API refuses deprecatedLastTimestamp on create and keeps it immutable
// on update (ValidateEventCreate and ValidateEventUpdate in kubernetes pkg/apis/core/validation),
// so an Event written through it has none, and kubectl's sort then falls back to whatever
// order the list came in. The core/v1 API takes both the new fields (eventTime,
// reportingController, action, related) and the legacy ones; the Events are the same
// objects, readable through either API.
//
// Within one second kubectl keeps the API server's order, which is the order of the names
// (for up to 12 Events, where Go's sort is an insertion sort): Event names that start with
// the creation time in hex nanoseconds, as client-go's recorder makes them and worker/narration
// does, keep those in order too.
package coreevents

import (
	"context"
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/events"
)

// FromEventsV1 is e as a core/v1 Event: the same Event, with firstTimestamp and
// lastTimestamp set to its eventTime (lastTimestamp to the series' last observation for a
// repeated Event) and count to the times it happened.
func FromEventsV1(e *eventsv1.Event) *corev1.Event {
	first := metav1.NewTime(e.EventTime.Time)
	ev := &corev1.Event{
		ObjectMeta:          *e.ObjectMeta.DeepCopy(),
		InvolvedObject:      e.Regarding,
		Reason:              e.Reason,
		Message:             e.Note,
		Type:                e.Type,
		EventTime:           e.EventTime,
		Action:              e.Action,
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
		FirstTimestamp:      first,
		LastTimestamp:       first,
		Count:               1,
	}
	if e.Related != nil {
		r := *e.Related
		ev.Related = &r
	}
	if s := e.Series; s != nil {
		ev.Series = &corev1.EventSeries{Count: s.Count, LastObservedTime: s.LastObservedTime}
		ev.Count = s.Count
		ev.LastTimestamp = metav1.NewTime(s.LastObservedTime.Time)
	}
	return ev
}

// Sink is client-go's events.EventSink over the core/v1 Events API: give it to
// events.NewBroadcaster, and the recorder's Events carry the timestamps kubectl sorts by.
type Sink struct {
	Client corev1client.EventsGetter
}

var _ events.EventSink = Sink{}

// Create creates e through the core/v1 API.
func (s Sink) Create(ctx context.Context, e *eventsv1.Event) (*eventsv1.Event, error) {
	if _, err := s.Client.Events(e.Namespace).Create(ctx, FromEventsV1(e), metav1.CreateOptions{}); err != nil {
		return nil, err // unwrapped: the broadcaster tells a missing Event by its status code
	}
	return e, nil
}

// Update replaces e through the core/v1 API.
func (s Sink) Update(ctx context.Context, e *eventsv1.Event) (*eventsv1.Event, error) {
	if _, err := s.Client.Events(e.Namespace).Update(ctx, FromEventsV1(e), metav1.UpdateOptions{}); err != nil {
		return nil, err
	}
	return e, nil
}

// Patch records another occurrence of a repeated Event. The broadcaster's patch is in
// events.k8s.io/v1 field names (series); this writes the same news in core/v1's: the series,
// the count and lastTimestamp.
func (s Sink) Patch(ctx context.Context, e *eventsv1.Event, _ []byte) (*eventsv1.Event, error) {
	ev := FromEventsV1(e)
	patch, err := json.Marshal(map[string]any{
		"series":        ev.Series,
		"count":         ev.Count,
		"lastTimestamp": ev.LastTimestamp,
	})
	if err != nil {
		return nil, err
	}
	if _, err := s.Client.Events(e.Namespace).Patch(ctx, e.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return nil, err
	}
	return e, nil
}
