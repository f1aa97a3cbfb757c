#include <cooperative_groups.h>

#include "act.cuh"
#include "norm.cuh"
#include "quant_q8.cuh"
#include "rope.cuh"
#include "persistent.cuh"

namespace cg = cooperative_groups;

constexpr int kWarps = kic_persist_threads / 32;
// A lane's dims of a head (lane + 32 j): heads of up to kic_persist_max_head_dim values.
constexpr int kMaxDims = kic_persist_max_head_dim / 32;

// wt<WT> reads a weight row of type WT (fp32, fp16 or bf16) 16 bytes at a time: dot16 multiplies one 16-byte
// load's values (element 0 in the low bits of .x) by as many fp32 values of x.
template <int WT> struct wt;
template <> struct wt<KIC_F32> {
	static constexpr int per16 = 4;
	static __device__ __forceinline__ float dot16(uint4 w, const float *x, float s) {
		float4 a = *reinterpret_cast<const float4 *>(x);
		s = fmaf(__uint_as_float(w.x), a.x, s);
		s = fmaf(__uint_as_float(w.y), a.y, s);
		s = fmaf(__uint_as_float(w.z), a.z, s);
		return fmaf(__uint_as_float(w.w), a.w, s);
	}
};
// The 16-bit types: 8 values a load (bf16x8_to_float, f16x8_to_float), dotted with 8 values of x.
template <int WT> struct wt16 {
	static constexpr int per16 = 8;
	static __device__ __forceinline__ float dot16(uint4 w, const float *x, float s) {
		float v[8];
		if constexpr (WT == KIC_BF16)
			bf16x8_to_float(w, v);
		else
			f16x8_to_float(w, v);
		float4 a = *reinterpret_cast<const float4 *>(x), b = *reinterpret_cast<const float4 *>(x + 4);
		s = fmaf(v[0], a.x, s), s = fmaf(v[1], a.y, s), s = fmaf(v[2], a.z, s), s = fmaf(v[3], a.w, s);
		s = fmaf(v[4], b.x, s), s = fmaf(v[5], b.y, s), s = fmaf(v[6], b.z, s);
		return fmaf(v[7], b.w, s);
	}
};
template <> struct wt<KIC_BF16> : wt16<KIC_BF16> {};
template <> struct wt<KIC_F16> : wt16<KIC_F16> {};

// rows_dot: a warp's dot products of rows a and b (cols values of type WT each, whole 16-byte loads) with xs in
// shared memory; every lane gets both sums. Both rows' loads are in flight together.
template <int WT>
__device__ __forceinline__ float2 rows_dot(const uint8_t *ra, const uint8_t *rb, const float *xs, int cols) {
	const uint4 *a = reinterpret_cast<const uint4 *>(ra), *b = reinterpret_cast<const uint4 *>(rb);
	constexpr int k = wt<WT>::per16;
	int lane = threadIdx.x & 31;
	float s0 = 0.f, s1 = 0.f;
#pragma unroll 4
	for (int c = lane; c < cols / k; c += 32) {
		uint4 wa = __ldg(a + c), wb = __ldg(b + c);
		s0 = wt<WT>::dot16(wa, xs + k * c, s0);
		s1 = wt<WT>::dot16(wb, xs + k * c, s1);
	}
	return make_float2(warp_sum(s0), warp_sum(s1));
}

template <int WT> __device__ __forceinline__ float row_dot(const uint8_t *ra, const float *xs, int cols) {
	const uint4 *a = reinterpret_cast<const uint4 *>(ra);
	constexpr int k = wt<WT>::per16;
	int lane = threadIdx.x & 31;
	float s = 0.f;
#pragma unroll 4
	for (int c = lane; c < cols / k; c += 32) s = wt<WT>::dot16(__ldg(a + c), xs + k * c, s);
	return warp_sum(s);
}

