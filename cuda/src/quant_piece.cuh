// quant_piece.cuh: the block formats as the batch-1 matvec reads them, a 16-byte piece of packed quants a lane.
//
// quant.cuh decodes 8 values at a time, bit for bit as ggml: right for dequantizing, but a matvec lane that
// works in 8-value chunks reads each packed byte twice (once per nibble), re-reads its block's scales for
// every chunk and converts every value with a slow int-to-float. A piece is instead the 16 bytes of quants
// that hold 32 values (both nibbles of each byte), with the scales they need; the lane dots it with x in
// runs of 16 values that share one scale, and applies that scale (and min) once per run:
//   sum_k (d*q_k - m) * x_k  =  d * sum_k q_k x_k  -  m * sum_k x_k.
// Integers become floats by the exponent trick: a byte q placed under the exponent of 2^23 is the float
// 2^23 + q (one byte permute), and subtracting 2^23 (+ the format's offset) is exact. The products are not
// rounded as ggml's dequantize-then-dot rounds them, so results agree with it to fp32 rounding, not bit for
// bit (the kernel tests hold the matvec to tolerances; dequantizing keeps quant.cuh's exact path).
//
// Piece<DT>: QK values and BYTES bytes a block, PER_BLOCK pieces a block (PER_BLOCK * 32 == QK); load(block, p)
// fetches piece p's raw words, dot<NT, SHARED>(raw, p, xb, cols, acc) adds its products with NT token rows of x
// (xb: the block's first value in token 0's row; SHARED: x is in shared memory).
#pragma once
#include "quant.cuh"

// kic_load16 reads the 16 bytes at p, which is ALIGN-byte aligned (2, 4, 8 or 16), without touching a byte
// outside them: block formats whose size is not a multiple of 4 leave pieces at 2-byte boundaries, and the
// last block of a tensor may end its allocation.
template <int ALIGN> __device__ __forceinline__ uint4 kic_load16(const uint8_t *p) {
	if (ALIGN >= 16) return __ldcs(reinterpret_cast<const uint4 *>(p));
	if (ALIGN >= 8) {
		const uint2 *q = reinterpret_cast<const uint2 *>(p);
		uint2 a = __ldcs(q), b = __ldcs(q + 1);
		return make_uint4(a.x, a.y, b.x, b.y);
	}
	if (ALIGN >= 4 || ((uintptr_t)p & 2) == 0) {
		const uint32_t *q = reinterpret_cast<const uint32_t *>(p);
		return make_uint4(__ldcs(q), __ldcs(q + 1), __ldcs(q + 2), __ldcs(q + 3));
	}
	// 2 mod 4: a halfword, three words, a halfword, joined by funnel shifts.
	const uint32_t *q = reinterpret_cast<const uint32_t *>(p + 2);
	uint32_t a = __ldcs(reinterpret_cast<const uint16_t *>(p)), w0 = __ldcs(q), w1 = __ldcs(q + 1), w2 = __ldcs(q + 2),
	         z = __ldcs(reinterpret_cast<const uint16_t *>(p + 14));
	return make_uint4(__funnelshift_l(a << 16, w0, 16), __funnelshift_l(w0, w1, 16), __funnelshift_l(w1, w2, 16),
	                  __funnelshift_l(w2, z, 16));
}

// kic_load16_win reads the 16 bytes at a 2-byte aligned p as three aligned 8-byte loads of the 24 bytes from p
// rounded down to 8, joined by a select and a funnel shift. kic_load16<2> takes a different path for each
// alignment mod 4, and Q6_K's 210-byte blocks alternate between the two, so the lanes of a warp (8 on each
// block) diverged and issued both paths' 9 loads; here every lane issues the same 3. The caller guarantees the
// window is readable: it starts at or after the tensor's (8-aligned) start and ends inside it.
__device__ __forceinline__ uint4 kic_load16_win(const uint8_t *p) {
	const uint2 *q = reinterpret_cast<const uint2 *>((uintptr_t)p & ~(uintptr_t)7);
	uint2 a = __ldcs(q), b = __ldcs(q + 1), c = __ldcs(q + 2);
	bool odd = (uintptr_t)p & 4; // the window starts one word later
	int sh = ((uintptr_t)p & 2) * 8;
	uint32_t w0 = odd ? a.y : a.x, w1 = odd ? b.x : a.y, w2 = odd ? b.y : b.x, w3 = odd ? c.x : b.y, w4 = odd ? c.y : c.x;
	return make_uint4(__funnelshift_r(w0, w1, sh), __funnelshift_r(w1, w2, sh), __funnelshift_r(w2, w3, sh),
	                  __funnelshift_r(w3, w4, sh));
}

