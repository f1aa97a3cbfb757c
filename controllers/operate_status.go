package controllers

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// podsRefused is the problem of a Deployment whose pods the API server will not create:
// its ReplicaSet says so in the Deployment's ReplicaFailure condition (FailedCreate). No
// pod exists to show it, so without this the workers would look forever starting.
func podsRefused(iw *inferencev1alpha1.InferenceWorker, d *appsv1.Deployment) *problem {
	if d == nil {
		return nil
	}
	for _, c := range d.Status.Conditions {
		if c.Type != appsv1.DeploymentReplicaFailure || c.Status != corev1.ConditionTrue {
			continue
		}
		msg := "the API server refuses the worker pods: " + c.Message
		if hint := refusalHint(iw, c.Message); hint != "" {
			msg += ": " + hint
		}
		return &problem{reason: inferencev1alpha1.ReasonWorkersRefused, message: msg}
	}
	return nil
}

// refusalHint says what to change for the refusals this operator's own choices can cause.
func refusalHint(iw *inferencev1alpha1.InferenceWorker, msg string) string {
	if !strings.Contains(msg, "violates PodSecurity") {
		return ""
	}
	if src := iw.Spec.Model.Source.URL; src != nil && src.Cache != nil && src.Cache.Type == inferencev1alpha1.ModelCacheNode &&
		strings.Contains(msg, "hostPath") {
		return fmt.Sprintf("a Node cache is a hostPath volume, which only the privileged Pod Security level admits: "+
			"use spec.model.source.url.cache.type Claim, or label namespace %s pod-security.kubernetes.io/enforce=privileged", iw.Namespace)
	}
	return "the worker pods meet the restricted profile unless spec.pod adds what it forbids (volumes, a runtime class); change spec.pod"
}
