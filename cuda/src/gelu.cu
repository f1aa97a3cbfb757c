#include "gelu.cuh"

__global__ void gelu_kernel(const float *x, int64_t count, float *y) {
	const float c = 0.7978845608028654f; // sqrt(2/pi)
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < count; i += (int64_t)gridDim.x * blockDim.x) {
		float v = x[i];
		y[i] = 0.5f * v * (1.f + tanhf(c * (v + 0.044715f * v * v * v)));
	}
}

kic_status launch_gelu(const float *x, int64_t count, float *y, cudaStream_t s) {
	if (count <= 0) return KIC_OK;
	int blocks = kic_div_up(count, 256);
	gelu_kernel<<<blocks < 65535 ? blocks : 65535, 256, 0, s>>>(x, count, y);
	KIC_LAUNCHED();
	return KIC_OK;
}
