// entry.cu: single-kernel entry points for cuda/test/kernels.c (host pointers in and out; each copies to the
// device, runs one kernel, copies back). They are built into libkubeinfer_cuda_test.so with the library's
// own objects, never into the shipped libkubeinfer_cuda.so.
#include <algorithm>
#include <stdio.h>
#include <string.h>
#include <vector>

#include <cooperative_groups.h>
#include <cublas_v2.h>

#include "act.cuh"
#include "add.cuh"
#include "attention.cuh"
#include "dequant.cuh"
#include "embed.cuh"
#include "gemm.cuh"
#include "gemm_skinny.cuh"
#include "glu.cuh"
#include "matvec.cuh"
#include "norm.cuh"
#include "rope.cuh"
#include "quant.cuh"
#include "logprobs.cuh"
#include "sample.cuh"
#include "softcap.cuh"
#include "kic_test.h"

// ---- test entry points ---------------------------------------------------------------------------------

// dbuf is a device buffer freed on scope exit.
struct dbuf {
	void *p = nullptr;
	~dbuf() {
		if (p) cudaFree(p);
	}
	template <typename T> T *as() const { return (T *)p; }
};

static kic_status to_dev(dbuf &d, const void *host, uint64_t bytes) {
	KIC_CUDA(cudaMalloc(&d.p, bytes ? bytes : 1));
	if (host && bytes) KIC_CUDA(cudaMemcpy(d.p, host, bytes, cudaMemcpyHostToDevice));
	return KIC_OK;
}

static kic_status finish(void *host, const dbuf &d, uint64_t bytes) {
	KIC_CUDA(cudaDeviceSynchronize());
	KIC_CUDA(cudaMemcpy(host, d.p, bytes, cudaMemcpyDeviceToHost));
	return KIC_OK;
}

static kic_status test_mat(kic_mat &w, dbuf &data, dbuf &scales, int32_t dtype, const void *host, uint64_t bytes,
                           int64_t rows, int64_t cols) {
	w.dtype = dtype, w.rows = rows, w.cols = cols;
	if (dtype != KIC_Q8_0) {
		KIC_TRY(to_dev(data, host, bytes));
		w.data = data.p;
		return KIC_OK;
	}
	dbuf raw;
	int64_t nb = rows * cols / 32;
	KIC_TRY(to_dev(raw, host, bytes));
	KIC_TRY(to_dev(data, nullptr, nb * 32));
	KIC_TRY(to_dev(scales, nullptr, nb * 2));
	KIC_TRY(launch_q8_0_split(raw.as<uint8_t>(), nb, data.as<int8_t>(), scales.as<__half>(), 0));
	KIC_CUDA(cudaDeviceSynchronize());
	w.data = data.p, w.scales = scales.as<__half>();
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_test_linear(int32_t dtype, const void *w_host, uint64_t w_bytes, int64_t rows,
                                              int64_t cols, const float *x, int32_t n, const float *bias,
                                              int32_t accumulate, int32_t use_gemm, float *y) {
	kic_mat w;
	dbuf wd, ws, xd, bd, yd;
	KIC_TRY(test_mat(w, wd, ws, dtype, w_host, w_bytes, rows, cols));
	KIC_TRY(to_dev(xd, x, sizeof(float) * n * cols));
	// Room for the rows cuBLAS's one-read form (kic_test_gemm_one_read) takes, 2n, or n + 2n a slice when it is
	// split (kic_test_gemm_split_k), as the model's buffers have; the rows past n start as garbage, as a buffer's
	// unused rows do.
	int64_t y_rows = (int64_t)n * (1 + 2 * kic_gemm_max_slices());
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * y_rows * rows));
	KIC_CUDA(cudaMemset(yd.p, 0x7f, sizeof(float) * y_rows * rows));
	KIC_CUDA(cudaMemcpy(yd.p, y, sizeof(float) * n * rows, cudaMemcpyHostToDevice));
	if (bias) KIC_TRY(to_dev(bd, bias, sizeof(float) * rows));
	if (use_gemm) {
		cublasHandle_t h;
		if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) return kic_set_error(KIC_ERR_CUBLAS, "cublasCreate failed");
		kic_gemm_scratch sc;
		dbuf a16, w16;
		sc.act16_elems = (int64_t)n * cols;
		sc.w16_elems = use_gemm > 1 ? use_gemm : rows * cols; // a smaller scratch: the weight in tiles
		kic_status st = to_dev(a16, nullptr, sc.act16_elems * 4); // hi and lo halves
		if (st == KIC_OK) st = to_dev(w16, nullptr, sc.w16_elems * 2);
		sc.act16 = a16.p, sc.w16 = w16.as<__half>();
		if (st == KIC_OK) st = launch_gemm(h, w, xd.as<float>(), n, bd.as<float>(), accumulate, yd.as<float>(), sc, 0, y_rows);
		if (st == KIC_OK) st = finish(y, yd, sizeof(float) * n * rows);
		cublasDestroy(h);
		return st;
	}
	KIC_TRY(launch_matvec(w, xd.as<float>(), n, bd.as<float>(), accumulate, yd.as<float>(), 0));
	return finish(y, yd, sizeof(float) * n * rows);
}

// kic_test_gemm_pair runs launch_gemm_pair on W's two halves of rows / 2 rows each (as an MLP's grouped gate and
// up are stored): y0 = top x, y1 = bottom x, n rows of rows / 2 each.
extern "C" KIC_API kic_status kic_test_gemm_pair(int32_t dtype, const void *w_host, uint64_t w_bytes, int64_t rows,
                                                 int64_t cols, const float *x, int32_t n, float *y0, float *y1) {
	kic_mat w;
	dbuf wd, ws, xd, yd, a16;
	KIC_TRY(test_mat(w, wd, ws, dtype, w_host, w_bytes, rows, cols));
	kic_mat top = w, bottom = w;
	top.rows = bottom.rows = rows / 2;
	bottom.data = (uint16_t *)w.data + top.rows * cols;
	KIC_TRY(to_dev(xd, x, sizeof(float) * n * cols));
	// The two outputs a gap apart, as the model's ff1 and ff2 are.
	int64_t half = (int64_t)n * top.rows, gap = 96;
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * (2 * half + gap)));
	kic_gemm_scratch sc;
	sc.act16_elems = (int64_t)n * cols;
	KIC_TRY(to_dev(a16, nullptr, sc.act16_elems * 4));
	sc.act16 = a16.p;
	float *d0 = yd.as<float>(), *d1 = d0 + half + gap;
	if (!kic_gemm_pair_ok(top, bottom, n, d0, d1, sc)) return kic_set_error(KIC_ERR_INVALID, "gemm pair: not taken");
	cublasHandle_t h;
	if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) return kic_set_error(KIC_ERR_CUBLAS, "cublasCreate failed");
	kic_status st = launch_gemm_pair(h, top, bottom, xd.as<float>(), n, d0, d1, sc, 0);
	if (st == KIC_OK) st = finish(y0, yd, sizeof(float) * half);
	if (st == KIC_OK) KIC_CUDA(cudaMemcpy(y1, d1, sizeof(float) * half, cudaMemcpyDeviceToHost));
	cublasDestroy(h);
	return st;
}

