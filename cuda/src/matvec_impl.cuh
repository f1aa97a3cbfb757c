// matvec_impl.cuh: the matvec kernels and their launchers for one weight type at a time. Each matvec_<type>.cu
// includes it and instantiates its types (KIC_MATVEC_INSTANTIATE), so the kernels' many instantiations (types x
// tokens a pass x norms x activations x paths) compile in parallel instead of in one file that took minutes;
// matvec.cu dispatches on the type at run time.
#pragma once
#include "act.cuh"
#include "norm.cuh"
#include "rope.cuh"
#include "matvec_launch.cuh"
#include "quant_q8.cuh"

// Rows (warps) per block, for dtype DT and NT tokens a pass, and 16-byte chunks per lane in flight at
// batch 1. At batch 1 whole-SM blocks measured fastest on the H100 (bf16 Llama-3.2-1B decode, 128 + 256
// tokens, greedy on the GPU: 8 warps 742-746 tok/s, 16: 772-775, 32: 791-794; 4 chunks beat 8 at every
// size), though at 32 the [gate; up] kernel spills ~170 bytes. Batches and f32 weights, which would spill
// much more (1.3 KB), keep 8. Overridable at build time (-DKIC_MATVEC_WARPS=..., -DKIC_MATVEC_UNROLL=...).
#ifndef KIC_MATVEC_WARPS
#define KIC_MATVEC_WARPS 32
#endif
#ifndef KIC_MATVEC_UNROLL
#define KIC_MATVEC_UNROLL 4
#endif
// The block formats keep more per chunk in registers (the packed words and their block's scales): at 32 warps
// (64 registers a thread) the k-quants spilled 100-200 bytes, so they run 16 warps (128 registers) at batch 1.
// The int8 path's registers are bounded as at 16 warps, Q8_0 included; it may launch fewer (kic_matvec_q8_warps).
// Its kernels that take 64 registers or fewer (most single rows at batch 1: see Q8Unroll) fit two blocks an SM.
template <int DT, int NT, bool Q8PATH = false> struct Warps {
	static constexpr int value = Q8PATH                                ? kic_matvec_q8_max_warps
	                             : NT != 1 || DT == KIC_F32            ? 8
	                             : kic_is_block_quant(DT)              ? 16
	                                                                   : KIC_MATVEC_WARPS;
};
static_assert(KIC_MATVEC_WARPS % 2 == 0, "the fused qkv kernel keeps rotation pairs in one block");
// block_rows is the rows a block of these kernels computes: Warps<...>::value, or, on the int8 path, the block's
// warps as launched (kic_matvec_q8_warps, at most Warps<...>::value, which bounds the registers).
template <int DT, int NT, bool Q8PATH> __device__ __forceinline__ int block_rows() {
	return Q8PATH ? (int)(blockDim.x >> 5) : Warps<DT, NT, Q8PATH>::value;
}
template <int DT, int NT, bool Q8PATH> static int launch_rows() {
	return Q8PATH ? kic_matvec_q8_warps : Warps<DT, NT, Q8PATH>::value;
}

// A weight chunk is 8 consecutive values of one row, fetched with one load (16 bytes for bf16/f16, 8 bytes
// plus a scale for Q8_0, two 16-byte loads for f32). Loading and converting are split so a warp can issue
// all its loads for several chunks before the first conversion waits on memory.
template <int DT> struct Chunk;
template <> struct Chunk<KIC_BF16> {
	uint4 u;
	__device__ __forceinline__ void load(const void *w, const __half *, int64_t idx) {
		u = __ldcs(reinterpret_cast<const uint4 *>((const uint16_t *)w + idx));
	}
	__device__ __forceinline__ void get(float out[8]) const { bf16x8_to_float(u, out); }
	static __device__ __forceinline__ float one(const void *w, const __half *, int64_t idx) {
		return bf16_bits_to_float(((const uint16_t *)w)[idx]);
	}
};
template <> struct Chunk<KIC_F16> {
	uint4 u;
	__device__ __forceinline__ void load(const void *w, const __half *, int64_t idx) {
		u = __ldcs(reinterpret_cast<const uint4 *>((const uint16_t *)w + idx));
	}
	__device__ __forceinline__ void get(float out[8]) const { f16x8_to_float(u, out); }
	static __device__ __forceinline__ float one(const void *w, const __half *, int64_t idx) {
		return half_bits_to_float(((const uint16_t *)w)[idx]);
	}
};
template <> struct Chunk<KIC_F32> {
	float4 a, b;
	__device__ __forceinline__ void load(const void *w, const __half *, int64_t idx) {
		const float4 *p = reinterpret_cast<const float4 *>((const float *)w + idx);
		a = __ldcs(p), b = __ldcs(p + 1);
	}
	__device__ __forceinline__ void get(float out[8]) const {
		out[0] = a.x, out[1] = a.y, out[2] = a.z, out[3] = a.w;
		out[4] = b.x, out[5] = b.y, out[6] = b.z, out[7] = b.w;
	}
	static __device__ __forceinline__ float one(const void *w, const __half *, int64_t idx) {
		return ((const float *)w)[idx];
	}
};
template <> struct Chunk<KIC_Q8_0> {
	uint2 u;
	float sc;
	__device__ __forceinline__ void load(const void *w, const __half *d, int64_t idx) {
		u = __ldcs(reinterpret_cast<const uint2 *>((const int8_t *)w + idx));
		sc = __half2float(d[idx / 32]);
	}
	__device__ __forceinline__ void get(float out[8]) const {
		const int8_t *q = reinterpret_cast<const int8_t *>(&u);
#pragma unroll
		for (int k = 0; k < 8; k++) out[k] = (float)q[k] * sc;
	}
	static __device__ __forceinline__ float one(const void *w, const __half *d, int64_t idx) {
		return (float)((const int8_t *)w)[idx] * __half2float(d[idx / 32]);
	}
};

