// quant_q8.cuh: the block formats dotted with int8 activations, as llama.cpp's MMVQ does (vecdotq.cuh).
//
// The float path (quant_piece.cuh) turns every packed weight into a float and does one FMA per value: at batch 1
// that is more arithmetic than an H200 can issue at its memory bandwidth, so the kernels are ALU-bound. Here the
// decode token x is rounded once per kernel block to int8 in blocks of 32 values (q8_1-like: scale d = amax/127,
// q = round(x/d)), and each 16-byte piece of packed quants is dotted with __dp4a, four byte products a
// instruction, in exact integer arithmetic; the block's scales (and mins, through the activation block's sums of
// quants) are applied once per run of 16 values:
//   sum_k (dw*q_k - m) * dx*qx_k  =  dx * (dw * sum_k q_k qx_k  -  m * sum_k qx_k).
// The result is the dequantized weights times the int8-rounded activations (to fp32 rounding of the few
// products of scales); the rounding of x adds a relative error of about 0.4% of a dot product's magnitude, the
// error llama.cpp's own decode carries.
//
// Activations, as the matvec kernel leaves them in shared memory (kic_xq): the quants of NT token rows of cols
// values (token t's at q + t*cols), then one int4 per 32 values: {d (float bits), sum of the 32 quants, sum of the
// first 16, 0}. A run of 16 values takes its sum from them: the first 16's, or the whole minus those.
//
// Q8<DT>: ok; QK values and BYTES bytes a block, PER_BLOCK pieces a block; SCALES: the scales are an array of their
// own (Q8_0). row(w, base) the row whose first value is element base. A lane of row_dots_q8 takes pieces lane,
// lane + 32, ...: with PER_BLOCK dividing 32 every one of them is piece lane % PER_BLOCK of its block, so what
// depends on the piece's place in the block alone (its offsets, the shifts, masks and byte selectors that unpack
// its scales) is worked out once a lane, before the loop, and kept in a Lane: lane(p, blk) (blk: the row's block
// of the lane's first piece; only Q6_K reads it, for the alignment all its blocks share), with x0 the piece's
// first value in its block and off[PTRS] the bytes of the block that load reads from: the row keeps a pointer to
// each, so a load's addresses are those pointers plus constants. load(at, sblk, ln) the raw words of the piece
// (at[k]: its block + off[k]; sblk: Q8_0's scale of the block), kept as loaded: what the words need before the
// dot waits for them, so it belongs in dot; dot<NT>(raw, ln, xq, xm, cols, acc) adds their products with NT token
// rows (xq, xm: the quant of the piece's first value, the int4 of its activation block).
#pragma once
#include "quant_piece.cuh"

struct kic_xq {
	const int8_t *q;
	const int4 *m;
};

// Bytes of shared memory the activations of nt token rows of cols values take.
__host__ __device__ constexpr int64_t kic_xq_bytes(int nt, int64_t cols) { return nt * cols + nt * cols / 32 * 16; }

