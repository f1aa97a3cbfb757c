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
// Q8<DT>: ok; QK values and PER_BLOCK pieces a block (as Piece<DT>); row(w, base) the row whose first value is
// element base; load(row, srow, i) piece i of a row (srow: Q8_0's scales of the row); dot<NT>(raw, p, xq, xm, cols,
// acc) adds the products of piece p of its block with NT token rows (xq, xm: the block's first quant and int4).
#pragma once
#include "quant_piece.cuh"

struct kic_xq {
	const int8_t *q;
	const int4 *m;
};

// Bytes of shared memory the activations of nt token rows of cols values take.
__host__ __device__ constexpr int64_t kic_xq_bytes(int nt, int64_t cols) { return nt * cols + nt * cols / 32 * 16; }

// kic_dot16 is the exact dot of 16 weight bytes (4 words, signed, or unsigned below 128) with 16 int8 quants;
// acc is added to the sum (one chain of __dp4a for 32 values).
__device__ __forceinline__ int kic_dot16(const uint32_t w[4], const int4 &x, int acc = 0) {
	return __dp4a((int)w[3], x.w, __dp4a((int)w[2], x.z, __dp4a((int)w[1], x.y, __dp4a((int)w[0], x.x, acc))));
}

__device__ __forceinline__ int4 kic_xq16(const int8_t *q) { return *reinterpret_cast<const int4 *>(q); }

// The sum of the quants of run h (0: values 0..15 of the block, 1: 16..31).
__device__ __forceinline__ int kic_run_sum(const int4 &m, int h) { return h ? m.y - m.z : m.z; }

template <int DT> struct Q8 { static constexpr bool ok = false; };

// The formats of quant_piece.cuh: their rows, pieces and loads.
template <int DT> struct Q8Piece {
	static constexpr bool ok = true;
	using P = Piece<DT>;
	using Raw = typename P::Raw;
	static constexpr int QK = P::QK, PER_BLOCK = P::PER_BLOCK;
	static __device__ __forceinline__ const uint8_t *row(const void *w, int64_t base) {
		return (const uint8_t *)w + base / QK * P::BYTES;
	}
	static __device__ __forceinline__ Raw load(const uint8_t *row, const __half *, int i) {
		return P::load(row + (i / PER_BLOCK) * P::BYTES, i % PER_BLOCK);
	}
};

// Q4_K and Q5_K: piece p = 2g + h, lo the quants of values g*64 + 16h + k (sub-block 2g, run h of activation block
// 2g), hi of values 64g + 32 + 16h + k (sub-block 2g + 1); x = d*scale * q - dmin*min.
template <int NT>
__device__ __forceinline__ void kic_q8_k4(const uint32_t lo[4], const uint32_t hi[4], const uint4 &head, int p,
                                          const int8_t *xq, const int4 *xm, int64_t cols, float acc[NT]) {
	int g = p >> 1, h = p & 1, sc0, m0, sc1, m1;
	kic_scale_min_k4(2 * g, head, &sc0, &m0);
	kic_scale_min_k4(2 * g + 1, head, &sc1, &m1);
	float d = kic_half(head.x), dm = kic_half(head.x >> 16);
	float ds0 = d * (float)sc0, ds1 = d * (float)sc1, dm0 = dm * (float)m0, dm1 = dm * (float)m1;
#pragma unroll
	for (int t = 0; t < NT; t++) {
		const int8_t *x = xq + t * cols + g * 64 + 16 * h;
		const int4 *m = xm + t * (cols / 32) + 2 * g;
		int4 ma = m[0], mb = m[1];
		int sa = kic_dot16(lo, kic_xq16(x)), sb = kic_dot16(hi, kic_xq16(x + 32));
		acc[t] += __int_as_float(ma.x) * (ds0 * (float)sa - dm0 * (float)kic_run_sum(ma, h)) +
		          __int_as_float(mb.x) * (ds1 * (float)sb - dm1 * (float)kic_run_sum(mb, h));
	}
}