// The block formats (quant.cuh): a chunk holds the raw words of 8 values and their scales, decoded in get.
// Rows are whole blocks, so cols % 8 == 0 and the scalar path (one) is never taken; it decodes the chunk anyway.
template <int DT> struct QuantChunk {
	using Q = Quant<DT>;
	typename Q::Raw raw;
	int j;
	__device__ __forceinline__ void load(const void *w, const __half *, int64_t idx) {
		j = (int)(idx % Q::QK);
		raw = Q::load((const uint8_t *)w + (idx / Q::QK) * Q::BYTES, j);
	}
	__device__ __forceinline__ void get(float out[8]) const { Q::convert(raw, j, out); }
	static __device__ __forceinline__ float one(const void *w, const __half *, int64_t idx) {
		float v[8];
		dequant8<DT>(w, idx & ~(int64_t)7, v);
		return v[idx & 7];
	}
};
#define CHUNK(DT) \
	template <> struct Chunk<DT> : QuantChunk<DT> {};
KIC_FOR_EACH_BLOCK_QUANT(CHUNK)
#undef CHUNK

// dot8 adds the 8 products of a weight chunk with x[c..c+7] to acc; SHARED: x is the block's normalized copy.
template <bool SHARED> __device__ __forceinline__ float dot8(const float wv[8], const float *x, float acc) {
	const float4 *xp = reinterpret_cast<const float4 *>(x);
	float4 a, b;
	if (SHARED)
		a = xp[0], b = xp[1];
	else
		a = __ldg(xp), b = __ldg(xp + 1);
	acc += wv[0] * a.x + wv[1] * a.y + wv[2] * a.z + wv[3] * a.w;
	return acc + wv[4] * b.x + wv[5] * b.y + wv[6] * b.z + wv[7] * b.w;
}

template <int DT, int R, int U>
__device__ __forceinline__ void load_chunks(Chunk<DT> ch[R][U], const void *w, const __half *scales,
                                            const int64_t bases[R], int64_t c0, int64_t cols) {
#pragma unroll
	for (int u = 0; u < U; u++) {
		int64_t c = c0 + u * 32 * 8;
		if (c < cols)
#pragma unroll
			for (int r = 0; r < R; r++) ch[r][u].load(w, scales, bases[r] + c);
	}
}

// normalize is the RMSNorm / LayerNorm of the decode token, done by every block into shared memory: the
// input is 2-32 KB that the whole grid reads from L2 at once, so this costs less than a kernel of its own
// on the critical path. The arithmetic is norm_kernel's (fp32 partial sums combined across the block).
template <int NORM>
__device__ float *normalize(const float *x, int64_t cols, const kic_matvec_norm &nrm) {
	extern __shared__ float xs[];
	__shared__ float scratch[32];
	int n = (int)cols;
	float2 st = kic_norm_stats(NORM == kNormLayer, x, n, nrm.eps, scratch);
	float mean = st.x, scale = st.y;
	for (int c = threadIdx.x; c < n; c += blockDim.x) {
		float v = (x[c] - mean) * scale * nrm.w[c];
		xs[c] = NORM == kNormLayer ? v + nrm.b[c] : v;
	}
	__syncthreads();
	return xs;
}

