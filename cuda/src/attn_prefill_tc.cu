// attn_prefill_tc.cu: prefill attention on the tensor cores (mma.sync m16n8k16, bf16 in, fp32 accumulate),
// flash-style: a block owns 64 query rows and streams its keys through shared memory in tiles, loading the
// next tile into registers while the current one is multiplied; long key ranges are split over blocks.
//
// The KV cache and the queries are fp32, and a plain bf16 product would cost ~3 significant digits. Every
// operand is therefore split into hi + lo bf16 halves (x = hi + lo to ~2^-17 relative) and each product is
// hi*hi + hi*lo + lo*hi, three MMAs: fp32-grade scores and outputs (~1e-5) at tensor-core speed.
//
// Rows are (query, head) pairs: for GQA, the query heads that share a KV head sit in the same block, so a
// K/V tile is staged once for all of them. Like the SIMT kernel, a block's queries are consecutive positions
// of one sequence (a prefill chunk), so its key range ends at its last query's position (and, with a sliding
// window, starts at its first query's first key).
#include "attention.cuh"

namespace {

constexpr int kRows = 64;       // query rows per block, 16 per warp
constexpr int kThreads = 128;   // 4 warps
constexpr float kLog2e = 1.4426950408889634f;

// Two floats as packed bf16 hi halves and the lo halves of what the hi halves missed.
__device__ __forceinline__ void split2(float x0, float x1, uint32_t &hi, uint32_t &lo) {
	__nv_bfloat162 h = __floats2bfloat162_rn(x0, x1);
	float2 hf = __bfloat1622float2(h);
	__nv_bfloat162 l = __floats2bfloat162_rn(x0 - hf.x, x1 - hf.y);
	hi = *reinterpret_cast<uint32_t *>(&h);
	lo = *reinterpret_cast<uint32_t *>(&l);
}

// d += a * b for one m16n8k16 tile (fragments as the PTX ISA lays them out).
__device__ __forceinline__ void mma_bf16(float d[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
	asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
	             "{%0,%1,%2,%3};"
	             : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
	             : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
	__trap();
#endif
}

// Four 8x8 bf16 matrices from shared memory, transposed: the B fragments of two n-tiles of V.
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t r[4], const uint16_t *p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
	uint32_t addr = (uint32_t)__cvta_generic_to_shared(p);
	asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
	             : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
	             : "r"(addr));
#else
	__trap();
#endif
}

__device__ __forceinline__ uint32_t lds32(const uint16_t *p) { return *reinterpret_cast<const uint32_t *>(p); }

template <int HD>
struct tc_shape {
	// Keys per tile, chosen so that each thread holds P = TK * HD / 256 = 16 pairs of K and of V values
	// (64 registers) of the next tile while the current one is computed.
	static constexpr int TK = HD <= 64 ? 64 : HD == 128 ? 32 : 16;
	static constexpr int S = HD + 8; // row stride in bf16: conflict-free fragment loads
	static constexpr int P = TK * HD / 2 / kThreads;
	static constexpr bool prefetch = HD <= 128; // at 256 the accumulators leave no room: fetch, then store
	static constexpr size_t smem = sizeof(uint16_t) * (2 * kRows * S + 4 * TK * S);
};

// Split-K: a block's keys are cut into up to kic_attn_splits parts of at least kSplitKeys, worked on by
// separate blocks whose partial (max, sum, output) the last one to finish merges, as in decode attention.
// Without it a chunk of 256 queries of a long prompt gives only ~128 blocks of 4 warps, one per SM, each
// walking every key. (Longer chunks have blocks enough, and no room in the partials: they are not split.)
constexpr int kSplitKeys = 256;

