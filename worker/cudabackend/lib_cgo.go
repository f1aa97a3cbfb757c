//go:build cgo && linux

package cudabackend

/*
#cgo CFLAGS: -I${SRCDIR}/../../cuda/include
#cgo LDFLAGS: -ldl
#include "kic_api.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Status codes of kubeinfer_cuda.h.
const (
	statusOK          = 0
	statusNoDevice    = 2
	statusOutOfMemory = 3
)

// library is one dlopened libkubeinfer_cuda.so. Libraries are never closed:
// the CUDA runtime does not support being unloaded and reloaded in-process.
type library struct {
	path string
	api  *C.kic_api // C memory, so the C side may keep it
}

var (
	libMu sync.Mutex
	libs  = map[string]*library{}
)

// loadLibrary opens the first candidate that loads, or says where it looked.
func loadLibrary(explicit string) (*library, error) {
	env, exe := getenv(EnvLib), executable()
	var errs []string
	for _, path := range candidates(explicit, env, exe) {
		l, err := openLibrary(path)
		if err == nil {
			return l, nil
		}
		errs = append(errs, err.Error())
	}
	return nil, fmt.Errorf("%s not found in %s: %v", LibName, searchDescription(explicit, env, exe), joinErrs(errs))
}

func openLibrary(path string) (*library, error) {
	libMu.Lock()
	defer libMu.Unlock()
	if l, ok := libs[path]; ok {
		return l, nil
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cerr *C.char
	h := C.kic_dlopen(cpath, &cerr)
	if h == nil {
		return nil, fmt.Errorf("dlopen %s: %s", path, C.GoString(cerr))
	}
	api := (*C.kic_api)(C.calloc(1, C.size_t(unsafe.Sizeof(C.kic_api{}))))
	if missing := C.kic_resolve(h, api); missing != nil {
		C.free(unsafe.Pointer(api))
		C.dlclose(h)
		return nil, fmt.Errorf("%s is not a kubeinfer CUDA library: symbol %s is missing", path, C.GoString(missing))
	}
	if v := int(C.call_abi_version(api)); v != C.KIC_ABI_VERSION {
		C.free(unsafe.Pointer(api))
		C.dlclose(h)
		return nil, fmt.Errorf("%s has ABI version %d, this worker needs %d: rebuild it from the same commit", path, v, C.KIC_ABI_VERSION)
	}
	l := &library{path: path, api: api}
	libs[path] = l
	return l, nil
}

// call runs fn and turns a failure into an error carrying kic_last_error,
// read on the same OS thread (the message is thread-local).
func (l *library) call(what string, fn func() C.kic_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	st := fn()
	if st == statusOK {
		return nil
	}
	msg := C.GoString(C.call_last_error(l.api))
	switch st {
	case statusNoDevice:
		// The library's message already starts with "no CUDA device".
		return fmt.Errorf("%w%s", ErrNoDevice, trimPrefix(msg, "no CUDA device"))
	case statusOutOfMemory:
		return fmt.Errorf("%s: out of GPU memory: %s", what, msg)
	}
	return fmt.Errorf("%s: %s (status %d)", what, msg, int(st))
}

func (l *library) version() string { return C.GoString(C.call_version(l.api)) }

func (l *library) deviceInfo(ordinal int) (DeviceInfo, error) {
	var n C.int32_t
	if err := l.call("device count", func() C.kic_status { return C.call_device_count(l.api, &n) }); err != nil {
		return DeviceInfo{}, err
	}
	if ordinal < 0 || ordinal >= int(n) {
		return DeviceInfo{}, fmt.Errorf("%w %d (%d present)", ErrNoDevice, ordinal, int(n))
	}
	var ci C.kic_device_info
	if err := l.call("device info", func() C.kic_status { return C.call_device_info_get(l.api, C.int32_t(ordinal), &ci) }); err != nil {
		return DeviceInfo{}, err
	}
	return DeviceInfo{
		Name: C.GoString(&ci.name[0]), Ordinal: ordinal,
		ComputeCapability: fmt.Sprintf("%d.%d", int(ci.cc_major), int(ci.cc_minor)),
		SMs:               int(ci.sm_count), TotalBytes: uint64(ci.total_bytes), FreeBytes: uint64(ci.free_bytes),
		MemoryClockKHz: int(ci.memory_clock_khz), MemoryBusWidth: int(ci.memory_bus_width),
		DriverVersion: int(ci.driver_version), RuntimeVersion: int(ci.runtime_version),
	}, nil
}

// Available reports whether the CUDA backend can run here: the library
// loads (see the package comment for the lookup order; libPath is the
// --cuda-lib value, "" for none) and sees at least one GPU. The error says
// which is missing, e.g. "libkubeinfer_cuda.so not found in ..." or
// "no CUDA device: ...".
func Available(libPath string) error {
	l, err := loadLibrary(libPath)
	if err != nil {
		return err
	}
	_, err = l.deviceInfo(0)
	return err
}

// Device returns the GPU's description, loading the library as Available does.
func Device(libPath string, ordinal int) (DeviceInfo, string, error) {
	l, err := loadLibrary(libPath)
	if err != nil {
		return DeviceInfo{}, "", err
	}
	info, err := l.deviceInfo(ordinal)
	return info, l.version(), err
}
