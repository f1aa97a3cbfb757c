// rope.cuh: rotary position embedding, norm (adjacent pairs) and neox (half split) modes over the first rope dims
// of each head (partial rotary leaves the rest), after an optional per-head RMSNorm of q and k (Qwen3, Gemma 3);
// and the step that follows the QKV projection: norm and rotate q and k, then append k and v to the paged KV
// cache, in one kernel.
#pragma once
#include "kvcache.cuh"

// How q and k are positioned: the rotation (mode KIC_ROPE_NONE: none, for learned positions) of the first dim
// dims of each head by pos * inv_freq[j] (inv_freq: dim/2 floats on the device, freq scale and factors
// applied), with cos and sin multiplied by mscale (LongRoPE's magnitude correction; 1 for none); before it,
// when q_norm is set, each q head is RMS-normalized with weight q_norm and each k head with k_norm
// (head_dim floats each on the device), eps norm_eps.
struct kic_rope {
	int mode = KIC_ROPE_NONE, dim = 0;
	const float *inv_freq = nullptr;
	float mscale = 1.f;
	const float *q_norm = nullptr, *k_norm = nullptr;
	float norm_eps = 0.f;
};

// kic_rope_cos_sin is the rotation of position p by frequency freq, as every kernel that rotates computes it: the
// fp32 angle p * freq (the CPU engine's float32(pos) * f), its cos and sin in double (math.Sincos), rounded to fp32,
// then times mscale (LongRoPE's factor, applied after the rounding as the CPU engine does).
__device__ __forceinline__ float2 kic_rope_cos_sin(float p, float freq, float mscale) {
	double s, c;
	sincos((double)(p * freq), &s, &c);
	return make_float2((float)c * mscale, (float)s * mscale);
}

// Rotates (and normalizes, with rp.q_norm), in place, each of heads head vectors in the n rows of x (row stride
// row_stride floats) for position pos[i].
kic_status launch_rope(float *x, int64_t row_stride, const int32_t *pos, int n, int heads, int head_dim, const kic_rope &rp,
                       cudaStream_t s);

// Where the QKV projection left its n rows: q (heads vectors, row stride q_stride), k and v (heads_kv
// vectors each, row stride kv_stride). They may be three parts of one fused row.
struct kic_qkv_rows {
	float *q = nullptr, *k = nullptr;
	const float *v = nullptr;
	int64_t q_stride = 0, kv_stride = 0;
	int heads = 0, heads_kv = 0, head_dim = 0;
};

// Normalizes and rotates q and k in place as rp says and stores token i's k and v at position pos[i] of
// sequence seq[i].
kic_status launch_rope_store_kv(const kic_qkv_rows &r, const int32_t *pos, const int32_t *seq, int n, const kic_rope &rp,
                                const kic_kv_view &kv, cudaStream_t s);