// piece_dots: the same for R rows of a block format, a lane pieces l, l + 32, ... of each row (quant_piece.cuh:
// 16 bytes of quants and their scales, dequantized in registers, as the per-kernel path's float matvec reads
// them), two pieces a row in flight.
template <int DT, int R>
__device__ __forceinline__ void piece_dots(const uint8_t *const rows[R], const float *xs, int cols, float out[R]) {
	using P = Piece<DT>;
	static_assert(P::ok, "a block format without pieces");
	const int lane = threadIdx.x & 31, n = cols / P::QK * P::PER_BLOCK;
	float acc[R][1] = {};
#pragma unroll 2
	for (int i = lane; i < n; i += 32) {
		int blk = i / P::PER_BLOCK, p = i % P::PER_BLOCK;
		typename P::Raw raw[R];
#pragma unroll
		for (int r = 0; r < R; r++) raw[r] = P::load(rows[r] + (int64_t)blk * P::BYTES, p);
#pragma unroll
		for (int r = 0; r < R; r++) P::template dot<1, true>(raw[r], p, xs + (int64_t)blk * P::QK, cols, acc[r]);
	}
#pragma unroll
	for (int r = 0; r < R; r++) out[r] = warp_sum(acc[r][0]);
}

// q8_dots: the same on the int8 path (quant_q8.cuh, as the per-kernel path's matvec dots them): the token rounded
// to int8 blocks in shared memory (xq, quantize_shared), each piece of packed quants dotted with __dp4a. A lane
// takes pieces lane, lane + 32, ... of each row: with PER_BLOCK dividing 32 all are piece lane % PER_BLOCK of their
// blocks, 32 / PER_BLOCK blocks apart (row_dots_q8's walk, without its software pipeline).
template <int DT, int R>
__device__ __forceinline__ void q8_dots(const uint8_t *const rows[R], const kic_xq &xq, int cols, float out[R]) {
	using P = Q8<DT>;
	static_assert(P::ok && !P::SCALES && 32 % P::PER_BLOCK == 0, "a format the int8 walk does not take");
	constexpr int kStep = 32 / P::PER_BLOCK;
	const int lane = threadIdx.x & 31, first = lane / P::PER_BLOCK, n = cols / P::QK * P::PER_BLOCK;
	const uint8_t *at[R][P::PTRS];
	typename P::Lane ln[R];
#pragma unroll
	for (int r = 0; r < R; r++) {
		const uint8_t *blk = rows[r] + (int64_t)first * P::BYTES;
		ln[r] = P::lane(lane % P::PER_BLOCK, blk);
#pragma unroll
		for (int k = 0; k < P::PTRS; k++) at[r][k] = blk + ln[r].off[k];
	}
	const int8_t *q = xq.q + first * P::QK + ln[0].x0;
	const int4 *m = xq.m + first * (P::QK / 32) + ln[0].x0 / 32;
	float acc[R][1] = {};
#pragma unroll 1
	for (int i = lane; i < n; i += 32) {
		typename P::Raw raw[R];
#pragma unroll
		for (int r = 0; r < R; r++) {
			raw[r] = P::load(at[r], nullptr, ln[r]);
#pragma unroll
			for (int k = 0; k < P::PTRS; k++) at[r][k] += kStep * P::BYTES;
		}
#pragma unroll
		for (int r = 0; r < R; r++) P::template dot<1>(raw[r], ln[r], q, m, cols, acc[r]);
		q += kStep * P::QK, m += kStep * (P::QK / 32);
	}
#pragma unroll
	for (int r = 0; r < R; r++) out[r] = warp_sum(acc[r][0]);
}

// quantize_shared rounds xs's n values (a block's own, in shared memory) to the int8 blocks q8_dots reads, as the
// matvec's quantize_x rounds its token (kic_q8_store4); every thread of the block calls it.
__device__ void quantize_shared(const float *xs, int n, int8_t *q, int4 *meta) {
	const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
	for (int i = warp * 128 + 4 * lane; i - 4 * lane < n; i += nw * 128) {
		float v[4] = {0.f, 0.f, 0.f, 0.f};
		if (i < n) {
			float4 f = *reinterpret_cast<const float4 *>(xs + i);
			v[0] = f.x, v[1] = f.y, v[2] = f.z, v[3] = f.w;
		}
		kic_q8_store4(v, i, i < n, q, meta);
	}
	__syncthreads();
}

// The block formats the path reads (kic_persist_type_ok), for each dispatch switch.
#define KIC_PERSIST_PIECES(X) \
	X(KIC_Q4_0) X(KIC_Q4_1) X(KIC_Q5_0) X(KIC_Q5_1) X(KIC_Q4_K) X(KIC_Q5_K) X(KIC_Q6_K) X(KIC_IQ4_NL) X(KIC_IQ4_XS)

