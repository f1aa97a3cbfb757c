package main

import "testing"

func TestResourceOf(t *testing.T) {
	for _, tc := range []struct {
		path, resource string
		collection     bool
	}{
		{"/api/v1/namespaces/bench/pods", "pods", true},
		{"/api/v1/namespaces/bench/pods/w0001-abc", "pods", false},
		{"/api/v1/namespaces/bench/pods/w0001-abc/status", "pods/status", false},
		{"/api/v1/nodes", "nodes", true},
		{"/api/v1/namespaces/bench", "namespaces", false},
		{"/apis/apps/v1/namespaces/bench/deployments/w0001", "deployments.apps", false},
		{"/apis/inference.kubeinfer.dev/v1alpha1/namespaces/bench/inferenceworkers/w0001/status", "inferenceworkers.inference.kubeinfer.dev/status", false},
		{"/apis/events.k8s.io/v1/namespaces/bench/events", "events.events.k8s.io", true},
		{"/apis", "/apis", false},
	} {
		if got := resourceOf(tc.path); got != tc.resource {
			t.Errorf("resourceOf(%s) = %q, want %q", tc.path, got, tc.resource)
		}
		if got := isCollection(tc.path); got != tc.collection {
			t.Errorf("isCollection(%s) = %v, want %v", tc.path, got, tc.collection)
		}
	}
}
