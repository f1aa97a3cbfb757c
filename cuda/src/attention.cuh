// attention.cuh: causal scaled dot-product attention over the paged KV cache, GQA and MHA
// (query head h reads KV head h / (heads / heads_kv)), head_dim up to 256.
//
// Query i sits at position pos[i] of sequence seq[i] and attends keys 0..pos[i], already stored; with a sliding
// window only the last `window` of them (pos[i] - window + 1 .. pos[i]). Scores are q.k * scale, soft-capped to
// softcap * tanh(score / softcap) when softcap > 0 (Gemma 2).
// Both kernels use the same online softmax (one warp per query and head, one lane per key of a tile):
//   - prefill (attn_prefill_tc.cu): flash-style on the tensor cores, 64 (query, head) rows per block, the
//     fp32 operands split into bf16 hi + lo halves; attn_prefill.cu is the SIMT fallback, which takes 16
//     consecutive queries of one sequence and one head and stages each K/V tile in shared memory once;
//   - decode (attn_decode.cu): split-K; the keys of each query are cut into up to a.splits chunks
//     worked on by separate blocks (one per KV head, its query heads as warps), whose partial (max, sum,
//     output) are merged by the last block to finish. The chunking is decided on the device from pos[], so
//     a captured CUDA graph stays valid as sequences grow.
#pragma once
#include "kvcache.cuh"
#include "layout.h"
#include "softcap.cuh"

constexpr int kic_attn_splits = KIC_ATTN_SPLITS;

// Decode attention pipelines its key tiles by default; the kernel benchmark turns it off to compare.
extern bool kic_attn_pipeline;

struct kic_attn_args {
	const float *q = nullptr;  // n rows, stride q_stride
	int64_t q_stride = 0;
	float *out = nullptr;      // n rows of heads * head_dim, dense
	const int32_t *seq = nullptr, *pos = nullptr;
	int n = 0, heads = 0, heads_kv = 0, head_dim = 0;
	float scale = 0.f;         // 1/sqrt(head_dim) or the architecture's, rounded to fp32 as the CPU engine does
	int window = 0;            // > 0: the keys a query sees are its own and the window - 1 before it
	float softcap = 0.f;       // > 0: scores are soft-capped
	int splits = kic_attn_splits; // decode: the most chunks a query's keys are cut into (kic_attn_decode_splits)
	bool pipeline = kic_attn_pipeline; // decode: key tiles in flight while one is computed (cp.async for 16-bit pools)
};

// Prefill runs on the tensor cores (attn_prefill_tc.cu) where the device has the shared memory for the
// head size, else (or with tensor_cores false, for tests) on the SIMT kernel. The tensor-core kernel splits
// long key ranges over several blocks when partials (kic_attn_partials(n, ...) floats) and counters
// (max_tiles ints at zero, left at zero; n * heads_kv is always enough) are given.
kic_status launch_attn_prefill(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters,
                               int max_tiles, cudaStream_t s, bool tensor_cores = true);
// launch_attn_prefill_tc launches the tensor-core kernel and sets *launched, or leaves the call to the SIMT
// kernel (*launched false) when this device or head size cannot take it.
kic_status launch_attn_prefill_tc(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters,
                                  int max_tiles, cudaStream_t s, bool *launched);
// The splits a decode step of n query rows takes on a device of sms SMs, when the partials hold `rows` rows:
// about kDecodeBlocksPerSM (row, KV head, split) blocks a SM, at least one split, within the partials' room
// (kic_attn_decode_splits). Every split past that only adds a partial to write and merge: 64 rows of a
// 300-key context took 16 splits, 10 of them a 32-key tile each and a merge.
int kic_decode_splits(int n, int rows, int heads_kv, int sms);
// counters: n * heads_kv ints, zero before the first call (each call leaves them at zero).
kic_status launch_attn_decode(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters,
                              cudaStream_t s);

// softmax_step folds a tile's scores (a lane's, or -inf past the tile) into the running max m and sum l, rescales
// the output sums acc, and returns the lane's weight for the tile's values: the online softmax of
// attn_tile_update, which the decode kernels (and the persistent path) inline to batch their value loads.
template <int J>
__device__ __forceinline__ float softmax_step(float score, float &m, float &l, float (&acc)[J]) {
	float m_new = fmaxf(m, warp_max(score));
	float corr = m == -INFINITY ? 0.f : __expf(m - m_new);
	float p = score == -INFINITY ? 0.f : __expf(score - m_new);
	l = l * corr + warp_sum(p);
#pragma unroll
	for (int j = 0; j < J; j++) acc[j] *= corr;
	m = m_new;
	return p;
}