// The token as a stage's rows read it: xs, the floats in shared memory, and on the int8 path (int8) xq, the same
// rounded by quantize_shared.
struct stage_x {
	const float *xs;
	kic_xq xq;
	bool int8;
};

// R rows of one matrix of type t (kic_persist_type_ok's), dotted with the token: a switch a warp takes alike.
template <int R> __device__ void mixed_dots(int t, const uint8_t *const rows[R], const stage_x &x, int cols, float out[R]) {
	const float *xs = x.xs;
	if (x.int8) {
		switch (t) {
#define Q8_CASE(DT) \
	case DT: q8_dots<DT, R>(rows, x.xq, cols, out); return;
			KIC_PERSIST_PIECES(Q8_CASE)
#undef Q8_CASE
		}
	}
	switch (t) {
#define PIECE_CASE(DT) \
	case DT: piece_dots<DT, R>(rows, xs, cols, out); return;
		KIC_PERSIST_PIECES(PIECE_CASE)
#undef PIECE_CASE
	}
	if constexpr (R == 2) {
		float2 d = t == KIC_F32 ? rows_dot<KIC_F32>(rows[0], rows[1], xs, cols)
		           : t == KIC_F16 ? rows_dot<KIC_F16>(rows[0], rows[1], xs, cols)
		                          : rows_dot<KIC_BF16>(rows[0], rows[1], xs, cols);
		out[0] = d.x, out[1] = d.y;
	} else {
		out[0] = t == KIC_F32 ? row_dot<KIC_F32>(rows[0], xs, cols)
		         : t == KIC_F16 ? row_dot<KIC_F16>(rows[0], xs, cols)
		                        : row_dot<KIC_BF16>(rows[0], xs, cols);
	}
}

__device__ __forceinline__ const uint8_t *row_at(const kic_persist_mat &m, int64_t r) {
	return static_cast<const uint8_t *>(m.w) + r * m.row_bytes;
}

// dot2: row ra of ma and row rb of mb dotted with xs (cols values each). WT: every matrix of that type, the
// kernel's own; kic_persist_mixed: each matrix's type, read as it is (both rows in one pass where they share it).
template <int WT>
__device__ __forceinline__ float2 dot2(const kic_persist_mat &ma, int64_t ra, const kic_persist_mat &mb, int64_t rb,
                                       const stage_x &x, int cols) {
	const uint8_t *rows[2] = {row_at(ma, ra), row_at(mb, rb)};
	if constexpr (WT != kic_persist_mixed) {
		return rows_dot<WT>(rows[0], rows[1], x.xs, cols);
	} else {
		float out[2];
		if (ma.type == mb.type) {
			mixed_dots<2>(ma.type, rows, x, cols, out);
		} else {
			mixed_dots<1>(ma.type, rows, x, cols, out);
			mixed_dots<1>(mb.type, rows + 1, x, cols, out + 1);
		}
		return make_float2(out[0], out[1]);
	}
}

template <int WT> __device__ __forceinline__ float dot1(const kic_persist_mat &m, int64_t r, const stage_x &x, int cols) {
	const uint8_t *rows[1] = {row_at(m, r)};
	if constexpr (WT != kic_persist_mixed) {
		return row_dot<WT>(rows[0], x.xs, cols);
	} else {
		float out[1];
		mixed_dots<1>(m.type, rows, x, cols, out);
		return out[0];
	}
}

// norm_to_shared: xs = the RMS norm of x times w, or with layer the layer norm (x - mean) / sd * w + b, each block
// its own copy (norm_kernel's arithmetic: fp32 sums over a stride, combined over the block).
__device__ void norm_to_shared(bool layer, const float *x, const float *w, const float *b, int dim, float eps, float *xs,
                               float *red) {
	float2 st = kic_norm_stats(layer, x, dim, eps, red);
	float mean = st.x, scale = st.y;
	for (int c = threadIdx.x; c < dim; c += blockDim.x) {
		float v = (x[c] - mean) * scale * w[c];
		xs[c] = layer && b ? v + b[c] : v;
	}
	__syncthreads();
}

__device__ void copy_to_shared(const float *src, int n, float *xs) {
	for (int c = threadIdx.x; c < n; c += blockDim.x) xs[c] = src[c];
	__syncthreads();
}