// grid (ceil(n / queries_per_block), heads_kv * chunks, splits), 128 threads. group_block query heads of
// one KV head (chunk `blockIdx.y % chunks` of its group) times queries_per_block = kRows / group_block
// queries. partials: kic_attn_partials(n, heads, head_dim) floats; counters: gridDim.x * gridDim.y ints at
// zero (left at zero). KT is the pool's element type (kvcache.cuh).
template <int HD, int KT>
__global__ void __launch_bounds__(kThreads) attn_prefill_tc_kernel(kic_attn_args a, kic_kv_view kv, float *partials,
                                                                  int *counters, int group_block, int chunks) {
	using shape = tc_shape<HD>;
	constexpr int TK = shape::TK, S = shape::S, P = shape::P;
	extern __shared__ __align__(16) uint8_t smem_raw[];
	uint16_t *qh = reinterpret_cast<uint16_t *>(smem_raw), *ql = qh + kRows * S;
	uint16_t *kh = ql + kRows * S, *kl = kh + TK * S, *vh = kl + TK * S, *vl = vh + TK * S;
	__shared__ bool merge;

	const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, tig = lane & 3;
	const int hd = a.head_dim, group = a.heads / a.heads_kv;
	const int kvh = blockIdx.y / chunks, head0 = (blockIdx.y % chunks) * group_block;
	const int qpb = kRows / group_block, first = blockIdx.x * qpb;
	const int last = min(a.n, first + qpb) - 1;
	const int keys = a.pos[last] + 1, sq = a.seq[first];
	const int kfirst = a.window > 0 ? max(0, a.pos[first] - a.window + 1) : 0, nkeys = keys - kfirst;

	// This block's part of the keys (decided from pos[] alone, so every block of the tile agrees).
	int splits = min((int)gridDim.z, (nkeys + kSplitKeys - 1) / kSplitKeys);
	const int span = ((nkeys + splits - 1) / splits + TK - 1) / TK * TK;
	splits = (nkeys + span - 1) / span;
	const int sp = blockIdx.z;
	if (sp >= splits) return;
	const int kbeg = kfirst + sp * span, kend = min(keys, kbeg + span);

	// Row r of the block: query first + r / group_block, query head kvh * group + head0 + r % group_block.
	auto row_query = [&](int r, int &i, int &h) {
		int qi = r / group_block, gi = r % group_block;
		i = first + qi, h = kvh * group + head0 + gi;
		return qi < qpb && i < a.n && head0 + gi < group;
	};

	// Stage the block's queries, scaled so that exp2 of a score is exp of the reference's; with a soft-cap the
	// scores are capped in the reference's units first, and converted after.
	const bool capped = a.softcap > 0.f;
	const float qscale = capped ? a.scale : a.scale * kLog2e;
	for (int e = tid; e < kRows * HD / 2; e += kThreads) {
		int r = e / (HD / 2), d = (e % (HD / 2)) * 2, i, h;
		float2 x = {0.f, 0.f};
		if (row_query(r, i, h) && d < hd) x = *reinterpret_cast<const float2 *>(a.q + (int64_t)i * a.q_stride + (int64_t)h * hd + d);
		uint32_t hi, lo;
		split2(x.x * qscale, x.y * qscale, hi, lo);
		*reinterpret_cast<uint32_t *>(qh + r * S + d) = hi;
		*reinterpret_cast<uint32_t *>(ql + r * S + d) = lo;
	}

	// This thread's two rows of the warp's 16: r0 (fragment rows g) and r1 (g + 8). lim: the last key the
	// row sees in this split (-1: none, or no such query); lo: the first key its window sees (0 without one).
	const int r0 = warp * 16 + g, r1 = r0 + 8;
	int i0 = 0, h0 = 0, i1 = 0, h1 = 0;
	const bool valid0 = row_query(r0, i0, h0), valid1 = row_query(r1, i1, h1);
	const int lim0 = valid0 ? min(a.pos[i0], kend - 1) : -1, lim1 = valid1 ? min(a.pos[i1], kend - 1) : -1;
	const int lo0 = valid0 && a.window > 0 ? a.pos[i0] - a.window + 1 : 0;
	const int lo1 = valid1 && a.window > 0 ? a.pos[i1] - a.window + 1 : 0;
	int warp_last = max(lim0, lim1);
#pragma unroll
	for (int o = 16; o > 0; o >>= 1) warp_last = max(warp_last, __shfl_xor_sync(0xffffffffu, warp_last, o));

	// K/V tile staging: fetch loads a tile's fp32 values into registers (the next tile's, while this one is
	// computed), store splits them into shared memory.
	float2 pk[P], pv[P];
	auto fetch = [&](int k0) {
#pragma unroll
		for (int it = 0; it < P; it++) {
			int e = tid + it * kThreads, kk = e / (HD / 2), d = (e % (HD / 2)) * 2, key = k0 + kk;
			pk[it] = pv[it] = make_float2(0.f, 0.f);
			if (key < kend && d < hd) {
				int64_t off = kv_offset(kv, sq, key) + (int64_t)kvh * hd + d;
				pk[it] = kv_io<KT>::load2(kv.k, kv.scales, off);
				pv[it] = kv_io<KT>::load2(kv.v, kv.scales, off);
			}
		}
	};
	auto store = [&]() {
#pragma unroll
		for (int it = 0; it < P; it++) {
			int e = tid + it * kThreads, kk = e / (HD / 2), d = (e % (HD / 2)) * 2;
			uint32_t hi, lo;
			split2(pk[it].x, pk[it].y, hi, lo);
			*reinterpret_cast<uint32_t *>(kh + kk * S + d) = hi;
			*reinterpret_cast<uint32_t *>(kl + kk * S + d) = lo;
			split2(pv[it].x, pv[it].y, hi, lo);
			*reinterpret_cast<uint32_t *>(vh + kk * S + d) = hi;
			*reinterpret_cast<uint32_t *>(vl + kk * S + d) = lo;
		}
	};

	float acc[HD / 8][4];
#pragma unroll
	for (int t = 0; t < HD / 8; t++) acc[t][0] = acc[t][1] = acc[t][2] = acc[t][3] = 0.f;
	float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.f, l1 = 0.f;

	if (shape::prefetch) fetch(kbeg);
	for (int k0 = kbeg; k0 < kend; k0 += TK) {
		if (!shape::prefetch) fetch(k0);
		__syncthreads(); // the previous tile is consumed (and, the first time, the queries are staged)
		store();
		__syncthreads();
		if (shape::prefetch && k0 + TK < kend) fetch(k0 + TK);
		if (k0 > warp_last) continue; // every key of the tile is in this warp's future

		// Scores: s[j] is the 16 x 8 tile of keys k0 + 8j .. k0 + 8j + 7.
		float s[TK / 8][4];
#pragma unroll
		for (int j = 0; j < TK / 8; j++) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.f;
#pragma unroll
		for (int ks = 0; ks < HD / 16; ks++) {
			int c = ks * 16 + tig * 2;
			uint32_t ah[4] = {lds32(qh + r0 * S + c), lds32(qh + r1 * S + c), lds32(qh + r0 * S + c + 8),
			                  lds32(qh + r1 * S + c + 8)};
			uint32_t al[4] = {lds32(ql + r0 * S + c), lds32(ql + r1 * S + c), lds32(ql + r0 * S + c + 8),
			                  lds32(ql + r1 * S + c + 8)};
#pragma unroll
			for (int j = 0; j < TK / 8; j++) {
				const int kr = (j * 8 + g) * S + c;
				uint32_t bh0 = lds32(kh + kr), bh1 = lds32(kh + kr + 8), bl0 = lds32(kl + kr), bl1 = lds32(kl + kr + 8);
				mma_bf16(s[j], al, bh0, bh1); // small terms first
				mma_bf16(s[j], ah, bl0, bl1);
				mma_bf16(s[j], ah, bh0, bh1);
			}
		}

		if (capped)
#pragma unroll
			for (int j = 0; j < TK / 8; j++)
#pragma unroll
				for (int c = 0; c < 4; c++) s[j][c] = kic_softcap(s[j][c], a.softcap) * kLog2e;

		// Causal (and window) mask and the online softmax, per row; a row's 8 * TK/8 values sit in 4 lanes (tig).
		float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
		for (int j = 0; j < TK / 8; j++)
#pragma unroll
			for (int c = 0; c < 2; c++) {
				int key = k0 + j * 8 + tig * 2 + c;
				if (key > lim0 || key < lo0) s[j][c] = -INFINITY;
				if (key > lim1 || key < lo1) s[j][2 + c] = -INFINITY;
				mx0 = fmaxf(mx0, s[j][c]), mx1 = fmaxf(mx1, s[j][2 + c]);
			}
#pragma unroll
		for (int o = 1; o <= 2; o <<= 1) {
			mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, o));
			mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, o));
		}
		float mn0 = fmaxf(m0, mx0), mn1 = fmaxf(m1, mx1);
		// Nothing visible yet: exponentiate against 0 so that every p (and the correction) is exactly 0.
		float base0 = mn0 == -INFINITY ? 0.f : mn0, base1 = mn1 == -INFINITY ? 0.f : mn1;
		float corr0 = exp2f(m0 - base0), corr1 = exp2f(m1 - base1);
		m0 = mn0, m1 = mn1;
		float sum0 = 0.f, sum1 = 0.f;
