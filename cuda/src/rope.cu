#include "rope.cuh"

__global__ void rope_kernel(float *x, int64_t row_stride, const int32_t *pos, int heads, int head_dim, int mode,
                            int rope_dim, const float *inv_freq) {
	int i = blockIdx.x, half = rope_dim / 2;
	float p = (float)pos[i];
	for (int t = threadIdx.x; t < heads * half; t += blockDim.x) {
		int h = t / half, j = t % half;
		// Angle in fp32 as the CPU engine's float32(pos)*f; sin/cos in double to match math.Sincos.
		double theta = (double)(p * inv_freq[j]);
		double sn, cs;
		sincos(theta, &sn, &cs);
		float c = (float)cs, sv = (float)sn;
		float *head = x + (int64_t)i * row_stride + (int64_t)h * head_dim;
		int a = mode == KIC_ROPE_NORM ? 2 * j : j;
		int b = mode == KIC_ROPE_NORM ? 2 * j + 1 : j + half;
		float x0 = head[a], x1 = head[b];
		head[a] = x0 * c - x1 * sv;
		head[b] = x0 * sv + x1 * c;
	}
}

kic_status launch_rope(float *x, int64_t row_stride, const int32_t *pos, int n, int heads, int head_dim, int mode,
                       int rope_dim, const float *inv_freq, cudaStream_t s) {
	if (n <= 0 || mode == KIC_ROPE_NONE) return KIC_OK;
	if (mode != KIC_ROPE_NORM && mode != KIC_ROPE_NEOX) return kic_set_error(KIC_ERR_INVALID, "rope mode %d", mode);
	int threads = heads * (rope_dim / 2);
	threads = threads >= 256 ? 256 : ((threads + 31) / 32) * 32;
	rope_kernel<<<n, threads, 0, s>>>(x, row_stride, pos, heads, head_dim, mode, rope_dim, inv_freq);
	KIC_LAUNCHED();
	return KIC_OK;
}