extern "C" KIC_API kic_status kic_test_linear_glu(int32_t act, int32_t dtype, const void *w_host, uint64_t w_bytes,
                                                  int64_t rows, int64_t cols, const float *x, int32_t n, float *y) {
	kic_mat w;
	dbuf wd, ws, xd, yd;
	KIC_TRY(test_mat(w, wd, ws, dtype, w_host, w_bytes, rows, cols));
	KIC_TRY(to_dev(xd, x, sizeof(float) * n * cols));
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * n * (rows / 2)));
	KIC_TRY(launch_matvec_glu(act, w, xd.as<float>(), n, yd.as<float>(), 0));
	return finish(y, yd, sizeof(float) * n * (rows / 2));
}

extern "C" KIC_API kic_status kic_test_skinny(int32_t kind, int32_t act, const uint16_t *w_host, int64_t rows, int64_t cols,
                                              const float *x, int32_t n, const float *bias, int32_t accumulate, float *y) {
	kic_mat w;
	dbuf wd, ws, xd, bd, yd;
	int64_t out = kind == 2 ? rows / 2 : rows;
	KIC_TRY(test_mat(w, wd, ws, KIC_BF16, w_host, sizeof(uint16_t) * rows * cols, rows, cols));
	KIC_TRY(to_dev(xd, x, sizeof(float) * n * cols));
	KIC_TRY(to_dev(yd, y, sizeof(float) * n * out));
	if (bias) KIC_TRY(to_dev(bd, bias, sizeof(float) * out));
	switch (kind) {
	case 0: KIC_TRY(launch_skinny(w, xd.as<float>(), n, bd.as<float>(), accumulate, yd.as<float>(), 0)); break;
	case 1: KIC_TRY(launch_skinny_act(act, w, xd.as<float>(), n, bd.as<float>(), yd.as<float>(), 0)); break;
	case 2: KIC_TRY(launch_skinny_glu(act, w, xd.as<float>(), n, yd.as<float>(), 0)); break;
	default: return kic_set_error(KIC_ERR_INVALID, "kic_test_skinny: kind %d", kind);
	}
	return finish(y, yd, sizeof(float) * n * out);
}

extern "C" KIC_API int32_t kic_test_gemm_split_k(int32_t slices) {
	int32_t was = kic_gemm_split_k;
	kic_gemm_split_k = slices < 0 ? 0 : slices; // 0: the library's rule
	return was;
}

extern "C" KIC_API int32_t kic_test_gemm_hi_from(int32_t tokens) {
	int32_t was = kic_gemm_hi_from;
	kic_gemm_hi_from = tokens > 0 ? tokens : 0;
	return was;
}

extern "C" KIC_API int32_t kic_test_gemm_one_read(int32_t on) {
	int32_t was = kic_gemm_one_read;
	kic_gemm_one_read = on != 0;
	return was;
}

extern "C" KIC_API int32_t kic_test_skinny_kernel(int32_t which) {
	int32_t was = kic_skinny_kernel;
	kic_skinny_kernel = which;
	return was;
}

extern "C" KIC_API int32_t kic_test_matvec_int8(int32_t on) {
	int32_t was = kic_matvec_int8 ? 1 : 0;
	kic_matvec_int8 = on != 0;
	return was;
}

// kic_test_attn_pipeline turns decode attention's tile pipelining on or off (for the benchmark) and returns
// what it was.
extern "C" KIC_API int32_t kic_test_attn_pipeline(int32_t on) {
	int32_t was = kic_attn_pipeline;
	kic_attn_pipeline = on != 0;
	return was;
}

extern "C" KIC_API int32_t kic_test_matvec_q8_warps(int32_t warps) {
	int32_t was = kic_matvec_q8_warps;
	return kic_matvec_set_q8_warps(warps) ? was : -1;
}

// bench_path sets the matvec path for one benchmark and puts the previous one back.
struct bench_path {
	bool was;
	explicit bench_path(bool int8) : was(kic_matvec_int8) { kic_matvec_int8 = int8; }
	~bench_path() { kic_matvec_int8 = was; }
};

extern "C" KIC_API kic_status kic_test_linear_act(int32_t act, int32_t dtype, const void *w_host, uint64_t w_bytes,
                                                  int64_t rows, int64_t cols, const float *x, int32_t n, const float *bias,
                                                  const float *norm_w, const float *norm_b, float eps, float *y) {
	kic_mat w;
	dbuf wd, ws, xd, bd, nwd, nbd, yd;
	KIC_TRY(test_mat(w, wd, ws, dtype, w_host, w_bytes, rows, cols));
	KIC_TRY(to_dev(xd, x, sizeof(float) * n * cols));
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * n * rows));
	if (bias) KIC_TRY(to_dev(bd, bias, sizeof(float) * rows));
	kic_matvec_norm nrm;
	if (norm_w) {
		KIC_TRY(to_dev(nwd, norm_w, sizeof(float) * cols));
		if (norm_b) KIC_TRY(to_dev(nbd, norm_b, sizeof(float) * cols));
		nrm.w = nwd.as<float>(), nrm.b = nbd.as<float>(), nrm.eps = eps;
	}
	KIC_TRY(launch_matvec_act(act, w, xd.as<float>(), n, bd.as<float>(), yd.as<float>(), 0, norm_w ? &nrm : nullptr));
	return finish(y, yd, sizeof(float) * n * rows);
}

