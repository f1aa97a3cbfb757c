// glu.cuh: gated linear units, y = act(gate) * up: SwiGLU (act SiLU, the llama MLP), GeGLU (GELU tanh, Gemma).
#pragma once
#include "common.cuh"

kic_status launch_glu(int act, const float *gate, const float *up, int64_t count, float *y, cudaStream_t s);