// prefetch_l2: the grid's warps together ask L2 for the n bytes at p, a 128-byte line a lane at a time, so a
// later stage's first loads find them there (the stages between read little: the barrier waits and attention
// leave the memory system idle otherwise).
__device__ __forceinline__ void prefetch_l2(const void *p, int64_t n, int gwarp, int gwarps) {
	const char *c = static_cast<const char *>(p);
	for (int64_t off = ((int64_t)gwarp * 32 + (threadIdx.x & 31)) * 128; off < n; off += (int64_t)gwarps * 32 * 128)
		asm volatile("prefetch.global.L2 [%0];" ::"l"(c + off));
}

// kv_load4 and kv_load1 read keys and values as kv_io's loads do, but on the coherent path: stage A of this
// launch wrote the rows stage B reads, and kv_io's __ldg (the read-only cache) is only for data no thread of the
// kernel writes. Elements and alignment as kv_io's (e a multiple of 4 for kv_load4).
template <int KT> __device__ __forceinline__ float4 kv_load4(const uint8_t *p, int64_t e) {
	if constexpr (KT == KIC_F32) {
		return *reinterpret_cast<const float4 *>(reinterpret_cast<const float *>(p) + e);
	} else {
		uint2 u = *reinterpret_cast<const uint2 *>(reinterpret_cast<const uint16_t *>(p) + e);
		float2 a = kv_io<KT>::two(u.x), b = kv_io<KT>::two(u.y);
		return make_float4(a.x, a.y, b.x, b.y);
	}
}
template <int KT> __device__ __forceinline__ float kv_load1(const uint8_t *p, int64_t e) {
	if constexpr (KT == KIC_F32) {
		return reinterpret_cast<const float *>(p)[e];
	} else {
		uint16_t b = reinterpret_cast<const uint16_t *>(p)[e];
		if constexpr (KT == KIC_F16) return half_bits_to_float(b);
		else return bf16_bits_to_float(b);
	}
}

// The key chunks of a head's attention for a context of ctx keys: about one (head, chunk) unit a warp of the
// grid, at most max_chunks; every block works out the same.
__device__ __forceinline__ int chunk_keys(int ctx, int heads, int max_chunks) {
	int warps = gridDim.x * kWarps, target = warps / heads;
	int chunks = min(max(target, 1), min(max_chunks, (ctx + 31) / 32));
	return (ctx + chunks - 1) / chunks;
}

// store_pair finishes a pair of qkv rows (sec 0 q, 1 k, 2 v; elements ea and eb of head h; rows ra and rb): the
// bias, the rotation of q and k (kic_rope_cos_sin), then
// q into the q buffer and k or v into the layer's KV cache at (seq, pos).
template <int KT>
__device__ void store_pair(const kic_persist_args &a, const kic_persist_layer &L, int sec, int h, int j, int ea, int eb,
                           int ra, int rb, float2 d, int pos, int seq) {
	float x0 = d.x, x1 = d.y;
	if (L.qkv_b) x0 += L.qkv_b[ra], x1 += L.qkv_b[rb];
	if (sec < 2 && a.rope_mode != KIC_ROPE_NONE) {
		float2 r = kic_rope_cos_sin((float)pos, L.inv_freq[j], a.mscale);
		float c = r.x, s = r.y, y0 = x0 * c - x1 * s, y1 = x0 * s + x1 * c;
		x0 = y0, x1 = y1;
	}
	int hd = a.head_dim;
	if (sec == 0) {
		a.q[h * hd + ea] = x0, a.q[h * hd + eb] = x1;
		return;
	}
	int64_t off = kv_offset(L.kv, seq, pos) + (int64_t)h * hd;
	uint8_t *pool = sec == 1 ? L.kv.k : L.kv.v;
	kv_io<KT>::store1(pool, off + ea, x0);
	kv_io<KT>::store1(pool, off + eb, x1);
}

// A block's shared memory: xs (kic_persist_xs_floats floats), then on the int8 path the quants of
// xs (persist_quant_bytes: whole 16 bytes) and an int4 a 32 of them, then each warp's query head of head_dim floats.
__host__ __device__ inline int64_t persist_quant_bytes(int64_t xsf) { return (xsf + 15) & ~(int64_t)15; }
__host__ __device__ inline int64_t persist_heads_at(const kic_persist_args &a) { // in floats
	int64_t xsf = kic_persist_xs_floats(a);
	bool int8 = a.weight_type == kic_persist_mixed && a.int8;
	return xsf + (int8 ? (persist_quant_bytes(xsf) + (xsf + 31) / 32 * 16) / 4 : 0);
}