// row_dots computes, for R rows (R = 2 for the fused gate/up pair) and NT tokens, the dot products of the
// rows starting at bases[r] with the token rows of x, reduced across the warp (every lane gets them).
// VEC: cols % 8 == 0, so each lane takes 8-value chunks, U per row per step; the next step's chunks are
// loaded before this step's are used, and the first step's before pdl_wait(): weights never depend on the
// previous kernel, so their fetch overlaps its tail.
// row_dots_pieces is row_dots for the block formats of quant_piece.cuh: lane l takes pieces l, l + 32, ... of
// each row, U at a time, loading the next U while it works on these.
template <int DT, int R, int U> struct PieceBuf { typename Piece<DT>::Raw raw[R][U]; };

template <int DT, int R, int U>
__device__ __forceinline__ void load_pieces(PieceBuf<DT, R, U> &b, const uint8_t *const rows[R], int i0, int n) {
	using P = Piece<DT>;
#pragma unroll
	for (int u = 0; u < U; u++) {
		int i = i0 + 32 * u;
		if (i < n)
#pragma unroll
			for (int r = 0; r < R; r++) b.raw[r][u] = P::load(rows[r] + (i / P::PER_BLOCK) * P::BYTES, i % P::PER_BLOCK);
	}
}

template <int DT, int NT, int R, int U, int NORM>
__device__ __forceinline__ void row_dots_pieces(const void *w, const int64_t bases[R], int64_t cols, const float *x,
                                                const kic_matvec_norm &nrm, float acc[R][NT]) {
	using P = Piece<DT>;
	int lane = threadIdx.x & 31;
	const uint8_t *rows[R];
#pragma unroll
	for (int r = 0; r < R; r++) rows[r] = (const uint8_t *)w + bases[r] / P::QK * P::BYTES;
	int n = (int)(cols / P::QK * P::PER_BLOCK);
	PieceBuf<DT, R, U> cur;
	load_pieces<DT, R, U>(cur, rows, lane, n);
	pdl_wait();
	pdl_launch_dependents();
	if (NORM != kNormNone) x = normalize<NORM>(x, cols, nrm);
	for (int i0 = lane; i0 < n; i0 += 32 * U) {
		PieceBuf<DT, R, U> next;
		bool more = i0 + 32 * U < n;
		if (more) load_pieces<DT, R, U>(next, rows, i0 + 32 * U, n);
#pragma unroll
		for (int u = 0; u < U; u++) {
			int i = i0 + 32 * u;
			// A guard, not a break: the loop must unroll fully for cur.raw to stay in registers.
			if (i < n) {
				const float *xb = x + (int64_t)(i / P::PER_BLOCK) * P::QK;
#pragma unroll
				for (int r = 0; r < R; r++)
					P::template dot<NT, NORM != kNormNone>(cur.raw[r][u], i % P::PER_BLOCK, xb, cols, acc[r]);
			}
		}
		if (more) cur = next;
	}
}

// quantize_x rounds the NT token rows of x (cols values each, normalized first when NORM) to int8 blocks of 32 in
// shared memory, as quant_q8.cuh reads them; every thread of the block calls it. Each block does it for itself:
// x is a few KB that the whole grid reads from L2 at once, so this costs less than a kernel (and a buffer) of its
// own. A lane takes 4 values, so 8 lanes make an activation block: d = amax / 127, q = round(x * 127 / amax),
// and the sums of the quants (of the block and of its first 16) for the mins and offsets of the weight formats.
template <int NT, int NORM>
__device__ kic_xq quantize_x(const float *x, int64_t cols, const kic_matvec_norm &nrm) {
	extern __shared__ int4 xq_smem[];
	int8_t *qs = reinterpret_cast<int8_t *>(xq_smem);
	int4 *meta = reinterpret_cast<int4 *>(qs + NT * cols);
	float mean = 0.f, scale = 1.f;
	if (NORM != kNormNone) { // norm_kernel's arithmetic, as normalize does it, reading x from global memory
		__shared__ float scratch[32];
		float2 st = kic_norm_stats(NORM == kNormLayer, x, (int)cols, nrm.eps, scratch);
		mean = st.x, scale = st.y;
	}
	int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
	int64_t total = NT * cols;
	for (int64_t i = (int64_t)warp * 128 + 4 * lane; i - 4 * lane < total; i += (int64_t)nw * 128) {
		float v[4] = {0.f, 0.f, 0.f, 0.f};
		if (i < total) {
			float4 f = __ldg(reinterpret_cast<const float4 *>(x + i));
			v[0] = f.x, v[1] = f.y, v[2] = f.z, v[3] = f.w;
			if (NORM != kNormNone)
#pragma unroll
				for (int k = 0; k < 4; k++) {
					v[k] = (v[k] - mean) * scale * nrm.w[i + k];
					if (NORM == kNormLayer) v[k] += nrm.b[i + k];
				}
		}
		kic_q8_store4(v, i, i < total, qs, meta);
	}
	__syncthreads();
	return {qs, meta};
}

