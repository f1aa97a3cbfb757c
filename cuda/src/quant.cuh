// quant.cuh: ggml's block formats, decoded on the device 8 values at a time.
//
// Tensors stay as stored in the GGUF (cuda/layout/types.h: elements and bytes per block), so decode steps read
// the packed bytes, the fewest a token needs. dequant8<DT>(data, idx, out) writes elements idx..idx+7 of a tensor
// (idx a multiple of 8, rows a whole number of blocks), the unit the matvec kernel's lanes work in: 8 values of
// one block, with one scale (or a scale and a min) for all of them in every format below.
//
// Each format follows ggml-quants.c's dequantize_row_* operation by operation in fp32, with the products and
// sums rounded one at a time (__fmul_rn, __fsub_rn...) so that nvcc fuses nothing into an FMA: the values are
// bit for bit ggml's (and worker/gguf's), which the kernel tests check on ggml's own golden data.
//
// Blocks are only as aligned as their size: Q6_K's 210 bytes, Q3_K's 110, Q4_0's 18 and Q5_0's 22 are 2-byte
// aligned, so those read 16-bit words; the others read 32- and 64-bit words where their layout allows.
#pragma once
#include "common.cuh"
#include "types.h"

// The non-linear 4-bit codebook of IQ4_NL and IQ4_XS (ggml-common.h's kvalues_iq4nl).
__device__ __constant__ static const int8_t kic_iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                                                    1,    13,   25,  38,  53,  69,  89,  113};

// kic_half converts the fp16 in the low 16 bits of bits.
__device__ __forceinline__ float kic_half(uint32_t bits) { return __half2float(__ushort_as_half((uint16_t)bits)); }

// load8 reads 8 bytes at p, which is ALIGN-byte aligned (2, 4 or 8), as two little-endian words.
template <int ALIGN> __device__ __forceinline__ uint2 kic_load8(const uint8_t *p) {
	if (ALIGN >= 8) return __ldcs(reinterpret_cast<const uint2 *>(p));
	if (ALIGN >= 4) {
		const uint32_t *q = reinterpret_cast<const uint32_t *>(p);
		return make_uint2(__ldcs(q), __ldcs(q + 1));
	}
	const uint16_t *q = reinterpret_cast<const uint16_t *>(p);
	uint16_t a = __ldcs(q), b = __ldcs(q + 1), c = __ldcs(q + 2), d = __ldcs(q + 3);
	return make_uint2(a | (uint32_t)b << 16, c | (uint32_t)d << 16);
}

__device__ __forceinline__ uint32_t kic_byte(uint2 v, int k) { return ((k < 4 ? v.x : v.y) >> (8 * (k & 3))) & 0xff; }

// kic_byte16 is byte k (0..15) of a 16-byte register value, selected without local memory.
__device__ __forceinline__ uint32_t kic_byte16(const uint4 &v, int k) {
	uint32_t w = k < 8 ? (k < 4 ? v.x : v.y) : (k < 12 ? v.z : v.w);
	return (w >> (8 * (k & 3))) & 0xff;
}

// get_scale_min_k4 of ggml: the 6-bit scale and min of sub-block j of a Q4_K/Q5_K block, whose 12 scale bytes
// are bytes 4..15 of head.
__device__ __forceinline__ void kic_scale_min_k4(int j, const uint4 &head, int *d, int *m) {
	auto q = [&](int i) { return (int)kic_byte16(head, 4 + i); };
	if (j < 4) {
		*d = q(j) & 63, *m = q(j + 4) & 63;
	} else {
		*d = (q(j + 4) & 0xF) | ((q(j - 4) >> 6) << 4);
		*m = (q(j + 4) >> 4) | ((q(j) >> 6) << 4);
	}
}

// Quant<DT> splits decoding into load (the raw words of the 8 values and their scales, issued together so that
// a kernel can keep several chunks' loads in flight) and convert (the arithmetic, once the words are there).
template <int DT> struct Quant;

// Q4_0: d (fp16), qs[16]; x = (q - 8) * d. Element j < 16 is qs[j]'s low nibble, j >= 16 qs[j - 16]'s high one.
template <> struct Quant<KIC_Q4_0> {
	static constexpr int QK = 32, BYTES = 18;
	struct Raw { uint2 q; uint16_t d; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int j) {
		return {kic_load8<2>(b + 2 + (j & 15)), __ldcs(reinterpret_cast<const uint16_t *>(b))};
	}
	static __device__ __forceinline__ void convert(const Raw &r, int j, float out[8]) {
		float d = kic_half(r.d);
		int sh = j < 16 ? 0 : 4;
#pragma unroll
		for (int k = 0; k < 8; k++) out[k] = __fmul_rn((float)((int)((kic_byte(r.q, k) >> sh) & 0xF) - 8), d);
	}
};

