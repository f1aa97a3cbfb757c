#include "attention.cuh"

// Decode attention, split-K with the merge fused in.
//
// grid (heads_kv, n, kic_attn_splits), one warp per query head of the KV group (G = heads / heads_kv warps),
// so a group's K/V rows are fetched from memory once and served to the other G-1 warps from L1. The keys
// the query sees (0..pos[i], or the last `window` of them) are cut into up to kic_attn_splits chunks of whole
// 32-key tiles; with one chunk its block writes the output, otherwise each block writes its partial (max, sum,
// output) per head and the block that finishes last for (token, group), found with a counter, merges them. The chunking is decided on the device from pos[], so a captured graph stays valid as
// sequences grow; the counter is back at 0 after each merge, ready for the next replay.
//
// J = ceil(head_dim / 32): a lane holds output dims lane + 32*j and reads a key row four elements at a time,
// all issued before the first is used; value rows are read up to 32 keys at a time, likewise. KT is the
// pool's element type (kvcache.cuh).
template <int J, int KT>
__global__ void attn_decode_kernel(kic_attn_args a, kic_kv_view kv, float *partials, int *counters) {
	__shared__ float qs[32][J * 32];
	__shared__ bool merge;
	int g = blockIdx.x, i = blockIdx.y, sp = blockIdx.z, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
	int group = a.heads / a.heads_kv, h = g * group + warp, hd = a.head_dim;
	pdl_wait();
	pdl_launch_dependents();
	int sq = a.seq[i], last = a.pos[i] + 1; // one past the query's last key
	int first = a.window > 0 ? max(0, last - a.window) : 0;
	int len = last - first;
	int chunk = (len + kic_attn_splits - 1) / kic_attn_splits;
	chunk = (chunk + 31) / 32 * 32; // whole tiles, so fewer splits do the work when sequences are short
	int active = (len + chunk - 1) / chunk; // splits with keys; the rest have nothing to do
	if (sp >= active) return;
	int start = first + sp * chunk, end = min(last, start + chunk);
	const float *q = a.q + (int64_t)i * a.q_stride + (int64_t)h * hd;
	float *myq = qs[warp];
	for (int d = lane; d < hd; d += 32) myq[d] = q[d];
	__syncwarp();

	float m = -INFINITY, l = 0.f, acc[J];
#pragma unroll
	for (int j = 0; j < J; j++) acc[j] = 0.f;
	int64_t head_off = (int64_t)g * hd;
	for (int k0 = start; k0 < end; k0 += 32) {
		// Lane t owns key k0 + t: it looks up the key's cache slot once (the block table is a dependent load)
		// and the value loop below gets every slot by shuffle.
		int key = k0 + lane;
		int64_t off = key < end ? kv_offset(kv, sq, key) + head_off : 0;
		float score = -INFINITY;
		if (key < end) {
			const float4 *q4 = reinterpret_cast<const float4 *>(myq);
			float4 kk[J * 8];
#pragma unroll
			for (int d4 = 0; d4 < J * 8; d4++)
				if (d4 < hd / 4) kk[d4] = kv_io<KT>::load4(kv.k, kv.scales, off + 4 * d4);
			float dot = 0.f;
#pragma unroll
			for (int d4 = 0; d4 < J * 8; d4++)
				if (d4 < hd / 4) {
					float4 qv = q4[d4];
					dot += qv.x * kk[d4].x + qv.y * kk[d4].y + qv.z * kk[d4].z + qv.w * kk[d4].w;
				}
			score = dot * a.scale;
			if (a.softcap > 0.f) score = kic_softcap(score, a.softcap);
		}
		// Online softmax over the tile, as attn_tile_update, with the value rows fetched 8 keys at a time.
		float tile_max = warp_max(score);
		float m_new = fmaxf(m, tile_max);
		float corr = m == -INFINITY ? 0.f : __expf(m - m_new);
		float p = score == -INFINITY ? 0.f : __expf(score - m_new);
		l = l * corr + warp_sum(p);
#pragma unroll
		for (int j = 0; j < J; j++) acc[j] *= corr;
		m = m_new;
		// U value rows in flight per lane (64 registers): the whole tile for head_dim <= 64, where a tile
		// used to take four round trips to memory.
		constexpr int U = J == 1 ? 32 : 64 / J;
		int tile = min(32, end - k0);
		for (int t0 = 0; t0 < tile; t0 += U) {
			float pk[U], vv[U][J];
#pragma unroll
			for (int u = 0; u < U; u++) {
				int t = t0 + u;
				pk[u] = __shfl_sync(0xffffffffu, p, t & 31);
				long long o = __shfl_sync(0xffffffffu, (long long)off, t & 31);
#pragma unroll
				for (int j = 0; j < J; j++) {
					int d = lane + 32 * j;
					vv[u][j] = t < tile && d < hd ? kv_io<KT>::load1(kv.v, kv.scales, o + d) : 0.f;
				}
			}
#pragma unroll
			for (int u = 0; u < U; u++)
#pragma unroll
				for (int j = 0; j < J; j++) acc[j] += pk[u] * vv[u][j];
		}
	}
	float *o = a.out + (int64_t)i * a.heads * hd + (int64_t)h * hd;
	if (active == 1) { // short sequences: one split holds every key, nothing to merge
#pragma unroll
		for (int j = 0; j < J; j++) {
			int d = lane + 32 * j;
			if (d < hd) o[d] = acc[j] / l;
		}
		return;
	}
	float *base = partials + ((int64_t)i * a.heads + h) * kic_attn_splits * (hd + 2);
	float *part = base + sp * (hd + 2);
	if (lane == 0) part[0] = m, part[1] = l;
#pragma unroll
	for (int j = 0; j < J; j++) {
		int d = lane + 32 * j;
		if (d < hd) part[2 + d] = acc[j];
	}

	// The last of the active blocks of (token, group) merges; its reads see every block's partial through
	// the fence before each arrival.
	__threadfence();
	__syncthreads();
	if (threadIdx.x == 0) {
		int *counter = counters + (int64_t)i * a.heads_kv + g;
		merge = atomicAdd(counter, 1) == active - 1;
		if (merge) *counter = 0;
	}
	__syncthreads();
	if (!merge) return;
	__threadfence();
	// Lane s reads split s's (max, sum), so the weights come from one round of loads and two reductions.
	float ms = lane < active ? __ldcg(base + lane * (hd + 2)) : -INFINITY;
	float ls = lane < active ? __ldcg(base + lane * (hd + 2) + 1) : 0.f;
	float M = warp_max(ms);
	float ws = ms == -INFINITY ? 0.f : __expf(ms - M);
	float L = warp_sum(ws * ls);
	float out[J];
#pragma unroll
	for (int j = 0; j < J; j++) out[j] = 0.f;
	for (int s0 = 0; s0 < active; s0 += 4) {
		float wv[4], pv[4][J];
#pragma unroll
		for (int u = 0; u < 4; u++) {
			int sidx = s0 + u;
			wv[u] = __shfl_sync(0xffffffffu, ws, sidx & 31);
#pragma unroll
			for (int j = 0; j < J; j++) {
				int d = lane + 32 * j;
				pv[u][j] = sidx < active && d < hd ? __ldcg(base + sidx * (hd + 2) + 2 + d) : 0.f;
			}
		}
#pragma unroll
		for (int u = 0; u < 4; u++)
#pragma unroll
			for (int j = 0; j < J; j++) out[j] += wv[u] * pv[u][j];
	}
#pragma unroll
	for (int j = 0; j < J; j++) {
		int d = lane + 32 * j;
		if (d < hd) o[d] = out[j] / L;
	}
}