// kic_q8_store4 rounds a lane's 4 activation values v (values i..i+3; 8 lanes make a block of 32) to int8 at qs + i
// with their block's scale d = amax / 127, q = round(x * 127 / amax); the block's first lane stores its int4 {d,
// sum of the 32 quants, sum of the first 16} at meta[i / 32]. Every lane of the warp calls it (shuffles); a lane
// stores only where valid (i inside the row). The matvec's quantize_x and the persistent path round alike.
__device__ __forceinline__ void kic_q8_store4(const float v[4], int64_t i, bool valid, int8_t *qs, int4 *meta) {
	float amax = fmaxf(fmaxf(fabsf(v[0]), fabsf(v[1])), fmaxf(fabsf(v[2]), fabsf(v[3])));
#pragma unroll
	for (int o = 1; o < 8; o <<= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
	float id = amax > 0.f ? 127.f / amax : 0.f;
	int q[4];
#pragma unroll
	for (int k = 0; k < 4; k++) q[k] = __float2int_rn(v[k] * id);
	int half = (q[0] + q[1]) + (q[2] + q[3]);
	half += __shfl_xor_sync(0xffffffffu, half, 1);
	half += __shfl_xor_sync(0xffffffffu, half, 2); // lanes 0-3 of the 8: the first 16 values' sum
	int all = half + __shfl_xor_sync(0xffffffffu, half, 4);
	if (valid) {
		*reinterpret_cast<uint32_t *>(qs + i) = (uint32_t)(q[0] & 0xff) | (uint32_t)(q[1] & 0xff) << 8 |
		                                        (uint32_t)(q[2] & 0xff) << 16 | (uint32_t)(q[3] & 0xff) << 24;
		if ((threadIdx.x & 7) == 0) meta[i / 32] = make_int4(__float_as_int(amax / 127.f), all, half, 0);
	}
}

// kic_dot16 is the exact dot of 16 weight bytes (4 words, signed, or unsigned below 128) with 16 int8 quants;
// acc is added to the sum (one chain of __dp4a for 32 values).
__device__ __forceinline__ int kic_dot16(const uint32_t w[4], const int4 &x, int acc = 0) {
	return __dp4a((int)w[3], x.w, __dp4a((int)w[2], x.z, __dp4a((int)w[1], x.y, __dp4a((int)w[0], x.x, acc))));
}

// kic_dp4a_us is __dp4a of unsigned weight bytes (0..255) with signed quants (PTX's dp4a.u32.s32, which __dp4a does
// not offer), kic_dot16u kic_dot16 of such bytes: a high nibble is dotted in place, as 16 times its value
// (w & 0xF0F0F0F0), a mask where the shifted nibble took a shift and a mask a word.
__device__ __forceinline__ int kic_dp4a_us(uint32_t a, int b, int c) {
	int d;
	asm("dp4a.u32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
	return d;
}
__device__ __forceinline__ int kic_dot16u(const uint32_t w[4], const int4 &x, int acc = 0) {
	return kic_dp4a_us(w[3], x.w, kic_dp4a_us(w[2], x.z, kic_dp4a_us(w[1], x.y, kic_dp4a_us(w[0], x.x, acc))));
}

__device__ __forceinline__ int4 kic_xq16(const int8_t *q) { return *reinterpret_cast<const int4 *>(q); }

// The sum of the quants of run h (0: values 0..15 of the block, 1: 16..31).
__device__ __forceinline__ int kic_run_sum(const int4 &m, int h) { return h ? m.y - m.z : m.z; }

// kic_perm is __byte_perm (selector nibbles 0..7 only), also on the host, where the scale unpacking below is checked.
__host__ __device__ __forceinline__ uint32_t kic_perm(uint32_t a, uint32_t b, uint32_t s) {
#ifdef __CUDA_ARCH__
	return __byte_perm(a, b, s);
#else
	uint64_t x = (uint64_t)b << 32 | a;
	uint32_t r = 0;
	for (int i = 0; i < 4; i++) r |= (uint32_t)(x >> 8 * ((s >> 4 * i) & 7) & 0xff) << 8 * i;
	return r;
#endif
}

// kic_lane_const is v, made once: a lane's constants are cheap selects of literals, which the compiler otherwise
// moves into the loop and redoes for every piece (an empty asm it cannot see through nor move keeps them out).
__host__ __device__ __forceinline__ uint32_t kic_lane_const(uint32_t v) {
#ifdef __CUDA_ARCH__
	asm volatile("" : "+r"(v));
#endif
	return v;
}

// The 6-bit scales and mins of sub-blocks 2g and 2g + 1 of a Q4_K/Q5_K block (ggml's get_scale_min_k4), for a g
// that is fixed per lane. For g < 2 they are the low 6 bits of scale bytes 2g, 2g + 1 (scales) and 2g + 4, 2g + 5
// (mins); for g >= 2, the nibbles of bytes 2g + 4, 2g + 5 (low: scales, high: mins) under the top 2 bits of bytes
// 2g - 4, 2g - 3 (scales) and 2g, 2g + 1 (mins). Those top bits sit where g - 2's values do, so one byte permute
// gathers the values (g < 2) or the top bits (g >= 2), a second the nibbles (nothing for g < 2), and a shift and a
// mask fixed per g finish either case: no branch, and kic_scale_min_k4's byte selects are gone from the loop.
struct kic_k4_lane {
	uint32_t sel_top, sel_nib, shift, mask;
};
__host__ __device__ __forceinline__ kic_k4_lane kic_k4_lane_of(int g) {
	bool odd = g & 1, top = g >= 2;
	return {kic_lane_const(odd ? 0x7632u : 0x5410u), kic_lane_const(top ? (odd ? 0x4432u : 0x4410u) : 0x4444u),
	        kic_lane_const(top ? 2u : 0u), kic_lane_const(top ? 0x30303030u : 0x3F3F3F3Fu)};
}
// s0, s1, s2: the 12 scale bytes (bytes 4..15 of the block) as words. Returns the bytes sc(2g), sc(2g + 1), m(2g),
// m(2g + 1).
__host__ __device__ __forceinline__ uint32_t kic_k4_scales(uint32_t s0, uint32_t s1, uint32_t s2,
                                                           const kic_k4_lane &k) {
	uint32_t top = kic_perm(s0, s1, k.sel_top), nib = kic_perm(s2, 0, k.sel_nib); // nib: bytes 2g + 4, 2g + 5, 0, 0
	return ((nib | nib << 12) & 0x0F0F0F0Fu) | ((top >> k.shift) & k.mask);
}

// kic_scale_f is d * byte k of w (0..255) rounded once, as d * (float)byte: 2^23 + byte comes from a byte permute
// (as kic_qf), and fmaf(2^23 + byte, d, -2^23 d) is exactly byte * d before its one rounding (md: -2^23 d, exact).
// kic_scale_f16 is the same product over 16 (exact: a power of two), from 2^19 + byte / 16 and md / 16. The
// exponent word is the permute's first operand, which is a register, so that its selector can be the immediate.
__device__ __forceinline__ float kic_scale_f(uint32_t w, int k, float d, float md) {
	return fmaf(__int_as_float(__byte_perm(0x4B000000u, w, 0x3214 + k)), d, md);
}
__device__ __forceinline__ float kic_scale_f16(uint32_t w, int k, float d, float md16) {
	return fmaf(__int_as_float(__byte_perm(0x49000000u, w, 0x3214 + k)), d, md16);
}

template <int DT> struct Q8 { static constexpr bool ok = false; };

// The formats of quant_piece.cuh: their rows, pieces and loads. Piece p's activations start at 32p (the 32-value
// formats have one piece, IQ4_XS's pieces are its sub-blocks); Q5_K and Q6_K have their own Lane.
template <int DT> struct Q8Piece {
	static constexpr bool ok = true, SCALES = false;
	using P = Piece<DT>;
	using Raw = typename P::Raw;
	static constexpr int QK = P::QK, BYTES = P::BYTES, PER_BLOCK = P::PER_BLOCK, PTRS = 1;
	struct Lane {
		int p, x0, off[PTRS];
	};
	static __device__ __forceinline__ Lane lane(int p, const uint8_t *) { return {p, 32 * p, {0}}; }
	static __device__ __forceinline__ const uint8_t *row(const void *w, int64_t base) {
		return (const uint8_t *)w + base / QK * BYTES;
	}
	static __device__ __forceinline__ Raw load(const uint8_t *const at[PTRS], const __half *, const Lane &ln) {
		return P::load(at[0], ln.p);
	}
};

// Q4_K takes a pair of pieces a unit: the 32 bytes of quants of sub-blocks 2g and 2g + 1 (values 64g..64g + 63),
// which share the 16-byte head. A lane then has 32 bytes of quants in flight per unit, as Q8_0 has, instead of
// 16 (at 16 warps an SM, a piece a lane left too few bytes in flight to cover the memory latency: Q4_K ran at
// 36% of copy bandwidth where Q8_0 ran at 82%), unpacks the pair's scales once rather than once a piece, and
// applies each sub-block's scale and min to a whole activation block, whose sum is kept with its quants.
template <> struct Q8<KIC_Q4_K> {
	static constexpr bool ok = true, SCALES = false;
	static constexpr int QK = 256, BYTES = 144, PER_BLOCK = 4, PTRS = 2;
	struct Raw { uint4 q0, q1, head; };
	struct Lane {
		int x0, off[PTRS]; // the head, the unit's quants
		kic_k4_lane k4;
	};
	static __device__ __forceinline__ Lane lane(int g, const uint8_t *) {
		return {64 * g, {0, 16 + 32 * g}, kic_k4_lane_of(g)};
	}
	static __device__ __forceinline__ const uint8_t *row(const void *w, int64_t base) {
		return (const uint8_t *)w + base / QK * BYTES;
	}
	static __device__ __forceinline__ Raw load(const uint8_t *const at[PTRS], const __half *, const Lane &) {
		const uint4 *q = reinterpret_cast<const uint4 *>(at[1]);
		return {__ldcs(q), __ldcs(q + 1), __ldg(reinterpret_cast<const uint4 *>(at[0]))};
	}
	// Unit g: q0's low nibbles are values 64g + k, q1's 64g + 16 + k (sub-block 2g, activation block 2g), their
	// high nibbles 32 further (sub-block 2g + 1), dotted in place: sb is 16 times their dot, and ds1 a 16th of
	// d * scale, so ds1 * sb is the same float as with the nibbles shifted down.
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, const Lane &ln, const int8_t *xq, const int4 *xm,
	                                           int64_t cols, float acc[NT]) {
		const uint32_t q[8] = {r.q0.x, r.q0.y, r.q0.z, r.q0.w, r.q1.x, r.q1.y, r.q1.z, r.q1.w};
		uint32_t lo0[4], lo1[4], hi0[4], hi1[4];
#pragma unroll
		for (int k = 0; k < 4; k++) {
			lo0[k] = q[k] & 0x0F0F0F0Fu, hi0[k] = q[k] & 0xF0F0F0F0u;
			lo1[k] = q[4 + k] & 0x0F0F0F0Fu, hi1[k] = q[4 + k] & 0xF0F0F0F0u;
		}
		uint32_t sm = kic_k4_scales(r.head.y, r.head.z, r.head.w, ln.k4);
		float d = kic_half(r.head.x), dm = kic_half(r.head.x >> 16), md = -kic_magic * d, mdm = -kic_magic * dm;
		float ds0 = kic_scale_f(sm, 0, d, md), ds1 = kic_scale_f16(sm, 1, d, md * 0.0625f);
		float dm0 = kic_scale_f(sm, 2, dm, mdm), dm1 = kic_scale_f(sm, 3, dm, mdm);
#pragma unroll
		for (int t = 0; t < NT; t++) {
			const int8_t *x = xq + t * cols;
			const int4 *m = xm + t * (cols / 32);
			int4 ma = m[0], mb = m[1];
			int sa = kic_dot16(lo1, kic_xq16(x + 16), kic_dot16(lo0, kic_xq16(x)));
			int sb = kic_dot16u(hi1, kic_xq16(x + 48), kic_dot16u(hi0, kic_xq16(x + 32)));
			acc[t] += __int_as_float(ma.x) * (ds0 * (float)sa - dm0 * (float)ma.y) +
			          __int_as_float(mb.x) * (ds1 * (float)sb - dm1 * (float)mb.y);
		}
	}
};

// Q5_K: piece p = 2g + h (quant_piece.cuh's), lo the quants of values 64g + 16h + k (sub-block 2g, run h of
// activation block 2g), hi of values 64g + 32 + 16h + k (sub-block 2g + 1); x = d*scale * q - dmin*min. The fifth
// bits, bits 2g (lo) and 2g + 1 (hi) of qh's bytes, are masked and rotated into bit 4 by amounts fixed per lane.
template <> struct Q8<KIC_Q5_K> : Q8Piece<KIC_Q5_K> {
	static constexpr int PTRS = 3;
	struct Lane {
		int x0, h, off[PTRS];        // off: the head, the piece's qh bytes and its quants (quant_piece.cuh's load)
		uint32_t mlo, mhi, rlo, rhi; // qh's masks of bits 2g and 2g + 1, and the left rotations that take them to 4
		kic_k4_lane k4;
	};
	static __device__ __forceinline__ Lane lane(int p, const uint8_t *) {
		int g = p >> 1, h = p & 1;
		return {64 * g + 16 * h,
		        h,
		        {0, 16 + 16 * h, 48 + 16 * p},
		        kic_lane_const(0x01010101u << 2 * g),
		        kic_lane_const(0x02020202u << 2 * g),
		        kic_lane_const((uint32_t)(4 - 2 * g) & 31),
		        kic_lane_const((uint32_t)(3 - 2 * g) & 31),
		        kic_k4_lane_of(g)};
	}
	static __device__ __forceinline__ Raw load(const uint8_t *const at[PTRS], const __half *, const Lane &) {
		return {__ldcs(reinterpret_cast<const uint4 *>(at[2])), __ldcs(reinterpret_cast<const uint4 *>(at[1])),
		        __ldg(reinterpret_cast<const uint4 *>(at[0]))};
	}
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, const Lane &ln, const int8_t *xq, const int4 *xm,
	                                           int64_t cols, float acc[NT]) {
		const uint32_t q[4] = {r.q.x, r.q.y, r.q.z, r.q.w}, qh[4] = {r.qh.x, r.qh.y, r.qh.z, r.qh.w};
		uint32_t lo[4], hi[4];
#pragma unroll
		for (int k = 0; k < 4; k++) {
			lo[k] = (q[k] & 0x0F0F0F0Fu) | __funnelshift_l(qh[k] & ln.mlo, qh[k] & ln.mlo, ln.rlo);
			hi[k] = ((q[k] >> 4) & 0x0F0F0F0Fu) | __funnelshift_l(qh[k] & ln.mhi, qh[k] & ln.mhi, ln.rhi);
		}
		uint32_t sm = kic_k4_scales(r.head.y, r.head.z, r.head.w, ln.k4);
		float d = kic_half(r.head.x), dm = kic_half(r.head.x >> 16), md = -kic_magic * d, mdm = -kic_magic * dm;
		float ds0 = kic_scale_f(sm, 0, d, md), ds1 = kic_scale_f(sm, 1, d, md);
		float dm0 = kic_scale_f(sm, 2, dm, mdm), dm1 = kic_scale_f(sm, 3, dm, mdm);
#pragma unroll
		for (int t = 0; t < NT; t++) {
			const int8_t *x = xq + t * cols;
			const int4 *m = xm + t * (cols / 32);
			int4 ma = m[0], mb = m[1];
			int sa = kic_dot16(lo, kic_xq16(x)), sb = kic_dot16(hi, kic_xq16(x + 32));
			acc[t] += __int_as_float(ma.x) * (ds0 * (float)sa - dm0 * (float)kic_run_sum(ma, ln.h)) +
			          __int_as_float(mb.x) * (ds1 * (float)sb - dm1 * (float)kic_run_sum(mb, ln.h));
		}
	}
};