// attn_store_partial writes one chunk's partial of a query head's keys (decode attention's split-K, the persistent
// path's key chunks): its max and sum of exponentials, then head_dim outputs; a lane's acc holds dims lane + 32 j.
template <int J>
__device__ __forceinline__ void attn_store_partial(float *part, float m, float l, const float (&acc)[J], int head_dim) {
	int lane = threadIdx.x & 31;
	if (lane == 0) part[0] = m, part[1] = l;
#pragma unroll
	for (int j = 0; j < J; j++) {
		int d = lane + 32 * j;
		if (d < head_dim) part[2 + d] = acc[j];
	}
}

// attn_merge_partials: a warp merges count partials of one query head (attn_store_partial's, head_dim + 2 floats
// apart from base, written by other blocks of the same launch: read through L2) into out's head_dim values, the
// max first, then each partial's sum and outputs weighted by exp(its max - the max). Lane s reads partial s's
// (max, sum), 32 partials a round, and each lane its dims of 4 partials at a time.
template <int J>
__device__ __forceinline__ void attn_merge_partials(const float *base, int count, int head_dim, float *out) {
	const int lane = threadIdx.x & 31, stride = head_dim + 2;
	float M = -INFINITY;
	for (int s0 = lane; s0 < count; s0 += 32) M = fmaxf(M, __ldcg(base + s0 * stride));
	M = warp_max(M);
	float L = 0.f;
	for (int s0 = lane; s0 < count; s0 += 32) {
		float ms = __ldcg(base + s0 * stride);
		if (ms != -INFINITY) L += __expf(ms - M) * __ldcg(base + s0 * stride + 1);
	}
	L = warp_sum(L);
	float o[J];
#pragma unroll
	for (int j = 0; j < J; j++) o[j] = 0.f;
	for (int r0 = 0; r0 < count; r0 += 32) {
		float ms = r0 + lane < count ? __ldcg(base + (r0 + lane) * stride) : -INFINITY;
		float ws = ms == -INFINITY ? 0.f : __expf(ms - M);
		int round = min(32, count - r0);
		for (int s0 = 0; s0 < round; s0 += 4) {
			float wv[4], pv[4][J];
#pragma unroll
			for (int u = 0; u < 4; u++) {
				int sidx = s0 + u;
				wv[u] = __shfl_sync(0xffffffffu, ws, sidx & 31);
#pragma unroll
				for (int j = 0; j < J; j++) {
					int d = lane + 32 * j;
					pv[u][j] = sidx < round && d < head_dim ? __ldcg(base + (r0 + sidx) * stride + 2 + d) : 0.f;
				}
			}
#pragma unroll
			for (int u = 0; u < 4; u++)
#pragma unroll
				for (int j = 0; j < J; j++) o[j] += wv[u] * pv[u][j];
		}
	}
#pragma unroll
	for (int j = 0; j < J; j++) {
		int d = lane + 32 * j;
		if (d < head_dim) out[d] = o[j] / L;
	}
}

// The prefill kernel's online-softmax step (the decode kernel inlines it to batch its value loads): the
// lane's score for one key of a tile of up to 32 keys (or -inf), and row(kk) giving the value row of tile
// key kk. acc holds dims lane + 32*j.
template <typename VRow>
__device__ __forceinline__ void attn_tile_update(float score, int tile_keys, VRow row, int head_dim, float &m,
                                                 float &l, float acc[8]) {
	int lane = threadIdx.x & 31;
	float tile_max = warp_max(score);
	float m_new = fmaxf(m, tile_max);
	if (m_new == -INFINITY) return; // nothing visible yet
	float corr = m == -INFINITY ? 0.f : __expf(m - m_new);
	float p = score == -INFINITY ? 0.f : __expf(score - m_new);
	l = l * corr + warp_sum(p);
#pragma unroll
	for (int j = 0; j < 8; j++) acc[j] *= corr;
	for (int kk = 0; kk < tile_keys; kk++) {
		float pk = __shfl_sync(0xffffffffu, p, kk);
		if (pk == 0.f) continue;
		const float *vr = row(kk);
#pragma unroll
		for (int j = 0; j < 8; j++) {
			int d = lane + 32 * j;
			if (d < head_dim) acc[j] += pk * vr[d];
		}
	}
	m = m_new;
}