template <int WT, int KT>
__global__ void __launch_bounds__(kic_persist_threads, 1) persistent_decode_kernel(kic_persist_args a) {
	extern __shared__ __align__(16) float smem[]; // xs is read as float4s
	__shared__ float red[32];
	cg::grid_group grid = cg::this_grid();
	const int E = a.embd, hd = a.head_dim, nq = a.heads * hd, nkv = a.heads_kv * hd, F = a.ffn;
	const int64_t xsf = kic_persist_xs_floats(a);
	// xs, then (the int8 path) its quants and their blocks' int4s, then each warp's query head (persist_heads_at).
	float *xs = smem, *qs = smem + persist_heads_at(a) + (threadIdx.x >> 5) * hd;
	int8_t *x8 = reinterpret_cast<int8_t *>(smem + xsf);
	int4 *x8m = reinterpret_cast<int4 *>(x8 + persist_quant_bytes(xsf));
	const bool int8 = WT == kic_persist_mixed && a.int8;
	const stage_x sx{xs, {x8, x8m}, int8};
	// stage_in: every block's copy of a stage's token is in xs; the int8 path rounds it too.
	auto stage_in = [&](int n) {
		if (int8) quantize_shared(xs, n, x8, x8m);
	};
	const int lane = threadIdx.x & 31;
	const int gwarp = blockIdx.x * kWarps + (threadIdx.x >> 5), gwarps = gridDim.x * kWarps;
	const int pos = a.pos[0], seq = a.seq[0], ctx = pos + 1, group = a.heads / a.heads_kv;
	const int chunk = chunk_keys(ctx, a.heads, a.max_chunks), chunks = (ctx + chunk - 1) / chunk;
	const int half = hd / 2;
	for (int li = 0; li < a.layers_n; li++) {
		const kic_persist_layer &L = a.layers[li];
		const kic_kv_view &kv = L.kv;

		// A: norm, qkv rows in pairs (a rotation's two rows, or two v rows), rotated, stored.
		norm_to_shared(a.layer_norm, a.x, L.attn_norm, L.attn_norm_b, E, a.eps, xs, red);
		stage_in(E);
		for (int u = gwarp; u < (nq + 2 * nkv) / 2; u += gwarps) {
			int sec = u < nq / 2 ? 0 : u < (nq + nkv) / 2 ? 1 : 2;
			int base = sec == 0 ? 0 : sec == 1 ? nq : nq + nkv;
			int pi = u - base / 2, h = pi / half, j = pi % half;
			bool neox = sec < 2 && a.rope_mode == KIC_ROPE_NEOX;
			int ea = neox ? j : 2 * j, eb = neox ? j + half : 2 * j + 1; // elements of the head
			int ra = base + h * hd + ea, rb = base + h * hd + eb; // rows of [q; k; v] (the bias's)
			const kic_persist_mat &M = sec == 0 ? L.q : sec == 1 ? L.k : L.v;
			float2 d = dot2<WT>(M, ra - base, M, rb - base, sx, E);
			if (lane == 0) store_pair<KT>(a, L, sec, h, j, ea, eb, ra, rb, d, pos, seq);
		}
		prefetch_l2(L.o.w, E * L.o.row_bytes, gwarp, gwarps); // for C, past attention
		if (a.prefetch_mlp > 0) { // for D
			const kic_persist_mat &first = a.gated ? L.gate : L.up;
			prefetch_l2(first.w, min(a.prefetch_mlp, F * first.row_bytes), gwarp, gwarps);
		}
		grid.sync();

		// B: each (query head, key chunk): online softmax over its keys, a lane a key of each 32-key tile. A lane
		// looks up its key's block once; the value rows' offsets reach the other lanes by shuffle, and the values
		// of 8 keys are loaded before any is used, so a tile costs a few memory round trips, not 32. The head's
		// last chunk merges the head into att.
		for (int u = gwarp; u < a.heads * chunks; u += gwarps) {
			int h = u / chunks, ck = u % chunks, kvh = h / group;
			for (int d = lane; d < hd; d += 32) qs[d] = a.q[h * hd + d];
			__syncwarp();
			int p0 = ck * chunk, p1 = min(p0 + chunk, ctx);
			float m = -INFINITY, l = 0.f, acc[kMaxDims] = {};
			for (int t = p0; t < p1; t += 32) {
				int p = t + lane;
				int64_t off = p < p1 ? kv_offset(kv, seq, p) + (int64_t)kvh * hd : 0;
				float score = -INFINITY;
				if (p < p1) {
					float s = 0.f;
#pragma unroll 8
					for (int d = 0; d < hd; d += 4) {
						float4 k4 = kv_load4<KT>(kv.k, off + d);
						s += qs[d] * k4.x + qs[d + 1] * k4.y + qs[d + 2] * k4.z + qs[d + 3] * k4.w;
					}
					score = s * a.scale;
				}
				float pr = softmax_step(score, m, l, acc);
				int keys = min(32, p1 - t);
				for (int k0 = 0; k0 < keys; k0 += 8) {
					float v[8][kMaxDims], pk[8];
#pragma unroll
					for (int kk = 0; kk < 8; kk++) {
						int key = k0 + kk;
						int64_t o = __shfl_sync(0xffffffffu, off, key & 31);
						pk[kk] = __shfl_sync(0xffffffffu, pr, key & 31);
#pragma unroll
						for (int j = 0; j < kMaxDims; j++) {
							int d = lane + 32 * j;
							v[kk][j] = key < keys && d < hd ? kv_load1<KT>(kv.v, o + d) : 0.f;
						}
					}
#pragma unroll
					for (int kk = 0; kk < 8; kk++)
#pragma unroll
						for (int j = 0; j < kMaxDims; j++) acc[j] += pk[kk] * v[kk][j];
				}
			}
			float *out = a.att + h * hd;
			if (chunks == 1) { // every key in one chunk: nothing to merge
#pragma unroll
				for (int j = 0; j < kMaxDims; j++) {
					int d = lane + 32 * j;
					if (d < hd) out[d] = acc[j] / l;
				}
				__syncwarp();
				continue;
			}
			// The last chunk of the head to finish merges the head's partials into att (as decode attention's
			// last block does): the fence before each arrival makes every partial visible to it. The merger puts
			// the counter back to 0 for the next layer.
			float *part = a.partials + (int64_t)h * a.max_chunks * (hd + 2);
			attn_store_partial(part + ck * (hd + 2), m, l, acc, hd);
			__threadfence();
			__syncwarp();
			int last = 0;
			if (lane == 0) {
				last = atomicAdd(a.counters + h, 1) == chunks - 1;
				if (last) a.counters[h] = 0;
			}
			if (__shfl_sync(0xffffffffu, last, 0)) {
				__threadfence();
				attn_merge_partials<kMaxDims>(part, chunks, hd, out);
			}
			__syncwarp();
		}
		grid.sync();

		// C: the o rows onto the residual stream.
		copy_to_shared(a.att, nq, xs);
		stage_in(nq);
		for (int r = gwarp; r < E; r += gwarps) {
			float d = dot1<WT>(L.o, r, sx, nq);
			if (lane == 0) a.x[r] += L.o_b ? d + L.o_b[r] : d;
		}
		grid.sync();

		// D: norm, then act(gate) * up, the pair's two rows together; without a gate (the gpt family) act(up + b).
		norm_to_shared(a.layer_norm, a.x, L.ffn_norm, L.ffn_norm_b, E, a.eps, xs, red);
		stage_in(E);
		for (int f = gwarp; f < F; f += gwarps) {
			if (a.gated) {
				float2 d = dot2<WT>(L.gate, f, L.up, f, sx, E);
				if (lane == 0) a.ff[f] = kic_activate(a.act, d.x) * d.y;
			} else {
				float d = dot1<WT>(L.up, f, sx, E);
				if (lane == 0) a.ff[f] = kic_activate(a.act, L.up_b ? d + L.up_b[f] : d);
			}
		}
		grid.sync();

		// E: the down rows onto the residual stream.
		copy_to_shared(a.ff, F, xs);
		stage_in(F);
		for (int r = gwarp; r < E; r += gwarps) {
			float d = dot1<WT>(L.down, r, sx, F);
			if (lane == 0) a.x[r] += L.down_b ? d + L.down_b[r] : d;
		}
		if (li + 1 < a.layers_n) {
			const kic_persist_layer &N = a.layers[li + 1]; // the next A's rows
			prefetch_l2(N.q.w, nq * N.q.row_bytes, gwarp, gwarps);
			prefetch_l2(N.k.w, nkv * N.k.row_bytes, gwarp, gwarps);
			prefetch_l2(N.v.w, nkv * N.v.row_bytes, gwarp, gwarps);
			grid.sync();
		}
	}
}