// bench_weights fills w with a rows x cols matrix of dtype on the device, every byte 0x11 (which makes each
// fp16 scale of a block format small and finite), in wd (and Q8_0's scales in ws); *bytes is what it stores.
static kic_status bench_weights(kic_mat &w, dbuf &wd, dbuf &ws, int32_t dtype, int64_t rows, int64_t cols, uint64_t *bytes) {
	uint64_t n = (uint64_t)rows * cols;
	*bytes = kic_type_bytes(dtype, n);
	if (!*bytes) return kic_set_error(KIC_ERR_INVALID, "bench: type %d with %lld columns", dtype, (long long)cols);
	w.dtype = dtype, w.rows = rows, w.cols = cols;
	KIC_TRY(to_dev(wd, nullptr, dtype == KIC_Q8_0 ? n : *bytes));
	KIC_CUDA(cudaMemset(wd.p, 0x11, dtype == KIC_Q8_0 ? n : *bytes));
	if (dtype == KIC_Q8_0) {
		KIC_TRY(to_dev(ws, nullptr, n / 32 * 2));
		KIC_CUDA(cudaMemset(ws.p, 0x11, n / 32 * 2));
	}
	w.data = wd.p, w.scales = ws.as<__half>();
	return KIC_OK;
}

// time_calls runs once warm times, then iters times between two events, and gives the mean per call.
template <typename F> static kic_status time_calls(F once, int warm, int iters, double *us_per_call) {
	kic_status st = KIC_OK;
	for (int i = 0; i < warm && st == KIC_OK; i++) st = once();
	KIC_TRY(st);
	cudaEvent_t e0, e1;
	KIC_CUDA(cudaEventCreate(&e0));
	KIC_CUDA(cudaEventCreate(&e1));
	cudaEventRecord(e0);
	for (int i = 0; i < iters && st == KIC_OK; i++) st = once();
	cudaEventRecord(e1);
	float ms = 0;
	cudaEventSynchronize(e1);
	cudaEventElapsedTime(&ms, e0, e1);
	cudaEventDestroy(e0);
	cudaEventDestroy(e1);
	KIC_TRY(st);
	KIC_CUDA(cudaDeviceSynchronize());
	*us_per_call = ms * 1e3 / iters;
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_bench_matvec(int32_t dtype, int64_t rows, int64_t cols, int32_t swiglu, int32_t int8,
                                               int32_t iters, double *bytes_per_sec, double *us_per_call) {
	bench_path path(int8 != 0);
	if (!bytes_per_sec || !us_per_call || iters <= 0) return kic_set_error(KIC_ERR_INVALID, "kic_bench_matvec: bad argument");
	kic_mat w;
	dbuf wd, ws, xd, yd;
	uint64_t bytes = 0; // what the matvec reads
	KIC_TRY(bench_weights(w, wd, ws, dtype, rows, cols, &bytes));
	KIC_TRY(to_dev(xd, nullptr, sizeof(float) * cols));
	KIC_CUDA(cudaMemset(xd.p, 0, sizeof(float) * cols));
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * rows));
	auto once = [&]() {
		return swiglu ? launch_matvec_glu(KIC_ACT_SILU, w, xd.as<float>(), 1, yd.as<float>(), 0)
		              : launch_matvec(w, xd.as<float>(), 1, nullptr, false, yd.as<float>(), 0);
	};
	KIC_TRY(time_calls(once, 3, iters, us_per_call));
	*bytes_per_sec = bytes / (*us_per_call / 1e6);
	return KIC_OK;
}

// kic_bench_linear times a batched decode step's projection: n tokens through a rows x cols bf16 matrix (glu: the
// [gate; up] form) on the matvec kernels (path 0), the skinny tensor-core kernels (1: warps split the columns, 3:
// warps split the rows, gemm_skinny.cuh) or cuBLAS (2; 4: its one-read form, kic_gemm_one_read; a [gate; up] pair as
// the model runs it there: one product per half, then the GLU kernel).
// bytes_per_sec counts the weights once. Calls rotate over enough copies of the matrix to overflow L2, so a
// small matrix is read from memory as in a model's step, not from the cache the previous call left.
extern "C" KIC_API kic_status kic_bench_linear(int32_t path, int64_t rows, int64_t cols, int32_t n, int32_t glu,
                                               int32_t iters, double *bytes_per_sec, double *us_per_call) {
	if (!bytes_per_sec || !us_per_call || iters <= 0 || n <= 0 || path < 0 || path > 4 || (glu && rows % 2))
		return kic_set_error(KIC_ERR_INVALID, "kic_bench_linear: bad argument");
	uint64_t bytes = (uint64_t)rows * cols * 2;
	int copies = (int)std::min<uint64_t>(16, (256ull << 20) / bytes + 1); // 256 MB of weights: several L2s
	std::vector<dbuf> wd(copies), ws(copies);
	std::vector<kic_mat> w(copies);
	for (int i = 0; i < copies; i++) KIC_TRY(bench_weights(w[i], wd[i], ws[i], KIC_BF16, rows, cols, &bytes));
	dbuf xd, yd, a16;
	KIC_TRY(to_dev(xd, nullptr, sizeof(float) * n * cols));
	KIC_CUDA(cudaMemset(xd.p, 0, sizeof(float) * n * cols));
	// Room for cuBLAS's one-read form (path 4), split as kic_gemm_split_k says.
	int64_t y_rows = (int64_t)n * (1 + 2 * kic_gemm_max_slices());
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * y_rows * rows));
	kic_gemm_scratch sc;
	sc.act16_elems = (int64_t)n * cols;
	KIC_TRY(to_dev(a16, nullptr, sc.act16_elems * 4));
	sc.act16 = a16.p;
	cublasHandle_t h = nullptr;
	if ((path == 2 || path == 4) && cublasCreate(&h) != CUBLAS_STATUS_SUCCESS)
		return kic_set_error(KIC_ERR_CUBLAS, "cublasCreate failed");
	int next = 0, was = kic_skinny_kernel;
	bool one_was = kic_gemm_one_read;
	kic_skinny_kernel = path == 3 ? 2 : path == 1 ? 1 : 0;
	kic_gemm_one_read = path == 4;
	auto once = [&]() {
		const kic_mat &m = w[next];
		next = (next + 1) % copies;
		float *y = yd.as<float>();
		const float *x = xd.as<float>();
		switch (path) {
		case 0: return glu ? launch_matvec_glu(KIC_ACT_SILU, m, x, n, y, 0) : launch_matvec(m, x, n, nullptr, false, y, 0);
		case 2:
		case 4: {
			if (!glu) return launch_gemm(h, m, x, n, nullptr, false, y, sc, 0, y_rows);
			kic_mat gate = m, up = m;
			gate.rows = up.rows = rows / 2;
			up.data = (uint16_t *)m.data + gate.rows * cols;
			float *y2 = y + y_rows * gate.rows; // each half's product has y_rows token rows of rows / 2
			if (kic_gemm_pair_ok(gate, up, n, y, y2, sc)) { // as the model runs them
				KIC_TRY(launch_gemm_pair(h, gate, up, x, n, y, y2, sc, 0));
			} else {
				KIC_TRY(launch_gemm(h, gate, x, n, nullptr, false, y, sc, 0, y_rows));
				KIC_TRY(launch_gemm(h, up, x, n, nullptr, false, y2, sc, 0, y_rows));
			}
			return launch_glu(KIC_ACT_SILU, y, y2, (int64_t)n * gate.rows, y, 0);
		}
		default: return glu ? launch_skinny_glu(KIC_ACT_SILU, m, x, n, y, 0) : launch_skinny(m, x, n, nullptr, false, y, 0);
		}
	};
	kic_status st = time_calls(once, 3, iters, us_per_call);
	kic_skinny_kernel = was;
	kic_gemm_one_read = one_was;
	if (h) cublasDestroy(h);
	KIC_TRY(st);
	*bytes_per_sec = bytes / (*us_per_call / 1e6);
	return KIC_OK;
}

