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
kic_status launch_gemm(cublasHandle_t h, const kic_mat &w, const float *x, int n, const float *bias, bool accumulate,
                       float *y, const kic_gemm_scratch &sc, cudaStream_t s);
