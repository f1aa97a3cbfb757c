// rope.cuh: rotary position embedding, norm (adjacent pairs) and neox (half split) modes.
#pragma once
#include "common.cuh"

// Rotates, in place, the first rope_dim dims of each of heads head vectors in the n rows of x (row stride
// row_stride floats) by pos[i] * inv_freq[j]. inv_freq already holds freq scale and Llama-3 factors.
kic_status launch_rope(float *x, int64_t row_stride, const int32_t *pos, int n, int heads, int head_dim, int mode,
                       int rope_dim, const float *inv_freq, cudaStream_t s);
