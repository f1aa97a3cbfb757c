package controllers

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	inferencev1alpha1 "github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

// The Argo CD health script (config/argocd/health.lua) is tested on InferenceWorkers as
// this operator really writes them: the suites here record them in config/argocd/testdata
// and fail when the operator's output drifts from the recording. Refresh with
//
//	KUBEINFER_UPDATE_TESTDATA=1 make test

const argoCDTestdata = "../config/argocd/testdata"

// checkArgoCDSample compares iw, made stable (no uid, times or random namespace), with
// config/argocd/testdata/<name>.yaml, or writes it there when updating.
func checkArgoCDSample(t *testing.T, name string, iw *inferencev1alpha1.InferenceWorker) {
	t.Helper()
	got := stableSample(iw)
	path := filepath.Join(argoCDTestdata, name+".yaml")
	if os.Getenv("KUBEINFER_UPDATE_TESTDATA") != "" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: record it with KUBEINFER_UPDATE_TESTDATA=1", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the operator now writes a different %s than %s records; if intended, refresh with KUBEINFER_UPDATE_TESTDATA=1 and check config/argocd/health_test.yaml\n--- got\n%s", name, path, got)
	}
}

func stableSample(iw *inferencev1alpha1.InferenceWorker) []byte {
	s := iw.DeepCopy()
	ns := s.Namespace
	s.APIVersion = inferencev1alpha1.GroupVersion.String()
	s.Kind = "InferenceWorker"
	s.ObjectMeta = metav1.ObjectMeta{Name: s.Name, Namespace: "default", Generation: s.Generation}
	fixed := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for i := range s.Status.Conditions {
		s.Status.Conditions[i].LastTransitionTime = fixed
	}
	data, err := yaml.Marshal(s)
	if err != nil {
		panic(err)
	}
	// The namespace shows in the endpoint and in messages.
	return []byte(strings.ReplaceAll(string(data), ns, "default"))
}
