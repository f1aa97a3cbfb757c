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

func TestDownloadSentencesAndColumn(t *testing.T) {
	p := LoadProgress{Done: 1.2e9, Total: 2.4e9, BytesPerSecond: 110e6, ETA: 11 * time.Second}
	if got, want := p.Sentence("Downloading"), "Downloading 1.2 of 2.4 GB (50%, 110.0 MB/s, about 11 s left)"; got != want {
		t.Errorf("Sentence = %q, want %q", got, want)
	}
	if p.Short() != "50%" || p.Step() != 5 {
		t.Errorf("Short %q Step %d", p.Short(), p.Step())
	}
	stalled := p
	stalled.StalledSince = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if got, want := stalled.Sentence("Downloading"), "Downloading 1.2 of 2.4 GB (50%, no data since 2026-01-01T12:00:00Z)"; got != want {
		t.Errorf("stalled: %q, want %q", got, want)
	}
	back, ok := ParseLoadProgress(stalled.Annotations())
	if !ok || !back.StalledSince.Equal(stalled.StalledSince) {
		t.Errorf("stall round trip: %+v", back)
	}
	if back, _ := ParseLoadProgress(p.Annotations()); !back.StalledSince.IsZero() {
		t.Errorf("not stalled, parsed as %+v", back)
	}
	unknown := LoadProgress{Done: 300e6, BytesPerSecond: 30e6, ETA: -1}
	if got, want := unknown.Sentence("Downloading"), "Downloading 300.0 MB (30.0 MB/s)"; got != want {
		t.Errorf("unknown total: %q, want %q", got, want)
	}
	// Unknown total: the column shows the bytes, and a step is a doubling past 1 MiB.
	if unknown.Short() != "300.0 MB" || unknown.Step() != 9 || (LoadProgress{Done: 1 << 19}).Step() != 0 {
		t.Errorf("unknown total: Short %q Step %d", unknown.Short(), unknown.Step())
	}
}
