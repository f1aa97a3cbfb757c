package main

import (
	"path/filepath"
	"testing"
)

// TestSamplesPointAtDemoModels: every sample names a model the demo provides, and a URL
// sample's digest is the file's, so `make demo` keeps working as the samples change.
func TestSamplesPointAtDemoModels(t *testing.T) {
	t.Chdir(filepath.Join("..", "..")) // restored when the test ends
	samples, err := loadSamples(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < 2 {
		t.Fatalf("%d samples, want a llama and a gpt one", len(samples))
	}
	archs := map[string]bool{}
	for _, s := range samples {
		archs[string(s.iw.Spec.Model.Architecture)] = true
		if u := s.iw.Spec.Model.Source.URL; u != nil {
			sum, err := fileSHA256(s.model)
			if err != nil {
				t.Fatal(err)
			}
			if sum != u.SHA256 {
				t.Errorf("%s: sha256 %s, but %s has %s", s.file, u.SHA256, s.model, sum)
			}
		}
	}
	if !archs["llama"] || !archs["gpt"] {
		t.Errorf("sample architectures %v, want llama and gpt", archs)
	}
}
