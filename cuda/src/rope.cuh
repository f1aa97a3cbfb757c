// rope.cuh: rotary position embedding, norm (adjacent pairs) and neox (half split) modes, and the step that
// follows the QKV projection: rotate q and k, then append k and v to the paged KV cache, in one kernel.
#pragma once
#include "kvcache.cuh"

// Rotates, in place, the first rope_dim dims of each of heads head vectors in the n rows of x (row stride
// row_stride floats) by pos[i] * inv_freq[j]. inv_freq already holds freq scale and Llama-3 factors.
kic_status launch_rope(float *x, int64_t row_stride, const int32_t *pos, int n, int heads, int head_dim, int mode,
                       int rope_dim, const float *inv_freq, cudaStream_t s);

// Where the QKV projection left its n rows: q (heads vectors, row stride q_stride), k and v (heads_kv
// vectors each, row stride kv_stride). They may be three parts of one fused row.
struct kic_qkv_rows {
	float *q = nullptr, *k = nullptr;
	const float *v = nullptr;
	int64_t q_stride = 0, kv_stride = 0;
	int heads = 0, heads_kv = 0, head_dim = 0;
};

// Rotates q and k in place (mode KIC_ROPE_NONE: no rotation, for learned positions) and stores token i's
// k and v at position pos[i] of sequence seq[i].
kic_status launch_rope_store_kv(const kic_qkv_rows &r, const int32_t *pos, const int32_t *seq, int n, int mode,
                                int rope_dim, const float *inv_freq, const kic_kv_view &kv, cudaStream_t s);