// row_dots_q8 is row_dots_pieces on the int8 path: lane l takes pieces l, l + 32, ... of each row, U at a time,
// loading the next ones while it dots these with the activations quantize_x left in shared memory. PER_BLOCK divides
// 32, so all of a lane's pieces are piece lane % PER_BLOCK of their blocks, 32 / PER_BLOCK blocks apart: the
// format's Lane (offsets, shifts and selectors of that piece) is made once, and the lane's pointers into the rows
// and the activations step by whole blocks, with no division or remainder per piece.
template <int DT, int R, int U> struct Q8Buf { typename Q8<DT>::Raw raw[R][U]; };

// The blocks of one step: a lane's pieces of a row are kStep blocks apart.
template <int DT> constexpr int kic_q8_step = 32 / Q8<DT>::PER_BLOCK;

template <int DT, int NT, int R, int U, int NORM>
__device__ __forceinline__ void row_dots_q8(const void *w, const __half *scales, const int64_t bases[R], int64_t cols,
                                            const float *x, const kic_matvec_norm &nrm, float acc[R][NT]) {
	using P = Q8<DT>;
	static_assert(32 % P::PER_BLOCK == 0, "a lane's pieces are the same piece of their blocks");
	constexpr int kStep = kic_q8_step<DT>;
	int lane = threadIdx.x & 31, first = lane / P::PER_BLOCK; // the lane's first block
	const uint8_t *at[R][P::PTRS];
	const __half *sblk[R];
	typename P::Lane ln[R];
#pragma unroll
	for (int r = 0; r < R; r++) {
		const uint8_t *blk = P::row(w, bases[r]) + first * P::BYTES;
		ln[r] = P::lane(lane % P::PER_BLOCK, blk);
#pragma unroll
		for (int k = 0; k < P::PTRS; k++) at[r][k] = blk + ln[r].off[k];
		sblk[r] = P::SCALES ? scales + bases[r] / P::QK + first : nullptr;
	}
	int n = (int)(cols / P::QK * P::PER_BLOCK);
	// Piece u of a step is kStep * u blocks on from the step's first.
	auto load = [&](Q8Buf<DT, R, U> &b, int u, int r) {
		const uint8_t *p[P::PTRS];
#pragma unroll
		for (int k = 0; k < P::PTRS; k++) p[k] = at[r][k] + u * kStep * P::BYTES;
		b.raw[r][u] = P::load(p, P::SCALES ? sblk[r] + u * kStep : nullptr, ln[r]);
	};
	Q8Buf<DT, R, U> buf;
#pragma unroll
	for (int u = 0; u < U; u++)
		if (lane + 32 * u < n)
#pragma unroll
			for (int r = 0; r < R; r++) load(buf, u, r);
	pdl_wait();
	pdl_launch_dependents();
	kic_xq xs = quantize_x<NT, NORM>(x, cols, nrm);
	const int8_t *xq = xs.q + first * P::QK + ln[0].x0;
	const int4 *xm = xs.m + first * (P::QK / 32) + ln[0].x0 / 32;
	// Each piece's registers are loaded with the next step's piece as soon as it is dotted: the load stays in flight
	// through the step's other dots, and one buffer holds the pieces (two, this step's and the next's, held twice
	// the registers and spilled).
	for (int i0 = lane; i0 < n; i0 += 32 * U) {
#pragma unroll
		for (int r = 0; r < R; r++) {
#pragma unroll
			for (int k = 0; k < P::PTRS; k++) at[r][k] += U * kStep * P::BYTES;
			if (P::SCALES) sblk[r] += U * kStep;
		}
#pragma unroll
		for (int u = 0; u < U; u++) {
			if (i0 + 32 * u >= n) continue; // not a break: the loop must unroll for buf to stay in registers
#pragma unroll
			for (int r = 0; r < R; r++) {
				P::template dot<NT>(buf.raw[r][u], ln[r], xq + u * kStep * P::QK, xm + u * kStep * (P::QK / 32), cols, acc[r]);
				if (i0 + 32 * (U + u) < n) load(buf, u, r);
			}
		}
		xq += U * kStep * P::QK, xm += U * kStep * (P::QK / 32);
	}
}

