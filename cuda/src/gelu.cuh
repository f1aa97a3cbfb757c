// gelu.cuh: GELU, tanh approximation (GPT-2's gelu_new, ggml's gelu).
#pragma once
#include "common.cuh"

// gelu_tanh is the formula, shared with the matvec epilogue so both paths round alike.
__device__ __forceinline__ float gelu_tanh(float v) {
	const float c = 0.7978845608028654f; // sqrt(2/pi)
	return 0.5f * v * (1.f + tanhf(c * (v + 0.044715f * v * v * v)));
}

kic_status launch_gelu(const float *x, int64_t count, float *y, cudaStream_t s);
