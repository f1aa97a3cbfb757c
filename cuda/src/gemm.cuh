// gemm.cuh: prefill-sized linear layers through cuBLAS (bf16/fp16 inputs, fp32 accumulate and output).
#pragma once
#include <cublas_v2.h>
#include "common.cuh"

// Scratch the GEMM path needs: activations split into two 16-bit halves of the weight's type (hi, then lo
// at act16 + act16_elems), and a Q8_0 row chunk dequantized to fp16.
struct kic_gemm_scratch {
	void *act16 = nullptr;      // 2 * act16_elems 16-bit values
	int64_t act16_elems = 0;
	__half *w16 = nullptr;      // w16_elems halves
	int64_t w16_elems = 0;
};

// Same contract as launch_matvec: y[t][r] = sum_c W[r][c] x[t][c] (+ bias) (+ y when accumulate).
// F32 weights multiply fp32 activations in fp32 (no TF32); BF16/F16 weights multiply the activations split
// into hi + lo of that type (two tensor-core products, fp32 accumulate); Q8_0 weights are dequantized to
// fp16 a chunk of rows at a time.
//
// y_rows is the token rows y has room for. With kic_gemm_one_read on, a call of at most kic_gemm_one_read_max
// tokens whose y holds 2n rows takes one product of W with [hi; lo] as 2n columns instead of two of n, so W is
// read once (a decode step's products are bound by reading W), and adds the lo half's rows into the first n.
kic_status launch_gemm(cublasHandle_t h, const kic_mat &w, const float *x, int n, const float *bias, bool accumulate,
                       float *y, const kic_gemm_scratch &sc, cudaStream_t s, int64_t y_rows = 0);

// launch_gemm_pair: y0 = W0 x and y1 = W1 x (no bias) for two weights of one shape and 16-bit type (an MLP's gate
// and up) where kic_gemm_pair_ok says so: calls kic_gemm_hi_from takes (the activations' hi half alone), as one
// cuBLAS call of two products, whose output tiles fill the device where each product alone leaves SMs idle (a
// 64-token decode step of Llama-3.2-1B's 8192 x 2048 gate has 64 tiles of 128 x 64 for 132 SMs).
bool kic_gemm_pair_ok(const kic_mat &w0, const kic_mat &w1, int n, const float *y0, const float *y1,
                      const kic_gemm_scratch &sc);
kic_status launch_gemm_pair(cublasHandle_t h, const kic_mat &w0, const kic_mat &w1, const float *x, int n, float *y0,
                            float *y1, const kic_gemm_scratch &sc, cudaStream_t s);

// The one-read form of launch_gemm, on by default: on the H200 (KIC_BENCH_ONLY=skinny) 64 tokens of Llama-3.2-1B's
// lm_head took 201 us against 302 for two products, of Llama-3.1-8B's down projection 47 against 81.
// KUBEINFER_CUDA_GEMM_ONE_READ=0 at kic_model_create turns it off (a measurement knob); the kernel tests set it.
extern bool kic_gemm_one_read;
// kic_gemm_split_k cuts the one-read product of a 16-bit weight into slices of its columns, one cuBLAS call of a
// batch of products whose sums launch_add_split adds up: a wide matrix gives cuBLAS few output tiles for its bytes.
// 1 (the default) never splits, 0 takes kic_gemm_auto_slices' rule, N > 1 always asks for N
// (KUBEINFER_CUDA_GEMM_SPLIT_K=auto or N at kic_model_create; the kernel tests and `bench skinny` set it): the rule
// won on single products but not in a whole step (H200, `bench --batch 64` of the 1B shape: 2.085 ms a step with it,
// 2.063 without, in one run). A call takes fewer
// slices where they would not divide the columns in multiples of 8 or their products would not fit y's rows past
// the first n (2n rows a slice).
extern int kic_gemm_split_k;
// The most slices a call can ask for at the current setting: a buffer of n * (1 + 2 * that) rows never limits it.
int kic_gemm_max_slices();
int kic_gemm_slices(int64_t rows, int64_t cols, int n, int64_t y_rows);
// kic_gemm_hi_from: cuBLAS products of at least that many tokens multiply the activations' hi half alone (rounded
// to the weight's 16-bit type, fp16 for the block formats), half the arithmetic of hi and lo; 0 never. Prefill
// passes and wide decode steps are compute-bound on the two products; the logits then move as the int8 matvec
// path's rounding moves them at one token (the fidelity suite's "hionly" variant holds them to the same bound).
// KUBEINFER_CUDA_GEMM_HI_FROM=N at kic_model_create (0: never), else kic_gemm_hi_from_default; the kernel tests
// set it.
extern int kic_gemm_hi_from;
// Whether a call of n tokens takes the hi half alone.
static inline bool kic_gemm_hi_only(int n) { return kic_gemm_hi_from > 0 && n >= kic_gemm_hi_from; }
// From where cuBLAS takes a decode step over from the skinny kernels (gemm_skinny.cuh, which keep both halves in
// registers). On the H200, Llama-3.2-1B bf16: `bench --batch 64` 1.839 ms a step from 33 tokens, 2.130 from 65,
// 2.159 with both halves everywhere; prefill of 128 / 512 / 2048 tokens 2.51 / 5.00 / 25.6 ms against 3.22 /
// 6.82 / 32.4 with both halves (hack/gpu-bench.sh knobs).
constexpr int kic_gemm_hi_from_default = 33;
// Short prefill chunks too: at 128 tokens the one product beat two on every projection of both shapes (1B lm_head
// 273 us against 341, 8B [gate; up] 129 against 171); at 256 it lost on the tall ones (8B lm_head 817 against 740).
constexpr int kic_gemm_one_read_max = 128;