template <int DT, int NT, int R, int U, bool VEC, int NORM, bool Q8PATH>
__device__ __forceinline__ void row_dots(const void *w, const __half *scales, const int64_t bases[R], int64_t cols,
                                         const float *x, const kic_matvec_norm &nrm, float acc[R][NT]) {
	int lane = threadIdx.x & 31;
#pragma unroll
	for (int r = 0; r < R; r++)
#pragma unroll
		for (int t = 0; t < NT; t++) acc[r][t] = 0.f;
	// The gate/up pair at 8 tokens keeps 16 token sums and two rows of pieces: ptxas gave up and put the
	// kernel's arrays on the stack (2.4 KB), so that one stays on the 8-value chunks.
	if constexpr (Q8PATH) {
		row_dots_q8<DT, NT, R, U, NORM>(w, scales, bases, cols, x, nrm, acc);
	} else if constexpr (Piece<DT>::ok && NT * R <= 8) {
		row_dots_pieces<DT, NT, R, U, NORM>(w, bases, cols, x, nrm, acc);
	} else if (VEC) {
		constexpr int kStep = 32 * 8 * U;
		Chunk<DT> cur[R][U];
		load_chunks<DT, R, U>(cur, w, scales, bases, lane * 8, cols);
		pdl_wait();
		pdl_launch_dependents();
		if (NORM != kNormNone) x = normalize<NORM>(x, cols, nrm);
		for (int64_t c0 = lane * 8; c0 < cols; c0 += kStep) {
			Chunk<DT> next[R][U];
			bool more = c0 + kStep < cols;
			if (more) load_chunks<DT, R, U>(next, w, scales, bases, c0 + kStep, cols);
#pragma unroll
			for (int u = 0; u < U; u++) {
				int64_t c = c0 + u * 32 * 8;
				if (c >= cols) break;
#pragma unroll
				for (int r = 0; r < R; r++) {
					float wv[8];
					cur[r][u].get(wv);
#pragma unroll
					for (int t = 0; t < NT; t++) acc[r][t] = dot8<NORM != kNormNone>(wv, x + t * cols + c, acc[r][t]);
				}
			}
			if (more)
#pragma unroll
				for (int u = 0; u < U; u++)
#pragma unroll
					for (int r = 0; r < R; r++) cur[r][u] = next[r][u];
		}
	} else {
		pdl_wait();
		pdl_launch_dependents();
		for (int64_t c = lane; c < cols; c += 32)
#pragma unroll
			for (int r = 0; r < R; r++) {
				float wv = Chunk<DT>::one(w, scales, bases[r] + c);
#pragma unroll
				for (int t = 0; t < NT; t++) acc[r][t] += wv * x[t * cols + c];
			}
	}
#pragma unroll
	for (int r = 0; r < R; r++)
#pragma unroll
		for (int t = 0; t < NT; t++) acc[r][t] = warp_sum(acc[r][t]);
}

// One warp per output row, Warps<DT, NT, Q8PATH> rows per block. ACT kActFn: the activation act after the bias
// (the GPT family's MLP up projection).
template <int DT, int NT, int U, bool VEC, int ACT, int NORM, bool Q8PATH>
__global__ void __launch_bounds__(Warps<DT, NT, Q8PATH>::value * 32)
    matvec_kernel(const void *w, const __half *scales, int64_t rows, int64_t cols, const float *x, const float *bias,
                  int accumulate, float *y, kic_matvec_norm nrm, int act) {
	int64_t row = (int64_t)blockIdx.x * block_rows<DT, NT, Q8PATH>() + (threadIdx.x >> 5);
	int64_t base[1] = {(row < rows ? row : rows - 1) * cols}; // a spare warp reads a valid row and stores nothing
	float acc[1][NT];
	row_dots<DT, NT, 1, U, VEC, NORM, Q8PATH>(w, scales, base, cols, x, nrm, acc);
	if (row >= rows) return;
	int lane = threadIdx.x & 31;
#pragma unroll
	for (int t = 0; t < NT; t++) {
		if (lane != t % 32) continue; // spread the stores over lanes
		float v = acc[0][t];
		if (bias) v += bias[row];
		if (ACT == kActFn) v = kic_activate(act, v);
		float *out = y + t * rows + row;
		*out = accumulate ? *out + v : v;
	}
}

// The fused GLU projection: W holds [gate; up] (2*half rows); row r of the output is
// act(gate_r . x) * (up_r . x), computed as the CPU engine does (SwiGLU: g / (1 + exp(-g)) * u).
template <int DT, int NT, int U, bool VEC, int NORM, bool Q8PATH>
__global__ void __launch_bounds__(Warps<DT, NT, Q8PATH>::value * 32)
    matvec_glu_kernel(const void *w, const __half *scales, int64_t half, int64_t cols, const float *x, float *y,
                      kic_matvec_norm nrm, int act) {
	int64_t row = (int64_t)blockIdx.x * block_rows<DT, NT, Q8PATH>() + (threadIdx.x >> 5);
	int64_t r = row < half ? row : half - 1;
	int64_t base[2] = {r * cols, (r + half) * cols};
	float acc[2][NT];
	row_dots<DT, NT, 2, U, VEC, NORM, Q8PATH>(w, scales, base, cols, x, nrm, acc);
	if (row >= half) return;
	int lane = threadIdx.x & 31;
#pragma unroll
	for (int t = 0; t < NT; t++) {
		if (lane != t % 32) continue;
		y[t * half + row] = kic_activate(act, acc[0][t]) * acc[1][t];
	}
}

