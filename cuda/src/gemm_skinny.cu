// gemm_skinny.cu: the tensor-core kernel for linear layers of 1-64 tokens with bf16 weights (gemm_skinny.cuh).
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

// skinny_kernel: block b computes output rows 16b..16b+15 (of gate and of up for kGLU: R row tiles) for n tokens in
// TILES tiles of 8. Lane (g, t) of a warp loads, for each row tile, rows g and g + 8 at columns 8t..8t+7 of a
// 32-column chunk, and token g's x at the same columns: the mma's k order is a permutation of the chunk's columns,
// the same for A and B, so each load is one 16-byte access and a warp's loads of a row are 64 contiguous bytes.
// The first product takes each lane's values 0-3, the second 4-7. The warps of a block take chunks in turns of
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

	// A last partial tile loads a valid row in place of those past the end and never stores them; up rows follow
	// the gate rows in a [gate; up] matrix.
	const uint4 *wp[R][2];
#pragma unroll
	for (int r = 0; r < R; r++)
#pragma unroll
		for (int h = 0; h < 2; h++) {
			int64_t row = min(r0 + g + 8 * h, out_rows - 1) + r * out_rows;
			wp[r][h] = reinterpret_cast<const uint4 *>(w + row * cols) + t;
		}
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
				for (int r = 0; r < R; r++) {
					const uint4 &ra = a[r][0], &rb = a[r][1]; // rows g and g + 8
					mma(sum[r][i], ra.x, rb.x, ra.y, rb.y, hi[0], hi[1]);
					mma(sum[r][i], ra.x, rb.x, ra.y, rb.y, lo[0], lo[1]);
					mma(sum[r][i], ra.z, rb.z, ra.w, rb.w, hi[2], hi[3]);
					mma(sum[r][i], ra.z, rb.z, ra.w, rb.w, lo[2], lo[3]);
				}
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
			float *yp = y + (int64_t)tok * out_rows + orow;
			if (KIND == kGLU) {
				*yp = kic_activate(act, s[0]) * s[R - 1];
			} else {
				float v = s[0] + (bias ? bias[orow] : 0.f);
				if (KIND == kAct) v = kic_activate(act, v);
				else if (acc) v += *yp;
				*yp = v;
			}
		}
		__syncthreads();
	}
}

// sm_count is the current device's SM count, asked once per device.
int sm_count() {
	static int counts[64];
	int dev = 0;
	if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) return 132;
	if (!counts[dev] && cudaDeviceGetAttribute(&counts[dev], cudaDevAttrMultiProcessorCount, dev) != cudaSuccess)
		counts[dev] = 132;
	return counts[dev];
}

template <int TILES, int KIND>
kic_status launch_tiles(const kic_mat &w, int64_t out_rows, const float *x, int n, const float *bias, bool acc, float *y,
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