// kic_window16 is kic_load16_win's 16 bytes from its three aligned 8-byte words w, the window's place in them known:
// odd whether it starts one word in, sh the bits it starts into a word.
__device__ __forceinline__ void kic_window16(const uint2 w[3], uint32_t odd, uint32_t sh, uint32_t out[4]) {
	uint32_t w0 = odd ? w[0].y : w[0].x, w1 = odd ? w[1].x : w[0].y, w2 = odd ? w[1].y : w[1].x,
	         w3 = odd ? w[2].x : w[1].y, w4 = odd ? w[2].y : w[2].x;
	out[0] = __funnelshift_r(w0, w1, sh), out[1] = __funnelshift_r(w1, w2, sh);
	out[2] = __funnelshift_r(w2, w3, sh), out[3] = __funnelshift_r(w3, w4, sh);
}

// Q6_K: piece p = 4n + 2c + h, lo values 128n + 32c + 16h + k (run h of activation block 4n + c, scale s0), hi
// 64 further (block 4n + c + 2, scale s1); x = d * scale * (q - 32), the 32 taken off with the run's sum. The
// 210-byte blocks are 2-byte aligned, so ql's and qh's 16 bytes come as kic_load16_win's three aligned 8-byte words
// each; but a lane's pieces are 4 blocks (840 bytes, a multiple of 8) apart, so where the window sits in them is the
// same in every block of its row: the lane works it out once. The words are kept as loaded, and joined in dot
// (joining them right after the loads made the lane wait for the loads there).
template <> struct Q8<KIC_Q6_K> : Q8Piece<KIC_Q6_K> {
	static_assert(32 / PER_BLOCK * BYTES % 8 == 0, "a lane's blocks share their alignment");
	static constexpr int PTRS = 4;
	struct Raw {
		uint2 ql[3], qh[3];
		uint32_t d;
		int8_t s0, s1;
	};
	struct Lane {
		int x0, h, off[PTRS]; // off: ql's and qh's aligned words, the piece's first scale, d
		uint32_t odd, sh;     // the windows start one word into their aligned 24 bytes; the bits into a word
		uint32_t sl, sr;      // qh's shifts that take lo's bits (2c, 2c + 1) and hi's (2c + 4, 2c + 5) to 4, 5
	};
	static __device__ __forceinline__ Lane lane(int p, const uint8_t *blk) {
		int n = p >> 2, c = (p >> 1) & 1, h = p & 1, al = (int)((uintptr_t)blk & 7); // al: the blocks' misalignment
		// Both windows end before the scales (ql's at byte 136 at most, qh's at 200): inside the block.
		return {128 * n + 32 * c + 16 * h,
		        h,
		        {64 * n + 32 * c + 16 * h - al, 128 + 32 * n + 16 * h - al, 192 + 8 * n + h + 2 * c, 208},
		        kic_lane_const(al & 4),
		        kic_lane_const((uint32_t)(al & 2) * 8),
		        kic_lane_const((uint32_t)(4 - 2 * c)),
		        kic_lane_const((uint32_t)(2 * c))};
	}
	static __device__ __forceinline__ Raw load(const uint8_t *const at[PTRS], const __half *, const Lane &) {
		const uint2 *l = reinterpret_cast<const uint2 *>(at[0]), *h = reinterpret_cast<const uint2 *>(at[1]);
		return {{__ldcs(l), __ldcs(l + 1), __ldcs(l + 2)},
		        {__ldcs(h), __ldcs(h + 1), __ldcs(h + 2)},
		        __ldg(reinterpret_cast<const uint16_t *>(at[3])),
		        (int8_t)__ldg(at[2]),
		        (int8_t)__ldg(at[2] + 4)};
	}
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, const Lane &ln, const int8_t *xq, const int4 *xm,
	                                           int64_t cols, float acc[NT]) {
		uint32_t ql[4], qh[4], lo[4], hi[4];
		kic_window16(r.ql, ln.odd, ln.sh, ql);
		kic_window16(r.qh, ln.odd, ln.sh, qh);
#pragma unroll
		for (int k = 0; k < 4; k++) { // qh's bits 2c, 2c + 1 (lo) and 2c + 4, 2c + 5 (hi) to bits 4, 5
			lo[k] = (ql[k] & 0x0F0F0F0Fu) | ((qh[k] << ln.sl) & 0x30303030u);
			hi[k] = ((ql[k] >> 4) & 0x0F0F0F0Fu) | ((qh[k] >> ln.sr) & 0x30303030u);
		}
		float d = kic_half(r.d), d0 = d * (float)r.s0, d1 = d * (float)r.s1;
#pragma unroll
		for (int t = 0; t < NT; t++) {
			const int8_t *x = xq + t * cols;
			const int4 *m = xm + t * (cols / 32);
			int4 ma = m[0], mb = m[2];
			int sa = kic_dot16(lo, kic_xq16(x)) - 32 * kic_run_sum(ma, ln.h);
			int sb = kic_dot16(hi, kic_xq16(x + 64)) - 32 * kic_run_sum(mb, ln.h);
			acc[t] += d0 * __int_as_float(ma.x) * (float)sa + d1 * __int_as_float(mb.x) * (float)sb;
		}
	}
};

