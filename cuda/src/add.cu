#include "add.cuh"

__global__ void add_bias_kernel(float *y, const float *bias, int64_t count, int dim) {
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < count; i += (int64_t)gridDim.x * blockDim.x)
		y[i] += bias[i % dim];
}

__global__ void add_kernel(float *y, const float *x, int64_t count) {
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < count; i += (int64_t)gridDim.x * blockDim.x)
		y[i] += x[i];
}

__global__ void add_split_kernel(float *y, const float *parts, int64_t count, int dim, int slices, const float *bias,
                                 bool acc) {
	const int64_t slice = 2 * count; // a slice's hi rows, then its lo rows
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < count; i += (int64_t)gridDim.x * blockDim.x) {
		float v = acc ? y[i] : 0.f;
		for (int j = 0; j < slices; j++) v += parts[j * slice + i] + parts[j * slice + count + i];
		if (bias) v += bias[i % dim];
		y[i] = v;
	}
}

__global__ void copy_cols_kernel(float *dst, const float *src, int64_t src_stride, int64_t col0, int64_t cols) {
	int i = blockIdx.x;
	for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) dst[i * cols + c] = src[i * src_stride + col0 + c];
}

static int grid_for(int64_t count) {
	int b = kic_div_up(count, 256);
	return b < 65535 ? b : 65535;
}

kic_status launch_add_bias(float *y, const float *bias, int n, int dim, cudaStream_t s) {
	if (n <= 0 || !bias) return KIC_OK;
	add_bias_kernel<<<grid_for((int64_t)n * dim), 256, 0, s>>>(y, bias, (int64_t)n * dim, dim);
	KIC_LAUNCHED();
	return KIC_OK;
}

kic_status launch_add(float *y, const float *x, int64_t count, cudaStream_t s) {
	if (count <= 0) return KIC_OK;
	add_kernel<<<grid_for(count), 256, 0, s>>>(y, x, count);
	KIC_LAUNCHED();
	return KIC_OK;
}

kic_status launch_add_split(float *y, const float *parts, int n, int dim, int slices, const float *bias, bool acc,
                            cudaStream_t s) {
	int64_t count = (int64_t)n * dim;
	if (count <= 0) return KIC_OK;
	add_split_kernel<<<grid_for(count), 256, 0, s>>>(y, parts, count, dim, slices, bias, acc);
	KIC_LAUNCHED();
	return KIC_OK;
}

kic_status launch_copy_cols(float *dst, const float *src, int n, int64_t src_stride, int64_t col0, int64_t cols,
                            cudaStream_t s) {
	if (n <= 0) return KIC_OK;
	copy_cols_kernel<<<n, 256, 0, s>>>(dst, src, src_stride, col0, cols);
	KIC_LAUNCHED();
	return KIC_OK;
}
