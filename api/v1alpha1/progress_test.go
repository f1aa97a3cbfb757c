package v1alpha1

import (
	"testing"
	"time"
)

func TestLoadProgressSentenceAndAnnotations(t *testing.T) {
	p := LoadProgress{Done: 1.2e9, Total: 2.4e9, BytesPerSecond: 1.1e9, ETA: 1100 * time.Millisecond}
	if got, want := p.String(), "Loading 1.2 of 2.4 GB (50%, 1.1 GB/s, about 1 s left)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	back, ok := ParseLoadProgress(p.Annotations())
	if !ok || back.Done != p.Done || back.Total != p.Total || back.BytesPerSecond != p.BytesPerSecond || back.ETA != time.Second {
		t.Errorf("round trip: %+v", back)
	}
	if got := (LoadProgress{Done: 0, Total: 500e6, ETA: -1}).String(); got != "Loading 0.0 of 500.0 MB (0%)" {
		t.Errorf("start: %q", got)
	}
	if _, ok := ParseLoadProgress(map[string]string{}); ok {
		t.Error("no annotations parsed as progress")
	}
}