// Q4_1: d, m (fp16), qs[16]; x = q * d + m.
template <> struct Quant<KIC_Q4_1> {
	static constexpr int QK = 32, BYTES = 20;
	struct Raw { uint2 q; uint32_t dm; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int j) {
		return {kic_load8<4>(b + 4 + (j & 15)), __ldcs(reinterpret_cast<const uint32_t *>(b))};
	}
	static __device__ __forceinline__ void convert(const Raw &r, int j, float out[8]) {
		float d = kic_half(r.dm), m = kic_half(r.dm >> 16);
		int sh = j < 16 ? 0 : 4;
#pragma unroll
		for (int k = 0; k < 8; k++) out[k] = __fadd_rn(__fmul_rn((float)((kic_byte(r.q, k) >> sh) & 0xF), d), m);
	}
};

// Q5_0: d, qh (32 fifth bits, bit j for element j), qs[16]; x = (q - 16) * d.
template <> struct Quant<KIC_Q5_0> {
	static constexpr int QK = 32, BYTES = 22;
	struct Raw { uint2 q; uint16_t d, h0, h1; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int j) {
		const uint16_t *w = reinterpret_cast<const uint16_t *>(b);
		return {kic_load8<2>(b + 6 + (j & 15)), __ldcs(w), __ldcs(w + 1), __ldcs(w + 2)};
	}
	static __device__ __forceinline__ void convert(const Raw &r, int j, float out[8]) {
		float d = kic_half(r.d);
		uint32_t qh = r.h0 | (uint32_t)r.h1 << 16;
		int sh = j < 16 ? 0 : 4;
#pragma unroll
		for (int k = 0; k < 8; k++) {
			int v = (int)(((kic_byte(r.q, k) >> sh) & 0xF) | (((qh >> (j + k)) & 1) << 4));
			out[k] = __fmul_rn((float)(v - 16), d);
		}
	}
};

// Q5_1: d, m, qh, qs[16]; x = q * d + m.
template <> struct Quant<KIC_Q5_1> {
	static constexpr int QK = 32, BYTES = 24;
	struct Raw { uint2 q, head; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int j) {
		return {kic_load8<8>(b + 8 + (j & 15)), kic_load8<8>(b)};
	}
	static __device__ __forceinline__ void convert(const Raw &r, int j, float out[8]) {
		float d = kic_half(r.head.x), m = kic_half(r.head.x >> 16);
		uint32_t qh = r.head.y;
		int sh = j < 16 ? 0 : 4;
#pragma unroll
		for (int k = 0; k < 8; k++) {
			uint32_t v = ((kic_byte(r.q, k) >> sh) & 0xF) | (((qh >> (j + k)) & 1) << 4);
			out[k] = __fadd_rn(__fmul_rn((float)v, d), m);
		}
	}
};

// Q2_K: scales[16] (4-bit scale, 4-bit min), qs[64] (2 bits), d, dmin. Element j: half n = j/128, g = j%128/32
// (shift 2g), byte qs[32n + j%32], sub-block 8n + 2g + j%32/16; x = d*sc * q - dmin*min.
template <> struct Quant<KIC_Q2_K> {
	static constexpr int QK = 256, BYTES = 84;
	struct Raw { uint2 q; uint32_t dd; uint8_t sc; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int j) {
		int n = j >> 7, g = (j & 127) >> 5, l = j & 31;
		return {kic_load8<4>(b + 16 + n * 32 + l), __ldcs(reinterpret_cast<const uint32_t *>(b + 80)),
		        __ldcs(b + n * 8 + g * 2 + (l >> 4))};
	}
	static __device__ __forceinline__ void convert(const Raw &r, int j, float out[8]) {
		int g = (j & 127) >> 5;
		float dl = __fmul_rn(kic_half(r.dd), (float)(r.sc & 0xF)), ml = __fmul_rn(kic_half(r.dd >> 16), (float)(r.sc >> 4));
#pragma unroll
		for (int k = 0; k < 8; k++) out[k] = __fsub_rn(__fmul_rn(dl, (float)((kic_byte(r.q, k) >> (2 * g)) & 3)), ml);
	}
};

