// norm.cuh: RMSNorm (llama) and LayerNorm (gpt2), one block per row, fp32 with fp32 weights; RMSNorm added to a
// residual stream (Gemma's post-norms).
#pragma once
#include "common.cuh"

// kic_norm_stats works out one row's normalization with the whole block: its mean (0 for an RMS norm) and the
// scale 1 / sqrt(var + eps) (biased variance, as torch; for RMS the mean square). fp32 sums over a stride,
// combined over the block, keep the relative error near 1e-6 for real rows (the CPU engine sums in float64).
// scratch holds 32 floats; every thread gets both.
__device__ __forceinline__ float2 kic_norm_stats(bool layer, const float *x, int dim, float eps, float *scratch) {
	float mean = 0.f;
	if (layer) {
		float sum = 0.f;
		for (int c = threadIdx.x; c < dim; c += blockDim.x) sum += x[c];
		mean = block_sum(sum, scratch) / dim;
	}
	float ss = 0.f;
	for (int c = threadIdx.x; c < dim; c += blockDim.x) {
		float d = x[c] - mean;
		ss += d * d;
	}
	__syncthreads();
	return make_float2(mean, rsqrtf(block_sum(ss, scratch) / dim + eps));
}

// y = x / sqrt(mean(x^2) + eps) * w, for n rows of dim.
kic_status launch_rmsnorm(const float *x, const float *w, int n, int dim, float eps, float *y, cudaStream_t s);
// y = (x - mean) / sqrt(var + eps) * w + b (biased variance, as torch).
kic_status launch_layernorm(const float *x, const float *w, const float *b, int n, int dim, float eps, float *y,
                            cudaStream_t s);
// y += x / sqrt(mean(x^2) + eps) * w, for n rows of dim (x and y distinct).
kic_status launch_rmsnorm_add(const float *x, const float *w, int n, int dim, float eps, float *y, cudaStream_t s);
// Both, for the rows listed in rows (device array; nullptr: rows 0..n-1), writing output row i.
kic_status launch_norm_rows(bool layer, const float *x, const int32_t *rows, const float *w, const float *b, int n,
                            int dim, float eps, float *y, cudaStream_t s);
