#include <climits>

#include "logprobs.cuh"

// Two kernels. logprobs_part_kernel: a block per kLogprobChunk logits of a row (a 128k vocabulary is 63 blocks, so
// the row is read once, spread over the SMs, instead of six times by one block as a single-block kernel would)
// holds its chunk in registers and writes a part: the chunk's max, the sum of exponentials from it, and its top_n
// in the order (logit descending, id ascending). logprobs_merge_kernel: a block a row, the log-sum-exp from the
// parts and the top_n of their candidates (the best top_n of a row are among its chunks' best top_n).
// NaN logits compare false everywhere: never picked, and left out of the sums (engine.Logprobs does the same).
constexpr int kPartThreads = 256, kPartPerThread = 8, kMergeThreads = 256;
constexpr int kLogprobChunk = kPartThreads * kPartPerThread;

struct lp_part {
	float max, sum; // sum of exp(logit - max) over the chunk
	float v[KIC_MAX_TOP_LOGPROBS];
	int32_t id[KIC_MAX_TOP_LOGPROBS];
};

int kic_logprobs_parts(int vocab) { return (vocab + kLogprobChunk - 1) / kLogprobChunk; }

uint64_t kic_logprobs_scratch(int rows, int vocab) { return sizeof(lp_part) * rows * kic_logprobs_parts(vocab); }

// better says whether (v, i) comes before (bv, bi): a higher logit, or the same and a lower id.
__device__ __forceinline__ bool better(float v, int i, float bv, int bi) { return v > bv || (v == bv && i < bi); }

// block_best reduces each thread's (v, i) to the block's best, returned to every thread.
__device__ __forceinline__ void block_best(float &v, int &i) {
	__shared__ float sv[32];
	__shared__ int si[32];
	int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
	for (int o = 16; o > 0; o >>= 1) {
		float ov = __shfl_xor_sync(0xffffffffu, v, o);
		int oi = __shfl_xor_sync(0xffffffffu, i, o);
		if (better(ov, oi, v, i)) v = ov, i = oi;
	}
	__syncthreads(); // the previous round's reads of sv / si are done
	if (lane == 0) sv[warp] = v, si[warp] = i;
	__syncthreads();
	v = lane < warps ? sv[lane] : -INFINITY, i = lane < warps ? si[lane] : INT_MAX;
	for (int o = 16; o > 0; o >>= 1) {
		float ov = __shfl_xor_sync(0xffffffffu, v, o);
		int oi = __shfl_xor_sync(0xffffffffu, i, o);
		if (better(ov, oi, v, i)) v = ov, i = oi;
	}
}

__global__ void __launch_bounds__(kPartThreads)
logprobs_part_kernel(const float *logits, int vocab, int top_n, lp_part *parts) {
	const float *l = logits + (int64_t)blockIdx.y * vocab;
	lp_part *p = parts + (int64_t)blockIdx.y * gridDim.x + blockIdx.x;
	int base = blockIdx.x * kLogprobChunk + threadIdx.x;
	pdl_wait();
	pdl_launch_dependents();
	float v[kPartPerThread];
	float m = -INFINITY;
#pragma unroll
	for (int u = 0; u < kPartPerThread; u++) {
		int t = base + u * kPartThreads;
		v[u] = t < vocab ? l[t] : NAN; // past the row: a NaN, never counted
		m = v[u] > m ? v[u] : m;
	}
	__shared__ float scratch[32];
	m = block_max(m, scratch);
	float sum = 0.f;
#pragma unroll
	for (int u = 0; u < kPartPerThread; u++) sum += v[u] == v[u] ? expf(v[u] - m) : 0.f;
	sum = block_sum(sum, scratch);
	if (threadIdx.x == 0) p->max = m, p->sum = sum;
	// Each round takes the block's best and marks it taken in the thread that holds it.
	unsigned taken = 0;
	for (int r = 0; r < top_n; r++) {
		float bv = -INFINITY;
		int bi = INT_MAX;
#pragma unroll
		for (int u = 0; u < kPartPerThread; u++)
			if (!(taken >> u & 1) && better(v[u], base + u * kPartThreads, bv, bi)) bv = v[u], bi = base + u * kPartThreads;
		block_best(bv, bi);
		int u = bi - base;
		if (bi != INT_MAX && u >= 0 && u % kPartThreads == 0) taken |= 1u << (u / kPartThreads);
		if (threadIdx.x == 0) p->v[r] = bv, p->id[r] = bi == INT_MAX ? -1 : bi;
	}
}

__global__ void __launch_bounds__(kMergeThreads)
logprobs_merge_kernel(const float *logits, int vocab, const int32_t *tokens, int top_n, const lp_part *parts, int nparts,
                      kic_logprob_row *out) {
	const lp_part *p = parts + (int64_t)blockIdx.x * nparts;
	kic_logprob_row *o = out + blockIdx.x;
	pdl_wait();
	pdl_launch_dependents();
	__shared__ float scratch[32];
	float m = -INFINITY;
	for (int j = threadIdx.x; j < nparts; j += blockDim.x) m = fmaxf(m, p[j].max);
	m = block_max(m, scratch);
	float sum = 0.f;
	for (int j = threadIdx.x; j < nparts; j += blockDim.x)
		if (p[j].sum > 0.f) sum += p[j].sum * expf(p[j].max - m);
	float lse = m + logf(block_sum(sum, scratch));
	if (threadIdx.x == 0) {
		int tok = tokens[blockIdx.x];
		o->chosen = tok >= 0 && tok < vocab ? logits[(int64_t)blockIdx.x * vocab + tok] - lse : NAN;
	}
	// Each round: the best candidate after the previous pick. A part's list is best first, so a part contributes
	// its first entry after the pick (no entry past a -1: the chunk had no more).
	float pv = INFINITY;
	int pi = -1;
	for (int r = 0; r < top_n; r++) {
		float bv = -INFINITY;
		int bi = INT_MAX;
		for (int j = threadIdx.x; j < nparts; j += blockDim.x)
			for (int k = 0; k < top_n && p[j].id[k] >= 0; k++) {
				float v = p[j].v[k];
				int id = p[j].id[k];
				if (v < pv || (v == pv && id > pi)) {
					if (better(v, id, bv, bi)) bv = v, bi = id;
					break;
				}
			}
		block_best(bv, bi);
		if (threadIdx.x == 0) {
			bool found = bi != INT_MAX;
			o->top_ids[r] = found ? bi : -1;
			o->top_logprobs[r] = found ? bv - lse : -INFINITY;
		}
		pv = bv, pi = bi;
	}
}

kic_status launch_logprobs(const float *logits, int rows, int vocab, const int32_t *tokens, int top_n, void *scratch,
                           kic_logprob_row *out, cudaStream_t s) {
	if (rows <= 0) return KIC_OK;
	if (top_n < 0 || top_n > KIC_MAX_TOP_LOGPROBS || vocab <= 0)
		return kic_set_error(KIC_ERR_INVALID, "logprobs: top_n %d (0 to %d), vocab %d", top_n, KIC_MAX_TOP_LOGPROBS, vocab);
	int nparts = kic_logprobs_parts(vocab);
	lp_part *parts = static_cast<lp_part *>(scratch);
	KIC_TRY(kic_launch(logprobs_part_kernel, dim3(nparts, rows), dim3(kPartThreads), 0, s, logits, vocab, top_n, parts));
	return kic_launch(logprobs_merge_kernel, dim3(rows), dim3(kMergeThreads), 0, s, logits, vocab, tokens, top_n,
	                  (const lp_part *)parts, nparts, out);
}