// The 32-value formats: a piece is a block, lo its values 0..15 and hi 16..31, one activation block. OFF is
// subtracted from every quant (x = d * (q - OFF) + m); WITH_MIN adds m * the sum of x.
template <int NT, int OFF, bool WITH_MIN>
__device__ __forceinline__ void kic_q8_32(const uint32_t lo[4], const uint32_t hi[4], float d, float mn,
                                          const int8_t *xq, const int4 *xm, int64_t cols, float acc[NT]) {
#pragma unroll
	for (int t = 0; t < NT; t++) {
		const int8_t *x = xq + t * cols;
		int4 m = xm[t * (cols / 32)];
		int s = kic_dot16(lo, kic_xq16(x)) + kic_dot16(hi, kic_xq16(x + 16)) - OFF * m.y;
		float dx = __int_as_float(m.x);
		acc[t] += WITH_MIN ? dx * (d * (float)s + mn * (float)m.y) : dx * d * (float)s;
	}
}

template <> struct Q8<KIC_Q4_0> : Q8Piece<KIC_Q4_0> {
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, const Lane &, const int8_t *xq, const int4 *xm, int64_t cols,
	                                           float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_q8_32<NT, 8, false>(lo, hi, kic_half(r.d), 0.f, xq, xm, cols, acc);
	}
};