// kic_load4 reads the 4 bytes at a 2-byte aligned p.
__device__ __forceinline__ uint32_t kic_load4_a2(const uint8_t *p) {
	const uint16_t *q = reinterpret_cast<const uint16_t *>(p);
	return __ldcs(q) | (uint32_t)__ldcs(q + 1) << 16;
}

template <bool SHARED> __device__ __forceinline__ float4 kic_x4(const float *x) {
	return SHARED ? *reinterpret_cast<const float4 *>(x) : __ldg(reinterpret_cast<const float4 *>(x));
}

// kic_qf is byte k of w (0..255) as the float 2^23 + byte.
__device__ __forceinline__ float kic_qf(uint32_t w, int k) { return __int_as_float(__byte_perm(w, 0x4B000000u, 0x7440 + k)); }

// kic_run16 adds, for the 16 unsigned byte values of q (4 words) and x[0..15], sum (q - off) * x to *dot and,
// with SUMX, sum x to *sx. magic is 2^23 + off.
// Four partial sums, one per word, so the products of a run are four short chains rather than one of 16
// dependent FMAs: the quantized kernels run 16 warps an SM, too few to hide a long chain's latency.
template <bool SHARED, bool SUMX>
__device__ __forceinline__ void kic_run16(const uint32_t q[4], const float *x, float magic, float *dot, float *sx) {
	float d[4], s[4];
#pragma unroll
	for (int i = 0; i < 4; i++) {
		float4 v = kic_x4<SHARED>(x + 4 * i);
		d[i] = (kic_qf(q[i], 0) - magic) * v.x;
		d[i] = fmaf(kic_qf(q[i], 1) - magic, v.y, d[i]);
		d[i] = fmaf(kic_qf(q[i], 2) - magic, v.z, d[i]);
		d[i] = fmaf(kic_qf(q[i], 3) - magic, v.w, d[i]);
		if (SUMX) s[i] = (v.x + v.y) + (v.z + v.w);
	}
	*dot = (d[0] + d[1]) + (d[2] + d[3]);
	if (SUMX) *sx = (s[0] + s[1]) + (s[2] + s[3]);
}

constexpr float kic_magic = 8388608.f; // 2^23

// The low and the high nibbles of 16 packed bytes, as bytes.
__device__ __forceinline__ void kic_nibbles(const uint4 &v, uint32_t lo[4], uint32_t hi[4]) {
	uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
	for (int i = 0; i < 4; i++) lo[i] = w[i] & 0x0F0F0F0Fu, hi[i] = (w[i] >> 4) & 0x0F0F0F0Fu;
}

// kic_bits4 spreads bits 0..3 of b into bit 0 of bytes 0..3.
__device__ __forceinline__ uint32_t kic_bits4(uint32_t b) { return ((b & 0xF) * 0x00204081u) & 0x01010101u; }

// The IQ4 codebook + 128, four entries a word, for byte-permute lookups.
__device__ __forceinline__ uint32_t kic_iq4_lookup(uint32_t q) { // q: 4 bytes of 0..15
	constexpr uint32_t t0 = 1u | 24u << 8 | 45u << 16 | 63u << 24, t1 = 79u | 93u << 8 | 106u << 16 | 118u << 24,
	                   t2 = 129u | 141u << 8 | 153u << 16 | 166u << 24, t3 = 181u | 197u << 8 | 217u << 16 | 241u << 24;
	uint32_t s = q | (q >> 4);
	s = ((s & 0xFF) | ((s >> 8) & 0xFF00)) & 0x7777; // byte i's index, low 3 bits, as selector nibble i
	uint32_t lo = __byte_perm(t0, t1, s), hi = __byte_perm(t2, t3, s), m = ((q >> 3) & 0x01010101u) * 0xFF;
	return (lo & ~m) | (hi & m);
}

