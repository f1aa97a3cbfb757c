//go:build !cgo || !linux

package cudabackend

import (
	"errors"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

var errNoCgo = errors.New(LibName + " cannot be loaded: this worker was built without cgo (CGO_ENABLED=0) or not for Linux")

// Available always fails in a build without cgo.
func Available(libPath string) error { return errNoCgo }

// Device always fails in a build without cgo.
func Device(libPath string, ordinal int) (DeviceInfo, string, error) {
	return DeviceInfo{}, "", errNoCgo
}

// Backend is the CUDA engine; a build without cgo cannot open one.
type Backend struct{ engine.Backend }

// Open always fails in a build without cgo.
func Open(m *model.Model, opts Options) (*Backend, error) { return nil, errNoCgo }

// WeightBytes is what one pass over the weights reads.
func (b *Backend) WeightBytes() uint64 { return 0 }

// UsedBytes is 0 in a build without cgo.
func (b *Backend) UsedBytes() uint64 { return 0 }

// GraphCounts always fails in a build without cgo.
func (b *Backend) GraphCounts() (decode, prefill int, err error) { return 0, 0, errNoCgo }

// PersistentDecode always fails in a build without cgo.
func (b *Backend) PersistentDecode() (bool, error) { return false, errNoCgo }

// MeasureBandwidth always fails in a build without cgo.
func (b *Backend) MeasureBandwidth(bytes uint64) (float64, error) { return 0, errNoCgo }

// DecodeSample needs cgo.
func (b *Backend) DecodeSample(batch []engine.DecodeInput, p Sampling) ([]int, error) {
	return nil, errNoCgo
}

// DecodeSampled needs cgo.
func (b *Backend) DecodeSampled(batch []engine.DecodeInput, rows []engine.RowSampling) ([]int, error) {
	return nil, errNoCgo
}

// DecodeMixed needs cgo.
func (b *Backend) DecodeMixed(batch []engine.DecodeInput, rows []engine.RowSampling, host []bool) ([]int, [][]float32, error) {
	return nil, nil, errNoCgo
}

// DecodeSampledLogprobs needs cgo.
func (b *Backend) DecodeSampledLogprobs(batch []engine.DecodeInput, rows []engine.RowSampling, topN int) ([]int, []engine.RowLogprobs, error) {
	return nil, nil, errNoCgo
}

// DeviceInfo needs cgo.
func (b *Backend) DeviceInfo() DeviceInfo { return DeviceInfo{} }

// Warmup needs cgo.
func (b *Backend) Warmup(maxBatch int) (int, error) { return 0, errNoCgo }

// SampleLast needs cgo.
func (b *Backend) SampleLast(rows int, p Sampling) ([]int, error) { return nil, errNoCgo }

// DecodeGreedy needs cgo.
func (b *Backend) DecodeGreedy(batch []engine.DecodeInput) ([]int, error) { return nil, errNoCgo }

// DecodeSampledMasked needs cgo.
func (b *Backend) DecodeSampledMasked(batch []engine.DecodeInput, rows []engine.RowSampling, masks func() [][]uint64) ([]int, error) {
	return nil, errNoCgo
}

// DecodeGreedyMasked needs cgo.
func (b *Backend) DecodeGreedyMasked(batch []engine.DecodeInput, masks func() [][]uint64) ([]int, error) {
	return nil, errNoCgo
}

// MasksOnDevice is false in a build without cgo.
func (b *Backend) MasksOnDevice() bool { return false }