// Q4_K takes a pair of pieces a unit: the 32 bytes of quants of sub-blocks 2g and 2g + 1 (values 64g..64g + 63),
// which share the 16-byte head. A lane then has 32 bytes of quants in flight per unit, as Q8_0 has, instead of
// 16 (at 16 warps an SM, a piece a lane left too few bytes in flight to cover the memory latency: Q4_K ran at
// 36% of copy bandwidth where Q8_0 ran at 82%), unpacks the pair's scales once rather than once a piece, and
// applies each sub-block's scale and min to a whole activation block, whose sum is kept with its quants.
template <> struct Q8<KIC_Q4_K> {
	static constexpr bool ok = true;
	static constexpr int QK = 256, BYTES = 144, PER_BLOCK = 4;
	struct Raw { uint4 q0, q1, head; };
	static __device__ __forceinline__ const uint8_t *row(const void *w, int64_t base) {
		return (const uint8_t *)w + base / QK * BYTES;
	}
	static __device__ __forceinline__ Raw load(const uint8_t *row, const __half *, int i) {
		const uint8_t *b = row + (i / PER_BLOCK) * BYTES;
		const uint4 *q = reinterpret_cast<const uint4 *>(b + 16 + 32 * (i % PER_BLOCK));
		return {__ldcs(q), __ldcs(q + 1), __ldg(reinterpret_cast<const uint4 *>(b))};
	}
	// Unit g: q0's low nibbles are values 64g + k, q1's 64g + 16 + k (sub-block 2g, activation block 2g), their
	// high nibbles 32 further (sub-block 2g + 1).
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, int g, const int8_t *xq, const int4 *xm, int64_t cols,
	                                           float acc[NT]) {
		uint32_t lo0[4], hi0[4], lo1[4], hi1[4];
		kic_nibbles(r.q0, lo0, hi0);
		kic_nibbles(r.q1, lo1, hi1);
		int sc0, m0, sc1, m1;
		kic_scale_min_k4(2 * g, r.head, &sc0, &m0);
		kic_scale_min_k4(2 * g + 1, r.head, &sc1, &m1);
		float d = kic_half(r.head.x), dm = kic_half(r.head.x >> 16);
		float ds0 = d * (float)sc0, ds1 = d * (float)sc1, dm0 = dm * (float)m0, dm1 = dm * (float)m1;
#pragma unroll
		for (int t = 0; t < NT; t++) {
			const int8_t *x = xq + t * cols + 64 * g;
			const int4 *m = xm + t * (cols / 32) + 2 * g;
			int4 ma = m[0], mb = m[1];
			int sa = kic_dot16(lo1, kic_xq16(x + 16), kic_dot16(lo0, kic_xq16(x)));
			int sb = kic_dot16(hi1, kic_xq16(x + 48), kic_dot16(hi0, kic_xq16(x + 32)));
			acc[t] += __int_as_float(ma.x) * (ds0 * (float)sa - dm0 * (float)ma.y) +
			          __int_as_float(mb.x) * (ds1 * (float)sb - dm1 * (float)mb.y);
		}
	}
};

template <> struct Q8<KIC_Q5_K> : Q8Piece<KIC_Q5_K> {
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, int p, const int8_t *xq, const int4 *xm, int64_t cols,
	                                           float acc[NT]) {
		int g = p >> 1;
		uint32_t lo[4], hi[4], qh[4] = {r.qh.x, r.qh.y, r.qh.z, r.qh.w};
		kic_nibbles(r.q, lo, hi);
#pragma unroll
		for (int i = 0; i < 4; i++) {
			lo[i] |= ((qh[i] >> (2 * g)) & 0x01010101u) << 4;
			hi[i] |= ((qh[i] >> (2 * g + 1)) & 0x01010101u) << 4;
		}
		kic_q8_k4<NT>(lo, hi, r.head, p, xq, xm, cols, acc);
	}
};