// kic_dot32 adds, for each of NT token rows, d * sum (q - off) x + m * sum x over the 32 values whose quants
// are lo (x[0..15]) and hi (x[16..31]); magic is 2^23 + off, and m is only read WITH_MIN.
template <int NT, bool SHARED, bool WITH_MIN>
__device__ __forceinline__ void kic_dot32(const uint32_t lo[4], const uint32_t hi[4], const float *x, int64_t cols, float magic,
                                          float d, float m, float acc[NT]) {
#pragma unroll
	for (int t = 0; t < NT; t++) {
		float a, sa, b, sb;
		kic_run16<SHARED, WITH_MIN>(lo, x + t * cols, magic, &a, &sa);
		kic_run16<SHARED, WITH_MIN>(hi, x + t * cols + 16, magic, &b, &sb);
		acc[t] += WITH_MIN ? d * (a + b) + m * (sa + sb) : d * (a + b);
	}
}

// kic_dot_k4 finishes a Q4_K/Q5_K piece p = 2g + h: lo holds the quants of values g*64 + 16h + k (sub-block
// 2g), hi those of g*64 + 32 + 16h + k (sub-block 2g + 1); x = d*scale * q - dmin*min.
template <int NT, bool SHARED>
__device__ __forceinline__ void kic_dot_k4(const uint32_t lo[4], const uint32_t hi[4], const uint4 &head, int p,
                                           const float *xb, int64_t cols, float acc[NT]) {
	int g = p >> 1, h = p & 1, sc0, m0, sc1, m1;
	kic_scale_min_k4(2 * g, head, &sc0, &m0);
	kic_scale_min_k4(2 * g + 1, head, &sc1, &m1);
	float d = kic_half(head.x), dm = kic_half(head.x >> 16);
#pragma unroll
	for (int t = 0; t < NT; t++) {
		const float *x = xb + t * cols + g * 64 + 16 * h;
		float a, sa, b, sb;
		kic_run16<SHARED, true>(lo, x, kic_magic, &a, &sa);
		kic_run16<SHARED, true>(hi, x + 32, kic_magic, &b, &sb);
		acc[t] += d * (sc0 * a + sc1 * b) - dm * (m0 * sa + m1 * sb);
	}
}

template <int DT> struct Piece { static constexpr bool ok = false; };

// Q4_K: pieces are the 8 16-byte quarters of qs. Piece p = 2g + h holds values g*64 + 16h + k (low nibbles,
// sub-block 2g) and g*64 + 32 + 16h + k (high nibbles, sub-block 2g + 1).
template <> struct Piece<KIC_Q4_K> {
	static constexpr bool ok = true;
	static constexpr int QK = 256, BYTES = 144, PER_BLOCK = 8;
	struct Raw { uint4 q, head; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int p) {
		return {kic_load16<16>(b + 16 + 16 * p), __ldg(reinterpret_cast<const uint4 *>(b))};
	}
	template <int NT, bool SHARED>
	static __device__ __forceinline__ void dot(const Raw &r, int p, const float *xb, int64_t cols, float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_dot_k4<NT, SHARED>(lo, hi, r.head, p, xb, cols, acc);
	}
};

// Q5_K: Q4_K's pieces (qs at 48) with the fifth bits of bytes 16h..16h+15 of qh: bit 2g low, 2g + 1 high.
template <> struct Piece<KIC_Q5_K> {
	static constexpr bool ok = true;
	static constexpr int QK = 256, BYTES = 176, PER_BLOCK = 8;
	struct Raw { uint4 q, qh, head; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int p) {
		return {kic_load16<16>(b + 48 + 16 * p), kic_load16<16>(b + 16 + 16 * (p & 1)),
		        __ldg(reinterpret_cast<const uint4 *>(b))};
	}
	template <int NT, bool SHARED>
	static __device__ __forceinline__ void dot(const Raw &r, int p, const float *xb, int64_t cols, float acc[NT]) {
		int g = p >> 1;
		uint32_t lo[4], hi[4], qh[4] = {r.qh.x, r.qh.y, r.qh.z, r.qh.w};
		kic_nibbles(r.q, lo, hi);
#pragma unroll
		for (int i = 0; i < 4; i++) {
			lo[i] |= ((qh[i] >> (2 * g)) & 0x01010101u) << 4;
			hi[i] |= ((qh[i] >> (2 * g + 1)) & 0x01010101u) << 4;
		}
		kic_dot_k4<NT, SHARED>(lo, hi, r.head, p, xb, cols, acc);
	}
};

