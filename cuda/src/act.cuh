// act.cuh: the MLP's nonlinearities (kic_act): SiLU, GELU's tanh approximation (GPT-2's gelu_new, ggml's gelu)
// and the exact GELU (GPT-NeoX's), elementwise; the gated forms are in glu.cuh, the matvec epilogues use
// kic_activate so every path rounds alike.
#pragma once
#include "common.cuh"

__device__ __forceinline__ float silu(float v) { return v / (1.f + expf(-v)); }

__device__ __forceinline__ float gelu_tanh(float v) {
	const float c = 0.7978845608028654f; // sqrt(2/pi)
	return 0.5f * v * (1.f + tanhf(c * (v + 0.044715f * v * v * v)));
}

// x * Phi(x) with the error function, as torch's "gelu".
__device__ __forceinline__ float gelu_erf(float v) { return 0.5f * v * (1.f + erff(v * 0.7071067811865476f)); }

// kic_activate applies act (a kic_act); the switch is uniform across a launch.
__device__ __forceinline__ float kic_activate(int act, float v) {
	switch (act) {
	case KIC_ACT_GELU_TANH: return gelu_tanh(v);
	case KIC_ACT_GELU: return gelu_erf(v);
	default: return silu(v);
	}
}

// y = act(x) over count elements (y may be x).
kic_status launch_act(int act, const float *x, int64_t count, float *y, cudaStream_t s);