// Q6_K: piece p = 4n + 2c + h, lo values 128n + 32c + 16h + k (run h of activation block 4n + c, scale s0), hi
// 64 further (block 4n + c + 2, scale s1); x = d * scale * (q - 32), the 32 taken off with the run's sum.
template <> struct Q8<KIC_Q6_K> : Q8Piece<KIC_Q6_K> {
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, int p, const int8_t *xq, const int4 *xm, int64_t cols,
	                                           float acc[NT]) {
		int n = p >> 2, c = (p >> 1) & 1, h = p & 1;
		uint32_t lo[4], hi[4], qh[4] = {r.qh.x, r.qh.y, r.qh.z, r.qh.w};
		kic_nibbles(r.ql, lo, hi);
#pragma unroll
		for (int i = 0; i < 4; i++) {
			lo[i] |= ((qh[i] >> (2 * c)) & 0x03030303u) << 4;
			hi[i] |= ((qh[i] >> (2 * c + 4)) & 0x03030303u) << 4;
		}
		float d = kic_half(r.d), d0 = d * (float)r.s0, d1 = d * (float)r.s1;
#pragma unroll
		for (int t = 0; t < NT; t++) {
			const int8_t *x = xq + t * cols + 128 * n + 32 * c + 16 * h;
			const int4 *m = xm + t * (cols / 32) + 4 * n + c;
			int4 ma = m[0], mb = m[2];
			int sa = kic_dot16(lo, kic_xq16(x)) - 32 * kic_run_sum(ma, h);
			int sb = kic_dot16(hi, kic_xq16(x + 64)) - 32 * kic_run_sum(mb, h);
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
	static __device__ __forceinline__ void dot(const Raw &r, int, const int8_t *xq, const int4 *xm, int64_t cols,
	                                           float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_q8_32<NT, 8, false>(lo, hi, kic_half(r.d), 0.f, xq, xm, cols, acc);
	}
};

template <> struct Q8<KIC_Q4_1> : Q8Piece<KIC_Q4_1> {
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, int, const int8_t *xq, const int4 *xm, int64_t cols,
	                                           float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_q8_32<NT, 0, true>(lo, hi, kic_half(r.dm), kic_half(r.dm >> 16), xq, xm, cols, acc);
	}
};

template <> struct Q8<KIC_Q5_0> : Q8Piece<KIC_Q5_0> {
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, int, const int8_t *xq, const int4 *xm, int64_t cols,
	                                           float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_q5_bits(r.qh, lo, hi);
		kic_q8_32<NT, 16, false>(lo, hi, kic_half(r.d), 0.f, xq, xm, cols, acc);
	}
};

template <> struct Q8<KIC_Q5_1> : Q8Piece<KIC_Q5_1> {
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, int, const int8_t *xq, const int4 *xm, int64_t cols,
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
	static __device__ __forceinline__ void dot(const Raw &r, int, const int8_t *xq, const int4 *xm, int64_t cols,
	                                           float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_iq4_signed(lo), kic_iq4_signed(hi);
		kic_q8_32<NT, 0, false>(lo, hi, kic_half(r.d), 0.f, xq, xm, cols, acc);
	}
};

// IQ4_XS: piece p is sub-block p, values 32p..32p + 31 (activation block p), scale d * (ls - 32).
template <> struct Q8<KIC_IQ4_XS> : Q8Piece<KIC_IQ4_XS> {
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, int p, const int8_t *xq, const int4 *xm, int64_t cols,
	                                           float acc[NT]) {
		uint32_t hbits = r.head.x >> 16, lbyte = kic_byte(r.head, 4 + p / 2);
		int ls = (int)(((lbyte >> 4 * (p % 2)) & 0xF) | (((hbits >> 2 * p) & 3) << 4));
		float d = kic_half(r.head.x) * (float)(ls - 32);
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_iq4_signed(lo), kic_iq4_signed(hi);
		kic_q8_32<NT, 0, false>(lo, hi, d, 0.f, xq + 32 * p, xm + p, cols, acc);
	}
};

// Q8_0 as the library stores it (model.cu splits GGUF's blocks): the int8 quants of the matrix, then one fp16
// scale per 32 values in their own array. A piece is a block: 32 quants, two 16-byte loads.
template <> struct Q8<KIC_Q8_0> {
	static constexpr bool ok = true;
	static constexpr int QK = 32, PER_BLOCK = 1;
	struct Raw {
		uint4 a, b;
		uint32_t d;
	};
	static __device__ __forceinline__ const uint8_t *row(const void *w, int64_t base) { return (const uint8_t *)w + base; }
	static __device__ __forceinline__ Raw load(const uint8_t *row, const __half *srow, int i) {
		const uint4 *q = reinterpret_cast<const uint4 *>(row + 32 * i);
		return {__ldcs(q), __ldcs(q + 1), __ldg(reinterpret_cast<const uint16_t *>(srow + i))};
	}
	template <int NT>
	static __device__ __forceinline__ void dot(const Raw &r, int, const int8_t *xq, const int4 *xm, int64_t cols,
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
