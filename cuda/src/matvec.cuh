// matvec.cuh: the batch-1 (and small-batch) decode hot path, y = W x for up to 8 tokens per weight pass.
//
// Decode at batch 1 is bound by reading the weights once per token, so the kernel streams each row with
// 16-byte loads (8 bf16/f16 values, 16 int8 Q8_0 quants, 4 f32), one warp per row and several rows per
// block, keeps the activations in fp32 (L1/L2-resident, they are tiny next to the weights), accumulates in
// fp32, and fuses the bias and the residual add into the store so a projection is one kernel.
#pragma once
#include "common.cuh"

// y[t][r] = sum_c W[r][c] x[t][c] (+ bias[r]) (+ y[t][r] if accumulate), for t < n (any n; tokens are
// processed 8 at a time per pass over the weights).
kic_status launch_matvec(const kic_mat &w, const float *x, int n, const float *bias, bool accumulate, float *y,
                         cudaStream_t s);