// Batch 1 keeps 2 x 4 chunks (2 x 1024 bf16 values) of a row in flight per warp; batches of tokens reuse
// each chunk NT times, so fewer chunks hide the latency and keep the registers in check.
template <int NT> struct Unroll { static constexpr int value = NT == 1 ? KIC_MATVEC_UNROLL : 2; };

// The int8 path's pieces a step for R rows a warp. row_dots_q8 refills each piece's registers once it is dotted, so
// U * R - 1 pieces are in flight, and the registers grow with U. What decided the speed at batch 1 on the H200
// (kernel benchmark, 16 warps a block, U from 1 to 6) was mostly that: at 64 registers or fewer two blocks (32
// warps) fit an SM, one above. Single rows: U = 2 (Q4_K 58 registers, 42.6% of copy on 8B down where 3 to 6 gave
// 32-34%; Q5_K 64, 57.6% against 43.5%; Q8_0 54), Q6_K U = 1 (61 registers: 53.7% against 40-41%), IQ4_NL 3 and
// IQ4_XS 5 (by 2-5%). The gate/up pair: U = 1 (Q4_K 47.0% against 43.0% at 3; Q8_0 90.8% against 81.0% at 2),
// Q5_K 2 (50.9% against 48.0% at 1); Q6_K and the 32-value formats' pairs were not measured (U = 1, as Q8_0's).
// Batches of 2 keep one slot more than the float path's chunks in flight (not measured). The buffer is held to
// ~48 registers (Q6_K's pair at batch 2 spilled with 2 pieces a row on sm_80). KIC_MATVEC_Q8_U1 / KIC_MATVEC_Q8_U2
// set U at batch 1 (single rows / the pair), to measure others.
template <int DT, bool OK = Q8<DT>::ok> struct Q8Words {
	static constexpr int value = sizeof(typename Q8<DT>::Raw) / 4;
};
template <int DT> struct Q8Words<DT, false> { static constexpr int value = 1; }; // (no int8 path)
constexpr int kic_q8_units(int dt, int r) {
	return r == 1 ? (dt == KIC_Q6_K ? 1 : dt == KIC_IQ4_NL ? 3 : dt == KIC_IQ4_XS ? 5 : 2) : (dt == KIC_Q5_K ? 2 : 1);
}
template <int DT, int NT, int R> struct Q8Unroll {
#if defined(KIC_MATVEC_Q8_U1) && defined(KIC_MATVEC_Q8_U2)
	static constexpr int batch1 = R == 1 ? KIC_MATVEC_Q8_U1 : KIC_MATVEC_Q8_U2;
#else
	static constexpr int batch1 = kic_q8_units(DT, R);
#endif
	static constexpr int want = NT == 1 ? batch1 : (Unroll<NT>::value + R) / R;
	static constexpr int fit = 48 / (R * Q8Words<DT>::value);
	static constexpr int value = want < fit ? want : fit > 1 ? fit : 1;
};