template <int J, int KT>
static kic_status launch_jt(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters, cudaStream_t s) {
	int group = a.heads / a.heads_kv;
	return kic_launch(attn_decode_kernel<J, KT>, dim3(a.heads_kv, a.n, kic_attn_splits), dim3(32 * group), 0, s, a, kv,
	                  partials, counters);
}

template <int J> static kic_status launch_j(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters,
                                            cudaStream_t s) {
	switch (kv.type) {
	case KIC_F32: return launch_jt<J, KIC_F32>(a, kv, partials, counters, s);
	case KIC_F16: return launch_jt<J, KIC_F16>(a, kv, partials, counters, s);
	case KIC_BF16: return launch_jt<J, KIC_BF16>(a, kv, partials, counters, s);
	case KIC_Q8_0: return launch_jt<J, KIC_Q8_0>(a, kv, partials, counters, s);
	default: return kic_set_error(KIC_ERR_UNSUPPORTED, "decode attention: KV cache type %d", kv.type);
	}
}

kic_status launch_attn_decode(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters,
                              cudaStream_t s) {
	if (a.n <= 0) return KIC_OK;
	if (a.head_dim > 256 || a.head_dim % 4 || a.heads % a.heads_kv != 0 || a.heads / a.heads_kv > 32)
		return kic_set_error(KIC_ERR_UNSUPPORTED, "decode attention: head_dim %d (a multiple of 4 up to 256), heads %d/%d",
		                     a.head_dim, a.heads, a.heads_kv);
	if (a.head_dim <= 32) return launch_j<1>(a, kv, partials, counters, s);
	if (a.head_dim <= 64) return launch_j<2>(a, kv, partials, counters, s);
	if (a.head_dim <= 128) return launch_j<4>(a, kv, partials, counters, s);
	return launch_j<8>(a, kv, partials, counters, s);
}