// Q6_K: piece p = 4n + 2c + h is ql's 16 bytes at 64n + 32c + 16h with qh's at 128 + 32n + 16h: the low nibbles
// and qh bits 2c are values 128n + 32c + 16h + k (scale 8n + h + 2c), the high nibbles and bits 2c + 4 values
// 64 further on (scale 8n + h + 2c + 4); x = d * scale * (q - 32). Blocks are 210 bytes: 2-byte aligned.
template <> struct Piece<KIC_Q6_K> {
	static constexpr bool ok = true;
	static constexpr int QK = 256, BYTES = 210, PER_BLOCK = 8;
	struct Raw { uint4 ql, qh; uint32_t d; int8_t s0, s1; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int p) {
		int n = p >> 2, c = (p >> 1) & 1, h = p & 1, is = 8 * n + h + 2 * c;
		// Both windows end before the scales (ql's at byte 136 at most, qh's at 200): inside the block.
		return {kic_load16_win(b + 64 * n + 32 * c + 16 * h), kic_load16_win(b + 128 + 32 * n + 16 * h),
		        __ldg(reinterpret_cast<const uint16_t *>(b + 208)), (int8_t)__ldg(b + 192 + is), (int8_t)__ldg(b + 196 + is)};
	}
	template <int NT, bool SHARED>
	static __device__ __forceinline__ void dot(const Raw &r, int p, const float *xb, int64_t cols, float acc[NT]) {
		int n = p >> 2, c = (p >> 1) & 1, h = p & 1;
		uint32_t lo[4], hi[4], qh[4] = {r.qh.x, r.qh.y, r.qh.z, r.qh.w};
		kic_nibbles(r.ql, lo, hi);
#pragma unroll
		for (int i = 0; i < 4; i++) {
			lo[i] |= ((qh[i] >> (2 * c)) & 0x03030303u) << 4;
			hi[i] |= ((qh[i] >> (2 * c + 4)) & 0x03030303u) << 4;
		}
		float d = kic_half(r.d);
#pragma unroll
		for (int t = 0; t < NT; t++) {
			const float *x = xb + t * cols + 128 * n + 32 * c + 16 * h;
			float a, b;
			kic_run16<SHARED, false>(lo, x, kic_magic + 32.f, &a, nullptr);
			kic_run16<SHARED, false>(hi, x + 64, kic_magic + 32.f, &b, nullptr);
			acc[t] += d * (r.s0 * a + r.s1 * b);
		}
	}
};

// The 32-value formats: a piece is a block, qs's low nibbles values 0..15 and high nibbles 16..31.
// Q4_0 (18 bytes: d, qs): x = d * (q - 8).
template <> struct Piece<KIC_Q4_0> {
	static constexpr bool ok = true;
	static constexpr int QK = 32, BYTES = 18, PER_BLOCK = 1;
	struct Raw { uint4 q; uint32_t d; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int) {
		return {kic_load16<2>(b + 2), __ldcs(reinterpret_cast<const uint16_t *>(b))};
	}
	template <int NT, bool SHARED>
	static __device__ __forceinline__ void dot(const Raw &r, int, const float *xb, int64_t cols, float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_dot32<NT, SHARED, false>(lo, hi, xb, cols, kic_magic + 8.f, kic_half(r.d), 0.f, acc);
	}
};

// Q4_1 (20 bytes: d, m, qs): x = d * q + m.
template <> struct Piece<KIC_Q4_1> {
	static constexpr bool ok = true;
	static constexpr int QK = 32, BYTES = 20, PER_BLOCK = 1;
	struct Raw { uint4 q; uint32_t dm; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int) {
		return {kic_load16<4>(b + 4), __ldcs(reinterpret_cast<const uint32_t *>(b))};
	}
	template <int NT, bool SHARED>
	static __device__ __forceinline__ void dot(const Raw &r, int, const float *xb, int64_t cols, float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_dot32<NT, SHARED, true>(lo, hi, xb, cols, kic_magic, kic_half(r.dm), kic_half(r.dm >> 16), acc);
	}
};

// The fifth bits of the 32-value Q5 formats: bit j of qh for value j.
__device__ __forceinline__ void kic_q5_bits(uint32_t qh, uint32_t lo[4], uint32_t hi[4]) {
#pragma unroll
	for (int i = 0; i < 4; i++) {
		lo[i] |= kic_bits4(qh >> (4 * i)) << 4;
		hi[i] |= kic_bits4(qh >> (16 + 4 * i)) << 4;
	}
}

