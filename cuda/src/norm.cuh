// norm.cuh: RMSNorm (llama) and LayerNorm (gpt2), one block per row, fp32 with fp32 weights; RMSNorm added to a
// residual stream (Gemma's post-norms).
#pragma once
#include "common.cuh"

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
