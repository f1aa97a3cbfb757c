// fake.c: a stand-in for libkubeinfer_cuda.so with the same symbols, built by the tests with gcc, that
// answers like the real library on a machine without a GPU. With -DMISSING_FORWARD it lacks kic_forward.
#include "kubeinfer_cuda.h"

static __thread const char *err = "";

static kic_status no_device(void) {
	err = "no CUDA device: fake library (cudaErrorNoDevice)";
	return KIC_ERR_NO_DEVICE;
}

int32_t kic_abi_version(void) { return KIC_ABI_VERSION + ABI_SKEW; }
const char *kic_version(void) { return "fake"; }
const char *kic_last_error(void) { return err; }
kic_status kic_device_count(int32_t *n) { *n = 0; return no_device(); }
kic_status kic_device_info_get(int32_t d, kic_device_info *i) { return no_device(); }
kic_status kic_measure_bandwidth(int32_t d, uint64_t b, double *r) { return no_device(); }
kic_status kic_model_create(int32_t d, const kic_model_config *c, kic_model **m) { return no_device(); }
void kic_model_destroy(kic_model *m) {}
uint64_t kic_model_device_bytes(const kic_model *m) { return 0; }
kic_status kic_upload(kic_model *m, int32_t s, int32_t l, int32_t t, int64_t r, int64_t c, const void *h, uint64_t b) { return no_device(); }
kic_status kic_model_ready(kic_model *m) { return no_device(); }
#ifndef MISSING_FORWARD
kic_status kic_forward(kic_model *m, int32_t n, const int32_t *t, const int32_t *p, const int32_t *s, int32_t ns,
                       const int32_t *bt, int32_t pf, const uint8_t *w, float *o) { return no_device(); }
#endif
kic_status kic_sample(kic_model *m, int32_t r, const kic_sampling *p, int32_t *o) { return no_device(); }
kic_status kic_set_graphs(kic_model *m, int32_t on) { return no_device(); }