// Q3_K: hmask[32] (third bits), qs[64] (2 bits), scales[12] (16 6-bit scales), d. Element j as Q2_K, with the
// third bit from bit 4n + g of hmask[j%32] (set: +0, clear: -4); x = d*(scale - 32) * q.
template <> struct Quant<KIC_Q3_K> {
	static constexpr int QK = 256, BYTES = 110;
	struct Raw { uint2 q, hm; uint16_t d; uint8_t lo, hi; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int j) {
		int n = j >> 7, g = (j & 127) >> 5, l = j & 31;
		int is = n * 8 + g * 2 + (l >> 4), k = is & 3, sg = is >> 2;
		return {kic_load8<2>(b + 32 + n * 32 + l), kic_load8<2>(b + l), __ldcs(reinterpret_cast<const uint16_t *>(b + 108)),
		        __ldcs(b + 96 + (sg & 1 ? 4 : 0) + k), __ldcs(b + 104 + k)};
	}
	static __device__ __forceinline__ void convert(const Raw &r, int j, float out[8]) {
		int n = j >> 7, g = (j & 127) >> 5, l = j & 31;
		int sg = (n * 8 + g * 2 + (l >> 4)) >> 2;
		int scale = ((r.lo >> (sg & 2 ? 4 : 0)) & 0xF | ((r.hi >> (2 * sg)) & 3) << 4) - 32;
		float dl = __fmul_rn(kic_half(r.d), (float)scale);
		int bit = n * 4 + g;
#pragma unroll
		for (int k = 0; k < 8; k++) {
			int v = (int)((kic_byte(r.q, k) >> (2 * g)) & 3) - ((kic_byte(r.hm, k) >> bit) & 1 ? 0 : 4);
			out[k] = __fmul_rn(dl, (float)v);
		}
	}
};

// Q4_K: d, dmin, scales[12] (8 6-bit scale/min pairs), qs[128]. Element j: sub-block j/32, byte qs[32*(j/64) + j%32],
// low nibble for j%64 < 32; x = d*sc * q - dmin*m.
template <> struct Quant<KIC_Q4_K> {
	static constexpr int QK = 256, BYTES = 144;
	struct Raw { uint2 q; uint4 head; }; // head: d, dmin, scales[12]
	static __device__ __forceinline__ Raw load(const uint8_t *b, int j) {
		return {kic_load8<8>(b + 16 + (j >> 6) * 32 + (j & 31)), __ldcs(reinterpret_cast<const uint4 *>(b))};
	}
	static __device__ __forceinline__ void convert(const Raw &r, int j, float out[8]) {
		int sc, m;
		kic_scale_min_k4(j >> 5, r.head, &sc, &m);
		float d1 = __fmul_rn(kic_half(r.head.x), (float)sc), m1 = __fmul_rn(kic_half(r.head.x >> 16), (float)m);
		int sh = j & 32 ? 4 : 0;
#pragma unroll
		for (int k = 0; k < 8; k++) out[k] = __fsub_rn(__fmul_rn(d1, (float)((kic_byte(r.q, k) >> sh) & 0xF)), m1);
	}
};

// Q5_K: Q4_K with qh[32]: bit j/32 of qh[j%32] adds 16.
template <> struct Quant<KIC_Q5_K> {
	static constexpr int QK = 256, BYTES = 176;
	struct Raw { uint2 q, h; uint4 head; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int j) {
		return {kic_load8<8>(b + 48 + (j >> 6) * 32 + (j & 31)), kic_load8<8>(b + 16 + (j & 31)),
		        __ldcs(reinterpret_cast<const uint4 *>(b))};
	}
	static __device__ __forceinline__ void convert(const Raw &r, int j, float out[8]) {
		int sc, m;
		kic_scale_min_k4(j >> 5, r.head, &sc, &m);
		float d1 = __fmul_rn(kic_half(r.head.x), (float)sc), m1 = __fmul_rn(kic_half(r.head.x >> 16), (float)m);
		int sh = j & 32 ? 4 : 0, bit = j >> 5;
#pragma unroll
		for (int k = 0; k < 8; k++) {
			int v = (int)((kic_byte(r.q, k) >> sh) & 0xF) + ((kic_byte(r.h, k) >> bit) & 1 ? 16 : 0);
			out[k] = __fsub_rn(__fmul_rn(d1, (float)v), m1);
		}
	}
};

// Q6_K: ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] (int8), d. Element j: half n = j/128, quarter
// g = j%128/32, l = j%32: low bits from ql[64n + l + 32(g&1)] (high nibble for g >= 2), high bits 2g of qh[32n + l],
// scale 8n + l/16 + 2g; x = d*scale * (q - 32).
template <> struct Quant<KIC_Q6_K> {
	static constexpr int QK = 256, BYTES = 210;
	struct Raw { uint2 ql, qh; uint16_t d; int8_t sc; };
	static __device__ __forceinline__ Raw load(const uint8_t *b, int j) {
		int n = j >> 7, g = (j & 127) >> 5, l = j & 31;
		return {kic_load8<2>(b + n * 64 + l + 32 * (g & 1)), kic_load8<2>(b + 128 + n * 32 + l),
		        __ldcs(reinterpret_cast<const uint16_t *>(b + 208)), (int8_t)__ldcs(b + 192 + n * 8 + (l >> 4) + 2 * g)};
	}
	static __device__ __forceinline__ void convert(const Raw &r, int j, float out[8]) {
		int g = (j & 127) >> 5, sh = g >= 2 ? 4 : 0;
		float ds = __fmul_rn(kic_half(r.d), (float)r.sc);
#pragma unroll
		for (int k = 0; k < 8; k++) {
			int v = (int)(((kic_byte(r.ql, k) >> sh) & 0xF) | (((kic_byte(r.qh, k) >> (2 * g)) & 3) << 4)) - 32;
			out[k] = __fmul_rn(ds, (float)v);
		}
	}
};

