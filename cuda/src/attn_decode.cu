#include "attention.cuh"

// grid (heads, n, kic_attn_splits), one warp per block.
__global__ void attn_decode_kernel(kic_attn_args a, kic_kv_view kv, float *partials) {
	__shared__ float qs[256];
	int h = blockIdx.x, i = blockIdx.y, sp = blockIdx.z, lane = threadIdx.x;
	int hd = a.head_dim, kvh = h / (a.heads / a.heads_kv), sq = a.seq[i];
	int len = a.pos[i] + 1;
	int chunk = (len + kic_attn_splits - 1) / kic_attn_splits;
	chunk = (chunk + 31) / 32 * 32; // whole tiles, so fewer splits do the work when sequences are short
	int start = sp * chunk, end = min(len, start + chunk);
	const float *q = a.q + (int64_t)i * a.q_stride + (int64_t)h * hd;
	for (int d = lane; d < hd; d += 32) qs[d] = q[d];
	__syncwarp();

	float m = -INFINITY, l = 0.f, acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	for (int k0 = start; k0 < end; k0 += 32) {
		int key = k0 + lane;
		float score = -INFINITY;
		if (key < end) {
			const float *kr = kv.k + kv_offset(kv, sq, key) + (int64_t)kvh * hd;
			float dot = 0.f;
			for (int d = 0; d < hd; d++) dot += qs[d] * kr[d];
			score = dot * a.scale;
		}
		int tile = min(32, end - k0);
		attn_tile_update(score, tile, [&](int kk) { return kv.v + kv_offset(kv, sq, k0 + kk) + (int64_t)kvh * hd; },
		                 hd, m, l, acc);
	}
	float *part = partials + (((int64_t)i * a.heads + h) * kic_attn_splits + sp) * (hd + 2);
	if (lane == 0) part[0] = m, part[1] = l;
#pragma unroll
	for (int j = 0; j < 8; j++) {
		int d = lane + 32 * j;
		if (d < hd) part[2 + d] = acc[j];
	}
}

// grid (heads, n), one warp: merges the splits of one query head.
__global__ void attn_combine_kernel(kic_attn_args a, const float *partials) {
	int h = blockIdx.x, i = blockIdx.y, lane = threadIdx.x, hd = a.head_dim;
	const float *base = partials + ((int64_t)i * a.heads + h) * kic_attn_splits * (hd + 2);
	float M = -INFINITY;
	for (int sp = 0; sp < kic_attn_splits; sp++) M = fmaxf(M, base[sp * (hd + 2)]);
	float L = 0.f, acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	for (int sp = 0; sp < kic_attn_splits; sp++) {
		const float *part = base + sp * (hd + 2);
		if (part[0] == -INFINITY) continue;
		float w = __expf(part[0] - M);
		L += w * part[1];
#pragma unroll
		for (int j = 0; j < 8; j++) {
			int d = lane + 32 * j;
			if (d < hd) acc[j] += w * part[2 + d];
		}
	}
	float *out = a.out + (int64_t)i * a.heads * hd + (int64_t)h * hd;
#pragma unroll
	for (int j = 0; j < 8; j++) {
		int d = lane + 32 * j;
		if (d < hd) out[d] = acc[j] / L;
	}
}

kic_status launch_attn_decode(const kic_attn_args &a, const kic_kv_view &kv, float *partials, cudaStream_t s) {
	if (a.n <= 0) return KIC_OK;
	if (a.head_dim > 256 || a.heads % a.heads_kv != 0)
		return kic_set_error(KIC_ERR_UNSUPPORTED, "attention: head_dim %d, heads %d/%d", a.head_dim, a.heads, a.heads_kv);
	attn_decode_kernel<<<dim3(a.heads, a.n, kic_attn_splits), 32, 0, s>>>(a, kv, partials);
	KIC_LAUNCHED();
	attn_combine_kernel<<<dim3(a.heads, a.n), 32, 0, s>>>(a, partials);
	KIC_LAUNCHED();
	return KIC_OK;
}
