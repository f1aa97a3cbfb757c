#include "layout.h"
#include "sample.cuh"

constexpr int kSampleThreads = 1024;

// allowed says whether a row's mask (nullptr: no mask) lets token j be sampled.
__device__ __forceinline__ bool allowed(const uint64_t *mask, int j) { return !mask || (mask[j >> 6] >> (j & 63)) & 1; }

__device__ __forceinline__ uint64_t splitmix64(uint64_t x) {
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

// A masked-out token takes no part anywhere: not in the argmax, the top-k and top-p thresholds, nor the draw.
// A launch's rows' parameters travel in the kernel's arguments (2.5 KB of the 4 KB a launch's arguments may
// take), so a batch's sampling needs no upload.
constexpr int kSampleRowsPerLaunch = 64;
struct SampleRows {
	kic_sampling p[kSampleRowsPerLaunch];
};
static_assert(sizeof(SampleRows) + 64 <= 4096, "a launch's rows fit its argument space with the other arguments");

// Block b draws row row0 + b. The greedy kernels ran first over every row: a greedy row keeps their argmax,
// and a row they marked (NaN or +inf anywhere, or no token allowed) keeps the mark, as the host ends such a
// request whether it samples or not.
__global__ void __launch_bounds__(kSampleThreads)
    sample_kernel(const float *logits, int vocab, SampleRows rows, int row0, const uint64_t *masks, int words,
                  int32_t *tokens) {
	__shared__ float scratch[32];
	__shared__ float scan[kSampleThreads];
	__shared__ float best_v[kSampleThreads];
	__shared__ int best_i[kSampleThreads];
	__shared__ int found;
	int row = row0 + blockIdx.x, tid = threadIdx.x;
	const kic_sampling p = rows.p[blockIdx.x];
	if (p.temperature <= 0.f || tokens[row] < 0) return;
	const float *l = logits + (int64_t)row * vocab;
	const uint64_t *mask = masks ? masks + (int64_t)row * words : nullptr;

	// Argmax: needed for greedy and as the fallback when rounding leaves the draw unresolved. bi stays vocab
	// only when the mask allows no token (an allowed -inf still wins over the sentinel, as on the host).
	float bv = -INFINITY;
	int bi = vocab;
	for (int j = tid; j < vocab; j += blockDim.x)
		if (allowed(mask, j) && (l[j] > bv || (bi == vocab && l[j] == -INFINITY))) bv = l[j], bi = j;
	best_v[tid] = bv, best_i[tid] = bi;
	__syncthreads();
	for (int st = blockDim.x / 2; st > 0; st >>= 1) {
		if (tid < st) {
			float ov = best_v[tid + st];
			int oi = best_i[tid + st];
			if (ov > best_v[tid] || (ov == best_v[tid] && oi < best_i[tid])) best_v[tid] = ov, best_i[tid] = oi;
		}
		__syncthreads();
	}
	int argmax = best_i[0];
	float mx = best_v[0];
	// Nothing to draw from when no allowed logit is above -inf: the argmax (the first allowed token) stands.
	if (argmax >= vocab || mx == -INFINITY) return;
	float inv_t = 1.f / p.temperature;

	// Top-k: the largest logit threshold t with count(l >= t) >= k.
	float tk = -INFINITY;
	if (p.top_k > 0 && p.top_k < vocab) {
		float mn = INFINITY;
		for (int j = tid; j < vocab; j += blockDim.x)
			if (allowed(mask, j) && l[j] > -INFINITY) mn = fminf(mn, l[j]); // a finite floor: bisection from -inf stalls
		__syncthreads();
		mn = -block_max(-mn, scratch);
		float lo = mn, hi = mx;
		for (int it = 0; it < 40; it++) {
			float mid = 0.5f * (lo + hi), c = 0.f;
			for (int j = tid; j < vocab; j += blockDim.x) c += allowed(mask, j) && l[j] >= mid ? 1.f : 0.f;
			__syncthreads();
			if (block_sum(c, scratch) >= (float)p.top_k) lo = mid; else hi = mid;
		}
		tk = lo;
	}
	float z = 0.f;
	for (int j = tid; j < vocab; j += blockDim.x)
		if (allowed(mask, j) && l[j] >= tk) z += __expf((l[j] - mx) * inv_t);
	__syncthreads();
	z = block_sum(z, scratch);

	// Top-p: the largest probability threshold u with mass(prob >= u) >= top_p.
	float tp = 0.f;
	if (p.top_p > 0.f && p.top_p < 1.f) {
		float lo = 0.f, hi = 1.f;
		for (int it = 0; it < 40; it++) {
			float mid = 0.5f * (lo + hi), mass = 0.f;
			for (int j = tid; j < vocab; j += blockDim.x) {
				if (!allowed(mask, j) || l[j] < tk) continue;
				float pr = __expf((l[j] - mx) * inv_t) / z;
				if (pr >= mid) mass += pr;
			}
			__syncthreads();
			if (block_sum(mass, scratch) >= p.top_p) lo = mid; else hi = mid;
		}
		tp = lo * z;
	}

	// Min-p, after top-k and top-p as on the host: e is a token's probability relative to the best's (whose e is
	// 1, and which top-k and top-p keep), so the floor is min_p itself.
	float floor = fmaxf(tp, p.min_p > 0.f ? p.min_p : 0.f);

	// Draw: each thread owns a contiguous chunk; a prefix sum over the chunks finds the owner of r.
	int cs = (vocab + blockDim.x - 1) / blockDim.x, j0 = tid * cs, j1 = min(vocab, j0 + cs);
	float mine = 0.f;
	for (int j = j0; j < j1; j++) {
		float e = allowed(mask, j) && l[j] >= tk ? __expf((l[j] - mx) * inv_t) : 0.f;
		if (e >= floor) mine += e;
	}
	scan[tid] = mine;
	if (tid == 0) found = vocab;
	__syncthreads();
	for (int off = 1; off < (int)blockDim.x; off <<= 1) {
		float add = tid >= off ? scan[tid - off] : 0.f;
		__syncthreads();
		scan[tid] += add;
		__syncthreads();
	}
	float total = scan[blockDim.x - 1];
	// The draw depends on the row's seed and step only, not on where the batch put the row: a seeded request
	// draws the same tokens whoever it is batched with.
	uint64_t bits = splitmix64(p.seed ^ splitmix64(p.step * 0x100000001b3ull));
	float r = (float)((bits >> 11) * (1.0 / 9007199254740992.0)) * total;
	float before = scan[tid] - mine;
	if (mine > 0.f && r >= before && r < scan[tid]) {
		float acc = before;
		int pick = -1;
		for (int j = j0; j < j1; j++) {
			float e = allowed(mask, j) && l[j] >= tk ? __expf((l[j] - mx) * inv_t) : 0.f;
			if (e < floor || e == 0.f) continue;
			pick = j;
			acc += e;
			if (r < acc) break;
		}
		if (pick >= 0) atomicMin(&found, pick);
	}
	__syncthreads();
	if (tid == 0) tokens[row] = found < vocab ? found : argmax;
}

// Greedy decoding's argmax over a 128k vocabulary in one block took ~30 us, 2% of a decode step; it runs
// in two steps instead: kArgmaxBlocks blocks per row each reduce a strided slice, one warp per row reduces
// their results.
constexpr int kArgmaxBlocks = 128, kArgmaxThreads = 256;

// better: the larger value, the lower index on ties (NaN never wins).
__device__ __forceinline__ bool better(float v, int i, float bv, int bi) { return v > bv || (v == bv && i < bi); }

__device__ __forceinline__ void warp_argmax(float &v, int &i) {
#pragma unroll
	for (int o = 16; o > 0; o >>= 1) {
		float ov = __shfl_xor_sync(0xffffffffu, v, o);
		int oi = __shfl_xor_sync(0xffffffffu, i, o);
		if (better(ov, oi, v, i)) v = ov, i = oi;
	}
}

// grid (kArgmaxBlocks, rows): block b of row r writes the best of elements b*256 + tid + k*kArgmaxBlocks*256
// that the row's mask allows (vocab when none is).
__global__ void __launch_bounds__(kArgmaxThreads)
    argmax_partial_kernel(const float *logits, int vocab, const uint64_t *masks, int words, float *part_v, int *part_i) {
	__shared__ float sv[kArgmaxThreads / 32];
	__shared__ int si[kArgmaxThreads / 32];
	pdl_wait();
	pdl_launch_dependents();
	__shared__ int bad;
	const float *l = logits + (int64_t)blockIdx.y * vocab;
	const uint64_t *mask = masks ? masks + (int64_t)blockIdx.y * words : nullptr;
	float bv = -INFINITY;
	int bi = vocab;
	bool finite = true;
	if (threadIdx.x == 0) bad = 0;
	__syncthreads();
	for (int j = blockIdx.x * kArgmaxThreads + threadIdx.x; j < vocab; j += kArgmaxBlocks * kArgmaxThreads) {
		float v = l[j];
		// -inf is a masked token, not a broken forward. The whole row is checked, the tokens the mask excludes
		// too, as the host checks a row before masking it (engine.CheckFinite).
		finite = finite && !isnan(v) && v != INFINITY;
		if (allowed(mask, j) && better(v, j, bv, bi)) bv = v, bi = j;
	}
	if (!finite) bad = 1;
	warp_argmax(bv, bi);
	int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
	if (lane == 0) sv[warp] = bv, si[warp] = bi;
	__syncthreads();
	if (warp) return;
	bv = lane < kArgmaxThreads / 32 ? sv[lane] : -INFINITY;
	bi = lane < kArgmaxThreads / 32 ? si[lane] : vocab;
	warp_argmax(bv, bi);
	// A NaN or +inf anywhere in the row marks it (-1): the host ends such a request with the cause.
	if (lane == 0) part_v[blockIdx.y * kArgmaxBlocks + blockIdx.x] = bv, part_i[blockIdx.y * kArgmaxBlocks + blockIdx.x] = bad ? -1 : bi;
}

// One warp per row over the row's kArgmaxBlocks partial results.
__global__ void argmax_final_kernel(const float *part_v, const int *part_i, int vocab, int32_t *tokens) {
	pdl_wait();
	pdl_launch_dependents();
	int row = blockIdx.x, lane = threadIdx.x;
	float bv = -INFINITY;
	int bi = vocab;
	bool bad = false;
	for (int b = lane; b < kArgmaxBlocks; b += 32) {
		float v = part_v[row * kArgmaxBlocks + b];
		int i = part_i[row * kArgmaxBlocks + b];
		bad = bad || i < 0;
		if (i >= 0 && better(v, i, bv, bi)) bv = v, bi = i;
	}
	warp_argmax(bv, bi);
	bad = __any_sync(0xffffffffu, bad);
	// bi stays vocab only when the mask allows no token: better() lets even an allowed -inf beat the sentinel.
	if (lane == 0) tokens[row] = bad ? KIC_SAMPLE_NONFINITE : bi < vocab ? bi : KIC_SAMPLE_NONE_ALLOWED;
}

int64_t kic_sample_scratch_floats(int rows) { return (int64_t)rows * kArgmaxBlocks * 2; }

kic_status launch_sample(const float *logits, int rows, int vocab, const kic_sampling *params, const uint64_t *masks,
                         int32_t *tokens, float *scratch, cudaStream_t s) {
	if (rows <= 0) return KIC_OK;
	int words = (int)kic_mask_words(vocab); // a row's mask
	float *part_v = scratch;
	int *part_i = reinterpret_cast<int *>(scratch + (int64_t)rows * kArgmaxBlocks);
	KIC_TRY(kic_launch(argmax_partial_kernel, dim3(kArgmaxBlocks, rows), dim3(kArgmaxThreads), 0, s, logits, vocab,
	                   masks, words, part_v, part_i));
	KIC_TRY(kic_launch(argmax_final_kernel, dim3(rows), dim3(32), 0, s, (const float *)part_v, (const int *)part_i,
	                   vocab, tokens));
	for (int r0 = 0; r0 < rows; r0 += kSampleRowsPerLaunch) {
		int n = rows - r0 < kSampleRowsPerLaunch ? rows - r0 : kSampleRowsPerLaunch;
		SampleRows chunk{};
		bool draws = false;
		for (int i = 0; i < n; i++) chunk.p[i] = params[r0 + i], draws = draws || params[r0 + i].temperature > 0.f;
		if (!draws) continue;
		sample_kernel<<<n, kSampleThreads, 0, s>>>(logits, vocab, chunk, r0, masks, words, tokens);
		KIC_LAUNCHED();
	}
	return KIC_OK;
}
