// gelu.cuh: GELU, tanh approximation (GPT-2's gelu_new, ggml's gelu).
#pragma once
#include "common.cuh"

kic_status launch_gelu(const float *x, int64_t count, float *y, cudaStream_t s);
