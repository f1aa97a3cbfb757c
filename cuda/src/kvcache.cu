#include "kvcache.cuh"

__global__ void kv_store_kernel(kic_kv_view kv, const float *k, const float *v, int64_t src_stride,
                                const int32_t *seq, const int32_t *pos) {
	int i = blockIdx.x;
	int64_t off = kv_offset(kv, seq[i], pos[i]);
	for (int c = threadIdx.x; c < kv.kv_dim; c += blockDim.x) {
		kv.k[off + c] = k[(int64_t)i * src_stride + c];
		kv.v[off + c] = v[(int64_t)i * src_stride + c];
	}
}

kic_status launch_kv_store(const kic_kv_view &kv, const float *k, const float *v, int64_t src_stride, const int32_t *seq,
                           const int32_t *pos, int n, cudaStream_t s) {
	if (n <= 0) return KIC_OK;
	kv_store_kernel<<<n, 128, 0, s>>>(kv, k, v, src_stride, seq, pos);
	KIC_LAUNCHED();
	return KIC_OK;
}