size_t kic_persist_smem(const kic_persist_args &a) {
	return sizeof(float) * (persist_heads_at(a) + (int64_t)kWarps * a.head_dim);
}

// kernel_of: the instantiation for weight type wt and KV type kt, or null.
using persist_kernel = void (*)(kic_persist_args);
template <int WT> static persist_kernel kernel_kv(int kt) {
	switch (kt) {
	case KIC_F32: return persistent_decode_kernel<WT, KIC_F32>;
	case KIC_F16: return persistent_decode_kernel<WT, KIC_F16>;
	case KIC_BF16: return persistent_decode_kernel<WT, KIC_BF16>;
	default: return nullptr;
	}
}
static persist_kernel kernel_of(int wt, int kt) {
	switch (wt) {
	case KIC_F32: return kernel_kv<KIC_F32>(kt);
	case KIC_F16: return kernel_kv<KIC_F16>(kt);
	case KIC_BF16: return kernel_kv<KIC_BF16>(kt);
	case kic_persist_mixed: return kernel_kv<kic_persist_mixed>(kt);
	default: return nullptr;
	}
}

bool kic_persist_type_ok(int type, int64_t cols) {
	switch (type) {
	case KIC_F32: return cols % 4 == 0; // whole 16-byte loads (wt<>)
	case KIC_F16:
	case KIC_BF16: return cols % 8 == 0;
#define PIECE_CASE(DT) \
	case DT: return cols % Piece<DT>::QK == 0;
		KIC_PERSIST_PIECES(PIECE_CASE)
#undef PIECE_CASE
	default: return false;
	}
}

