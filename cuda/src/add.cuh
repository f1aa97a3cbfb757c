// add.cuh: bias add over rows, and residual (elementwise) add.
#pragma once
#include "common.cuh"

// y[i][c] += bias[c] for n rows of dim.
kic_status launch_add_bias(float *y, const float *bias, int n, int dim, cudaStream_t s);
// y[i] += x[i] over count elements.
kic_status launch_add(float *y, const float *x, int64_t count, cudaStream_t s);
// y[t][r] = (acc ? y[t][r] : 0) + the slices' hi and lo products + bias[r] for n rows of dim: cuBLAS's one-read form
// split over the columns (gemm.cu), slice j's product being 2n rows (hi, then lo) at parts + j * 2n * dim; summed in
// slice order, so a token's result does not depend on the others.
kic_status launch_add_split(float *y, const float *parts, int n, int dim, int slices, const float *bias, bool acc,
                            cudaStream_t s);
// Copies n rows of width cols from src (row stride src_stride, starting at column col0) to dst (dense).
kic_status launch_copy_cols(float *dst, const float *src, int n, int64_t src_stride, int64_t col0, int64_t cols,
                            cudaStream_t s);