#pragma unroll
		for (int j = 0; j < TK / 8; j++) {
			s[j][0] = exp2f(s[j][0] - base0), s[j][1] = exp2f(s[j][1] - base0);
			s[j][2] = exp2f(s[j][2] - base1), s[j][3] = exp2f(s[j][3] - base1);
			sum0 += s[j][0] + s[j][1], sum1 += s[j][2] + s[j][3];
		}
		l0 = l0 * corr0 + sum0, l1 = l1 * corr1 + sum1;
#pragma unroll
		for (int t = 0; t < HD / 8; t++) acc[t][0] *= corr0, acc[t][1] *= corr0, acc[t][2] *= corr1, acc[t][3] *= corr1;

		// acc += P V. The score tiles 2kt and 2kt+1 are, as they sit in registers, the A fragment of keys
		// 16kt .. 16kt + 15.
#pragma unroll
		for (int kt = 0; kt < TK / 16; kt++) {
			uint32_t ph[4], pl[4];
			split2(s[2 * kt][0], s[2 * kt][1], ph[0], pl[0]);
			split2(s[2 * kt][2], s[2 * kt][3], ph[1], pl[1]);
			split2(s[2 * kt + 1][0], s[2 * kt + 1][1], ph[2], pl[2]);
			split2(s[2 * kt + 1][2], s[2 * kt + 1][3], ph[3], pl[3]);
			// ldmatrix: lanes 8m .. 8m+7 address the rows of matrix m = (keys +8 if m odd, dims +8 if m >= 2).
			const int vr = (kt * 16 + (lane & 8) + (lane & 7)) * S + ((lane >> 4) << 3);
#pragma unroll
			for (int t = 0; t < HD / 8; t += 2) {
				uint32_t bh[4], bl[4];
				ldmatrix_x4_trans(bh, vh + vr + t * 8);
				ldmatrix_x4_trans(bl, vl + vr + t * 8);
				mma_bf16(acc[t], pl, bh[0], bh[1]);
				mma_bf16(acc[t], ph, bl[0], bl[1]);
				mma_bf16(acc[t], ph, bh[0], bh[1]);
				mma_bf16(acc[t + 1], pl, bh[2], bh[3]);
				mma_bf16(acc[t + 1], ph, bl[2], bl[3]);
				mma_bf16(acc[t + 1], ph, bh[2], bh[3]);
			}
		}
	}

