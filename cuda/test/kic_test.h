/*
 * kic_test.h: the entry points of libkubeinfer_cuda_test.so, which cuda/test/kernels.c drives: the shipped
 * library's ABI (kubeinfer_cuda.h) plus one entry point per kernel. The shipped library does not have them.
 */
#ifndef KIC_TEST_H
#define KIC_TEST_H

#include "kubeinfer_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Host pointers in and out, fp32 unless noted; each copies to the device, runs one kernel, copies back. */
/* y[t][r] = sum_c W[r][c] x[t][c] (+ bias[r]) (+ y[t][r] when accumulate);
 * W in dtype (Q8_0 as stored by GGUF), through the matvec kernel when
 * use_gemm is 0 and cuBLAS otherwise: a quantized W dequantized whole when
 * use_gemm is 1, in tiles through a scratch of use_gemm values when > 1. */
KIC_API kic_status kic_test_linear(int32_t dtype, const void *w_host, uint64_t w_bytes, int64_t rows, int64_t cols,
                                   const float *x, int32_t n, const float *bias, int32_t accumulate,
                                   int32_t use_gemm, float *y);
/* launch_gemm_pair (a 16-bit W's two halves of rows / 2 rows as two products in one call) at n tokens that
 * kic_gemm_hi_from takes: y0 = top x, y1 = bottom x. */
KIC_API kic_status kic_test_gemm_pair(int32_t dtype, const void *w_host, uint64_t w_bytes, int64_t rows, int64_t cols,
                                      const float *x, int32_t n, float *y0, float *y1);
/* The fused GLU projection: W is [gate; up] (rows = 2F), y[t][r] =
 * act(gate_r . x_t) * (up_r . x_t) for r < F, act a kic_act. */
KIC_API kic_status kic_test_linear_glu(int32_t act, int32_t dtype, const void *w_host, uint64_t w_bytes, int64_t rows,
                                       int64_t cols, const float *x, int32_t n, float *y);
/* The matvec with an activation epilogue: y[t][r] = act(W_r . x_t + bias[r]); with norm_w (n = 1 only) x is
 * normalized first in the kernel, RMSNorm or, with norm_b, LayerNorm. */
KIC_API kic_status kic_test_linear_act(int32_t act, int32_t dtype, const void *w_host, uint64_t w_bytes, int64_t rows,
                                       int64_t cols, const float *x, int32_t n, const float *bias, const float *norm_w,
                                       const float *norm_b, float eps, float *y);
/* The skinny tensor-core kernel (gemm_skinny.cuh) on a bf16 W (rows x cols values as stored): kind 0
 * y[t][r] = W_r . x_t (+ bias[r]) (+ y[t][r] when accumulate), 1 act(W_r . x_t + bias[r]), 2 the [gate; up] pair,
 * y[t][r] = act(gate_r . x_t) * (up_r . x_t) for r < rows / 2; act a kic_act. */
/* Forces the skinny kernel for kic_test_skinny: 1 skinny_kernel (warps split the columns), 2 tiled_kernel (warps
 * split the rows; an error where the columns are not whole steps of 128, 64 for the [gate; up] pair), 0 by the
 * token count. Returns the previous setting. */
KIC_API int32_t kic_test_skinny_kernel(int32_t which);
/* Turns launch_gemm's one-read form (W times [hi; lo] as one product, gemm.cuh) on or off for kic_test_linear's
 * cuBLAS calls, whose y has room for 2n rows; returns the previous setting. */
KIC_API int32_t kic_test_gemm_one_read(int32_t on);
/* cuBLAS's one-read form split into that many slices of the columns (1: not split, 0: the library's rule);
 * returns the previous setting. */
KIC_API int32_t kic_test_gemm_split_k(int32_t slices);
/* cuBLAS products of at least that many tokens multiply the activations' hi half alone (0: never); returns the
 * previous setting. */
KIC_API int32_t kic_test_gemm_hi_from(int32_t tokens);
KIC_API kic_status kic_test_skinny(int32_t kind, int32_t act, const uint16_t *w_host, int64_t rows, int64_t cols,
                                   const float *x, int32_t n, const float *bias, int32_t accumulate, float *y);
/* Chooses the matvec's path for the block formats and Q8_0: on 1 the int8
 * path where its rule allows (activations rounded to int8 blocks of 32, __dp4a),
 * 0 the float kernels. Returns the previous setting. */
KIC_API int32_t kic_test_matvec_int8(int32_t on);
/* Sets the int8 path's warps (rows) per block (even, 2..16); returns the previous value, or -1 (unchanged) for
 * an invalid one. */
KIC_API int32_t kic_test_matvec_q8_warps(int32_t warps);
KIC_API int32_t kic_test_attn_pipeline(int32_t on);
/* Times iters back-to-back batch-1 matvec launches (swiglu: the fused
 * projection) on a rows x cols matrix of dtype, on the int8 path when int8 is
 * 1 (and the type has one) or the float kernels: weight bytes read per second
 * and microseconds per call. */
KIC_API kic_status kic_bench_matvec(int32_t dtype, int64_t rows, int64_t cols, int32_t swiglu, int32_t int8,
                                    int32_t iters, double *bytes_per_sec, double *us_per_call);
/* Times n tokens through a rows x cols bf16 matrix (glu: the [gate; up] form) on path 0 (the matvec kernels), 1
 * (the skinny tensor-core kernel) or 2 (cuBLAS; not glu), the weights read from memory each call: their bytes
 * per second and microseconds per call. */
KIC_API kic_status kic_bench_linear(int32_t path, int64_t rows, int64_t cols, int32_t n, int32_t glu, int32_t iters,
                                    double *bytes_per_sec, double *us_per_call);
