// softcap.cuh: logit soft-capping, cap * tanh(x / cap) (Gemma 2): the final logits here, attention scores inside
// the attention kernels through kic_softcap.
#pragma once
#include "common.cuh"

__device__ __forceinline__ float kic_softcap(float x, float cap) { return cap * tanhf(x / cap); }

// x = cap * tanh(x / cap) in place over count elements; cap > 0.
kic_status launch_softcap(float *x, int64_t count, float cap, cudaStream_t s);
