#include "norm.cuh"

// add: y += the normalized row instead of y = it (kic_norm_stats: the row's mean and scale).
__global__ void norm_kernel(bool layer, const float *x, const int32_t *rows, const float *w, const float *b, int dim,
                            float eps, float *y, bool add) {
	__shared__ float scratch[32];
	pdl_wait();
	pdl_launch_dependents();
	int i = blockIdx.x;
	const float *in = x + (int64_t)(rows ? rows[i] : i) * dim;
	float *out = y + (int64_t)i * dim;
	float2 st = kic_norm_stats(layer, in, dim, eps, scratch);
	float mean = st.x, scale = st.y;
	for (int c = threadIdx.x; c < dim; c += blockDim.x) {
		float v = (in[c] - mean) * scale * w[c];
		if (layer) v += b[c];
		out[c] = add ? out[c] + v : v;
	}
}

static int norm_threads(int dim) { return dim >= 1024 ? 1024 : ((dim + 31) / 32) * 32; }

kic_status launch_norm_rows(bool layer, const float *x, const int32_t *rows, const float *w, const float *b, int n,
                            int dim, float eps, float *y, cudaStream_t s) {
	if (n <= 0) return KIC_OK;
	return kic_launch(norm_kernel, dim3(n), dim3(norm_threads(dim)), 0, s, layer, x, rows, w, b, dim, eps, y, false);
}

kic_status launch_rmsnorm_add(const float *x, const float *w, int n, int dim, float eps, float *y, cudaStream_t s) {
	if (n <= 0) return KIC_OK;
	return kic_launch(norm_kernel, dim3(n), dim3(norm_threads(dim)), 0, s, false, x, (const int32_t *)nullptr, w,
	                  (const float *)nullptr, dim, eps, y, true);
}

kic_status launch_rmsnorm(const float *x, const float *w, int n, int dim, float eps, float *y, cudaStream_t s) {
	return launch_norm_rows(false, x, nullptr, w, nullptr, n, dim, eps, y, s);
}

kic_status launch_layernorm(const float *x, const float *w, const float *b, int n, int dim, float eps, float *y,
                            cudaStream_t s) {
	return launch_norm_rows(true, x, nullptr, w, b, n, dim, eps, y, s);
}
