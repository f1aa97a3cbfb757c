#include "softcap.cuh"

__global__ void softcap_kernel(float *x, int64_t count, float cap) {
	pdl_wait();
	pdl_launch_dependents();
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < count; i += (int64_t)gridDim.x * blockDim.x)
		x[i] = kic_softcap(x[i], cap);
}

kic_status launch_softcap(float *x, int64_t count, float cap, cudaStream_t s) {
	if (count <= 0) return KIC_OK;
	if (!(cap > 0.f)) return kic_set_error(KIC_ERR_INVALID, "soft-cap %g is not positive", cap);
	int blocks = kic_div_up(count, 256);
	return kic_launch(softcap_kernel, dim3(blocks < 65535 ? blocks : 65535), dim3(256), 0, s, x, count, cap);
}
