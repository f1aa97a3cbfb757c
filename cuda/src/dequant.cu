#include "dequant.cuh"

static int grid_for(int64_t count) {
	int b = kic_div_up(count, 256);
	return b < 65535 ? b : 65535;
}

__global__ void q8_0_split_kernel(const uint8_t *raw, int64_t nblocks, int8_t *qs, __half *d) {
	// One thread per byte of quants; thread 0 of each block of 32 also moves the scale.
	int64_t total = nblocks * 32;
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
		int64_t b = i / 32, j = i % 32;
		const uint8_t *blk = raw + b * 34;
		qs[i] = (int8_t)blk[2 + j];
		if (j == 0) d[b] = __ushort_as_half((uint16_t)(blk[0] | (blk[1] << 8)));
	}
}

template <typename T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

// Element i of the tile (rows of kc values) is element e of the cols-wide matrix; a whole-row tile has kc = cols.
template <typename T>
__global__ void q8_0_dequant_kernel(const int8_t *qs, const __half *d, int64_t cols, int64_t first, int64_t kc,
                                    int64_t count, T *y) {
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < count; i += (int64_t)gridDim.x * blockDim.x) {
		int64_t e = first + i / kc * cols + i % kc;
		y[i] = from_float<T>((float)qs[e] * __half2float(d[e / 32]));
	}
}

__global__ void f32_to_f16_kernel(const float *x, int64_t count, __half *y) {
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < count; i += (int64_t)gridDim.x * blockDim.x)
		y[i] = __float2half_rn(x[i]);
}

__global__ void f32_to_bf16_kernel(const float *x, int64_t count, __nv_bfloat16 *y) {
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < count; i += (int64_t)gridDim.x * blockDim.x)
		y[i] = __float2bfloat16_rn(x[i]);
}

// The hi/lo split: hi = round(x), lo = round(x - hi), so hi + lo carries about twice the type's mantissa
// (16 bits for bf16, 22 for f16), enough for the GEMM path to match fp32 activations.
template <typename T>
__global__ void f32_split_kernel(const float *x, int64_t count, T *hi, T *lo) {
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < count; i += (int64_t)gridDim.x * blockDim.x) {
		float v = x[i];
		T h = from_float<T>(v);
		hi[i] = h;
		lo[i] = from_float<T>(v - to_float(h));
	}
}

kic_status launch_q8_0_split(const uint8_t *raw, int64_t nblocks, int8_t *qs, __half *d, cudaStream_t s) {
	if (nblocks <= 0) return KIC_OK;
	q8_0_split_kernel<<<grid_for(nblocks * 32), 256, 0, s>>>(raw, nblocks, qs, d);
	KIC_LAUNCHED();
	return KIC_OK;
}

kic_status launch_q8_0_to_f32(const int8_t *qs, const __half *d, int64_t first, int64_t count, float *y,
                              cudaStream_t s) {
	if (count <= 0) return KIC_OK;
	// One row of count values from element first: a tile as wide as its matrix.
	q8_0_dequant_kernel<float><<<grid_for(count), 256, 0, s>>>(qs, d, count, first, count, count, y);
	KIC_LAUNCHED();
	return KIC_OK;
}

kic_status launch_q8_0_tile_f16(const int8_t *qs, const __half *d, int64_t cols, int64_t r0, int64_t nrows, int64_t c0,
                                int64_t ncols, __half *y, cudaStream_t s) {
	int64_t count = nrows * ncols;
	if (count <= 0) return KIC_OK;
	q8_0_dequant_kernel<__half><<<grid_for(count), 256, 0, s>>>(qs, d, cols, r0 * cols + c0, ncols, count, y);
	KIC_LAUNCHED();
	return KIC_OK;
}

kic_status launch_f32_to(int dtype, const float *x, int64_t count, void *y, cudaStream_t s) {
	if (count <= 0) return KIC_OK;
	if (dtype == KIC_F16)
		f32_to_f16_kernel<<<grid_for(count), 256, 0, s>>>(x, count, (__half *)y);
	else if (dtype == KIC_BF16)
		f32_to_bf16_kernel<<<grid_for(count), 256, 0, s>>>(x, count, (__nv_bfloat16 *)y);
	else
		return kic_set_error(KIC_ERR_INVALID, "f32_to: dtype %d", dtype);
	KIC_LAUNCHED();
	return KIC_OK;
}

kic_status launch_f32_split(int dtype, const float *x, int64_t count, void *hi, void *lo, cudaStream_t s) {
	if (count <= 0) return KIC_OK;
	if (dtype == KIC_F16)
		f32_split_kernel<<<grid_for(count), 256, 0, s>>>(x, count, (__half *)hi, (__half *)lo);
	else if (dtype == KIC_BF16)
		f32_split_kernel<<<grid_for(count), 256, 0, s>>>(x, count, (__nv_bfloat16 *)hi, (__nv_bfloat16 *)lo);
	else
		return kic_set_error(KIC_ERR_INVALID, "f32_split: dtype %d", dtype);
	KIC_LAUNCHED();
	return KIC_OK;
}
