package v1alpha1

import (
	"fmt"
	"strconv"
	"time"
)

// LoadProgress is how far a worker's model load is, as the worker reports it in the
// annotations of its ModelLoading Event and the operator shows it in the ModelLoaded
// condition: bytes read (CPU engine) or uploaded (CUDA), of the total, and the rate.
// +kubebuilder:object:generate=false
type LoadProgress struct {
	Done, Total    uint64
	BytesPerSecond uint64
	// ETA is the time left at the current rate; negative when unknown.
	ETA time.Duration
}

// Percent is Done of Total, 0 to 100.
func (p LoadProgress) Percent() int {
	if p.Total == 0 {
		return 0
	}
	return int(min(p.Done, p.Total) * 100 / p.Total)
}

// String is the sentence people read, e.g. "Loading 1.2 of 2.4 GB (50%, 1.1 GB/s, about 1 s left)".
func (p LoadProgress) String() string {
	unit, div := "kB", 1e3
	switch {
	case p.Total >= 1e9:
		unit, div = "GB", 1e9
	case p.Total >= 1e6:
		unit, div = "MB", 1e6
	}
	s := fmt.Sprintf("Loading %.1f of %.1f %s (%d%%", float64(p.Done)/div, float64(p.Total)/div, unit, p.Percent())
	if p.BytesPerSecond > 0 {
		s += ", " + decimal(p.BytesPerSecond) + "/s"
	}
	if p.ETA >= 0 && p.BytesPerSecond > 0 {
		s += fmt.Sprintf(", about %s left", humanDuration(p.ETA))
	}
	return s + ")"
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
	return ann
}

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
	return p, true
}