template <> struct Q8<KIC_Q4_1> : Q8Piece<KIC_Q4_1> {
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, const Lane &, const int8_t *xq, const int4 *xm, int64_t cols,
	                                           float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_q8_32<NT, 0, true>(lo, hi, kic_half(r.dm), kic_half(r.dm >> 16), xq, xm, cols, acc);
	}
};

template <> struct Q8<KIC_Q5_0> : Q8Piece<KIC_Q5_0> {
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, const Lane &, const int8_t *xq, const int4 *xm, int64_t cols,
	                                           float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_q5_bits(r.qh, lo, hi);
		kic_q8_32<NT, 16, false>(lo, hi, kic_half(r.d), 0.f, xq, xm, cols, acc);
	}
};

template <> struct Q8<KIC_Q5_1> : Q8Piece<KIC_Q5_1> {
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, const Lane &, const int8_t *xq, const int4 *xm, int64_t cols,
	                                           float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_q5_bits(r.head.y, lo, hi);
		kic_q8_32<NT, 0, true>(lo, hi, kic_half(r.head.x), kic_half(r.head.x >> 16), xq, xm, cols, acc);
	}
};

// The IQ4 codebook entries of 16 nibbles as signed bytes: the lookup gives entry + 128, and flipping each byte's
// top bit takes the 128 off in two's complement.
__device__ __forceinline__ void kic_iq4_signed(uint32_t q[4]) {
#pragma unroll
	for (int i = 0; i < 4; i++) q[i] = kic_iq4_lookup(q[i]) ^ 0x80808080u;
}

