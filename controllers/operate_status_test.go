package controllers

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// The ReplicaSet controller's words when Pod Security admission refuses a pod.
const psaRefusal = `pods "gated-7d9f-x" is forbidden: violates PodSecurity "restricted:latest": restricted volume types ` +
	`(volume "model-cache" uses restricted volume type "hostPath")`

func TestPodsRefused(t *testing.T) {
	nodeCache := operateIW("gated")
	nodeCache.Namespace = "team"
	claimCache := operateIW("gated")
	claimCache.Spec.Model.Source.URL.Cache = &inferencev1alpha1.ModelCache{Type: inferencev1alpha1.ModelCacheClaim, ClaimName: "c"}
	deployment := func(conds ...appsv1.DeploymentCondition) *appsv1.Deployment {
		return &appsv1.Deployment{Status: appsv1.DeploymentStatus{Conditions: conds}}
	}
	refused := func(msg string) appsv1.DeploymentCondition {
		return appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: msg}
	}
	cases := []struct {
		name string
		iw   *inferencev1alpha1.InferenceWorker
		d    *appsv1.Deployment
		want []string // substrings of the message; none: no problem
	}{
		{"no deployment yet", nodeCache, nil, nil},
		{"pods created", nodeCache, deployment(appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}), nil},
		{"failure resolved", nodeCache, deployment(appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionFalse}), nil},
		{"node cache in a restricted namespace", nodeCache, deployment(refused(psaRefusal)),
			[]string{"the API server refuses the worker pods: " + psaRefusal, "use spec.model.source.url.cache.type Claim",
				"label namespace team pod-security.kubernetes.io/enforce=privileged"}},
		{"an overlay the profile forbids", claimCache, deployment(refused(`pods "x" is forbidden: violates PodSecurity "baseline:latest": host namespaces`)),
			[]string{"violates PodSecurity", "change spec.pod"}},
		{"a quota", nodeCache, deployment(refused(`pods "x" is forbidden: exceeded quota: gpus`)), []string{"exceeded quota: gpus"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := podsRefused(c.iw, c.d)
			if len(c.want) == 0 {
				if p != nil {
					t.Fatalf("problem %+v, want none", p)
				}
				return
			}
			if p == nil || p.reason != inferencev1alpha1.ReasonWorkersRefused {
				t.Fatalf("problem %+v, want %s", p, inferencev1alpha1.ReasonWorkersRefused)
			}
			for _, w := range c.want {
				if !strings.Contains(p.message, w) {
					t.Errorf("message %q lacks %q", p.message, w)
				}
			}
		})
	}

	// Through computeStatus: Degraded, and Ready says why nothing starts.
	st := computeStatus(nodeCache, observed{deployment: deployment(refused(psaRefusal))})
	for _, ct := range []string{inferencev1alpha1.ConditionDegraded, inferencev1alpha1.ConditionReady} {
		var got *metav1.Condition
		for i := range st.Conditions {
			if st.Conditions[i].Type == ct {
				got = &st.Conditions[i]
			}
		}
		if got == nil || got.Reason != inferencev1alpha1.ReasonWorkersRefused {
			t.Errorf("%s condition %+v, want reason %s", ct, got, inferencev1alpha1.ReasonWorkersRefused)
		}
	}
}