#pragma unroll
	for (int o = 1; o <= 2; o <<= 1) l0 += __shfl_xor_sync(0xffffffffu, l0, o), l1 += __shfl_xor_sync(0xffffffffu, l1, o);
	if (splits == 1) { // every key in this block: the output directly
		const int64_t out_row = (int64_t)a.heads * hd;
#pragma unroll
		for (int t = 0; t < HD / 8; t++) {
			int d = t * 8 + tig * 2;
			if (d >= hd) continue;
			if (valid0) *reinterpret_cast<float2 *>(a.out + i0 * out_row + (int64_t)h0 * hd + d) = make_float2(acc[t][0] / l0, acc[t][1] / l0);
			if (valid1) *reinterpret_cast<float2 *>(a.out + i1 * out_row + (int64_t)h1 * hd + d) = make_float2(acc[t][2] / l1, acc[t][3] / l1);
		}
		return;
	}

	// Partial (max in log2 units, sum, unnormalized output) per row, laid out as decode attention's.
	const int64_t stride = hd + 2;
	float *part0 = partials + ((int64_t)i0 * a.heads + h0) * kic_attn_splits * stride + sp * stride;
	float *part1 = partials + ((int64_t)i1 * a.heads + h1) * kic_attn_splits * stride + sp * stride;
	if (tig == 0) {
		if (valid0) part0[0] = m0, part0[1] = l0;
		if (valid1) part1[0] = m1, part1[1] = l1;
	}
#pragma unroll
	for (int t = 0; t < HD / 8; t++) {
		int d = t * 8 + tig * 2;
		if (d >= hd) continue;
		if (valid0) *reinterpret_cast<float2 *>(part0 + 2 + d) = make_float2(acc[t][0], acc[t][1]);
		if (valid1) *reinterpret_cast<float2 *>(part1 + 2 + d) = make_float2(acc[t][2], acc[t][3]);
	}
	// The last block of the tile to finish merges; its reads see every block's partial through the fence
	// before each arrival.
	__threadfence();
	__syncthreads();
	if (tid == 0) {
		int *counter = counters + (int64_t)blockIdx.x * gridDim.y + blockIdx.y;
		merge = atomicAdd(counter, 1) == splits - 1;
		if (merge) *counter = 0;
	}
	__syncthreads();
	if (!merge) return;
	__threadfence();
	// Each row's split weights exp2(m_s - M) / L, in shared memory (the staged queries are done with).
	float *w = reinterpret_cast<float *>(smem_raw); // [kRows][kic_attn_splits]
	if (tid < kRows) {
		int i, h;
		if (row_query(tid, i, h)) {
			const float *base = partials + ((int64_t)i * a.heads + h) * kic_attn_splits * stride;
			float M = -INFINITY, L = 0.f;
			for (int s2 = 0; s2 < splits; s2++) M = fmaxf(M, __ldcg(base + s2 * stride));
			for (int s2 = 0; s2 < splits; s2++) {
				float ms = __ldcg(base + s2 * stride);
				float ws = ms == -INFINITY ? 0.f : exp2f(ms - M);
				w[tid * kic_attn_splits + s2] = ws;
				L += ws * __ldcg(base + s2 * stride + 1);
			}
			for (int s2 = 0; s2 < splits; s2++) w[tid * kic_attn_splits + s2] /= L;
		}
	}
	__syncthreads();
	for (int e = tid; e < kRows * hd; e += kThreads) {
		int r = e / hd, d = e % hd, i, h;
		if (!row_query(r, i, h)) continue;
		const float *base = partials + ((int64_t)i * a.heads + h) * kic_attn_splits * stride + 2 + d;
		float o = 0.f;
		for (int s2 = 0; s2 < splits; s2++) o += w[r * kic_attn_splits + s2] * __ldcg(base + s2 * stride);
		a.out[(int64_t)i * a.heads * hd + (int64_t)h * hd + d] = o;
	}
}