// kic_bench_gemm times one prefill-sized product (launch_gemm) of n tokens with a rows x cols matrix of dtype,
// whose dequantization scratch holds w16_elems fp16 values (block formats and Q8_0 are dequantized a tile at a
// time, gemm.cu's gemm_tile_of), as the model's scratch (KIC_W16_ELEMS) does; 0 means the whole matrix.
// flops_per_sec counts the one product (2 * rows * cols * n), not the hi/lo pair it takes.
extern "C" KIC_API kic_status kic_bench_gemm(int32_t dtype, int64_t rows, int64_t cols, int32_t n, int64_t w16_elems,
                                             int32_t iters, double *flops_per_sec, double *us_per_call) {
	if (!flops_per_sec || !us_per_call || iters <= 0 || n <= 0) return kic_set_error(KIC_ERR_INVALID, "kic_bench_gemm: bad argument");
	kic_mat w;
	dbuf wd, ws, xd, yd, a16, w16;
	uint64_t bytes = 0, count = (uint64_t)rows * cols;
	KIC_TRY(bench_weights(w, wd, ws, dtype, rows, cols, &bytes));
	KIC_TRY(to_dev(xd, nullptr, sizeof(float) * n * cols));
	KIC_CUDA(cudaMemset(xd.p, 0, sizeof(float) * n * cols));
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * n * rows));
	kic_gemm_scratch sc;
	sc.act16_elems = (int64_t)n * cols;
	sc.w16_elems = w16_elems > 0 ? w16_elems : (int64_t)count;
	KIC_TRY(to_dev(a16, nullptr, sc.act16_elems * 4)); // hi and lo halves
	KIC_TRY(to_dev(w16, nullptr, sc.w16_elems * 2));
	sc.act16 = a16.p, sc.w16 = w16.as<__half>();
	cublasHandle_t h;
	if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) return kic_set_error(KIC_ERR_CUBLAS, "cublasCreate failed");
	auto once = [&]() { return launch_gemm(h, w, xd.as<float>(), n, nullptr, false, yd.as<float>(), sc, 0); };
	kic_status st = time_calls(once, 2, iters, us_per_call); // 2 warm-up calls: cuBLAS's heuristics, kernel loading
	cublasDestroy(h);
	KIC_TRY(st);
	*flops_per_sec = 2.0 * rows * cols * n / (*us_per_call / 1e6);
	return KIC_OK;
}

