// add.cuh: bias add over rows, and residual (elementwise) add.
#pragma once
#include "common.cuh"

// y[i][c] += bias[c] for n rows of dim.
kic_status launch_add_bias(float *y, const float *bias, int n, int dim, cudaStream_t s);
// y[i] += x[i] over count elements.
kic_status launch_add(float *y, const float *x, int64_t count, cudaStream_t s);
// Copies n rows of width cols from src (row stride src_stride, starting at column col0) to dst (dense).
kic_status launch_copy_cols(float *dst, const float *src, int n, int64_t src_stride, int64_t col0, int64_t cols,
                            cudaStream_t s);