// The fused [q; k; v] step (see kic_qkv_store). Slot s of the grid computes row row_of(s): for rows in the
// rotated part of a q or k head, the two rows of pair j sit in slots 2j and 2j + 1 of the head; heads start
// at even slots (head_dim is even) and blocks at multiples of Warps<DT, 1> (even), so a pair is never split.
template <int DT, int U, int NORM, bool Q8PATH>
__global__ void __launch_bounds__(Warps<DT, 1, Q8PATH>::value * 32)
    matvec_qkv_kernel(const void *w, const __half *scales, int64_t rows, int64_t cols, const float *x, const float *bias,
                      float *y, kic_matvec_norm nrm, kic_qkv_store st) {
	constexpr int kWarps = Warps<DT, 1, Q8PATH>::value;
	__shared__ float vals[kWarps];
	int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, hd = st.head_dim;
	int64_t slot = (int64_t)blockIdx.x * block_rows<DT, 1, Q8PATH>() + warp, row = slot;
	bool rotate = false;
	int pair = 0;
	if (st.rope_mode != KIC_ROPE_NONE && slot < st.nq + st.nkv && slot % hd < st.rope_dim) {
		int local = (int)(slot % hd);
		rotate = true, pair = local / 2;
		if (st.rope_mode == KIC_ROPE_NEOX) row = slot - local + pair + (local & 1) * (st.rope_dim / 2);
	}
	// Inputs the host wrote before the step (not an earlier kernel), so they may be read before pdl_wait,
	// and their loads overlap the weights'.
	float p = (float)st.pos[0];
	float freq = rotate ? st.inv_freq[pair] : 0.f;
	int64_t cache = row >= st.nq ? kv_offset(st.kv, st.seq[0], st.pos[0]) : 0;
	int64_t base[1] = {(row < rows ? row : rows - 1) * cols};
	float acc[1][1];
	row_dots<DT, 1, 1, U, true, NORM, Q8PATH>(w, scales, base, cols, x, nrm, acc);
	float v = acc[0][0];
	if (row < rows && bias) v += bias[row];
	if (lane == 0) vals[warp] = v;
	__syncthreads();
	if (row >= rows || lane != 0) return;
	if (rotate) { // as rope_rotate: x0 is the pair's first row, x1 its second
		float2 r = kic_rope_cos_sin(p, freq, st.mscale);
		float cs = r.x, sn = r.y, x0 = vals[warp & ~1], x1 = vals[warp | 1];
		v = warp & 1 ? x0 * sn + x1 * cs : x0 * cs - x1 * sn;
	}
	y[row] = v;
	if (row >= st.nq + st.nkv) kv_store1(st.kv, st.kv.v, cache + row - st.nq - st.nkv, v);
	else if (row >= st.nq) kv_store1(st.kv, st.kv.k, cache + row - st.nq, v);
}

template <int DT, int NORM, bool Q8PATH>
static kic_status launch_qkv_path(const kic_mat &w, const float *x, const float *bias, float *y, const kic_matvec_norm &nrm,
                                  const kic_qkv_store &st, cudaStream_t s) {
	int warps = launch_rows<DT, 1, Q8PATH>();
	size_t smem = Q8PATH ? (size_t)kic_xq_bytes(1, w.cols) : sizeof(float) * w.cols;
	constexpr int U = Q8PATH ? Q8Unroll<DT, 1, 1>::value : Unroll<1>::value;
	return kic_launch(matvec_qkv_kernel<DT, U, NORM, Q8PATH>, dim3(kic_div_up(w.rows, warps)),
	                  dim3(warps * 32), smem, s, (const void *)w.data, (const __half *)w.scales, w.rows, w.cols, x, bias,
	                  y, nrm, st);
}

template <int DT, int NORM>
kic_status launch_qkv_dt(const kic_mat &w, const float *x, const float *bias, float *y, const kic_matvec_norm &nrm,
                                const kic_qkv_store &st, cudaStream_t s) {
	if constexpr (kic_q8_type(DT))
		if (kic_matvec_use_int8(DT, 1, w.cols)) return launch_qkv_path<DT, NORM, true>(w, x, bias, y, nrm, st, s);
	return launch_qkv_path<DT, NORM, false>(w, x, bias, y, nrm, st, s);
}


// kind is kActNone, kActFn or kActGLU; act the kic_act of the latter two.
template <int DT, int NT, int U, bool VEC, int NORM, bool Q8PATH = false>
static kic_status launch_kernel(const kic_mat &w, const float *x, const float *bias, bool acc, float *y, int kind,
                                int act, const kic_matvec_norm &nrm, cudaStream_t s) {
	int64_t out_rows = kind == kActGLU ? w.rows / 2 : w.rows;
	int warps = launch_rows<DT, NT, Q8PATH>();
	dim3 grid(kic_div_up(out_rows, warps)), block(warps * 32);
	size_t smem = Q8PATH ? (size_t)kic_xq_bytes(NT, w.cols) : NORM == kNormNone ? 0 : sizeof(float) * w.cols;
	const void *d = w.data;
	const __half *sc = w.scales;
	int a = acc ? 1 : 0;
	switch (kind) {
	case kActGLU:
		return kic_launch(matvec_glu_kernel<DT, NT, U, VEC, NORM, Q8PATH>, grid, block, smem, s, d, sc, out_rows, w.cols, x, y,
		                  nrm, act);
	case kActFn:
		return kic_launch(matvec_kernel<DT, NT, U, VEC, kActFn, NORM, Q8PATH>, grid, block, smem, s, d, sc, w.rows, w.cols, x,
		                  bias, a, y, nrm, act);
	default:
		return kic_launch(matvec_kernel<DT, NT, U, VEC, kActNone, NORM, Q8PATH>, grid, block, smem, s, d, sc, w.rows, w.cols, x,
		                  bias, a, y, nrm, act);
	}
}

