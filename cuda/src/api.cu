// api.cu: library-level entry points (version, errors, devices, bandwidth).
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <vector>

#include <cublas_v2.h>

#include "act.cuh"
#include "add.cuh"
#include "attention.cuh"
#include "dequant.cuh"
#include "embed.cuh"
#include "gemm.cuh"
#include "glu.cuh"
#include "matvec.cuh"
#include "norm.cuh"
#include "rope.cuh"
#include "sample.cuh"

static thread_local char last_error[1024];

bool kic_pdl = false;

kic_status kic_set_error(kic_status status, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
	return status;
}

#define STR2(x) #x
#define STR(x) STR2(x)

extern "C" KIC_API int32_t kic_abi_version(void) { return KIC_ABI_VERSION; }

extern "C" KIC_API const char *kic_version(void) {
	return "kubeinfer-cuda abi " STR(KIC_ABI_VERSION) " (cudart " STR(CUDART_VERSION) ", built " __DATE__ ")";
}

extern "C" KIC_API const char *kic_last_error(void) { return last_error; }

static kic_status no_device(cudaError_t err) {
	return kic_set_error(KIC_ERR_NO_DEVICE, "no CUDA device: %s (%s)", cudaGetErrorString(err), cudaGetErrorName(err));
}

extern "C" KIC_API kic_status kic_device_count(int32_t *count) {
	if (!count) return kic_set_error(KIC_ERR_INVALID, "kic_device_count: null argument");
	*count = 0;
	int n = 0;
	cudaError_t err = cudaGetDeviceCount(&n);
	if (err != cudaSuccess) return no_device(err);
	if (n == 0) return kic_set_error(KIC_ERR_NO_DEVICE, "no CUDA device: the driver reports 0 devices");
	*count = n;
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_device_info_get(int32_t ordinal, kic_device_info *out) {
	if (!out) return kic_set_error(KIC_ERR_INVALID, "kic_device_info_get: null argument");
	memset(out, 0, sizeof *out);
	int n = 0;
	cudaError_t err = cudaGetDeviceCount(&n);
	if (err != cudaSuccess) return no_device(err);
	if (ordinal < 0 || ordinal >= n) return kic_set_error(KIC_ERR_NO_DEVICE, "no CUDA device %d (%d present)", ordinal, n);
	cudaDeviceProp p;
	KIC_CUDA(cudaGetDeviceProperties(&p, ordinal));
	snprintf(out->name, sizeof out->name, "%s", p.name);
	out->ordinal = ordinal;
	out->cc_major = p.major, out->cc_minor = p.minor;
	out->sm_count = p.multiProcessorCount;
	// CUDA 13 removed cudaDeviceProp::memoryClockRate; the attributes exist in every version.
	int v = 0;
#if CUDART_VERSION < 13000 // informational only; not relied on where CUDA 13 may have dropped it
	if (cudaDeviceGetAttribute(&v, cudaDevAttrMemoryClockRate, ordinal) == cudaSuccess) out->memory_clock_khz = v;
#endif
	if (cudaDeviceGetAttribute(&v, cudaDevAttrGlobalMemoryBusWidth, ordinal) == cudaSuccess) out->memory_bus_width = v;
	cudaGetLastError();
	KIC_CUDA(cudaSetDevice(ordinal));
	size_t free_b = 0, total_b = 0;
	KIC_CUDA(cudaMemGetInfo(&free_b, &total_b));
	out->free_bytes = free_b, out->total_bytes = total_b;
	cudaDriverGetVersion(&out->driver_version);
	cudaRuntimeGetVersion(&out->runtime_version);
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_measure_bandwidth(int32_t ordinal, uint64_t bytes, double *bytes_per_sec) {
	if (!bytes_per_sec || bytes < (1u << 20)) return kic_set_error(KIC_ERR_INVALID, "kic_measure_bandwidth: bytes >= 1 MiB");
	*bytes_per_sec = 0;
	KIC_CUDA(cudaSetDevice(ordinal));
	void *a = nullptr, *b = nullptr;
	cudaEvent_t e0 = nullptr, e1 = nullptr;
	kic_status st = KIC_OK;
	float ms = 0;
	const int reps = 20;
	if (cudaMalloc(&a, bytes) != cudaSuccess || cudaMalloc(&b, bytes) != cudaSuccess) {
		st = kic_set_error(KIC_ERR_OUT_OF_MEMORY, "bandwidth test: cannot allocate 2 x %llu bytes", (unsigned long long)bytes);
		goto out;
	}
	cudaEventCreate(&e0);
	cudaEventCreate(&e1);
	cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice); // warm up
	cudaEventRecord(e0);
	for (int i = 0; i < reps; i++) cudaMemcpyAsync(i % 2 ? a : b, i % 2 ? b : a, bytes, cudaMemcpyDeviceToDevice);
	cudaEventRecord(e1);
	if (cudaEventSynchronize(e1) != cudaSuccess || cudaEventElapsedTime(&ms, e0, e1) != cudaSuccess || ms <= 0) {
		st = kic_set_error(KIC_ERR_CUDA, "bandwidth test: %s", cudaGetErrorString(cudaGetLastError()));
		goto out;
	}
	*bytes_per_sec = 2.0 * (double)bytes * reps / (ms / 1e3); // each copy reads and writes bytes
out:
	if (e0) cudaEventDestroy(e0);
	if (e1) cudaEventDestroy(e1);
	if (a) cudaFree(a);
	if (b) cudaFree(b);
	return st;
}
