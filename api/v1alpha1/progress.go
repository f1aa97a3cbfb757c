package v1alpha1

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// LoadProgress is how far a worker's model load (or the download of a URL model before
// it) is, as the worker reports it in the annotations of its ModelLoading (or
// ModelDownloading) Event and the operator shows it in the ModelLoaded condition: bytes
// read (CPU engine), uploaded (CUDA) or downloaded, of the total, and the rate.
// +kubebuilder:object:generate=false
type LoadProgress struct {
	// Total is 0 when unknown (a download without a Content-Length).
	Done, Total    uint64
	BytesPerSecond uint64
	// ETA is the time left at the current rate; negative when unknown.
	ETA time.Duration
	// StalledSince is when data last arrived, set while none does (a stalled or
	// interrupted download); zero while the bytes flow.
	StalledSince time.Time
}

// Percent is Done of Total, 0 to 100.
func (p LoadProgress) Percent() int {
	if p.Total == 0 {
		return 0
	}
	return int(min(p.Done, p.Total) * 100 / p.Total)
}

// String is the sentence people read, e.g. "Loading 1.2 of 2.4 GB (50%, 1.1 GB/s, about 1 s left)".
func (p LoadProgress) String() string { return p.Sentence("Loading") }

// Sentence is String with another verb, e.g. "Downloading 1.2 of 2.4 GB (50%, 110.0 MB/s,
// about 11 s left)", "Downloading 1.2 GB (110.0 MB/s)" when the total is unknown, or
// "Downloading 1.2 of 2.4 GB (50%, no data since 2026-01-01T12:00:00Z)" while stalled.
func (p LoadProgress) Sentence(verb string) string {
	var what string
	var parts []string
	if p.Total == 0 && p.Done > 0 {
		what = decimal(p.Done)
	} else {
		unit, div := "kB", 1e3
		switch {
		case p.Total >= 1e9:
			unit, div = "GB", 1e9
		case p.Total >= 1e6:
			unit, div = "MB", 1e6
		}
		what = fmt.Sprintf("%.1f of %.1f %s", float64(p.Done)/div, float64(p.Total)/div, unit)
		parts = append(parts, fmt.Sprintf("%d%%", p.Percent()))
	}
	switch {
	case !p.StalledSince.IsZero():
		parts = append(parts, "no data since "+p.StalledSince.UTC().Format(time.RFC3339))
	case p.BytesPerSecond > 0:
		parts = append(parts, decimal(p.BytesPerSecond)+"/s")
		if p.ETA >= 0 && p.Total > 0 {
			parts = append(parts, fmt.Sprintf("about %s left", humanDuration(p.ETA)))
		}
	}
	if len(parts) == 0 {
		return verb + " " + what
	}
	return fmt.Sprintf("%s %s (%s)", verb, what, strings.Join(parts, ", "))
}

// Short is the Progress column: "50%", or the bytes so far when the total is unknown.
func (p LoadProgress) Short() string {
	if p.Total == 0 && p.Done > 0 {
		return decimal(p.Done)
	}
	return fmt.Sprintf("%d%%", p.Percent())
}

// Step is how far the progress is in coarse steps, for writers that report only a new
// step: a tenth of the total, or each doubling past 1 MiB when the total is unknown.
func (p LoadProgress) Step() int {
	if p.Total == 0 {
		return bits.Len64(p.Done >> 20)
	}
	return p.Percent() / 10
}

// decimal writes n in kB, MB or GB by its own size.
func decimal(n uint64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f kB", float64(n)/1e3)
}

func humanDuration(d time.Duration) string {
	switch secs := int64(d.Round(time.Second) / time.Second); {
	case secs < 120:
		return fmt.Sprintf("%d s", secs)
	case secs < 7200:
		return fmt.Sprintf("%d min", (secs+30)/60)
	default:
		return fmt.Sprintf("%.1f h", float64(secs)/3600)
	}
}

// Annotations are the progress as Event annotations.
func (p LoadProgress) Annotations() map[string]string {
	ann := map[string]string{
		AnnotationLoadedBytes:    strconv.FormatUint(p.Done, 10),
		AnnotationTotalBytes:     strconv.FormatUint(p.Total, 10),
		AnnotationBytesPerSecond: strconv.FormatUint(p.BytesPerSecond, 10),
	}
	if p.ETA >= 0 {
		ann[AnnotationETASeconds] = strconv.FormatInt(int64(p.ETA.Round(time.Second)/time.Second), 10)
	}
	if !p.StalledSince.IsZero() {
		ann[AnnotationStalledSince] = p.StalledSince.UTC().Format(time.RFC3339)
	}
	return ann
}

// ProgressAnnotationKeys are the annotations Annotations may set; a merge patch must
// clear those it no longer sets.
var ProgressAnnotationKeys = []string{AnnotationLoadedBytes, AnnotationTotalBytes, AnnotationBytesPerSecond,
	AnnotationETASeconds, AnnotationStalledSince}

// ParseLoadProgress reads the progress annotations; ok is false when there are none.
func ParseLoadProgress(ann map[string]string) (p LoadProgress, ok bool) {
	total, err := strconv.ParseUint(ann[AnnotationTotalBytes], 10, 64)
	if err != nil {
		return LoadProgress{}, false
	}
	p.Total = total
	p.Done, _ = strconv.ParseUint(ann[AnnotationLoadedBytes], 10, 64)
	p.BytesPerSecond, _ = strconv.ParseUint(ann[AnnotationBytesPerSecond], 10, 64)
	p.ETA = -1
	if eta, err := strconv.ParseInt(ann[AnnotationETASeconds], 10, 64); err == nil && eta >= 0 {
		p.ETA = time.Duration(eta) * time.Second
	}
	if since, err := time.Parse(time.RFC3339, ann[AnnotationStalledSince]); err == nil {
		p.StalledSince = since
	}
	return p, true
}
