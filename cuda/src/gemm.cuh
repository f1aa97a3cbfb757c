// gemm.cuh: prefill-sized linear layers through cuBLAS (bf16/fp16 inputs, fp32 accumulate and output).
#pragma once
#include <cublas_v2.h>
#include "common.cuh"

// Scratch the GEMM path needs: activations converted to the weight's 16-bit type, and a Q8_0 row chunk
// dequantized to fp16.
struct kic_gemm_scratch {
	void *act16 = nullptr;      // max_tokens * max_cols halves
	int64_t act16_elems = 0;
	__half *w16 = nullptr;      // w16_elems halves
	int64_t w16_elems = 0;
};

// Same contract as launch_matvec: y[t][r] = sum_c W[r][c] x[t][c] (+ bias) (+ y when accumulate).
// F32 weights multiply fp32 activations in fp32 (no TF32); BF16/F16 weights multiply activations rounded to
// that type; Q8_0 weights are dequantized to fp16 a chunk of rows at a time.
kic_status launch_gemm(cublasHandle_t h, const kic_mat &w, const float *x, int n, const float *bias, bool accumulate,
                       float *y, const kic_gemm_scratch &sc, cudaStream_t s);