// kic_bench_attn_decode times one decode attention call over n sequences of len keys each (every row at
// its sequence's last position; each sequence its own blocks, so nothing is read twice) with up to splits
// chunks a row (0: what a model whose partials hold n rows takes on this device, kic_decode_splits). Bytes are the K
// and V rows the call reads.
extern "C" KIC_API kic_status kic_bench_attn_decode(int32_t kv_type, int32_t heads, int32_t heads_kv, int32_t head_dim,
                                                    int32_t len, int32_t n, int32_t splits, int32_t iters,
                                                    double *bytes_per_sec, double *us_per_call) {
	if (!bytes_per_sec || !us_per_call || iters <= 0 || len <= 0 || n <= 0)
		return kic_set_error(KIC_ERR_INVALID, "kic_bench_attn_decode: bad argument");
	const int block_tokens = 16;
	int64_t nq = (int64_t)heads * head_dim, nkv = (int64_t)heads_kv * head_dim;
	int blocks = (len + block_tokens - 1) / block_tokens;
	uint64_t row = kic_kv_row_bytes(kv_type, nkv), slots = (uint64_t)n * blocks * block_tokens;
	if (!row) return kic_set_error(KIC_ERR_INVALID, "KV cache type %d", kv_type);
	std::vector<int32_t> table((size_t)n * blocks), pos(n, len - 1), seq(n);
	for (int i = 0; i < n; i++) {
		seq[i] = i;
		for (int b = 0; b < blocks; b++) table[(size_t)i * blocks + b] = i * blocks + b;
	}
	dbuf kd, vd, td, qd, od, pd, sd, part, counters;
	KIC_TRY(to_dev(kd, nullptr, slots * row));
	KIC_TRY(to_dev(vd, nullptr, slots * row));
	KIC_CUDA(cudaMemset(kd.p, 0, slots * row)); // zeros: finite in every type, and no scale reads a NaN
	KIC_CUDA(cudaMemset(vd.p, 0, slots * row));
	KIC_TRY(to_dev(td, table.data(), sizeof(int32_t) * table.size()));
	KIC_TRY(to_dev(qd, nullptr, sizeof(float) * n * nq));
	KIC_CUDA(cudaMemset(qd.p, 0, sizeof(float) * n * nq));
	KIC_TRY(to_dev(od, nullptr, sizeof(float) * n * nq));
	KIC_TRY(to_dev(pd, pos.data(), sizeof(int32_t) * n));
	KIC_TRY(to_dev(sd, seq.data(), sizeof(int32_t) * n));
	KIC_TRY(to_dev(part, nullptr, sizeof(float) * kic_attn_partials(n, heads, head_dim)));
	KIC_TRY(to_dev(counters, nullptr, sizeof(int) * n * heads_kv));
	KIC_CUDA(cudaMemset(counters.p, 0, sizeof(int) * n * heads_kv));
	kic_kv_view kv;
	kv.k = kd.as<uint8_t>(), kv.v = vd.as<uint8_t>(), kv.tables = td.as<int32_t>(), kv.max_blocks = blocks;
	kv.block_tokens = block_tokens, kv.kv_dim = (int)nkv, kv.type = kv_type;
	kv.scales = kv_type == KIC_Q8_0 ? (int64_t)(slots * nkv) : 0;
	kic_attn_args a;
	a.q = qd.as<float>(), a.q_stride = nq, a.out = od.as<float>(), a.seq = sd.as<int32_t>(), a.pos = pd.as<int32_t>();
	a.n = n, a.heads = heads, a.heads_kv = heads_kv, a.head_dim = head_dim, a.scale = (float)(1.0 / sqrt((double)head_dim));
	int dev = 0, sms = 0;
	KIC_CUDA(cudaGetDevice(&dev));
	KIC_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
	a.splits = splits > 0 ? splits : kic_decode_splits(n, n, heads_kv, sms);
	auto once = [&]() { return launch_attn_decode(a, kv, part.as<float>(), counters.as<int>(), 0); };
	KIC_TRY(time_calls(once, 3, iters, us_per_call));
	*bytes_per_sec = 2.0 * n * len * row / (*us_per_call / 1e6);
	return KIC_OK;
}

// barrier_kernel crosses `syncs` grid-wide barriers and nothing else.
__global__ void barrier_kernel(int syncs) {
	cooperative_groups::grid_group grid = cooperative_groups::this_grid();
	for (int i = 0; i < syncs; i++) grid.sync();
}

// kic_bench_grid_barrier times one grid-wide barrier of a cooperative grid of one block of `threads` an SM, the
// persistent decode path's grid: a launch with `syncs` barriers less one with none, over syncs.
extern "C" KIC_API kic_status kic_bench_grid_barrier(int32_t threads, int32_t syncs, double *us_per_sync) {
	if (!us_per_sync || threads <= 0 || syncs <= 0) return kic_set_error(KIC_ERR_INVALID, "kic_bench_grid_barrier: bad argument");
	int dev = 0, sms = 0, coop = 0;
	KIC_CUDA(cudaGetDevice(&dev));
	KIC_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
	KIC_CUDA(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev));
	if (!coop) return kic_set_error(KIC_ERR_UNSUPPORTED, "device %d has no cooperative launches", dev);
	auto with = [&](int n) {
		return [=]() -> kic_status {
			int arg = n;
			void *args[] = {&arg};
			KIC_CUDA(cudaLaunchCooperativeKernel((const void *)barrier_kernel, dim3(sms), dim3(threads), args, 0, 0));
			return KIC_OK;
		};
	};
	double none = 0, some = 0;
	KIC_TRY(time_calls(with(0), 3, 20, &none));
	KIC_TRY(time_calls(with(syncs), 3, 20, &some));
	*us_per_sync = (some - none) / syncs;
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_test_rmsnorm(const float *x, const float *w, int32_t n, int32_t dim, float eps, float *y) {
	dbuf xd, wd, yd;
	KIC_TRY(to_dev(xd, x, sizeof(float) * n * dim));
	KIC_TRY(to_dev(wd, w, sizeof(float) * dim));
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * n * dim));
	KIC_TRY(launch_rmsnorm(xd.as<float>(), wd.as<float>(), n, dim, eps, yd.as<float>(), 0));
	return finish(y, yd, sizeof(float) * n * dim);
}

extern "C" KIC_API kic_status kic_test_rmsnorm_add(const float *x, const float *w, int32_t n, int32_t dim, float eps, float *y) {
	dbuf xd, wd, yd;
	KIC_TRY(to_dev(xd, x, sizeof(float) * n * dim));
	KIC_TRY(to_dev(wd, w, sizeof(float) * dim));
	KIC_TRY(to_dev(yd, y, sizeof(float) * n * dim));
	KIC_TRY(launch_rmsnorm_add(xd.as<float>(), wd.as<float>(), n, dim, eps, yd.as<float>(), 0));
	return finish(y, yd, sizeof(float) * n * dim);
}

extern "C" KIC_API kic_status kic_test_layernorm(const float *x, const float *w, const float *b, int32_t n, int32_t dim,
                                                 float eps, float *y) {
	dbuf xd, wd, bd, yd;
	KIC_TRY(to_dev(xd, x, sizeof(float) * n * dim));
	KIC_TRY(to_dev(wd, w, sizeof(float) * dim));
	KIC_TRY(to_dev(bd, b, sizeof(float) * dim));
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * n * dim));
	KIC_TRY(launch_layernorm(xd.as<float>(), wd.as<float>(), bd.as<float>(), n, dim, eps, yd.as<float>(), 0));
	return finish(y, yd, sizeof(float) * n * dim);
}