template <> struct Q8<KIC_IQ4_NL> : Q8Piece<KIC_IQ4_NL> {
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, const Lane &, const int8_t *xq, const int4 *xm, int64_t cols,
	                                           float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_iq4_signed(lo), kic_iq4_signed(hi);
		kic_q8_32<NT, 0, false>(lo, hi, kic_half(r.d), 0.f, xq, xm, cols, acc);
	}
};

// IQ4_XS: piece p is sub-block p, values 32p..32p + 31 (activation block p), scale d * (ls - 32): ls's low 4 bits
// are bits 4p.. of scales_l (head.y), its top 2 bits 2p.. of scales_h (head.x >> 16).
template <> struct Q8<KIC_IQ4_XS> : Q8Piece<KIC_IQ4_XS> {
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, const Lane &ln, const int8_t *xq, const int4 *xm,
	                                           int64_t cols, float acc[NT]) {
		int ls = (int)(((r.head.y >> 4 * ln.p) & 0xF) | (((r.head.x >> (16 + 2 * ln.p)) & 3) << 4));
		float d = kic_half(r.head.x) * (float)(ls - 32);
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_iq4_signed(lo), kic_iq4_signed(hi);
		kic_q8_32<NT, 0, false>(lo, hi, d, 0.f, xq, xm, cols, acc);
	}
};

