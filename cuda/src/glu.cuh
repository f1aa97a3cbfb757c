// glu.cuh: SwiGLU, y = silu(gate) * up.
#pragma once
#include "common.cuh"

kic_status launch_swiglu(const float *gate, const float *up, int64_t count, float *y, cudaStream_t s);