bool kic_persist_shapes_ok(const kic_persist_args &a) {
	return a.head_dim > 0 && a.head_dim <= kic_persist_max_head_dim && a.head_dim % 4 == 0 && a.heads_kv > 0 &&
	       a.heads % a.heads_kv == 0 && kernel_of(a.weight_type, a.kv_type) != nullptr;
}

kic_status kic_persist_grid(const kic_persist_args &a, int *blocks) {
	*blocks = 0;
	persist_kernel k = kernel_of(a.weight_type, a.kv_type);
	if (!k || !kic_persist_shapes_ok(a)) return KIC_OK;
	int dev = 0, sms = 0, per_sm = 0, coop = 0, optin = 0;
	KIC_CUDA(cudaGetDevice(&dev));
	KIC_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
	KIC_CUDA(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev));
	KIC_CUDA(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
	cudaFuncAttributes fa;
	KIC_CUDA(cudaFuncGetAttributes(&fa, k));
	size_t smem = kic_persist_smem(a), most = (size_t)optin - fa.sharedSizeBytes;
	// A token wider than a block's shared memory (or a device without cooperative launches) stays on the
	// per-kernel path, rather than failing kic_model_ready on the attribute below.
	if (!coop || smem > most) return KIC_OK;
	// The opt-in is the kernel's for every model in the process: set to the most, so that a model set up later
	// with narrower rows does not lower it under an earlier one's launches.
	KIC_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)most));
	KIC_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, kic_persist_threads, smem));
	*blocks = per_sm * sms;
	return KIC_OK;
}

kic_status launch_persistent_decode(const kic_persist_args &a, int blocks, cudaStream_t s) {
	persist_kernel k = kernel_of(a.weight_type, a.kv_type);
	if (blocks <= 0 || !k || !kic_persist_shapes_ok(a))
		return kic_set_error(KIC_ERR_INVALID, "persistent decode: weights %d, KV %d of shapes it does not take", a.weight_type, a.kv_type);
	cudaLaunchConfig_t cfg = {};
	cfg.gridDim = dim3(blocks), cfg.blockDim = dim3(kic_persist_threads), cfg.dynamicSmemBytes = kic_persist_smem(a);
	cfg.stream = s;
	// Cooperative: every block resident at once, which grid.sync() needs (a captured graph keeps the attribute).
	cudaLaunchAttribute attr[1];
	attr[0].id = cudaLaunchAttributeCooperative, attr[0].val.cooperative = 1;
	cfg.attrs = attr, cfg.numAttrs = 1;
	KIC_CUDA(cudaLaunchKernelEx(&cfg, k, a));
	return KIC_OK;
}
