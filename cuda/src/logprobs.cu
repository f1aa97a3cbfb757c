#include <climits>

#include "logprobs.cuh"

// One block a row: the max, the sum of exponentials (so the log-sum-exp), then top_n rounds, each a block-wide
// argmax over the tokens that come after the last pick in the order (logit descending, id ascending); a row is
// 512 KB for a 128k vocabulary, so the rounds read it from L2. NaN logits compare false everywhere: never picked.
// The order of a thread's visits does not matter: ties are settled by id.
constexpr int kLogprobThreads = 1024;

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

// scan calls f(v, t) for each token t of the row a thread visits, with kScanBatch of its loads in flight: one at a
// time, each waits an L2 round trip before the next goes out, ~125 in series a pass over a 128k vocabulary.
constexpr int kScanBatch = 8;
template <typename F> __device__ __forceinline__ void scan(const float *l, int vocab, F f) {
	for (int t0 = threadIdx.x; t0 < vocab; t0 += kScanBatch * blockDim.x) {
		float v[kScanBatch];
#pragma unroll
		for (int u = 0; u < kScanBatch; u++) {
			int t = t0 + u * blockDim.x;
			v[u] = t < vocab ? l[t] : 0.f;
		}
#pragma unroll
		for (int u = 0; u < kScanBatch; u++) {
			int t = t0 + u * blockDim.x;
			if (t < vocab) f(v[u], t);
		}
	}
}

__global__ void __launch_bounds__(kLogprobThreads, 1)
logprobs_kernel(const float *logits, int vocab, const int32_t *tokens, int top_n, kic_logprob_row *out) {
	const float *l = logits + (int64_t)blockIdx.x * vocab;
	kic_logprob_row *o = out + blockIdx.x;
	pdl_wait();
	pdl_launch_dependents();
	float bv = -INFINITY;
	int bi = INT_MAX;
	scan(l, vocab, [&](float v, int t) {
		if (better(v, t, bv, bi)) bv = v, bi = t;
	});
	block_best(bv, bi);
	__shared__ float scratch[32];
	float m = bv, sum = 0.f;
	scan(l, vocab, [&](float v, int) { sum += expf(v - m); });
	float lse = m + logf(block_sum(sum, scratch));
	if (threadIdx.x == 0) {
		int tok = tokens[blockIdx.x];
		o->chosen = tok >= 0 && tok < vocab ? l[tok] - lse : NAN;
	}
	// Round 0's pick is the max found above; each later round takes the best after the previous pick.
	for (int r = 0; r < top_n; r++) {
		if (r > 0) {
			float pv = bv;
			int pi = bi;
			bv = -INFINITY, bi = INT_MAX;
			scan(l, vocab, [&](float v, int t) {
				bool after = v < pv || (v == pv && t > pi);
				if (after && better(v, t, bv, bi)) bv = v, bi = t;
			});
			block_best(bv, bi);
		}
		if (threadIdx.x == 0) {
			bool found = bi < vocab;
			o->top_ids[r] = found ? bi : -1;
			o->top_logprobs[r] = found ? bv - lse : -INFINITY;
		}
	}
}

kic_status launch_logprobs(const float *logits, int rows, int vocab, const int32_t *tokens, int top_n,
                           kic_logprob_row *out, cudaStream_t s) {
	if (rows <= 0) return KIC_OK;
	if (top_n < 0 || top_n > KIC_MAX_TOP_LOGPROBS || vocab <= 0)
		return kic_set_error(KIC_ERR_INVALID, "logprobs: top_n %d (0 to %d), vocab %d", top_n, KIC_MAX_TOP_LOGPROBS, vocab);
	return kic_launch(logprobs_kernel, dim3(rows), dim3(kLogprobThreads), 0, s, logits, vocab, tokens, top_n, out);
}
