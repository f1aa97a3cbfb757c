// common.cuh: error plumbing, element conversions and warp reductions shared by every kernel file.
#pragma once

#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <stdint.h>

#include "kubeinfer_cuda.h"

// kic_set_error records a printf-style message for kic_last_error and returns status.
kic_status kic_set_error(kic_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define KIC_CUDA(call)                                                                                   \
	do {                                                                                                 \
		cudaError_t err_ = (call);                                                                       \
		if (err_ != cudaSuccess)                                                                         \
			return kic_set_error(err_ == cudaErrorMemoryAllocation ? KIC_ERR_OUT_OF_MEMORY : KIC_ERR_CUDA, \
			                     "%s:%d: %s: %s", __FILE__, __LINE__, #call, cudaGetErrorString(err_));  \
	} while (0)

#define KIC_TRY(call)                          \
	do {                                       \
		kic_status st_ = (call);               \
		if (st_ != KIC_OK) return st_;         \
	} while (0)

// KIC_LAUNCHED checks a kernel launch (configuration errors surface here; faults surface at the next sync).
#define KIC_LAUNCHED() KIC_CUDA(cudaGetLastError())

// A weight matrix on the device, as stored: F32/F16/BF16 rows, or Q8_0 split
// into int8 quants (rows*cols) and one half scale per 32 quants.
struct kic_mat {
	int32_t dtype = -1;
	int64_t rows = 0, cols = 0;
	void *data = nullptr;
	__half *scales = nullptr; // Q8_0 only
};

static inline int kic_div_up(int64_t a, int64_t b) { return (int)((a + b - 1) / b); }

// Programmatic dependent launch (Hopper): a decode step is ~100 small kernels, and without it each one
// starts only after the previous has drained, paying the launch and ramp-up every time. Kernels launched
// through kic_launch may start while their predecessor finishes; each calls pdl_wait() before it reads
// anything an earlier kernel wrote (and before it writes anything), and may do independent work, such as
// loading weights, before that. pdl_launch_dependents() lets the next kernel begin launching. Both are
// no-ops on older GPUs and for kernels launched without the attribute.
__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
	asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void pdl_launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
	asm volatile("griddepcontrol.launch_dependents;" :::);
#endif
}

// kic_pdl turns the launch attribute on; set once a Hopper-or-newer device is in use (kic_model_create).
extern bool kic_pdl;

// kic_launch_cluster is kic_launch with the grid's blocks in thread-block clusters of cluster's shape (Hopper; a
// cluster of one block is none).
template <typename... Params, typename... Args>
static kic_status kic_launch_cluster(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, cudaStream_t s,
                                     dim3 cluster, Args &&...args) {
	cudaLaunchConfig_t cfg = {};
	cfg.gridDim = grid, cfg.blockDim = block, cfg.dynamicSmemBytes = smem, cfg.stream = s;
	cudaLaunchAttribute attr[2];
	int n = 0;
	if (kic_pdl) {
		attr[n].id = cudaLaunchAttributeProgrammaticStreamSerialization;
		attr[n++].val.programmaticStreamSerializationAllowed = 1;
	}
	if (cluster.x * cluster.y * cluster.z > 1) {
		attr[n].id = cudaLaunchAttributeClusterDimension;
		attr[n].val.clusterDim.x = cluster.x, attr[n].val.clusterDim.y = cluster.y, attr[n++].val.clusterDim.z = cluster.z;
	}
	cfg.attrs = attr, cfg.numAttrs = n;
	KIC_CUDA(cudaLaunchKernelEx(&cfg, kernel, static_cast<Args &&>(args)...));
	return KIC_OK;
}

template <typename... Params, typename... Args>
static kic_status kic_launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, cudaStream_t s,
                             Args &&...args) {
	return kic_launch_cluster(kernel, grid, block, smem, s, dim3(1, 1, 1), static_cast<Args &&>(args)...);
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
	for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
	for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
	return v;
}

// block_sum reduces over a block of up to 1024 threads; every thread gets the result.
// scratch holds 32 floats and is reused, so a __syncthreads separates two calls.
__device__ __forceinline__ float block_sum(float v, float *scratch) {
	int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = (blockDim.x + 31) >> 5;
	v = warp_sum(v);
	__syncthreads();
	if (lane == 0) scratch[warp] = v;
	__syncthreads();
	v = lane < nwarps ? scratch[lane] : 0.f;
	return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float *scratch) {
	int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = (blockDim.x + 31) >> 5;
	v = warp_max(v);
	__syncthreads();
	if (lane == 0) scratch[warp] = v;
	__syncthreads();
	v = lane < nwarps ? scratch[lane] : -INFINITY;
	return warp_max(v);
}

__device__ __forceinline__ float bf16_bits_to_float(uint16_t b) { return __uint_as_float((uint32_t)b << 16); }
__device__ __forceinline__ float half_bits_to_float(uint16_t b) { return __half2float(__ushort_as_half(b)); }

// A 16-byte load of 8 bf16 (or fp16) values, element 0 in the low bits of .x, as 8 floats.
__device__ __forceinline__ void bf16x8_to_float(uint4 u, float out[8]) {
	uint32_t p[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
	for (int k = 0; k < 4; k++) out[2 * k] = __uint_as_float(p[k] << 16), out[2 * k + 1] = __uint_as_float(p[k] & 0xffff0000u);
}
__device__ __forceinline__ void f16x8_to_float(uint4 u, float out[8]) {
	const __half2 *h = reinterpret_cast<const __half2 *>(&u);
#pragma unroll
	for (int k = 0; k < 4; k++) {
		float2 f = __half22float2(h[k]);
		out[2 * k] = f.x, out[2 * k + 1] = f.y;
	}
}

// load_elem reads element i of a plain (non-quantized) array of dtype as float.
__device__ __forceinline__ float load_elem(int dtype, const void *p, int64_t i) {
	switch (dtype) {
	case KIC_F16: return half_bits_to_float(((const uint16_t *)p)[i]);
	case KIC_BF16: return bf16_bits_to_float(((const uint16_t *)p)[i]);
	default: return ((const float *)p)[i];
	}
}