// IQ4_NL: Q4_0's layout with the codebook instead of q - 8; x = d * value.
template <> struct Quant<KIC_IQ4_NL> {
	static constexpr int QK = 32, BYTES = 18;
	using Raw = Quant<KIC_Q4_0>::Raw;
	static __device__ __forceinline__ Raw load(const uint8_t *b, int j) { return Quant<KIC_Q4_0>::load(b, j); }
	static __device__ __forceinline__ void convert(const Raw &r, int j, float out[8]) {
		float d = kic_half(r.d);
		int sh = j < 16 ? 0 : 4;
#pragma unroll
		for (int k = 0; k < 8; k++) out[k] = __fmul_rn(d, (float)kic_iq4nl_values[(kic_byte(r.q, k) >> sh) & 0xF]);
	}
};

// IQ4_XS: d, scales_h (2 high bits per sub-block), scales_l[4] (4 low bits), qs[128]; sub-block ib = j/32 as an
// IQ4_NL block with scale d * (ls - 32).
template <> struct Quant<KIC_IQ4_XS> {
	static constexpr int QK = 256, BYTES = 136;
	struct Raw { uint2 q, head; }; // head: d, scales_h, scales_l[4]
	static __device__ __forceinline__ Raw load(const uint8_t *b, int j) {
		int ib = j >> 5, r = j & 31;
		return {kic_load8<8>(b + 8 + ib * 16 + (r & 15)), kic_load8<8>(b)};
	}
	static __device__ __forceinline__ void convert(const Raw &r, int j, float out[8]) {
		int ib = j >> 5;
		uint32_t hbits = r.head.x >> 16, lbyte = kic_byte(r.head, 4 + ib / 2); // scales_l[ib/2]
		int ls = (int)(((lbyte >> 4 * (ib % 2)) & 0xF) | (((hbits >> 2 * ib) & 3) << 4));
		float dl = __fmul_rn(kic_half(r.head.x), (float)(ls - 32));
		int sh = (j & 31) < 16 ? 0 : 4;
#pragma unroll
		for (int k = 0; k < 8; k++) out[k] = __fmul_rn(dl, (float)kic_iq4nl_values[(kic_byte(r.q, k) >> sh) & 0xF]);
	}
};

// dequant8 decodes elements idx..idx+7 (idx % 8 == 0) of a tensor of DT stored at data.
template <int DT> __device__ __forceinline__ void dequant8(const void *data, int64_t idx, float out[8]) {
	using Q = Quant<DT>;
	int j = (int)(idx % Q::QK);
	Q::convert(Q::load((const uint8_t *)data + (idx / Q::QK) * Q::BYTES, j), j, out);
}

// The block formats the kernels take as stored, for dispatch (Q8_0 is split at upload instead).
__host__ __device__ constexpr bool kic_is_block_quant(int dt) {
	return dt == KIC_Q4_0 || dt == KIC_Q4_1 || dt == KIC_Q5_0 || dt == KIC_Q5_1 || dt == KIC_Q2_K || dt == KIC_Q3_K ||
	       dt == KIC_Q4_K || dt == KIC_Q5_K || dt == KIC_Q6_K || dt == KIC_IQ4_NL || dt == KIC_IQ4_XS;
}

// KIC_FOR_EACH_BLOCK_QUANT(X) expands X(dtype) for each of them: one list for every dispatch switch.
#define KIC_FOR_EACH_BLOCK_QUANT(X)                                                                        \
	X(KIC_Q4_0) X(KIC_Q4_1) X(KIC_Q5_0) X(KIC_Q5_1) X(KIC_Q2_K) X(KIC_Q3_K) X(KIC_Q4_K) X(KIC_Q5_K) X(KIC_Q6_K) \
	    X(KIC_IQ4_NL) X(KIC_IQ4_XS)

// Dequantizes the tile rows [r0, r0 + nrows) x columns [c0, c0 + ncols) of a block-quantized rows x cols matrix to
// fp16, ncols values a row (the GEMM path; c0 and ncols multiples of the block), or whole rows to fp32.
kic_status launch_dequant_tile(int dtype, const void *data, int64_t cols, int64_t r0, int64_t nrows, int64_t c0,
                               int64_t ncols, __half *y, cudaStream_t s);
kic_status launch_dequant_rows_f32(int dtype, const void *data, int64_t cols, int64_t r0, int64_t nrows, float *y,
                                   cudaStream_t s);
