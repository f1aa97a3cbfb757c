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
// A holds m rows of k values (ld k); B holds n rows of k values, ld ldb (the whole activation row when A is a
// column tile of the weight).
static kic_status gemm_ex(cublasHandle_t h, const void *a, cudaDataType at, const void *b, cudaDataType bt,
                          int64_t m, int n, int64_t k, int64_t ldb, float *c, int64_t ldc, float beta) {
	const float alpha = 1.f;
	KIC_CUBLAS(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, (int)m, n, (int)k, &alpha, a, at, (int)k, b, bt, (int)ldb,
	                        &beta, c, CUDA_R_32F, (int)ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
	return KIC_OK;
}

// gemm_tile_of plans how a quantized weight passes through the fp16 scratch of elems values: whole when it fits;
// else pieces of whole rows, as long as a piece keeps 2048 rows or more (a product of enough output tiles to fill
// the device); else every row and an even share of the columns (whole 256-value blocks; each tile's product is
// summed into y, which costs a pass over y a tile, so only where row pieces would be too thin: Llama-3.1-8B's down
// projection in 585-row pieces ran 9x slower than whole, in 7 column tiles 1.4x); else, when a column tile would
// be narrower than 1024 (a vocabulary-sized matrix), rows in multiples of 128, which keeps every piece of y
// 16-byte aligned for cuBLAS's tensor-core kernels.
struct gemm_tile {
	int64_t rows, cols;
};
static gemm_tile gemm_tile_of(int64_t rows, int64_t cols, int64_t elems) {
	if (rows * cols <= elems) return {rows, cols};
	int64_t r = elems / cols;
	if (r >= 2048) return {r / 128 * 128, cols};
	int64_t widest = elems / rows / 256 * 256;
	if (widest >= 1024) {
		int64_t tiles = (cols + widest - 1) / widest, k = (cols + tiles - 1) / tiles;
		return {rows, (k + 255) / 256 * 256};
	}
	return {r >= 128 ? r / 128 * 128 : r, cols};
}

bool kic_gemm_one_read = true;
int kic_gemm_split_k = 1;
int kic_gemm_hi_from = 0;

// kic_gemm_auto_slices: a weight of at least twice as many columns as rows in cols / rows slices, at most 4 (a power
// of two). On the H200 at 64 tokens (KIC_BENCH_ONLY=skinny) the 1B down projection (2048 x 8192) took 19.9 us in 4
// slices against 23.4 whole, the 8B one (4096 x 14336) 44.1 in 2 against 47.1 (128 tokens: 55.5 against 60.3);
// square and tall matrices gained nothing or lost (1B o 15.4 whole, 15.6 in 2; 8B qkv 24.6 whole, 26.4 in 2).
constexpr int kMaxAutoSlices = 4;
static int kic_gemm_auto_slices(int64_t rows, int64_t cols) {
	int s = 1;
	while (s < kMaxAutoSlices && cols >= 2 * s * rows) s *= 2;
	return s;
}

int kic_gemm_max_slices() { return kic_gemm_split_k == 0 ? kMaxAutoSlices : std::max(kic_gemm_split_k, 1); }

int kic_gemm_slices(int64_t rows, int64_t cols, int n, int64_t y_rows) {
	int s = kic_gemm_split_k == 0 ? kic_gemm_auto_slices(rows, cols) : kic_gemm_split_k;
	while (s > 1 && (cols % s || (cols / s) % 8 || (int64_t)n * (1 + 2 * s) > y_rows)) s--;
	return s;
}

// gemm_split is gemm_ex of the one-read form in slices of the k columns: slice j multiplies columns j*k/slices.. of
// A and of B (ld k both) into its own m x n block of c (c + j * m * n), all in one cuBLAS call.
static kic_status gemm_split(cublasHandle_t h, const void *a, cudaDataType at, const void *b, cudaDataType bt,
                             int64_t m, int n, int64_t k, int slices, float *c) {
	const float alpha = 1.f, beta = 0.f;
	int64_t ks = k / slices;
	KIC_CUBLAS(cublasGemmStridedBatchedEx(h, CUBLAS_OP_T, CUBLAS_OP_N, (int)m, n, (int)ks, &alpha, a, at, (int)k, ks, b,
	                                      bt, (int)k, ks, &beta, c, CUDA_R_32F, (int)m, m * n, slices,
	                                      CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
	return KIC_OK;
}

bool kic_gemm_pair_ok(const kic_mat &w0, const kic_mat &w1, int n, const float *y0, const float *y1,
                      const kic_gemm_scratch &sc) {
	// cuBLAS steps from one product's operands to the other's by a stride: W1 and y1 after W0 and y0.
	return kic_gemm_hi_only(n) && (w0.dtype == KIC_BF16 || w0.dtype == KIC_F16) && w1.dtype == w0.dtype && w1.rows == w0.rows &&
	       w1.cols == w0.cols && (const char *)w1.data > (const char *)w0.data && y1 > y0 &&
	       (int64_t)n * w0.cols <= sc.act16_elems;
}

kic_status launch_gemm_pair(cublasHandle_t h, const kic_mat &w0, const kic_mat &w1, const float *x, int n, float *y0,
                            float *y1, const kic_gemm_scratch &sc, cudaStream_t s) {
	if (!kic_gemm_pair_ok(w0, w1, n, y0, y1, sc)) return kic_set_error(KIC_ERR_INVALID, "gemm pair: operands it does not take");
	KIC_CUBLAS(cublasSetStream(h, s));
	int64_t need = (int64_t)n * w0.cols;
	KIC_TRY(launch_f32_to(w0.dtype, x, need, sc.act16, s));
	cudaDataType t = w0.dtype == KIC_F16 ? CUDA_R_16F : CUDA_R_16BF;
	const float alpha = 1.f, beta = 0.f;
	long long stride_w = ((const char *)w1.data - (const char *)w0.data) / (long long)sizeof(uint16_t);
	KIC_CUBLAS(cublasGemmStridedBatchedEx(h, CUBLAS_OP_T, CUBLAS_OP_N, (int)w0.rows, n, (int)w0.cols, &alpha, w0.data, t,
	                                      (int)w0.cols, stride_w, sc.act16, t, (int)w0.cols, 0, &beta, y0, CUDA_R_32F,
	                                      (int)w0.rows, y1 - y0, 2, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
	return KIC_OK;
}

kic_status launch_gemm(cublasHandle_t h, const kic_mat &w, const float *x, int n, const float *bias, bool accumulate,
                       float *y, const kic_gemm_scratch &sc, cudaStream_t s, int64_t y_rows) {
	if (n <= 0) return KIC_OK;
	KIC_CUBLAS(cublasSetStream(h, s));
	float beta = accumulate ? 1.f : 0.f;
	int64_t need = (int64_t)n * w.cols;
	// One read: lo right after hi in the scratch, so [hi; lo] is one operand of 2n columns (ld cols); the product's
	// lo rows land in y's rows n..2n, zeroed first when the first n accumulate onto y.
	bool hi_only = kic_gemm_hi_only(n); // no lo half, no lo product
	bool one = !hi_only && kic_gemm_one_read && w.dtype != KIC_F32 && n <= kic_gemm_one_read_max && y_rows >= 2 * (int64_t)n;
	int cols_n = one ? 2 * n : n;
	// Split over the columns (16-bit weights): the slices' products in y's rows n.., summed with bias and acc after.
	int slices = one && (w.dtype == KIC_BF16 || w.dtype == KIC_F16) ? kic_gemm_slices(w.rows, w.cols, n, y_rows) : 1;
	if (one && accumulate && slices == 1) KIC_CUDA(cudaMemsetAsync(y + (int64_t)n * w.rows, 0, sizeof(float) * n * w.rows, s));
	switch (w.dtype) {
	case KIC_F32:
		KIC_TRY(gemm_ex(h, w.data, CUDA_R_32F, x, CUDA_R_32F, w.rows, n, w.cols, w.cols, y, w.rows, beta));
		break;
	case KIC_F16:
	case KIC_BF16: {
		// Two products, W*hi + W*lo: activations keep ~16 (bf16) / 22 (f16) mantissa bits instead of 8 / 11,
		// which is what holds prefill logits to the fp32 reference (bf16 alone is off by ~0.1 on logits); calls of
		// kic_gemm_hi_from tokens or more take W*hi alone.
		if (need > sc.act16_elems) return kic_set_error(KIC_ERR_INVALID, "gemm: %lld activations exceed scratch", (long long)need);
		cudaDataType t = w.dtype == KIC_F16 ? CUDA_R_16F : CUDA_R_16BF;
		void *lo = hi_only ? nullptr : (uint16_t *)sc.act16 + (one ? need : sc.act16_elems);
		KIC_TRY(lo ? launch_f32_split(w.dtype, x, need, sc.act16, lo, s) : launch_f32_to(w.dtype, x, need, sc.act16, s));
		if (slices > 1) {
			float *parts = y + (int64_t)n * w.rows;
			KIC_TRY(gemm_split(h, w.data, t, sc.act16, t, w.rows, cols_n, w.cols, slices, parts));
			return launch_add_split(y, parts, n, (int)w.rows, slices, bias, accumulate, s);
		}
		KIC_TRY(gemm_ex(h, w.data, t, sc.act16, t, w.rows, cols_n, w.cols, w.cols, y, w.rows, beta));
		if (!one && !hi_only) KIC_TRY(gemm_ex(h, w.data, t, lo, t, w.rows, n, w.cols, w.cols, y, w.rows, 1.f));
		break;
	}
	default: {
		// Q8_0 and the block formats: weights dequantized to fp16 a tile at a time (values rounded to 11 bits, far
		// finer than the quantization's own steps), activations split into hi + lo as above.
		if (w.dtype != KIC_Q8_0 && !kic_is_block_quant(w.dtype))
			return kic_set_error(KIC_ERR_UNSUPPORTED, "gemm: dtype %d", w.dtype);
		if (need > sc.act16_elems) return kic_set_error(KIC_ERR_INVALID, "gemm: %lld activations exceed scratch", (long long)need);
		gemm_tile t = gemm_tile_of(w.rows, w.cols, sc.w16_elems);
		if (t.rows <= 0) return kic_set_error(KIC_ERR_INVALID, "gemm: dequantization scratch smaller than one row");
		void *lo = hi_only ? nullptr : (uint16_t *)sc.act16 + (one ? need : sc.act16_elems);
		KIC_TRY(lo ? launch_f32_split(KIC_F16, x, need, sc.act16, lo, s) : launch_f32_to(KIC_F16, x, need, sc.act16, s));
		for (int64_t r0 = 0; r0 < w.rows; r0 += t.rows) {
			int64_t m = w.rows - r0 < t.rows ? w.rows - r0 : t.rows;
			for (int64_t c0 = 0; c0 < w.cols; c0 += t.cols) {
				int64_t k = w.cols - c0 < t.cols ? w.cols - c0 : t.cols;
				if (w.dtype == KIC_Q8_0)
					KIC_TRY(launch_q8_0_tile_f16((const int8_t *)w.data, w.scales, w.cols, r0, m, c0, k, sc.w16, s));
				else
					KIC_TRY(launch_dequant_tile(w.dtype, w.data, w.cols, r0, m, c0, k, sc.w16, s));
				// Activations of columns c0.. (ld w.cols); a later column tile adds to what the first wrote.
				const __half *hi16 = (const __half *)sc.act16 + c0;
				KIC_TRY(gemm_ex(h, sc.w16, CUDA_R_16F, hi16, CUDA_R_16F, m, cols_n, k, w.cols, y + r0, w.rows, c0 ? 1.f : beta));
				if (!one && !hi_only)
					KIC_TRY(gemm_ex(h, sc.w16, CUDA_R_16F, (const __half *)lo + c0, CUDA_R_16F, m, n, k, w.cols, y + r0,
					                w.rows, 1.f));
			}
		}
		break;
	}
	}
	if (one) KIC_TRY(launch_add(y, y + (int64_t)n * w.rows, (int64_t)n * w.rows, s));
	return launch_add_bias(y, bias, n, (int)w.rows, s);
}
