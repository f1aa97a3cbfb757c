#include "gemm.cuh"
#include "add.cuh"
#include "dequant.cuh"
#include "quant.cuh"

#define KIC_CUBLAS(call)                                                                                  \
	do {                                                                                                  \
		cublasStatus_t st_ = (call);                                                                      \
		if (st_ != CUBLAS_STATUS_SUCCESS)                                                                 \
			return kic_set_error(KIC_ERR_CUBLAS, "%s:%d: %s: cublas status %d", __FILE__, __LINE__, #call, \
			                     (int)st_);                                                               \
	} while (0)

// Column-major view: Y^T (rows x n, ld rows) = op(W)^T... i.e. C = A^T B with A = W (cols x rows, ld cols)
// and B = X (cols x n, ld cols), which is y = x W^T in row-major terms.
static kic_status gemm_ex(cublasHandle_t h, const void *a, cudaDataType at, const void *b, cudaDataType bt,
                          int64_t m, int n, int64_t k, float *c, int64_t ldc, float beta) {
	const float alpha = 1.f;
	KIC_CUBLAS(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, (int)m, n, (int)k, &alpha, a, at, (int)k, b, bt, (int)k,
	                        &beta, c, CUDA_R_32F, (int)ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
	return KIC_OK;
}

kic_status launch_gemm(cublasHandle_t h, const kic_mat &w, const float *x, int n, const float *bias, bool accumulate,
                       float *y, const kic_gemm_scratch &sc, cudaStream_t s) {
	if (n <= 0) return KIC_OK;
	KIC_CUBLAS(cublasSetStream(h, s));
	float beta = accumulate ? 1.f : 0.f;
	int64_t need = (int64_t)n * w.cols;
	switch (w.dtype) {
	case KIC_F32:
		KIC_TRY(gemm_ex(h, w.data, CUDA_R_32F, x, CUDA_R_32F, w.rows, n, w.cols, y, w.rows, beta));
		break;
	case KIC_F16:
	case KIC_BF16: {
		// Two products, W*hi + W*lo: activations keep ~16 (bf16) / 22 (f16) mantissa bits instead of 8 / 11,
		// which is what holds prefill logits to the fp32 reference (bf16 alone is off by ~0.1 on logits).
		if (need > sc.act16_elems) return kic_set_error(KIC_ERR_INVALID, "gemm: %lld activations exceed scratch", (long long)need);
		cudaDataType t = w.dtype == KIC_F16 ? CUDA_R_16F : CUDA_R_16BF;
		void *lo = (uint16_t *)sc.act16 + sc.act16_elems;
		KIC_TRY(launch_f32_split(w.dtype, x, need, sc.act16, lo, s));
		KIC_TRY(gemm_ex(h, w.data, t, sc.act16, t, w.rows, n, w.cols, y, w.rows, beta));
		KIC_TRY(gemm_ex(h, w.data, t, lo, t, w.rows, n, w.cols, y, w.rows, 1.f));
		break;
	}
	case KIC_Q8_0: {
		// Weights are dequantized to fp16 (d*q rounded to 11 bits); activations are split as above.
		if (need > sc.act16_elems) return kic_set_error(KIC_ERR_INVALID, "gemm: %lld activations exceed scratch", (long long)need);
		int64_t chunk = sc.w16_elems / w.cols;
		if (chunk <= 0) return kic_set_error(KIC_ERR_INVALID, "gemm: Q8_0 scratch smaller than one row");
		void *lo = (uint16_t *)sc.act16 + sc.act16_elems;
		KIC_TRY(launch_f32_split(KIC_F16, x, need, sc.act16, lo, s));
		for (int64_t r0 = 0; r0 < w.rows; r0 += chunk) {
			int64_t m = w.rows - r0 < chunk ? w.rows - r0 : chunk;
			KIC_TRY(launch_q8_0_to_f16((const int8_t *)w.data, w.scales, r0 * w.cols, m * w.cols, sc.w16, s));
			KIC_TRY(gemm_ex(h, sc.w16, CUDA_R_16F, sc.act16, CUDA_R_16F, m, n, w.cols, y + r0, w.rows, beta));
			KIC_TRY(gemm_ex(h, sc.w16, CUDA_R_16F, lo, CUDA_R_16F, m, n, w.cols, y + r0, w.rows, 1.f));
		}
		break;
	}
	default: {
		// Block formats, as Q8_0: a chunk of rows at a time dequantized to fp16 (values rounded to 11 bits, far
		// finer than the quantization's own steps), activations split into hi + lo.
		if (!kic_is_block_quant(w.dtype)) return kic_set_error(KIC_ERR_UNSUPPORTED, "gemm: dtype %d", w.dtype);
		if (need > sc.act16_elems) return kic_set_error(KIC_ERR_INVALID, "gemm: %lld activations exceed scratch", (long long)need);
		int64_t chunk = sc.w16_elems / w.cols;
		if (chunk <= 0) return kic_set_error(KIC_ERR_INVALID, "gemm: dequantization scratch smaller than one row");
		void *lo = (uint16_t *)sc.act16 + sc.act16_elems;
		KIC_TRY(launch_f32_split(KIC_F16, x, need, sc.act16, lo, s));
		for (int64_t r0 = 0; r0 < w.rows; r0 += chunk) {
			int64_t m = w.rows - r0 < chunk ? w.rows - r0 : chunk;
			KIC_TRY(launch_dequant_rows(w.dtype, w.data, w.cols, r0, m, sc.w16, s));
			KIC_TRY(gemm_ex(h, sc.w16, CUDA_R_16F, sc.act16, CUDA_R_16F, m, n, w.cols, y + r0, w.rows, beta));
			KIC_TRY(gemm_ex(h, sc.w16, CUDA_R_16F, lo, CUDA_R_16F, m, n, w.cols, y + r0, w.rows, 1.f));
		}
		break;
	}
	}
	return launch_add_bias(y, bias, n, (int)w.rows, s);
}