extern "C" KIC_API kic_status kic_test_rope(float *x, const int32_t *pos, int32_t n, int32_t heads, int32_t head_dim,
                                            int32_t mode, int32_t rope_dim, const float *inv_freq, float mscale,
                                            const float *norm_w, float eps) {
	dbuf xd, pd, fd, nd;
	uint64_t bytes = sizeof(float) * n * heads * head_dim;
	KIC_TRY(to_dev(xd, x, bytes));
	KIC_TRY(to_dev(pd, pos, sizeof(int32_t) * n));
	KIC_TRY(to_dev(fd, inv_freq, sizeof(float) * (rope_dim / 2)));
	kic_rope rp;
	rp.mode = mode, rp.dim = rope_dim, rp.inv_freq = fd.as<float>(), rp.mscale = mscale;
	if (norm_w) {
		KIC_TRY(to_dev(nd, norm_w, sizeof(float) * head_dim));
		rp.q_norm = rp.k_norm = nd.as<float>(), rp.norm_eps = eps;
	}
	KIC_TRY(launch_rope(xd.as<float>(), (int64_t)heads * head_dim, pd.as<int32_t>(), n, heads, head_dim, rp, 0));
	return finish(x, xd, bytes);
}

extern "C" KIC_API kic_status kic_test_glu(int32_t act, const float *gate, const float *up, int64_t count, float *y) {
	dbuf gd, ud, yd;
	KIC_TRY(to_dev(gd, gate, sizeof(float) * count));
	KIC_TRY(to_dev(ud, up, sizeof(float) * count));
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * count));
	KIC_TRY(launch_glu(act, gd.as<float>(), ud.as<float>(), count, yd.as<float>(), 0));
	return finish(y, yd, sizeof(float) * count);
}

extern "C" KIC_API kic_status kic_test_act(int32_t act, const float *x, int64_t count, float *y) {
	dbuf xd, yd;
	KIC_TRY(to_dev(xd, x, sizeof(float) * count));
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * count));
	KIC_TRY(launch_act(act, xd.as<float>(), count, yd.as<float>(), 0));
	return finish(y, yd, sizeof(float) * count);
}

extern "C" KIC_API kic_status kic_test_softcap(const float *x, int64_t count, float cap, float *y) {
	dbuf xd;
	KIC_TRY(to_dev(xd, x, sizeof(float) * count));
	KIC_TRY(launch_softcap(xd.as<float>(), count, cap, 0));
	return finish(y, xd, sizeof(float) * count);
}

extern "C" KIC_API kic_status kic_test_embed(int32_t dtype, const void *table, int32_t dim, const int32_t *tokens,
                                             int32_t n, float scale, const float *pos_table, const int32_t *pos, float *y) {
	int32_t maxtok = 0, maxpos = 0;
	for (int i = 0; i < n; i++) {
		maxtok = tokens[i] > maxtok ? tokens[i] : maxtok;
		if (pos) maxpos = pos[i] > maxpos ? pos[i] : maxpos;
	}
	int64_t rows = maxtok + 1;
	uint64_t bytes = dtype == KIC_Q8_0 ? rows * dim / 32 * 34 : rows * dim * (dtype == KIC_F32 ? 4 : 2);
	kic_mat w;
	dbuf wd, ws, td, pt, pd, yd;
	KIC_TRY(test_mat(w, wd, ws, dtype, table, bytes, rows, dim));
	KIC_TRY(to_dev(td, tokens, sizeof(int32_t) * n));
	if (pos_table) {
		KIC_TRY(to_dev(pt, pos_table, sizeof(float) * (maxpos + 1) * dim));
		KIC_TRY(to_dev(pd, pos, sizeof(int32_t) * n));
	}
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * n * dim));
	KIC_TRY(launch_embed(w, 0, td.as<int32_t>(), n, scale, pt.as<float>(), pd.as<int32_t>(), yd.as<float>(), 0));
	return finish(y, yd, sizeof(float) * n * dim);
}

extern "C" KIC_API kic_status kic_test_dequant_q8_0(const void *blocks, int64_t count, float *y) {
	kic_mat w;
	dbuf wd, ws, yd;
	KIC_TRY(test_mat(w, wd, ws, KIC_Q8_0, blocks, count / 32 * 34, 1, count));
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * count));
	KIC_TRY(launch_q8_0_to_f32(wd.as<int8_t>(), ws.as<__half>(), 0, count, yd.as<float>(), 0));
	return finish(y, yd, sizeof(float) * count);
}

extern "C" KIC_API kic_status kic_test_dequant(int32_t dtype, const void *blocks, uint64_t bytes, int64_t count, float *y) {
	if (kic_type_bytes(dtype, (uint64_t)count) != bytes || !kic_is_block_quant(dtype))
		return kic_set_error(KIC_ERR_INVALID, "kic_test_dequant: %llu bytes are not %lld values of block type %d",
		                     (unsigned long long)bytes, (long long)count, dtype);
	dbuf bd, yd;
	KIC_TRY(to_dev(bd, blocks, bytes));
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * count));
	KIC_TRY(launch_dequant_rows_f32(dtype, bd.p, count, 0, 1, yd.as<float>(), 0));
	return finish(y, yd, sizeof(float) * count);
}

// test_pool is a paged KV cache of len tokens of nkv elements as kv_type: 16-token blocks, the block table in
// reverse order, k and v written through the KV write kernel (the one a forward pass appends with).
struct test_pool {
	dbuf kd, vd, td;
	kic_kv_view kv;
	int blocks = 0;
};

