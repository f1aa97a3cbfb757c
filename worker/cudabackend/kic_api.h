// kic_api.h: the dlopen/dlsym table and call trampolines the cgo files share
// (cgo cannot call C function pointers directly). Static functions, so each
// cgo file that includes it gets its own copy.
#ifndef KIC_API_H
#define KIC_API_H
#include <dlfcn.h>
#include <stdlib.h>
#include "kubeinfer_cuda.h"

// kic_api holds every entry point the Go side calls, resolved with dlsym.
typedef struct kic_api {
	int32_t (*abi_version)(void);
	const char *(*version)(void);
	const char *(*last_error)(void);
	kic_status (*device_count)(int32_t *);
	kic_status (*device_info_get)(int32_t, kic_device_info *);
	kic_status (*measure_bandwidth)(int32_t, uint64_t, double *);
	kic_status (*model_create)(int32_t, const kic_model_config *, kic_model **);
	void (*model_destroy)(kic_model *);
	uint64_t (*model_device_bytes)(const kic_model *);
	kic_status (*upload)(kic_model *, int32_t, int32_t, int32_t, int64_t, int64_t, const void *, uint64_t);
	kic_status (*model_ready)(kic_model *);
	kic_status (*forward)(kic_model *, int32_t, const int32_t *, const int32_t *, const int32_t *, int32_t,
	                      const int32_t *, int32_t, const uint8_t *, float *);
	kic_status (*sample)(kic_model *, int32_t, const kic_sampling *, int32_t *);
	kic_status (*set_graphs)(kic_model *, int32_t);
} kic_api;

// kic_dlopen opens path and, on failure, returns dlerror's message from the
// same thread in the same C call (the reason go-nvml locks the OS thread).
static void *kic_dlopen(const char *path, char **err) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	*err = h ? NULL : dlerror();
	return h;
}

// kic_resolve fills api; it returns the name of the first missing symbol, or NULL.
static const char *kic_resolve(void *h, kic_api *api) {
#define SYM(field, name) if (!(*(void **)&api->field = dlsym(h, name))) return name;
	SYM(abi_version, "kic_abi_version")
	SYM(version, "kic_version")
	SYM(last_error, "kic_last_error")
	SYM(device_count, "kic_device_count")
	SYM(device_info_get, "kic_device_info_get")
	SYM(measure_bandwidth, "kic_measure_bandwidth")
	SYM(model_create, "kic_model_create")
	SYM(model_destroy, "kic_model_destroy")
	SYM(model_device_bytes, "kic_model_device_bytes")
	SYM(upload, "kic_upload")
	SYM(model_ready, "kic_model_ready")
	SYM(forward, "kic_forward")
	SYM(sample, "kic_sample")
	SYM(set_graphs, "kic_set_graphs")
#undef SYM
	return NULL;
}

static int32_t call_abi_version(kic_api *a) { return a->abi_version(); }
static const char *call_version(kic_api *a) { return a->version(); }
static const char *call_last_error(kic_api *a) { return a->last_error(); }
static kic_status call_device_count(kic_api *a, int32_t *n) { return a->device_count(n); }
static kic_status call_device_info_get(kic_api *a, int32_t d, kic_device_info *i) { return a->device_info_get(d, i); }
static kic_status call_measure_bandwidth(kic_api *a, int32_t d, uint64_t b, double *r) { return a->measure_bandwidth(d, b, r); }
static kic_status call_model_create(kic_api *a, int32_t d, const kic_model_config *c, kic_model **m) { return a->model_create(d, c, m); }
static void call_model_destroy(kic_api *a, kic_model *m) { a->model_destroy(m); }
static uint64_t call_model_device_bytes(kic_api *a, kic_model *m) { return a->model_device_bytes(m); }
static kic_status call_upload(kic_api *a, kic_model *m, int32_t slot, int32_t layer, int32_t dt, int64_t rows,
                              int64_t cols, const void *host, uint64_t bytes) {
	return a->upload(m, slot, layer, dt, rows, cols, host, bytes);
}
static kic_status call_model_ready(kic_api *a, kic_model *m) { return a->model_ready(m); }
static kic_status call_forward(kic_api *a, kic_model *m, int32_t n, const int32_t *tok, const int32_t *pos,
                               const int32_t *seq, int32_t nseq, const int32_t *tables, int32_t prefill,
                               const uint8_t *want, float *out) {
	return a->forward(m, n, tok, pos, seq, nseq, tables, prefill, want, out);
}
static kic_status call_sample(kic_api *a, kic_model *m, int32_t rows, const kic_sampling *p, int32_t *out) {
	return a->sample(m, rows, p, out);
}
static kic_status call_set_graphs(kic_api *a, kic_model *m, int32_t on) { return a->set_graphs(m, on); }
#endif
