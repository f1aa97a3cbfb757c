// gemm_skinny.cu: the tensor-core kernels for linear layers of 1-64 tokens with bf16 weights (gemm_skinny.cuh).
#include <algorithm>
#include <cooperative_groups.h>
#include <cuda_bf16.h>

#include "act.cuh"
#include "gemm_skinny.cuh"

namespace {

enum { kPlain, kAct, kGLU };

constexpr int kTileRows = 16;  // rows of W in one mma tile (m16n8k16)
constexpr int kTileTokens = 8; // tokens in one mma tile
constexpr int kChunkCols = 32; // columns of a 16-byte load by each of a row's 4 lanes
constexpr int kMaxWarps = 16;

// Chunks a warp keeps in flight: 4 for one row tile, 2 for the [gate; up] pair, 128 bytes a lane either way
// (with up to 16 warps a block and two blocks an SM, ~100 KB an SM in flight, enough to cover DRAM latency).
template <int R> constexpr int kUnroll = R == 2 ? 2 : 4;

// The register budget: a lane's sums (4 a tile and row tile) and chunks fit 128 registers for up to 4 tile x row-tile
// products, so a block may have 16 warps; beyond, 8 (255 registers).
template <int TILES, int R> constexpr int kBlockThreads = TILES * R <= 4 ? 512 : 256;

// One m16n8k16 product: c += A (16 x 16 bf16, row-major fragments) * B (16 x 8 bf16, column-major), fp32 sums.
__device__ __forceinline__ void mma(float c[4], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t b0, uint32_t b1) {
	asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
	             : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
	             : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t bits(__nv_bfloat162 v) { return *reinterpret_cast<uint32_t *>(&v); }

// split8 rounds 8 activations to bf16 pairs (hi, first value in the low half as the fragments want) and the
// rounding's remainders to bf16 again (lo): hi + lo holds x to ~16 mantissa bits, as launch_f32_split's halves do.
__device__ __forceinline__ void split8(float4 p, float4 q, uint32_t hi[4], uint32_t lo[4]) {
	const float v[8] = {p.x, p.y, p.z, p.w, q.x, q.y, q.z, q.w};
#pragma unroll
	for (int k = 0; k < 4; k++) {
		__nv_bfloat162 h = __floats2bfloat162_rn(v[2 * k], v[2 * k + 1]);
		float2 hf = __bfloat1622float2(h);
		hi[k] = bits(h);
		lo[k] = bits(__floats2bfloat162_rn(v[2 * k] - hf.x, v[2 * k + 1] - hf.y));
	}
}

// mma_chunk adds a lane's 8 columns of rows g and g + 8 (ra, rb) times the same columns of a token's activations,
// split into hi and lo (4 bf16 pairs each), to sum: the first product takes each lane's values 0-3, the second 4-7.
__device__ __forceinline__ void mma_chunk(float sum[4], const uint4 &ra, const uint4 &rb, const uint32_t hi[4],
                                          const uint32_t lo[4]) {
	mma(sum, ra.x, rb.x, ra.y, rb.y, hi[0], hi[1]);
	mma(sum, ra.x, rb.x, ra.y, rb.y, lo[0], lo[1]);
	mma(sum, ra.z, rb.z, ra.w, rb.w, hi[2], hi[3]);
	mma(sum, ra.z, rb.z, ra.w, rb.w, lo[2], lo[3]);
}

// row_loads points a lane's loads at rows g and g + 8 of each row tile starting at r0 (of gate, then of up for the
// [gate; up] pair: R row tiles), columns 8t on: a last partial tile loads a valid row in place of those past the end
// and never stores them.
template <int R>
__device__ __forceinline__ void row_loads(const uint4 *wp[R][2], const uint16_t *w, int64_t cols, int64_t out_rows,
                                          int64_t r0, int g, int t) {
#pragma unroll
	for (int r = 0; r < R; r++)
#pragma unroll
		for (int h = 0; h < 2; h++) {
			int64_t row = min(r0 + g + 8 * h, out_rows - 1) + r * out_rows;
			wp[r][h] = reinterpret_cast<const uint4 *>(w + row * cols) + t;
		}
}

// put stores output (tok, orow) of a launch of kind KIND from its sums s (gate's, then up's for kGLU).
template <int KIND>
__device__ __forceinline__ void put(float *y, int64_t out_rows, int tok, int64_t orow, float s0, float s1,
                                    const float *bias, bool acc, int act) {
	float *yp = y + (int64_t)tok * out_rows + orow;
	if (KIND == kGLU) {
		*yp = kic_activate(act, s0) * s1;
	} else {
		float v = s0 + (bias ? bias[orow] : 0.f);
		if (KIND == kAct) v = kic_activate(act, v);
		else if (acc) v += *yp;
		*yp = v;
	}
}

// skinny_kernel: block b computes output rows 16b..16b+15 (of gate and of up for kGLU: R row tiles) for n tokens in
// TILES tiles of 8. Lane (g, t) of a warp loads, for each row tile, rows g and g + 8 at columns 8t..8t+7 of a
// 32-column chunk, and token g's x at the same columns: the mma's k order is a permutation of the chunk's columns,
// the same for A and B, so each load is one 16-byte access and a warp's loads of a row are 64 contiguous bytes
// (mma_chunk). The warps of a block take chunks in turns of
// kUnroll and leave their sums in shared memory, which the block adds in warp order a tile at a time.
template <int TILES, int KIND>
__global__ void __launch_bounds__(kBlockThreads<TILES, KIND == kGLU ? 2 : 1>)
    skinny_kernel(const uint16_t *__restrict__ w, int64_t cols, int64_t out_rows, const float *__restrict__ x, int n,
                  const float *__restrict__ bias, bool acc, float *__restrict__ y, int act) {
	constexpr int R = KIND == kGLU ? 2 : 1, U = kUnroll<R>;
	__shared__ float part[kMaxWarps][R][kTileRows][kTileTokens];
	const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
	const int g = lane >> 2, t = lane & 3;
	const int64_t r0 = (int64_t)blockIdx.x * kTileRows, chunks = cols / kChunkCols;

	const uint4 *wp[R][2];
	row_loads<R>(wp, w, cols, out_rows, r0, g, t);
	uint4 buf[U][R][2];
	auto load = [&](int64_t step, int u) {
		int64_t c = step * U + u;
		if (c < chunks)
#pragma unroll
			for (int r = 0; r < R; r++)
#pragma unroll
				for (int h = 0; h < 2; h++) buf[u][r][h] = __ldcs(wp[r][h] + c * (kChunkCols / 8));
	};
	// Weights never depend on the previous kernel: the first loads go out before waiting on it.
	int64_t step = warp;
#pragma unroll
	for (int u = 0; u < U; u++) load(step, u);
	pdl_wait();
	pdl_launch_dependents();

	float sum[R][TILES][4];
#pragma unroll
	for (int r = 0; r < R; r++)
#pragma unroll
		for (int i = 0; i < TILES; i++) sum[r][i][0] = sum[r][i][1] = sum[r][i][2] = sum[r][i][3] = 0.f;
	const float *xt[TILES];
	bool live[TILES];
#pragma unroll
	for (int i = 0; i < TILES; i++) {
		int tok = i * kTileTokens + g;
		live[i] = tok < n;
		xt[i] = x + (int64_t)(live[i] ? tok : 0) * cols + 8 * t;
	}
	for (; step * U < chunks; step += nw) {
#pragma unroll
		for (int u = 0; u < U; u++) {
			int64_t c = step * U + u;
			if (c >= chunks) continue; // not a break: the loop must unroll for buf to stay in registers
			uint4 a[R][2];
#pragma unroll
			for (int r = 0; r < R; r++) a[r][0] = buf[u][r][0], a[r][1] = buf[u][r][1];
			load(step + nw, u); // in flight through this chunk's products
#pragma unroll
			for (int i = 0; i < TILES; i++) {
				float4 p = make_float4(0.f, 0.f, 0.f, 0.f), q = p;
				if (live[i]) {
					const float4 *xp = reinterpret_cast<const float4 *>(xt[i] + c * kChunkCols);
					p = __ldg(xp), q = __ldg(xp + 1);
				}
				uint32_t hi[4], lo[4];
				split8(p, q, hi, lo);
#pragma unroll
				for (int r = 0; r < R; r++) mma_chunk(sum[r][i], a[r][0], a[r][1], hi, lo);
			}
		}
	}

	// A tile at a time: the warps' sums to shared memory, then one thread per (token, row) adds them in warp order
	// and stores; consecutive threads take consecutive rows of a token.
#pragma unroll
	for (int i = 0; i < TILES; i++) {
		if (i * kTileTokens >= n) break;
#pragma unroll
		for (int r = 0; r < R; r++) {
			part[warp][r][g][2 * t] = sum[r][i][0], part[warp][r][g][2 * t + 1] = sum[r][i][1];
			part[warp][r][g + 8][2 * t] = sum[r][i][2], part[warp][r][g + 8][2 * t + 1] = sum[r][i][3];
		}
		__syncthreads();
		int idx = threadIdx.x, tok = i * kTileTokens + idx / kTileRows, row = idx % kTileRows;
		int64_t orow = r0 + row;
		if (idx < kTileRows * kTileTokens && tok < n && orow < out_rows) {
			float s[R];
#pragma unroll
			for (int r = 0; r < R; r++) {
				s[r] = 0.f;
				for (int k = 0; k < nw; k++) s[r] += part[k][r][row][idx / kTileRows];
			}
			put<KIND>(y, out_rows, tok, orow, s[0], s[R - 1], bias, acc, act);
		}
		__syncthreads();
	}
}

// ---- The tiled kernel ----
//
// skinny_kernel's warps split the columns, so each loads and splits every token's activations for its columns: past
// ~16 tokens that, not the weights, bounds it. Here a block's 8 warps take 8 different 16-row tiles (128 output
// rows) over the same columns, and the block stages each step's activations once in shared memory as bf16 hi and
// lo, which all 8 warps read. The blocks of a thread-block cluster (Hopper; 1-8 of them, grid.y) split the columns
// and add their sums through distributed shared memory in rank order, so a token's result is still independent of
// the other tokens and no global scratch is needed; before Hopper a block takes all the columns.
constexpr int kTiledWarps = 8, kTiledThreads = 32 * kTiledWarps, kTiledRows = kTiledWarps * kTileRows;
constexpr int kMaxSlices = 8; // the portable cluster size
template <int R> constexpr int kStepCols = kChunkCols * kUnroll<R>;

// Shared memory of one block: two stages of activations, each [hi | lo][token][columns of the step + 32], the 64
// bytes of padding putting a quarter warp's eight 16-byte reads (two token rows) on distinct banks; the cluster's
// sum exchange reuses it, [value][thread].
template <int TILES, int R> struct TiledSmem {
	static constexpr int row = kStepCols<R> + 32;
	static constexpr int half = TILES * kTileTokens * row; // one of hi, lo (bf16 values)
	static constexpr size_t x_bytes = 2 * 2 * half * sizeof(uint16_t);
	static constexpr size_t sum_bytes = (size_t)R * TILES * 4 * kTiledThreads * sizeof(float);
	static constexpr size_t bytes = x_bytes > sum_bytes ? x_bytes : sum_bytes;
};

// tiled_cols_ok: the columns are whole steps.
template <int R> static inline bool tiled_cols_ok(int64_t cols) { return cols % kStepCols<R> == 0; }

template <int TILES, int KIND>
__global__ void __launch_bounds__(kTiledThreads, 2)
    tiled_kernel(const uint16_t *__restrict__ w, int64_t cols, int64_t out_rows, const float *__restrict__ x, int n,
                 const float *__restrict__ bias, bool acc, float *__restrict__ y, int act, int slices) {
	constexpr int R = KIND == kGLU ? 2 : 1, U = kUnroll<R>, SC = kStepCols<R>;
	using SM = TiledSmem<TILES, R>;
	constexpr int PIECES = TILES * kTileTokens * SC / 8; // 8-value pieces of a stage
	constexpr int PER_THREAD = (PIECES + kTiledThreads - 1) / kTiledThreads;
	extern __shared__ __align__(16) uint16_t xs[];
	const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
	const int64_t r0 = (int64_t)blockIdx.x * kTiledRows + warp * kTileRows;
	const int64_t steps = cols / SC, s0 = steps * blockIdx.y / slices, s1 = steps * (blockIdx.y + 1) / slices;

	const uint4 *wp[R][2];
	row_loads<R>(wp, w, cols, out_rows, r0, g, t);
	uint4 buf[U][R][2];
	auto load = [&](int64_t step, int u) {
		if (step < s1)
#pragma unroll
			for (int r = 0; r < R; r++)
#pragma unroll
				for (int h = 0; h < 2; h++) buf[u][r][h] = __ldcs(wp[r][h] + (step * U + u) * (kChunkCols / 8));
	};
#pragma unroll
	for (int u = 0; u < U; u++) load(s0, u);
	pdl_wait();
	pdl_launch_dependents();

	// A thread's pieces of a stage: loaded at the top of the step before, split and stored at its bottom.
	float4 xin[PER_THREAD][2];
	auto fetch = [&](int64_t step) {
#pragma unroll
		for (int k = 0; k < PER_THREAD; k++) {
			int p = threadIdx.x + k * kTiledThreads, tok = p / (SC / 8), c = p % (SC / 8) * 8;
			xin[k][0] = xin[k][1] = make_float4(0.f, 0.f, 0.f, 0.f);
			if (p < PIECES && tok < n && step < s1) {
				const float4 *xp = reinterpret_cast<const float4 *>(x + (int64_t)tok * cols + step * SC + c);
				xin[k][0] = __ldg(xp), xin[k][1] = __ldg(xp + 1);
			}
		}
	};
	auto store = [&](int stage) {
		uint16_t *hi = xs + stage * 2 * SM::half, *lo = hi + SM::half;
#pragma unroll
		for (int k = 0; k < PER_THREAD; k++) {
			int p = threadIdx.x + k * kTiledThreads, tok = p / (SC / 8), c = p % (SC / 8) * 8;
			if (p < PIECES) {
				uint32_t h[4], l[4];
				split8(xin[k][0], xin[k][1], h, l);
				*reinterpret_cast<uint4 *>(hi + tok * SM::row + c) = make_uint4(h[0], h[1], h[2], h[3]);
				*reinterpret_cast<uint4 *>(lo + tok * SM::row + c) = make_uint4(l[0], l[1], l[2], l[3]);
			}
		}
	};
	fetch(s0);
	store(0);
	__syncthreads();

	float sum[R][TILES][4];
#pragma unroll
	for (int r = 0; r < R; r++)
#pragma unroll
		for (int i = 0; i < TILES; i++) sum[r][i][0] = sum[r][i][1] = sum[r][i][2] = sum[r][i][3] = 0.f;
	for (int64_t step = s0, stage = 0; step < s1; step++, stage ^= 1) {
		fetch(step + 1);
		const uint16_t *hi = xs + stage * 2 * SM::half, *lo = hi + SM::half;
#pragma unroll
		for (int u = 0; u < U; u++) {
			uint4 a[R][2];
#pragma unroll
			for (int r = 0; r < R; r++) a[r][0] = buf[u][r][0], a[r][1] = buf[u][r][1];
			load(step + 1, u);
#pragma unroll
			for (int i = 0; i < TILES; i++) {
				int off = (i * kTileTokens + g) * SM::row + u * kChunkCols + 8 * t;
				uint4 fh = *reinterpret_cast<const uint4 *>(hi + off), fl = *reinterpret_cast<const uint4 *>(lo + off);
				const uint32_t h4[4] = {fh.x, fh.y, fh.z, fh.w}, l4[4] = {fl.x, fl.y, fl.z, fl.w};
#pragma unroll
				for (int r = 0; r < R; r++) mma_chunk(sum[r][i], a[r][0], a[r][1], h4, l4);
			}
		}
		store(stage ^ 1);
		__syncthreads();
	}

	if (slices > 1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
		namespace cg = cooperative_groups;
		cg::cluster_group cluster = cg::this_cluster();
		float *mine = reinterpret_cast<float *>(xs);
#pragma unroll
		for (int r = 0; r < R; r++)
#pragma unroll
			for (int i = 0; i < TILES; i++)
#pragma unroll
				for (int e = 0; e < 4; e++) mine[((r * TILES + i) * 4 + e) * kTiledThreads + threadIdx.x] = sum[r][i][e];
		cluster.sync();
		bool first = cluster.block_rank() == 0;
		if (first)
			for (int k = 1; k < slices; k++) {
				const float *theirs = cluster.map_shared_rank(mine, k);
#pragma unroll
				for (int r = 0; r < R; r++)
#pragma unroll
					for (int i = 0; i < TILES; i++)
#pragma unroll
						for (int e = 0; e < 4; e++) sum[r][i][e] += theirs[((r * TILES + i) * 4 + e) * kTiledThreads + threadIdx.x];
			}
		cluster.sync(); // the others' shared memory stays until rank 0 has read it
		if (!first) return;
#endif
	}

	// Lane (g, t) holds rows g and g + 8 of its warp's tile for tokens 2t and 2t + 1 of each token tile.
#pragma unroll
	for (int i = 0; i < TILES; i++)
#pragma unroll
		for (int e = 0; e < 4; e++) {
			int tok = i * kTileTokens + 2 * t + (e & 1);
			int64_t orow = r0 + g + 8 * (e >> 1);
			if (tok < n && orow < out_rows) put<KIND>(y, out_rows, tok, orow, sum[0][i][e], sum[R - 1][i][e], bias, acc, act);
		}
}

// device_attr is an attribute of the current device, asked once per device (fallback when the query fails).
int device_attr(cudaDeviceAttr what, int fallback) {
	static int cache[2][64];
	int dev = 0, k = what == cudaDevAttrMultiProcessorCount ? 0 : 1;
	if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) return fallback;
	if (!cache[k][dev] && cudaDeviceGetAttribute(&cache[k][dev], what, dev) != cudaSuccess) cache[k][dev] = fallback;
	return cache[k][dev];
}
int sm_count() { return device_attr(cudaDevAttrMultiProcessorCount, 132); }
int cc_major() { return device_attr(cudaDevAttrComputeCapabilityMajor, 8); }

template <int TILES, int KIND>
kic_status launch_split(const kic_mat &w, int64_t out_rows, const float *x, int n, const float *bias, bool acc, float *y,
                        int act, cudaStream_t s) {
	constexpr int R = KIND == kGLU ? 2 : 1;
	int64_t blocks = (out_rows + kTileRows - 1) / kTileRows;
	// Warps a block: a small matrix (the 1B model's 2048-row projections: 128 blocks) gets 16 a block to keep the
	// SMs' loads in flight, a large one 4 (more, shorter blocks: less tail).
	int sms = sm_count(), nw = blocks >= 8 * sms ? 4 : blocks >= 2 * sms ? 8 : kMaxWarps;
	nw = min(nw, kBlockThreads<TILES, R> / 32);
	return kic_launch(skinny_kernel<TILES, KIND>, dim3((unsigned)blocks), dim3(32 * nw), 0, s,
	                  (const uint16_t *)w.data, w.cols, out_rows, x, n, bias, acc, y, act);
}

// The column slices of a tiled launch: enough blocks for about two an SM, in one cluster a row block (Hopper);
// every slice at least one step.
int tiled_slices(int64_t row_blocks, int64_t steps) {
	if (cc_major() < 9) return 1;
	int64_t want = (2 * sm_count() + row_blocks / 2) / row_blocks;
	return (int)std::max<int64_t>(1, std::min<int64_t>(std::min<int64_t>(want, kMaxSlices), steps));
}

// tiled_wins picks the kernel: the tiled one where each block's slice of the columns is long enough for its
// one-step-ahead pipeline, or from 16 tokens for a single matrix. On the H200 (KIC_BENCH_ONLY=skinny) the split
// kernel won on Llama-3.2-1B's o projection (2 steps a slice) at 2-8 tokens and its [gate; up] pair (8 steps of 64
// columns a slice: 25 us against 34 at 8 tokens, 39 against 56 at 32); the tiled one won everywhere else, most on
// the lm_head (137 us against 198 at 8 tokens, 91% of copy bandwidth) and on Llama-3.1-8B's projections.
template <int R> bool tiled_wins(int64_t out_rows, int64_t cols, int n) {
	if (!tiled_cols_ok<R>(cols)) return false;
	int64_t steps = cols / kStepCols<R>, slices = tiled_slices((out_rows + kTiledRows - 1) / kTiledRows, steps);
	return steps / slices >= (R == 2 ? 16 : 4) || (R == 1 && n >= 16);
}

template <int TILES, int KIND>
kic_status launch_tiled(const kic_mat &w, int64_t out_rows, const float *x, int n, const float *bias, bool acc, float *y,
                        int act, cudaStream_t s) {
	constexpr int R = KIND == kGLU ? 2 : 1;
	constexpr size_t smem = TiledSmem<TILES, R>::bytes;
	auto kernel = tiled_kernel<TILES, KIND>;
	static bool sized[64];
	int dev = 0;
	KIC_CUDA(cudaGetDevice(&dev));
	if (dev < 0 || dev >= 64) return kic_set_error(KIC_ERR_INVALID, "tiled gemm: device %d", dev);
	if (!sized[dev]) {
		KIC_CUDA(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
		sized[dev] = true;
	}
	int64_t row_blocks = (out_rows + kTiledRows - 1) / kTiledRows;
	int slices = tiled_slices(row_blocks, w.cols / kStepCols<R>);
	return kic_launch_cluster(kernel, dim3((unsigned)row_blocks, (unsigned)slices), dim3(kTiledThreads), smem, s,
	                          dim3(1, (unsigned)slices, 1), (const uint16_t *)w.data, w.cols, out_rows, x, n, bias, acc,
	                          y, act, slices);
}

template <int TILES, int KIND>
kic_status launch_tiles(const kic_mat &w, int64_t out_rows, const float *x, int n, const float *bias, bool acc, float *y,
                        int act, cudaStream_t s) {
	constexpr int R = KIND == kGLU ? 2 : 1;
	if (kic_skinny_kernel == 2 && !tiled_cols_ok<R>(w.cols))
		return kic_set_error(KIC_ERR_INVALID, "tiled gemm: %lld columns are not whole steps of %d", (long long)w.cols,
		                     kStepCols<R>);
	bool tiled = kic_skinny_kernel == 2 || (kic_skinny_kernel == 0 && tiled_wins<R>(out_rows, w.cols, n));
	if (tiled) return launch_tiled<TILES, KIND>(w, out_rows, x, n, bias, acc, y, act, s);
	return launch_split<TILES, KIND>(w, out_rows, x, n, bias, acc, y, act, s);
}

template <int KIND>
kic_status launch_kind(const kic_mat &w, const float *x, int n, const float *bias, bool acc, float *y, int act,
                       cudaStream_t s) {
	if (!kic_skinny_ok(w, n) || (KIND == kGLU && w.rows % 2))
		return kic_set_error(KIC_ERR_INVALID,
		                     "skinny gemm: %d tokens of a %lld x %lld matrix of type %d (want bf16, whole 32-column "
		                     "chunks, 1-%d tokens%s)",
		                     n, (long long)w.rows, (long long)w.cols, w.dtype, kic_skinny_max_tokens,
		                     KIND == kGLU ? ", a [gate; up] pair of rows" : "");
	int64_t out_rows = KIND == kGLU ? w.rows / 2 : w.rows;
	switch ((n + kTileTokens - 1) / kTileTokens) {
	case 1: return launch_tiles<1, KIND>(w, out_rows, x, n, bias, acc, y, act, s);
	case 2: return launch_tiles<2, KIND>(w, out_rows, x, n, bias, acc, y, act, s);
	case 3: return launch_tiles<3, KIND>(w, out_rows, x, n, bias, acc, y, act, s);
	case 4: return launch_tiles<4, KIND>(w, out_rows, x, n, bias, acc, y, act, s);
	case 5: return launch_tiles<5, KIND>(w, out_rows, x, n, bias, acc, y, act, s);
	case 6: return launch_tiles<6, KIND>(w, out_rows, x, n, bias, acc, y, act, s);
	case 7: return launch_tiles<7, KIND>(w, out_rows, x, n, bias, acc, y, act, s);
	default: return launch_tiles<8, KIND>(w, out_rows, x, n, bias, acc, y, act, s);
	}
}
static_assert(kic_skinny_max_tokens == 8 * kTileTokens, "launch_kind instantiates 1-8 tiles");

} // namespace

int kic_skinny_kernel = 0;

kic_status launch_skinny(const kic_mat &w, const float *x, int n, const float *bias, bool accumulate, float *y,
                         cudaStream_t s) {
	return launch_kind<kPlain>(w, x, n, bias, accumulate, y, 0, s);
}

kic_status launch_skinny_act(int act, const kic_mat &w, const float *x, int n, const float *bias, float *y, cudaStream_t s) {
	return launch_kind<kAct>(w, x, n, bias, false, y, act, s);
}

kic_status launch_skinny_glu(int act, const kic_mat &w, const float *x, int n, float *y, cudaStream_t s) {
	return launch_kind<kGLU>(w, x, n, nullptr, false, y, act, s);
}
