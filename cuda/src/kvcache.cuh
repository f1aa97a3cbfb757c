// kvcache.cuh: the paged KV cache. Per slot (kic_model_config.kv_slots: a layer of each layer group), K and V are
// pools of fixed-size blocks laid out
// [block][token in block][kv head][head dim]; a sequence's block table maps its position p to
// block table[p / block_tokens], slot p % block_tokens. The Go side owns block allocation.
//
// Elements are stored as the pool's type (kic_model_config.kv_type): fp32, fp16, bf16, or q8_0, where each
// 32 consecutive elements of a token's row share one fp16 scale (ggml's Q8_0 numbers, with the int8 quants
// of the whole layer first and the scales after them, so element e is quant e and scale e / 32, and a row
// of a head is still aligned for vector loads). kv_offset gives element offsets; kv_io<KT> reads and writes
// elements at them, so the kernels are written once and instantiated per type.
#pragma once
#include <type_traits>

#include "common.cuh"

struct kic_kv_view {
	uint8_t *k = nullptr, *v = nullptr; // this layer's pools
	int64_t scales = 0;                 // q8_0: byte offset of a pool's scales from its start
	const int32_t *tables = nullptr;    // nseq x max_blocks block ids (device)
	int max_blocks = 0;                 // block-table row width
	int block_tokens = 0;
	int kv_dim = 0;                     // heads_kv * head_dim
	int type = KIC_F32;                 // kic_dtype of the elements
};

__device__ __forceinline__ int64_t kv_offset(const kic_kv_view &kv, int seq, int p) {
	int blk = kv.tables[(int64_t)seq * kv.max_blocks + p / kv.block_tokens];
	return ((int64_t)blk * kv.block_tokens + p % kv.block_tokens) * kv.kv_dim;
}

// kv_io<KT> loads 1, 2 or 4 consecutive elements at element offset e of pool p (e a multiple of the count)
// as fp32, and stores one. Stores round to nearest even, as the CPU engine's rounding (gguf's encoders).
template <int KT> struct kv_io;

template <> struct kv_io<KIC_F32> {
	static __device__ __forceinline__ float load1(const uint8_t *p, int64_t, int64_t e) {
		return __ldg(reinterpret_cast<const float *>(p) + e);
	}
	static __device__ __forceinline__ float2 load2(const uint8_t *p, int64_t, int64_t e) {
		return __ldg(reinterpret_cast<const float2 *>(p) + e / 2);
	}
	static __device__ __forceinline__ float4 load4(const uint8_t *p, int64_t, int64_t e) {
		return __ldg(reinterpret_cast<const float4 *>(p) + e / 4);
	}
	static __device__ __forceinline__ void store1(uint8_t *p, int64_t e, float x) { reinterpret_cast<float *>(p)[e] = x; }
};

// The two 16-bit types differ only in their conversions.
template <typename T, typename T2> struct kv_io16 {
	static __device__ __forceinline__ float2 two(uint32_t bits) {
		T2 h = *reinterpret_cast<T2 *>(&bits);
		if constexpr (sizeof(T) == 2 && std::is_same<T, __half>::value) return __half22float2(h);
		else return __bfloat1622float2(h);
	}
	static __device__ __forceinline__ float load1(const uint8_t *p, int64_t, int64_t e) {
		uint16_t b = __ldg(reinterpret_cast<const unsigned short *>(p) + e);
		if constexpr (std::is_same<T, __half>::value) return half_bits_to_float(b);
		else return bf16_bits_to_float(b);
	}
	static __device__ __forceinline__ float2 load2(const uint8_t *p, int64_t, int64_t e) {
		return two(__ldg(reinterpret_cast<const unsigned int *>(p) + e / 2));
	}
	static __device__ __forceinline__ float4 load4(const uint8_t *p, int64_t, int64_t e) {
		uint2 u = __ldg(reinterpret_cast<const uint2 *>(p) + e / 4);
		float2 a = two(u.x), b = two(u.y);
		return make_float4(a.x, a.y, b.x, b.y);
	}
	static __device__ __forceinline__ void store1(uint8_t *p, int64_t e, float x) {
		if constexpr (std::is_same<T, __half>::value) reinterpret_cast<__half *>(p)[e] = __float2half_rn(x);
		else reinterpret_cast<__nv_bfloat16 *>(p)[e] = __float2bfloat16_rn(x);
	}
};
template <> struct kv_io<KIC_F16> : kv_io16<__half, __half2> {};
template <> struct kv_io<KIC_BF16> : kv_io16<__nv_bfloat16, __nv_bfloat162> {};

// q8_0 is only read here; kv_store_row writes it, a warp per 32 elements.
template <> struct kv_io<KIC_Q8_0> {
	static __device__ __forceinline__ float scale(const uint8_t *p, int64_t scales, int64_t e) {
		return half_bits_to_float(__ldg(reinterpret_cast<const unsigned short *>(p + scales) + e / 32));
	}
	static __device__ __forceinline__ float load1(const uint8_t *p, int64_t scales, int64_t e) {
		return (float)(int8_t)__ldg(p + e) * scale(p, scales, e);
	}
	static __device__ __forceinline__ float2 load2(const uint8_t *p, int64_t scales, int64_t e) {
		char2 q = __ldg(reinterpret_cast<const char2 *>(p) + e / 2);
		float d = scale(p, scales, e);
		return make_float2((float)q.x * d, (float)q.y * d);
	}
	static __device__ __forceinline__ float4 load4(const uint8_t *p, int64_t scales, int64_t e) {
		char4 q = __ldg(reinterpret_cast<const char4 *>(p) + e / 4);
		float d = scale(p, scales, e);
		return make_float4((float)q.x * d, (float)q.y * d, (float)q.z * d, (float)q.w * d);
	}
};

// kv_store_row writes n elements of src (fp32) at element offset e0 of pool p with every thread of the block
// (blockDim.x a multiple of 32). q8_0 rows are whole groups of 32 at offsets that are multiples of 32, each
// quantized by one warp as ggml's quantize_row_q8_0_ref does: scale amax / 127, quants round(x / scale).
template <int KT> __device__ __forceinline__ void kv_store_row(uint8_t *p, int64_t scales, int64_t e0, const float *src, int n) {
	if constexpr (KT == KIC_Q8_0) {
		int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
		for (int g = warp; g < n / 32; g += warps) {
			float x = src[g * 32 + lane];
			float d = warp_max(fabsf(x)) / 127.f;
			float id = d != 0.f ? 1.f / d : 0.f;
			p[e0 + g * 32 + lane] = (uint8_t)(int8_t)roundf(x * id);
			if (lane == 0) reinterpret_cast<__half *>(p + scales)[e0 / 32 + g] = __float2half_rn(d);
		}
	} else {
		for (int c = threadIdx.x; c < n; c += blockDim.x) kv_io<KT>::store1(p, e0 + c, src[c]);
	}
}

// kv_store1 writes one element of a pool whose type is known only at run time (fp32 or 16-bit: a q8_0 element
// cannot be written alone), for kernels that are not instantiated per type.
__device__ __forceinline__ void kv_store1(const kic_kv_view &kv, uint8_t *p, int64_t e, float x) {
	switch (kv.type) {
	case KIC_F16: kv_io<KIC_F16>::store1(p, e, x); break;
	case KIC_BF16: kv_io<KIC_BF16>::store1(p, e, x); break;
	default: kv_io<KIC_F32>::store1(p, e, x);
	}
}