// Q5_0 (22 bytes: d, qh, qs): x = d * (q - 16).
template <> struct Piece<KIC_Q5_0> {
	static constexpr bool ok = true;
	static constexpr int QK = 32, BYTES = 22, PER_BLOCK = 1;
	struct Raw { uint4 q; uint32_t d, qh; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int) {
		return {kic_load16<2>(b + 6), __ldcs(reinterpret_cast<const uint16_t *>(b)), kic_load4_a2(b + 2)};
	}
	template <int NT, bool SHARED>
	static __device__ __forceinline__ void dot(const Raw &r, int, const float *xb, int64_t cols, float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_q5_bits(r.qh, lo, hi);
		kic_dot32<NT, SHARED, false>(lo, hi, xb, cols, kic_magic + 16.f, kic_half(r.d), 0.f, acc);
	}
};

// Q5_1 (24 bytes: d, m, qh, qs): x = d * q + m.
template <> struct Piece<KIC_Q5_1> {
	static constexpr bool ok = true;
	static constexpr int QK = 32, BYTES = 24, PER_BLOCK = 1;
	struct Raw { uint4 q; uint2 head; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int) {
		return {kic_load16<8>(b + 8), __ldcs(reinterpret_cast<const uint2 *>(b))};
	}
	template <int NT, bool SHARED>
	static __device__ __forceinline__ void dot(const Raw &r, int, const float *xb, int64_t cols, float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_q5_bits(r.head.y, lo, hi);
		kic_dot32<NT, SHARED, true>(lo, hi, xb, cols, kic_magic, kic_half(r.head.x), kic_half(r.head.x >> 16), acc);
	}
};

// The IQ4 codebook entries of 16 nibbles (4 words), as value + 128.
__device__ __forceinline__ void kic_iq4_words(uint32_t q[4]) {
#pragma unroll
	for (int i = 0; i < 4; i++) q[i] = kic_iq4_lookup(q[i]);
}

// IQ4_NL (Q4_0's layout): x = d * codebook[q].
template <> struct Piece<KIC_IQ4_NL> {
	static constexpr bool ok = true;
	static constexpr int QK = 32, BYTES = 18, PER_BLOCK = 1;
	using Raw = Piece<KIC_Q4_0>::Raw;
	static __device__ __forceinline__ Raw load(const uint8_t *b, int p) { return Piece<KIC_Q4_0>::load(b, p); }
	template <int NT, bool SHARED>
	static __device__ __forceinline__ void dot(const Raw &r, int, const float *xb, int64_t cols, float acc[NT]) {
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_iq4_words(lo), kic_iq4_words(hi);
		kic_dot32<NT, SHARED, false>(lo, hi, xb, cols, kic_magic + 128.f, kic_half(r.d), 0.f, acc);
	}
};

// IQ4_XS (136 bytes: d, scales_h, scales_l[4], qs[128]): piece p is sub-block p, an IQ4_NL block of 16 bytes at
// 8 + 16p with scale d * (ls - 32).
template <> struct Piece<KIC_IQ4_XS> {
	static constexpr bool ok = true;
	static constexpr int QK = 256, BYTES = 136, PER_BLOCK = 8;
	struct Raw { uint4 q; uint2 head; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int p) {
		return {kic_load16<8>(b + 8 + 16 * p), __ldg(reinterpret_cast<const uint2 *>(b))};
	}
	template <int NT, bool SHARED>
	static __device__ __forceinline__ void dot(const Raw &r, int p, const float *xb, int64_t cols, float acc[NT]) {
		uint32_t hbits = r.head.x >> 16, lbyte = kic_byte(r.head, 4 + p / 2);
		int ls = (int)(((lbyte >> 4 * (p % 2)) & 0xF) | (((hbits >> 2 * p) & 3) << 4));
		float d = kic_half(r.head.x) * (float)(ls - 32);
		uint32_t lo[4], hi[4];
		kic_nibbles(r.q, lo, hi);
		kic_iq4_words(lo), kic_iq4_words(hi);
		kic_dot32<NT, SHARED, false>(lo, hi, xb + 32 * p, cols, kic_magic + 128.f, d, 0.f, acc);
	}
};