template <int DT, int NT>
static kic_status launch_dt_nt(const kic_mat &w, const float *x, const float *bias, bool acc, float *y, int kind,
                               int act, const kic_matvec_norm *nrm, cudaStream_t s) {
	constexpr int U = Unroll<NT>::value;
	kic_matvec_norm none;
	if (w.cols % 8) return launch_kernel<DT, NT, 1, false, kNormNone>(w, x, bias, acc, y, kind, act, none, s);
	// The fused norm is built for single-token steps only (one row of x in shared memory).
	// The gate/up pair reads two rows per warp: half the chunks per row keep the same bytes in flight.
	constexpr int UG = U > 1 ? U / 2 : 1;
	if constexpr (kic_q8_type(DT) && NT <= kic_matvec_int8_max_tokens) {
		if (kic_matvec_use_int8(DT, NT, w.cols)) {
			constexpr int QU = Q8Unroll<DT, NT, 1>::value, QG = Q8Unroll<DT, NT, 2>::value;
			if (kind == kActGLU) {
				if (NT == 1 && nrm && nrm->b)
					return launch_kernel<DT, 1, QG, true, kNormLayer, true>(w, x, bias, acc, y, kind, act, *nrm, s);
				if (NT == 1 && nrm) return launch_kernel<DT, 1, QG, true, kNormRMS, true>(w, x, bias, acc, y, kind, act, *nrm, s);
				return launch_kernel<DT, NT, QG, true, kNormNone, true>(w, x, bias, acc, y, kind, act, none, s);
			}
			if (NT == 1 && nrm && nrm->b) return launch_kernel<DT, 1, QU, true, kNormLayer, true>(w, x, bias, acc, y, kind, act, *nrm, s);
			if (NT == 1 && nrm) return launch_kernel<DT, 1, QU, true, kNormRMS, true>(w, x, bias, acc, y, kind, act, *nrm, s);
			return launch_kernel<DT, NT, QU, true, kNormNone, true>(w, x, bias, acc, y, kind, act, none, s);
		}
	}
	if (kind == kActGLU) {
		if (NT == 1 && nrm && nrm->b) return launch_kernel<DT, 1, UG, true, kNormLayer>(w, x, bias, acc, y, kind, act, *nrm, s);
		if (NT == 1 && nrm) return launch_kernel<DT, 1, UG, true, kNormRMS>(w, x, bias, acc, y, kind, act, *nrm, s);
		return launch_kernel<DT, NT, UG, true, kNormNone>(w, x, bias, acc, y, kind, act, none, s);
	}
	if (NT == 1 && nrm && nrm->b) return launch_kernel<DT, 1, U, true, kNormLayer>(w, x, bias, acc, y, kind, act, *nrm, s);
	if (NT == 1 && nrm) return launch_kernel<DT, 1, U, true, kNormRMS>(w, x, bias, acc, y, kind, act, *nrm, s);
	return launch_kernel<DT, NT, U, true, kNormNone>(w, x, bias, acc, y, kind, act, none, s);
}

template <int DT>
kic_status launch_dt(const kic_mat &w, const float *x, int nt, const float *bias, bool acc, float *y, int kind,
                            int act, const kic_matvec_norm *nrm, cudaStream_t s) {
	switch (nt) {
	case 1: return launch_dt_nt<DT, 1>(w, x, bias, acc, y, kind, act, nrm, s);
	case 2: return launch_dt_nt<DT, 2>(w, x, bias, acc, y, kind, act, nullptr, s);
	case 4: return launch_dt_nt<DT, 4>(w, x, bias, acc, y, kind, act, nullptr, s);
	default: return launch_dt_nt<DT, 8>(w, x, bias, acc, y, kind, act, nullptr, s);
	}
}

// KIC_MATVEC_INSTANTIATE(DT) emits the launchers matvec.cu dispatches to for weight type DT.
#define KIC_MATVEC_INSTANTIATE(DT) \
	template kic_status launch_dt<DT>(const kic_mat &, const float *, int, const float *, bool, float *, int, int, \
	                                  const kic_matvec_norm *, cudaStream_t); \
	template kic_status launch_qkv_dt<DT, kNormRMS>(const kic_mat &, const float *, const float *, float *, \
	                                                const kic_matvec_norm &, const kic_qkv_store &, cudaStream_t); \
	template kic_status launch_qkv_dt<DT, kNormLayer>(const kic_mat &, const float *, const float *, float *, \
	                                                  const kic_matvec_norm &, const kic_qkv_store &, cudaStream_t);