static kic_status make_pool(test_pool &tp, int32_t kv_type, const float *k, const float *v, int32_t len, int64_t nkv) {
	const int block_tokens = 16;
	tp.blocks = (len + block_tokens - 1) / block_tokens;
	std::vector<int32_t> table(tp.blocks), pos(len);
	for (int b = 0; b < tp.blocks; b++) table[b] = tp.blocks - 1 - b;
	for (int p = 0; p < len; p++) pos[p] = p;
	uint64_t slots = (uint64_t)tp.blocks * block_tokens, row = kic_kv_row_bytes(kv_type, nkv);
	if (!row) return kic_set_error(KIC_ERR_INVALID, "KV cache type %d", kv_type);
	KIC_TRY(to_dev(tp.kd, nullptr, slots * row));
	KIC_TRY(to_dev(tp.vd, nullptr, slots * row));
	KIC_TRY(to_dev(tp.td, table.data(), sizeof(int32_t) * tp.blocks));
	kic_kv_view &kv = tp.kv;
	kv.k = tp.kd.as<uint8_t>(), kv.v = tp.vd.as<uint8_t>(), kv.tables = tp.td.as<int32_t>();
	kv.max_blocks = tp.blocks, kv.block_tokens = block_tokens, kv.kv_dim = (int)nkv, kv.type = kv_type;
	kv.scales = kv_type == KIC_Q8_0 ? (int64_t)(slots * nkv) : 0;
	dbuf kin, vin, pd, sd;
	KIC_TRY(to_dev(kin, k, sizeof(float) * len * nkv));
	KIC_TRY(to_dev(vin, v, sizeof(float) * len * nkv));
	KIC_TRY(to_dev(pd, pos.data(), sizeof(int32_t) * len));
	KIC_TRY(to_dev(sd, nullptr, sizeof(int32_t) * len));
	KIC_CUDA(cudaMemset(sd.p, 0, sizeof(int32_t) * len));
	kic_qkv_rows r;
	r.k = kin.as<float>(), r.v = vin.as<float>(), r.kv_stride = nkv;
	KIC_TRY(launch_rope_store_kv(r, pd.as<int32_t>(), sd.as<int32_t>(), len, kic_rope{}, kv, 0));
	KIC_CUDA(cudaDeviceSynchronize());
	return KIC_OK;
}

// kv_gather_kernel reads every stored element back as fp32, one block per token.
template <int KT> __global__ void kv_gather_kernel(kic_kv_view kv, float *k, float *v) {
	int p = blockIdx.x;
	int64_t off = kv_offset(kv, 0, p);
	for (int c = threadIdx.x; c < kv.kv_dim; c += blockDim.x) {
		k[(int64_t)p * kv.kv_dim + c] = kv_io<KT>::load1(kv.k, kv.scales, off + c);
		v[(int64_t)p * kv.kv_dim + c] = kv_io<KT>::load1(kv.v, kv.scales, off + c);
	}
}

extern "C" KIC_API kic_status kic_test_kv_store(int32_t kv_type, const float *k, const float *v, int32_t len, int32_t kv_dim,
                                                float *k_out, float *v_out) {
	test_pool tp;
	KIC_TRY(make_pool(tp, kv_type, k, v, len, kv_dim));
	dbuf ko, vo;
	KIC_TRY(to_dev(ko, nullptr, sizeof(float) * len * kv_dim));
	KIC_TRY(to_dev(vo, nullptr, sizeof(float) * len * kv_dim));
	switch (kv_type) {
	case KIC_F32: kv_gather_kernel<KIC_F32><<<len, 128>>>(tp.kv, ko.as<float>(), vo.as<float>()); break;
	case KIC_F16: kv_gather_kernel<KIC_F16><<<len, 128>>>(tp.kv, ko.as<float>(), vo.as<float>()); break;
	case KIC_BF16: kv_gather_kernel<KIC_BF16><<<len, 128>>>(tp.kv, ko.as<float>(), vo.as<float>()); break;
	default: kv_gather_kernel<KIC_Q8_0><<<len, 128>>>(tp.kv, ko.as<float>(), vo.as<float>());
	}
	KIC_LAUNCHED();
	KIC_TRY(finish(k_out, ko, sizeof(float) * len * kv_dim));
	return finish(v_out, vo, sizeof(float) * len * kv_dim);
}