// Q8_0 as the library stores it (model.cu splits GGUF's blocks): the int8 quants of the matrix, then one fp16
// scale per 32 values in their own array. A piece is a block: 32 quants, two 16-byte loads.
template <> struct Q8<KIC_Q8_0> {
	static constexpr bool ok = true, SCALES = true;
	static constexpr int QK = 32, BYTES = 32, PER_BLOCK = 1, PTRS = 1;
	struct Raw {
		uint4 a, b;
		uint32_t d;
	};
	struct Lane {
		static constexpr int x0 = 0;
		int off[PTRS];
	};
	static __device__ __forceinline__ Lane lane(int, const uint8_t *) { return {{0}}; }
	static __device__ __forceinline__ const uint8_t *row(const void *w, int64_t base) { return (const uint8_t *)w + base; }
	static __device__ __forceinline__ Raw load(const uint8_t *const at[PTRS], const __half *sblk, const Lane &) {
		const uint4 *q = reinterpret_cast<const uint4 *>(at[0]);
		return {__ldcs(q), __ldcs(q + 1), __ldg(reinterpret_cast<const uint16_t *>(sblk))};
	}
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, const Lane &, const int8_t *xq, const int4 *xm, int64_t cols,
	                                           float acc[NT]) {
		uint32_t a[4] = {r.a.x, r.a.y, r.a.z, r.a.w}, b[4] = {r.b.x, r.b.y, r.b.z, r.b.w};
		float d = kic_half(r.d);
#pragma unroll
		for (int t = 0; t < NT; t++) {
			const int8_t *x = xq + t * cols;
			int s = kic_dot16(a, kic_xq16(x)) + kic_dot16(b, kic_xq16(x + 16));
			acc[t] += d * __int_as_float(xm[t * (cols / 32)].x) * (float)s;
		}
	}
};

// kic_q8_type: whether dtype has an int8 dot (Q2_K and Q3_K keep the float path).
__host__ __device__ constexpr bool kic_q8_type(int dt) {
	return dt == KIC_Q4_0 || dt == KIC_Q4_1 || dt == KIC_Q5_0 || dt == KIC_Q5_1 || dt == KIC_Q8_0 || dt == KIC_Q4_K ||
	       dt == KIC_Q5_K || dt == KIC_Q6_K || dt == KIC_IQ4_NL || dt == KIC_IQ4_XS;
}
