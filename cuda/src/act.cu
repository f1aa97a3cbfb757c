#include "act.cuh"

__global__ void act_kernel(int act, const float *x, int64_t count, float *y) {
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < count; i += (int64_t)gridDim.x * blockDim.x)
		y[i] = kic_activate(act, x[i]);
}

kic_status launch_act(int act, const float *x, int64_t count, float *y, cudaStream_t s) {
	if (count <= 0) return KIC_OK;
	int blocks = kic_div_up(count, 256);
	act_kernel<<<blocks < 65535 ? blocks : 65535, 256, 0, s>>>(act, x, count, y);
	KIC_LAUNCHED();
	return KIC_OK;
}