KIC_API kic_status kic_bench_gemm(int32_t dtype, int64_t rows, int64_t cols, int32_t n, int64_t w16_elems, int32_t iters,
                                  double *flops_per_sec, double *us_per_call);
/* One grid-wide barrier of a cooperative grid of one block of threads an SM (the persistent decode path's), in
 * microseconds: a launch crossing syncs of them less one crossing none. */
KIC_API kic_status kic_bench_grid_barrier(int32_t threads, int32_t syncs, double *us_per_sync);
KIC_API kic_status kic_bench_attn_decode(int32_t kv_type, int32_t heads, int32_t heads_kv, int32_t head_dim, int32_t len,
                                         int32_t n, int32_t splits, int32_t iters, double *bytes_per_sec,
                                         double *us_per_call);
KIC_API kic_status kic_test_rmsnorm(const float *x, const float *w, int32_t n, int32_t dim, float eps, float *y);
/* y += rmsnorm(x) * w (Gemma's post-norms). */
KIC_API kic_status kic_test_rmsnorm_add(const float *x, const float *w, int32_t n, int32_t dim, float eps, float *y);
KIC_API kic_status kic_test_layernorm(const float *x, const float *w, const float *b, int32_t n, int32_t dim,
                                      float eps, float *y);
/* Rotates the first rope_dim dims of each head, cos and sin times mscale; with norm_w each head is
 * RMS-normalized with it first (the q/k norms). */
KIC_API kic_status kic_test_rope(float *x, const int32_t *pos, int32_t n, int32_t heads, int32_t head_dim,
                                 int32_t mode, int32_t rope_dim, const float *inv_freq, float mscale,
                                 const float *norm_w, float eps);
/* y = act(gate) * up and y = act(x), act a kic_act; y = cap * tanh(x / cap). */
KIC_API kic_status kic_test_glu(int32_t act, const float *gate, const float *up, int64_t count, float *y);
KIC_API kic_status kic_test_act(int32_t act, const float *x, int64_t count, float *y);
KIC_API kic_status kic_test_softcap(const float *x, int64_t count, float cap, float *y);
/* y[i] = table[tokens[i]] * scale (+ pos_table[pos[i]]). */
KIC_API kic_status kic_test_embed(int32_t dtype, const void *table, int32_t dim, const int32_t *tokens, int32_t n,
                                  float scale, const float *pos_table, const int32_t *pos, float *y);
KIC_API kic_status kic_test_dequant_q8_0(const void *blocks, int64_t count, float *y);
/* Decodes count values of a block-quantized tensor (a type of cuda/layout/types.h other than F32, F16, BF16
 * and Q8_0) stored as in GGUF. */
KIC_API kic_status kic_test_dequant(int32_t dtype, const void *blocks, uint64_t bytes, int64_t count, float *y);
/* Writes len tokens' key and value rows (kv_dim wide) into a paged KV cache of kv_type (a kic_dtype: F32, F16,
 * BF16 or Q8_0) through the KV write kernel, in 16-token blocks whose table is in reverse order, and reads every
 * element back through the attention kernels' loads. */
KIC_API kic_status kic_test_kv_store(int32_t kv_type, const float *k, const float *v, int32_t len, int32_t kv_dim,
                                     float *k_out, float *v_out);
/* A one-token decode step's fused [q; k; v] projection (rows: heads, then heads_kv, then heads_kv vectors of
 * head_dim) with the norm in its prologue (RMSNorm with norm_w, LayerNorm with norm_b too) and, in its
 * epilogue, the rotation of q and k (mode, rope_dim, inv_freq, cos and sin times mscale) and the append of k
 * and v at position pos of a paged cache of kv_type (F32, F16 or BF16): y gets the rows, k_out and v_out the
 * stored row read back. */
KIC_API kic_status kic_test_matvec_qkv(int32_t dtype, const void *w_host, uint64_t w_bytes, int32_t heads,
                                       int32_t heads_kv, int32_t head_dim, int64_t cols, const float *x,
                                       const float *bias, const float *norm_w, const float *norm_b, float eps,
                                       int32_t mode, int32_t rope_dim, const float *inv_freq, float mscale,
                                       int32_t pos, int32_t kv_type, float *y, float *k_out, float *v_out);
/* Causal attention of n queries (n x heads x head_dim) at positions pos[i]
 * over a cache (len x heads_kv x head_dim) holding keys 0..len-1, written as
 * kic_test_kv_store writes them (kv_type, the block table reversed), each
 * query seeing its last window keys (0: all), scores soft-capped (softcap > 0);
 * prefill 1 selects the flash kernel (on the tensor cores, split-K, where the
 * device can), 2 the SIMT flash kernel, 0 split-K decode. Each runs twice, so
 * the second run checks that the first left its merge counters at zero. */
KIC_API kic_status kic_test_attention(int32_t kv_type, const float *q, const float *k, const float *v, int32_t len,
                                      const int32_t *pos, int32_t n, int32_t heads, int32_t heads_kv,
                                      int32_t head_dim, int32_t window, float softcap, int32_t prefill, float *out);
/* The sampler over rows x vocab logits, row i by params[i]; masks (NULL: none) holds each row's allowed-token
 * bitmask, as kic_sample's. */
KIC_API kic_status kic_test_sample(const float *logits, int32_t rows, int32_t vocab, const kic_sampling *params,
                                   const uint64_t *masks, int32_t *tokens_out);
/* launch_logprobs over rows x vocab logits at tokens[i] (negative: none), the top_n best of each row. */
KIC_API kic_status kic_test_logprobs(const float *logits, int32_t rows, int32_t vocab, const int32_t *tokens, int32_t top_n,
                                     kic_logprob_row *out);

#ifdef __cplusplus
}
#endif
#endif /* KIC_TEST_H */
