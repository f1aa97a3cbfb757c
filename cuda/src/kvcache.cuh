// kvcache.cuh: the paged KV cache. Per layer, K and V are pools of fixed-size blocks laid out
// [block][token in block][kv head][head dim] in fp32; a sequence's block table maps its position p to
// block table[p / block_tokens], slot p % block_tokens. The Go side owns block allocation.
#pragma once
#include "common.cuh"

struct kic_kv_view {
	float *k = nullptr, *v = nullptr;  // this layer's pools
	const int32_t *tables = nullptr;   // nseq x max_blocks block ids (device)
	int max_blocks = 0;                // block-table row width
	int block_tokens = 0;
	int kv_dim = 0;                    // heads_kv * head_dim
};

__device__ __forceinline__ int64_t kv_offset(const kic_kv_view &kv, int seq, int p) {
	int blk = kv.tables[(int64_t)seq * kv.max_blocks + p / kv.block_tokens];
	return ((int64_t)blk * kv.block_tokens + p % kv.block_tokens) * kv.kv_dim;
}