extern "C" KIC_API kic_status kic_test_matvec_qkv(int32_t dtype, const void *w_host, uint64_t w_bytes, int32_t heads,
                                                  int32_t heads_kv, int32_t head_dim, int64_t cols, const float *x,
                                                  const float *bias, const float *norm_w, const float *norm_b, float eps,
                                                  int32_t mode, int32_t rope_dim, const float *inv_freq, float mscale,
                                                  int32_t pos, int32_t kv_type, float *y, float *k_out, float *v_out) {
	int64_t nq = (int64_t)heads * head_dim, nkv = (int64_t)heads_kv * head_dim, rows = nq + 2 * nkv;
	const int block_tokens = 16, blocks = pos / block_tokens + 1;
	kic_mat w;
	dbuf wd, ws, xd, bd, nwd, nbd, fd, pd, sd, yd, kd, vd, td, ko, vo;
	KIC_TRY(test_mat(w, wd, ws, dtype, w_host, w_bytes, rows, cols));
	KIC_TRY(to_dev(xd, x, sizeof(float) * cols));
	if (bias) KIC_TRY(to_dev(bd, bias, sizeof(float) * rows));
	KIC_TRY(to_dev(nwd, norm_w, sizeof(float) * cols));
	if (norm_b) KIC_TRY(to_dev(nbd, norm_b, sizeof(float) * cols));
	if (mode != KIC_ROPE_NONE) KIC_TRY(to_dev(fd, inv_freq, sizeof(float) * (rope_dim / 2)));
	int32_t zero = 0;
	std::vector<int32_t> table(blocks);
	for (int b = 0; b < blocks; b++) table[b] = blocks - 1 - b;
	KIC_TRY(to_dev(pd, &pos, sizeof(int32_t)));
	KIC_TRY(to_dev(sd, &zero, sizeof(int32_t)));
	KIC_TRY(to_dev(td, table.data(), sizeof(int32_t) * blocks));
	KIC_TRY(to_dev(yd, nullptr, sizeof(float) * rows));
	uint64_t pool = (uint64_t)blocks * block_tokens * kic_kv_row_bytes(kv_type, nkv);
	KIC_TRY(to_dev(kd, nullptr, pool));
	KIC_TRY(to_dev(vd, nullptr, pool));
	KIC_CUDA(cudaMemset(kd.p, 0, pool));
	KIC_CUDA(cudaMemset(vd.p, 0, pool));
	kic_qkv_store st;
	st.pos = pd.as<int32_t>(), st.seq = sd.as<int32_t>(), st.nq = nq, st.nkv = nkv, st.head_dim = head_dim;
	st.rope_mode = mode, st.rope_dim = rope_dim, st.inv_freq = fd.as<float>(), st.mscale = mscale;
	kic_kv_view &kv = st.kv;
	kv.k = kd.as<uint8_t>(), kv.v = vd.as<uint8_t>(), kv.tables = td.as<int32_t>(), kv.max_blocks = blocks;
	kv.block_tokens = block_tokens, kv.kv_dim = (int)nkv, kv.type = kv_type;
	if (!kic_matvec_can_qkv(w, 1, st)) return kic_set_error(KIC_ERR_INVALID, "kic_test_matvec_qkv: the kernel does not take this shape");
	kic_matvec_norm nrm{nwd.as<float>(), nbd.as<float>(), eps};
	KIC_TRY(launch_matvec_qkv(w, xd.as<float>(), bd.as<float>(), yd.as<float>(), nrm, st, 0));
	// Every position up to pos read back; the last is the one stored.
	KIC_TRY(to_dev(ko, nullptr, sizeof(float) * (pos + 1) * nkv));
	KIC_TRY(to_dev(vo, nullptr, sizeof(float) * (pos + 1) * nkv));
	switch (kv_type) {
	case KIC_F32: kv_gather_kernel<KIC_F32><<<pos + 1, 128>>>(kv, ko.as<float>(), vo.as<float>()); break;
	case KIC_F16: kv_gather_kernel<KIC_F16><<<pos + 1, 128>>>(kv, ko.as<float>(), vo.as<float>()); break;
	default: kv_gather_kernel<KIC_BF16><<<pos + 1, 128>>>(kv, ko.as<float>(), vo.as<float>());
	}
	KIC_LAUNCHED();
	KIC_TRY(finish(y, yd, sizeof(float) * rows));
	KIC_CUDA(cudaMemcpy(k_out, ko.as<float>() + (int64_t)pos * nkv, sizeof(float) * nkv, cudaMemcpyDeviceToHost));
	KIC_CUDA(cudaMemcpy(v_out, vo.as<float>() + (int64_t)pos * nkv, sizeof(float) * nkv, cudaMemcpyDeviceToHost));
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_test_attention(int32_t kv_type, const float *q, const float *k, const float *v, int32_t len,
                                                 const int32_t *pos, int32_t n, int32_t heads, int32_t heads_kv,
                                                 int32_t head_dim, int32_t window, float softcap, int32_t prefill,
                                                 float *out) {
	int64_t nq = (int64_t)heads * head_dim, nkv = (int64_t)heads_kv * head_dim;
	test_pool tp;
	KIC_TRY(make_pool(tp, kv_type, k, v, len, nkv));
	dbuf qd, od, pd, sd, part;
	KIC_TRY(to_dev(qd, q, sizeof(float) * n * nq));
	KIC_TRY(to_dev(od, nullptr, sizeof(float) * n * nq));
	KIC_TRY(to_dev(pd, pos, sizeof(int32_t) * n));
	KIC_TRY(to_dev(sd, nullptr, sizeof(int32_t) * n));
	KIC_CUDA(cudaMemset(sd.p, 0, sizeof(int32_t) * n));
	KIC_TRY(to_dev(part, nullptr, sizeof(float) * kic_attn_partials(n, heads, head_dim)));
	const kic_kv_view &kv = tp.kv;
	kic_attn_args a;
	a.q = qd.as<float>(), a.q_stride = nq, a.out = od.as<float>(), a.seq = sd.as<int32_t>(), a.pos = pd.as<int32_t>();
	a.n = n, a.heads = heads, a.heads_kv = heads_kv, a.head_dim = head_dim, a.scale = (float)(1.0 / sqrt((double)head_dim));
	a.window = window, a.softcap = softcap, a.splits = kic_attn_decode_splits(n, n);
	dbuf counters;
	KIC_TRY(to_dev(counters, nullptr, sizeof(int) * n * heads_kv));
	KIC_CUDA(cudaMemset(counters.p, 0, sizeof(int) * n * heads_kv));
	// Twice, with the output poisoned in between: the second call only writes it if the first left the
	// merge counters at zero, as the next layer (or a replayed graph) needs.
	for (int run = 0; run < 2; run++) {
		KIC_CUDA(cudaMemset(od.p, 0xff, sizeof(float) * n * nq)); // NaN: a row the kernel skips shows up
		if (prefill) // 2: the SIMT kernel
			KIC_TRY(launch_attn_prefill(a, kv, part.as<float>(), counters.as<int>(), n * heads_kv, 0, prefill == 1));
		else
			KIC_TRY(launch_attn_decode(a, kv, part.as<float>(), counters.as<int>(), 0));
	}
	return finish(out, od, sizeof(float) * n * nq);
}

extern "C" KIC_API kic_status kic_test_sample(const float *logits, int32_t rows, int32_t vocab, const kic_sampling *params,
                                              const uint64_t *masks, int32_t *tokens_out) {
	if (!params) return kic_set_error(KIC_ERR_INVALID, "kic_test_sample: null params");
	dbuf ld, td, md;
	KIC_TRY(to_dev(ld, logits, sizeof(float) * rows * vocab));
	KIC_TRY(to_dev(td, nullptr, sizeof(int32_t) * rows));
	if (masks) KIC_TRY(to_dev(md, masks, sizeof(uint64_t) * rows * kic_mask_words(vocab)));
	dbuf scratch;
	KIC_TRY(to_dev(scratch, nullptr, sizeof(float) * kic_sample_scratch_floats(rows)));
	KIC_TRY(launch_sample(ld.as<float>(), rows, vocab, params, md.as<uint64_t>(), td.as<int32_t>(), scratch.as<float>(), 0));
	return finish(tokens_out, td, sizeof(int32_t) * rows);
}

extern "C" KIC_API kic_status kic_test_logprobs(const float *logits, int32_t rows, int32_t vocab, const int32_t *tokens,
                                                int32_t top_n, kic_logprob_row *out) {
	dbuf ld, td, od, sd;
	KIC_TRY(to_dev(ld, logits, sizeof(float) * rows * vocab));
	KIC_TRY(to_dev(td, tokens, sizeof(int32_t) * rows));
	KIC_TRY(to_dev(od, nullptr, sizeof(kic_logprob_row) * rows));
	KIC_TRY(to_dev(sd, nullptr, kic_logprobs_scratch(rows, vocab)));
	KIC_TRY(launch_logprobs(ld.as<float>(), rows, vocab, td.as<int32_t>(), top_n, sd.p, od.as<kic_logprob_row>(), 0));
	return finish(out, od, sizeof(kic_logprob_row) * rows);
}