template <int HD, int KT>
kic_status launch_tc(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters, int max_tiles,
                     cudaStream_t s) {
	constexpr size_t smem = tc_shape<HD>::smem;
	static_assert(smem >= sizeof(float) * kRows * kic_attn_splits, "the merge weights reuse the query tile");
	static bool configured = false; // the opt-in above 48 KB, once per kernel
	if (!configured) {
		KIC_CUDA(cudaFuncSetAttribute(attn_prefill_tc_kernel<HD, KT>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
		configured = true;
	}
	int group = a.heads / a.heads_kv, group_block = group < kRows ? group : kRows;
	int chunks = kic_div_up(group, group_block), qpb = kRows / group_block;
	dim3 grid(kic_div_up(a.n, qpb), a.heads_kv * chunks, 1);
	// Split only where the counters (one per tile) and the partials (rows of n * heads) have room.
	if (partials && counters && (int64_t)grid.x * grid.y <= max_tiles) grid.z = kic_attn_splits;
	attn_prefill_tc_kernel<HD, KT><<<grid, kThreads, smem, s>>>(a, kv, partials, counters, group_block, chunks);
	KIC_LAUNCHED();
	return KIC_OK;
}

template <int HD>
kic_status launch_tc_kt(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters, int max_tiles,
                        cudaStream_t s) {
	switch (kv.type) {
	case KIC_F32: return launch_tc<HD, KIC_F32>(a, kv, partials, counters, max_tiles, s);
	case KIC_F16: return launch_tc<HD, KIC_F16>(a, kv, partials, counters, max_tiles, s);
	case KIC_BF16: return launch_tc<HD, KIC_BF16>(a, kv, partials, counters, max_tiles, s);
	case KIC_Q8_0: return launch_tc<HD, KIC_Q8_0>(a, kv, partials, counters, max_tiles, s);
	default: return kic_set_error(KIC_ERR_UNSUPPORTED, "attention: KV cache type %d", kv.type);
	}
}

// The device's shared-memory opt-in limit per block (cached: one device per process).
int smem_optin() {
	static int limit = -1;
	if (limit < 0) {
		int dev = 0;
		limit = 0;
		if (cudaGetDevice(&dev) != cudaSuccess ||
		    cudaDeviceGetAttribute(&limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev) != cudaSuccess)
			limit = 0;
	}
	return limit;
}

} // namespace

kic_status launch_attn_prefill_tc(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters,
                                  int max_tiles, cudaStream_t s, bool *launched) {
	*launched = false;
	if (a.n <= 0) return KIC_OK;
	if (a.head_dim % 2 || a.head_dim > 256 || a.heads % a.heads_kv != 0) return KIC_OK;
	int hd = a.head_dim <= 32 ? 32 : a.head_dim <= 64 ? 64 : a.head_dim <= 128 ? 128 : 256;
	size_t smem = hd == 32    ? tc_shape<32>::smem
	              : hd == 64  ? tc_shape<64>::smem
	              : hd == 128 ? tc_shape<128>::smem
	                          : tc_shape<256>::smem;
	if ((int)smem > smem_optin()) return KIC_OK; // e.g. head_dim 256 on an sm_86 part: the SIMT kernel
	*launched = true;
	switch (hd) {
	case 32: return launch_tc_kt<32>(a, kv, partials, counters, max_tiles, s);
	case 64: return launch_tc_kt<64>(a, kv, partials, counters, max_tiles, s);
	case 128: return launch_tc_kt<128>(a, kv, partials, counters, max_tiles, s);
	default: return launch_tc_kt<256>(a, kv, partials, counters, max_tiles, s);
	}
}
