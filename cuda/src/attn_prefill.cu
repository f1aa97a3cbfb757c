#include "attention.cuh"

constexpr int kQueriesPerBlock = 16;

// grid (ceil(n / 16), heads), 16 warps, one query each; dynamic shared memory: K tile [tk][hd+1], V tile
// [tk][hd], q [16][hd], the tile's cache offsets [tk]. Each K/V tile is staged once for 16 queries.
// Queries are consecutive positions of one sequence (a prefill), so the block's key range ends at its
// last query's position and, with a window, starts at its first query's first key. KT is the pool's element
// type (kvcache.cuh).
template <int KT>
__global__ void attn_prefill_kernel(kic_attn_args a, kic_kv_view kv, int tk) {
	extern __shared__ float smem[];
	int hd = a.head_dim, h = blockIdx.y, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
	int kvh = h / (a.heads / a.heads_kv);
	float *ks = smem, *vs = ks + tk * (hd + 1), *qs = vs + tk * hd;
	int64_t *rows = reinterpret_cast<int64_t *>(qs + kQueriesPerBlock * hd);
	int first = blockIdx.x * kQueriesPerBlock;
	int last = min(a.n, first + kQueriesPerBlock) - 1;
	int i = first + warp;
	bool active = i <= last;
	int sq = a.seq[first];
	int qpos = active ? a.pos[i] : -1;
	int qlo = a.window > 0 ? qpos - a.window + 1 : 0; // the query's first key
	int keys = a.pos[last] + 1, kstart = a.window > 0 ? max(0, a.pos[first] - a.window + 1) : 0;
	float *myq = qs + warp * hd;
	if (active)
		for (int d = lane; d < hd; d += 32) myq[d] = a.q[(int64_t)i * a.q_stride + (int64_t)h * hd + d];

	float m = -INFINITY, l = 0.f, acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	for (int k0 = kstart; k0 < keys; k0 += tk) {
		int tile = min(tk, keys - k0);
		__syncthreads();
		// The block-table lookup once per key, not once per element.
		if (threadIdx.x < tile) rows[threadIdx.x] = kv_offset(kv, sq, k0 + threadIdx.x) + (int64_t)kvh * hd;
		__syncthreads();
		for (int e = threadIdx.x; e < tile * hd; e += blockDim.x) {
			int kk = e / hd, d = e % hd;
			int64_t off = rows[kk] + d;
			ks[kk * (hd + 1) + d] = kv_io<KT>::load1(kv.k, kv.scales, off);
			vs[kk * hd + d] = kv_io<KT>::load1(kv.v, kv.scales, off);
		}
		__syncthreads();
		if (!active || k0 > qpos) continue;
		float score = -INFINITY;
		if (lane < tile && k0 + lane <= qpos && k0 + lane >= qlo) {
			const float *kr = ks + lane * (hd + 1);
			// Four running sums break the chain of dependent adds; hd is a multiple of 4 here.
			float d0 = 0.f, d1 = 0.f, d2 = 0.f, d3 = 0.f;
#pragma unroll 4
			for (int d = 0; d < hd; d += 4) {
				d0 += myq[d] * kr[d];
				d1 += myq[d + 1] * kr[d + 1];
				d2 += myq[d + 2] * kr[d + 2];
				d3 += myq[d + 3] * kr[d + 3];
			}
			score = ((d0 + d1) + (d2 + d3)) * a.scale;
			if (a.softcap > 0.f) score = kic_softcap(score, a.softcap);
		}
		attn_tile_update(score, tile, [&](int kk) { return (const float *)vs + kk * hd; }, hd, m, l, acc);
	}
	if (!active) return;
	float *out = a.out + (int64_t)i * a.heads * hd + (int64_t)h * hd;
#pragma unroll
	for (int j = 0; j < 8; j++) {
		int d = lane + 32 * j;
		if (d < hd) out[d] = acc[j] / l;
	}
}

kic_status launch_attn_prefill(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters,
                               int max_tiles, cudaStream_t s, bool tensor_cores) {
	if (a.n <= 0) return KIC_OK;
	if (a.head_dim > 256 || a.head_dim % 4 || a.heads % a.heads_kv != 0)
		return kic_set_error(KIC_ERR_UNSUPPORTED, "attention: head_dim %d (a multiple of 4 up to 256), heads %d/%d",
		                     a.head_dim, a.heads, a.heads_kv);
	if (tensor_cores) {
		bool launched = false;
		KIC_TRY(launch_attn_prefill_tc(a, kv, partials, counters, max_tiles, s, &launched));
		if (launched) return KIC_OK;
	}
	int tk = a.head_dim <= 128 ? 32 : 8; // under the 48 KB of shared memory a launch gets by default
	size_t smem = sizeof(float) * ((size_t)tk * (a.head_dim + 1) + (size_t)tk * a.head_dim +
	                               (size_t)kQueriesPerBlock * a.head_dim) +
	              sizeof(int64_t) * tk;
	dim3 grid(kic_div_up(a.n, kQueriesPerBlock), a.heads);
	switch (kv.type) {
	case KIC_F32: attn_prefill_kernel<KIC_F32><<<grid, kQueriesPerBlock * 32, smem, s>>>(a, kv, tk); break;
	case KIC_F16: attn_prefill_kernel<KIC_F16><<<grid, kQueriesPerBlock * 32, smem, s>>>(a, kv, tk); break;
	case KIC_BF16: attn_prefill_kernel<KIC_BF16><<<grid, kQueriesPerBlock * 32, smem, s>>>(a, kv, tk); break;
	case KIC_Q8_0: attn_prefill_kernel<KIC_Q8_0><<<grid, kQueriesPerBlock * 32, smem, s>>>(a, kv, tk); break;
	default: return kic_set_error(KIC_ERR_UNSUPPORTED, "attention: KV cache type %d", kv.type);
	}
	KIC_LAUNCHED();
	return KIC_OK;
}
