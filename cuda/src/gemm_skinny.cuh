// gemm_skinny.cuh: linear layers of a few tokens (a batched decode step, a short prompt) on tensor cores,
// reading each weight once.
//
// Between one token (the matvec kernels, bound by the weight bytes) and a prefill chunk (cuBLAS) lies the batched
// decode step: 2-64 tokens, where the weights still dominate the bytes but the matvec kernels' fp32 FMAs do not
// keep up (8 tokens cost 3.5x one on Llama-3.1-8B) and cuBLAS reads the weights twice, once per activation half.
// Here warps hold 16 rows x 32 columns of W in registers and multiply them by both halves of the tokens with
// mma.sync (bf16 in, fp32 accumulate). Two kernels: in skinny_kernel a block's warps split the columns and each
// loads and splits every token's activations for its own; in tiled_kernel they take different rows and share the
// activations staged in shared memory, and a cluster's blocks split the columns. Both add their partial sums in a
// fixed order, so with one kernel a token's result does not depend on the other tokens of the call.
#pragma once
#include "common.cuh"

// The most tokens one call takes: 8 mma tiles of 8 tokens.
constexpr int kic_skinny_max_tokens = 64;

// Where the model hands a bf16 projection to cuBLAS unless told otherwise (model.cu's path_of): on the H200
// (KIC_BENCH_ONLY=skinny cuda/build/kernels) the better of the two kernels beat cuBLAS reading W twice on every
// Llama-3.2-1B and 3.1-8B projection up to 32 tokens but lost on most at 64. cuBLAS reading W once (gemm.cuh's
// one-read form) overtakes them earlier on matrices of kic_skinny_wide rows and columns or more: Llama-3.1-8B's
// projections at 32 tokens took 22.6 / 21.5 / 89.5 / 43.5 us (qkv, o, [gate; up], down) against the skinny
// kernels' 39.4 / 28.3 / 117.2 / 68.2, while Llama-3.2-1B's stayed faster on the skinny kernels (its down
// projection, 2048 x 8192, 19.5 us tiled against 28.9 at 16 tokens, as fast at 32).
constexpr int kic_skinny_gemm_from = 33;
constexpr int kic_skinny_gemm_from_wide = 17;
constexpr int64_t kic_skinny_wide = 4096;

// kic_skinny_kernel forces a kernel for the kernel tests and benchmarks: 1 skinny_kernel, 2 tiled_kernel, 0 (the
// default) the one gemm_skinny.cu's tiled_wins picks for the shape.
extern int kic_skinny_kernel;

// kic_skinny_ok says whether the kernel takes n tokens of w: bf16 weights whose rows are whole 32-column chunks
// (so every 16-byte load is aligned), 1..kic_skinny_max_tokens tokens.
static inline bool kic_skinny_ok(const kic_mat &w, int n) {
	return w.dtype == KIC_BF16 && w.cols % 32 == 0 && w.cols > 0 && n >= 1 && n <= kic_skinny_max_tokens;
}

// Same contracts as launch_matvec, launch_matvec_act and launch_matvec_glu (matvec.cuh) for the weights and token
// counts kic_skinny_ok takes: y[t][r] = W_r . x_t (+ bias[r]) (+ y[t][r] when accumulate); act(W_r . x_t + bias[r]);
// act(gate_r . x_t) * (up_r . x_t) with W = [gate; up]. Activations are split into bf16 hi + lo in registers, as
// gemm.cu's products split them, so the sums keep ~16 mantissa bits of x.
kic_status launch_skinny(const kic_mat &w, const float *x, int n, const float *bias, bool accumulate, float *y,
                         cudaStream_t s);
kic_status launch_skinny_act(int act, const kic_mat &w, const float *x, int n, const float *bias, float *y, cudaStream_t s);
kic_status launch_skinny_glu(int act, const kic_mat &w, const float *x, int n, float *y, cudaStream_t s);
