// quant.cu: whole-row dequantization of the block formats (quant.cuh), for the prefill GEMMs (fp16 rows that
// cuBLAS multiplies), embedding tables and the kernel tests.
#include "quant.cuh"

// store8 writes 8 values with one 16-byte store (fp16) or two (fp32): a thread's 8 values are adjacent,
// and 8 scalar stores a thread left each warp store instruction spread over 16 sectors.
__device__ __forceinline__ void store8(__half *y, const float v[8]) {
	__half2 h[4];
#pragma unroll
	for (int k = 0; k < 4; k++) h[k] = __floats2half2_rn(v[2 * k], v[2 * k + 1]);
	*reinterpret_cast<uint4 *>(y) = *reinterpret_cast<const uint4 *>(h);
}
__device__ __forceinline__ void store8(float *y, const float v[8]) {
	float4 *o = reinterpret_cast<float4 *>(y);
	o[0] = make_float4(v[0], v[1], v[2], v[3]);
	o[1] = make_float4(v[4], v[5], v[6], v[7]);
}

// One thread per 8 values: thread i decodes elements 8i..8i+7 of the tile (rows of kc values, kc = cols for whole
// rows), which start at element first of the cols-wide matrix.
template <int DT, typename T>
__global__ void dequant_rows_kernel(const void *data, int64_t cols, int64_t first, int64_t kc, int64_t count, T *y) {
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < count / 8; i += (int64_t)gridDim.x * blockDim.x) {
		float v[8];
		dequant8<DT>(data, first + 8 * i / kc * cols + 8 * i % kc, v);
		store8(y + 8 * i, v);
	}
}

template <typename T>
static kic_status launch_rows(int dtype, const void *data, int64_t cols, int64_t r0, int64_t nrows, int64_t c0,
                              int64_t ncols, T *y, cudaStream_t s) {
	const kic_type_traits *t = kic_type(dtype);
	if (!t || !kic_is_block_quant(dtype) || cols % t->block || c0 % t->block || ncols % t->block || c0 + ncols > cols)
		return kic_set_error(KIC_ERR_INVALID, "dequant: type %d, columns %lld+%lld of %lld", dtype, (long long)c0,
		                     (long long)ncols, (long long)cols);
	int64_t count = nrows * ncols;
	if (count <= 0) return KIC_OK;
	int64_t threads = count / 8;
	int grid = (int)(threads / 256 + 1 < 65535 ? threads / 256 + 1 : 65535);
	switch (dtype) {
#define CASE(DT)                                                                               \
	case DT:                                                                                   \
		dequant_rows_kernel<DT, T><<<grid, 256, 0, s>>>(data, cols, r0 * cols + c0, ncols, count, y); \
		break;
		KIC_FOR_EACH_BLOCK_QUANT(CASE)
#undef CASE
	}
	KIC_LAUNCHED();
	return KIC_OK;
}

kic_status launch_dequant_tile(int dtype, const void *data, int64_t cols, int64_t r0, int64_t nrows, int64_t c0,
                               int64_t ncols, __half *y, cudaStream_t s) {
	return launch_rows(dtype, data, cols, r0, nrows, c0, ncols, y, s);
}

kic_status launch_dequant_rows_f32(int dtype, const void *data, int64_t cols, int64_t r0, int64_t nrows, float *y,
                                   cudaStream_t s) {
	return launch_rows(dtype, data, cols, r0, nrows, 0, cols, y, s);
}
