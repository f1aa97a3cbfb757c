#include "attention.cuh"

// Decode attention, split-K with the merge fused in.
//
// grid (heads_kv, n, a.splits), one warp per query head of the KV group (G = heads / heads_kv warps). The keys
// the query sees (0..pos[i], or the last `window` of them) are cut into up to a.splits chunks of whole 32-key
// tiles (a small batch takes more splits, kic_attn_decode_splits, so that one long row still gives the device
// blocks enough); with one chunk its block writes the output, otherwise each block writes its partial (max,
// sum, output) per head and the block that finishes last for (token, group), found with a counter, merges
// them. The chunking is decided on the device from pos[], so a captured graph stays valid as sequences grow;
// the counter is back at 0 after each merge, ready for the next replay.
//
// Each tile's keys and values are staged in shared memory by the whole block, four elements a thread, so a
// warp's loads are whole rows side by side (a lane per key reading its own row made every load instruction
// touch 32 rows, and each of the G warps fetched the same rows again: 2-4% of the copy bandwidth). Then lane t
// scores key t of the tile against its warp's query (key rows padded so that those reads hit distinct banks)
// and each lane accumulates output dims lane + 32*j (J = ceil(head_dim / 32)). KT is the pool's element
// type (kvcache.cuh); q8_0 is dequantized once, on the way into shared memory.
bool kic_attn_pipeline = true;

constexpr int kDecodeTile = 32;
constexpr int kLoadBatch = 8; // pieces of a tile a thread has in flight at once

// `bench attention splits` on the H200 (132 SMs, 1B shape): the fastest were 1 split at 64 rows (256 keys: 38 us
// vs 66 at 16 splits), 8 at 8 rows (1024 keys: 26 vs 30 at 16), 32 at 1 row (4096 keys: 26 vs 43 at 128),
// all about 4 blocks a SM; more splits only add partials and merges.
constexpr int kDecodeBlocksPerSM = 4;

int kic_decode_splits(int n, int rows, int heads_kv, int sms) {
	int most = kic_attn_decode_splits(n, rows);
	int64_t groups = (int64_t)(n > 0 ? n : 1) * (heads_kv > 0 ? heads_kv : 1);
	int64_t want = (int64_t)kDecodeBlocksPerSM * (sms > 0 ? sms : 1) / groups;
	return (int)(want < 1 ? 1 : want > most ? most : want);
}

// The shared-memory row stride of a key tile: head_dim + 4 floats, or + 8 where that keeps (stride / 4) odd,
// so eight lanes' float4 reads of eight rows cover the 32 banks once.
__host__ __device__ constexpr int decode_key_stride(int hd) { return hd % 8 == 0 ? hd + 4 : hd + 8; }

// Floats of shared memory a block takes: the G queries, a key tile and a value tile.
__host__ __device__ constexpr int decode_smem_floats(int group, int hd) {
	return group * hd + kDecodeTile * decode_key_stride(hd) + kDecodeTile * hd;
}

// fetch_pieces loads pieces c0, c0 + blockDim.x, ... (kLoadBatch of them, those below `pieces`) of the tile
// at key k0: piece c is four elements of key k0 + c / quads, in K and in V.
template <int KT>
__device__ __forceinline__ void fetch_pieces(const kic_kv_view &kv, int sq, int k0, int64_t head_off, int quads, int pieces,
                                             int c0, float4 (&kk)[kLoadBatch], float4 (&vv)[kLoadBatch]) {
#pragma unroll
	for (int u = 0; u < kLoadBatch; u++) {
		int c = c0 + u * blockDim.x, t = c / quads;
		if (c < pieces) {
			int64_t off = kv_offset(kv, sq, k0 + t) + head_off + 4 * (c - t * quads);
			kk[u] = kv_io<KT>::load4(kv.k, kv.scales, off), vv[u] = kv_io<KT>::load4(kv.v, kv.scales, off);
		}
	}
}

// stash_pieces stores what fetch_pieces loaded into the tile's rows in shared memory.
__device__ __forceinline__ void stash_pieces(float *kt, float *vt, int ks, int hd, int quads, int pieces, int c0,
                                             const float4 (&kk)[kLoadBatch], const float4 (&vv)[kLoadBatch]) {
#pragma unroll
	for (int u = 0; u < kLoadBatch; u++) {
		int c = c0 + u * blockDim.x, t = c / quads, d = 4 * (c - t * quads);
		if (c < pieces) {
			*reinterpret_cast<float4 *>(kt + t * ks + d) = kk[u];
			*reinterpret_cast<float4 *>(vt + t * hd + d) = vv[u];
		}
	}
}

// decode_range is split sp's keys of query row i: [start, end), and how many splits have keys (active). The keys
// the query sees (0..pos[i], or the last `window` of them) are cut into a.splits chunks of whole 32-key tiles, so
// fewer splits do the work when sequences are short; the rest have nothing to do.
struct decode_range {
	int start, end, active;
};
__device__ __forceinline__ decode_range decode_range_of(const kic_attn_args &a, int i, int sp) {
	int last = a.pos[i] + 1; // one past the query's last key
	int first = a.window > 0 ? max(0, last - a.window) : 0;
	int len = last - first;
	int chunk = (len + a.splits - 1) / a.splits;
	chunk = (chunk + 31) / 32 * 32;
	int start = first + sp * chunk;
	return {start, min(last, start + chunk), (len + chunk - 1) / chunk};
}

// add_values adds the tile's value rows (vt, head_dim apart, elements read through val) weighted by the lanes' p
// (lane t's for key t) to a lane's output dims lane + 32*j.
template <int J, typename T, typename Val>
__device__ __forceinline__ void add_values(float p, int tile, const T *vt, int hd, float (&acc)[J], Val val) {
	int lane = threadIdx.x & 31;
#pragma unroll 4
	for (int t = 0; t < tile; t++) {
		float pk = __shfl_sync(0xffffffffu, p, t);
		const T *vr = vt + t * hd;
#pragma unroll
		for (int j = 0; j < J; j++) {
			int d = lane + 32 * j;
			if (d < hd) acc[j] += pk * val(vr[d]);
		}
	}
}


// decode_finish ends a block's work on its split: the output row when the split held every key (active == 1),
// else its partial (max, sum, output) for head h, and the last block of (token i, KV group g) to arrive merges
// them. acc holds dims lane + 32*j.
template <int J>
__device__ __forceinline__ void decode_finish(const kic_attn_args &a, int i, int h, int g, int sp, int active, float m,
                                              float l, const float (&acc)[J], float *partials, int *counters) {
	__shared__ bool merge;
	int lane = threadIdx.x & 31, hd = a.head_dim;
	float *o = a.out + (int64_t)i * a.heads * hd + (int64_t)h * hd;
	if (active == 1) { // short sequences: one split holds every key, nothing to merge
#pragma unroll
		for (int j = 0; j < J; j++) {
			int d = lane + 32 * j;
			if (d < hd) o[d] = acc[j] / l;
		}
		return;
	}
	float *base = partials + ((int64_t)i * a.heads + h) * a.splits * (hd + 2);
	attn_store_partial(base + sp * (hd + 2), m, l, acc, hd);

	// The last of the active blocks of (token, group) merges; its reads see every block's partial through
	// the fence before each arrival.
	__threadfence();
	__syncthreads();
	if (threadIdx.x == 0) {
		int *counter = counters + (int64_t)i * a.heads_kv + g;
		merge = atomicAdd(counter, 1) == active - 1;
		if (merge) *counter = 0;
	}
	__syncthreads();
	if (!merge) return;
	__threadfence();
	attn_merge_partials<J>(base, active, hd, o);
}

template <int J, int KT, bool PIPE>
__global__ void attn_decode_kernel(kic_attn_args a, kic_kv_view kv, float *partials, int *counters) {
	extern __shared__ float4 decode_smem4[];
	float *smem = reinterpret_cast<float *>(decode_smem4);
	int g = blockIdx.x, i = blockIdx.y, sp = blockIdx.z, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
	int group = a.heads / a.heads_kv, h = g * group + warp, hd = a.head_dim, ks = decode_key_stride(hd);
	float *qs = smem, *kt = smem + group * hd, *vt = kt + kDecodeTile * ks;
	pdl_wait();
	pdl_launch_dependents();
	int sq = a.seq[i];
	decode_range r = decode_range_of(a, i, sp);
	if (sp >= r.active) return;
	int start = r.start, end = r.end, active = r.active;
	const float *q = a.q + (int64_t)i * a.q_stride + (int64_t)h * hd;
	float *myq = qs + warp * hd;
	for (int d = lane; d < hd; d += 32) myq[d] = q[d];

	float m = -INFINITY, l = 0.f, acc[J];
#pragma unroll
	for (int j = 0; j < J; j++) acc[j] = 0.f;
	int64_t head_off = (int64_t)g * hd;
	int quads = hd / 4;
	// PIPE, where a whole tile is one batch of pieces a thread (the usual GQA shapes): tile i + 1 is loaded
	// into registers while tile i is computed.
	// (PIPE: launch_jt checks that a tile is one batch of pieces a thread.)
	float4 nk[PIPE ? kLoadBatch : 1], nv[PIPE ? kLoadBatch : 1];
	if constexpr (PIPE) fetch_pieces<KT>(kv, sq, start, head_off, quads, min(kDecodeTile, end - start) * quads, threadIdx.x, nk, nv);
	for (int k0 = start; k0 < end; k0 += kDecodeTile) {
		int tile = min(kDecodeTile, end - k0);
		__syncthreads(); // the last tile's reads are done (and, the first time, the queries are in)
		int pieces = tile * quads;
		if constexpr (PIPE) {
			stash_pieces(kt, vt, ks, hd, quads, pieces, threadIdx.x, nk, nv);
		} else {
			// kLoadBatch pieces of four elements of K and of V a thread, all loads issued before the first store.
			for (int c0 = threadIdx.x; c0 < pieces; c0 += kLoadBatch * blockDim.x) {
				float4 kk[kLoadBatch], vv[kLoadBatch];
				fetch_pieces<KT>(kv, sq, k0, head_off, quads, pieces, c0, kk, vv);
				stash_pieces(kt, vt, ks, hd, quads, pieces, c0, kk, vv);
			}
		}
		__syncthreads();
		// The next tile's loads fly while this one is scored and summed.
		if constexpr (PIPE)
			if (k0 + kDecodeTile < end)
				fetch_pieces<KT>(kv, sq, k0 + kDecodeTile, head_off, quads, min(kDecodeTile, end - k0 - kDecodeTile) * quads,
			                 threadIdx.x, nk, nv);
		float score = -INFINITY;
		if (lane < tile) {
			const float4 *q4 = reinterpret_cast<const float4 *>(myq), *k4 = reinterpret_cast<const float4 *>(kt + lane * ks);
			float dot = 0.f;
#pragma unroll
			for (int d4 = 0; d4 < J * 8; d4++)
				if (d4 < quads) {
					float4 qv = q4[d4], kv4 = k4[d4];
					dot += qv.x * kv4.x + qv.y * kv4.y + qv.z * kv4.z + qv.w * kv4.w;
				}
			score = dot * a.scale;
			if (a.softcap > 0.f) score = kic_softcap(score, a.softcap);
		}
		float p = softmax_step<J>(score, m, l, acc);
		add_values<J>(p, tile, vt, hd, acc, [](float v) { return v; });
	}
	decode_finish<J>(a, i, h, g, sp, active, m, l, acc, partials, counters);
}

// The 16-bit pools (f16, the default, and bf16) with head_dim a multiple of 8 take attn_decode_async_kernel: a
// tile's K and V rows are copied as they are stored into shared memory with cp.async, 16 bytes a copy, kStages
// tiles in flight, and converted to fp32 where they are read. The kernel above holds one tile ahead in registers,
// which left a block one round trip per tile: 64 rows x 2048 keys read at 17% of the copy bandwidth.
template <int J> constexpr int kStages = J >= 8 ? 3 : 4; // head_dim 256: 34 KB a stage

// A tile's key rows are head_dim + 8 elements apart: 16 bytes of padding put eight lanes' 16-byte reads of eight
// rows on distinct banks.
__host__ __device__ constexpr int async_key_stride(int hd) { return hd + 8; }
__host__ __device__ constexpr int async_stage_elems(int hd) { return kDecodeTile * (async_key_stride(hd) + hd); }
// Bytes of shared memory a block takes: the G queries (fp32) and the stages.
__host__ __device__ constexpr size_t async_smem_bytes(int group, int hd, int stages) {
	return sizeof(float) * group * hd + sizeof(uint16_t) * stages * async_stage_elems(hd);
}

__device__ __forceinline__ void cp_async16(void *dst, const void *src) {
	unsigned d = (unsigned)__cvta_generic_to_shared(dst);
	asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(d), "l"(src));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// issue_tile starts the copies of `keys` keys from k0 of head_off's KV head into a stage: 16-byte pieces of K rows
// and of V rows, spread over the block.
__device__ __forceinline__ void issue_tile(const kic_kv_view &kv, int sq, int k0, int keys, int64_t head_off, int hd,
                                           uint16_t *stage) {
	int pieces_row = hd / 8, pieces = keys * pieces_row, ks = async_key_stride(hd);
	uint16_t *kt = stage, *vt = stage + kDecodeTile * ks;
	const uint16_t *k = reinterpret_cast<const uint16_t *>(kv.k), *v = reinterpret_cast<const uint16_t *>(kv.v);
	for (int c = threadIdx.x; c < pieces; c += blockDim.x) {
		int t = c / pieces_row, u = 8 * (c - t * pieces_row);
		int64_t off = kv_offset(kv, sq, k0 + t) + head_off + u;
		cp_async16(kt + t * ks + u, k + off);
		cp_async16(vt + t * hd + u, v + off);
	}
}

template <int KT> __device__ __forceinline__ float kv16_to_float(uint16_t b) {
	if constexpr (KT == KIC_F16) return half_bits_to_float(b);
	else return bf16_bits_to_float(b);
}

template <int J, int KT>
__global__ void attn_decode_async_kernel(kic_attn_args a, kic_kv_view kv, float *partials, int *counters) {
	constexpr int S = kStages<J>;
	extern __shared__ float4 decode_smem4[];
	float *qs = reinterpret_cast<float *>(decode_smem4);
	int g = blockIdx.x, i = blockIdx.y, sp = blockIdx.z, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
	int group = a.heads / a.heads_kv, h = g * group + warp, hd = a.head_dim, ks = async_key_stride(hd);
	uint16_t *stages = reinterpret_cast<uint16_t *>(qs + group * hd);
	const int stage_elems = async_stage_elems(hd);
	pdl_wait();
	pdl_launch_dependents();
	int sq = a.seq[i];
	decode_range r = decode_range_of(a, i, sp);
	if (sp >= r.active) return;
	int start = r.start, end = r.end, active = r.active;
	int tiles = (end - start + kDecodeTile - 1) / kDecodeTile;
	int64_t head_off = (int64_t)g * hd;
	// S - 1 tiles in flight before the first is read; a group is committed every round, empty past the end, so
	// waiting for all but the newest S - 2 groups always means "tile it has landed".
#pragma unroll
	for (int t = 0; t < S - 1; t++) {
		if (t < tiles)
			issue_tile(kv, sq, start + t * kDecodeTile, min(kDecodeTile, end - start - t * kDecodeTile), head_off, hd,
			           stages + t * stage_elems);
		cp_async_commit();
	}
	const float *q = a.q + (int64_t)i * a.q_stride + (int64_t)h * hd;
	float *myq = qs + warp * hd;
	for (int d = lane; d < hd; d += 32) myq[d] = q[d];

	float m = -INFINITY, l = 0.f, acc[J];
#pragma unroll
	for (int j = 0; j < J; j++) acc[j] = 0.f;
	for (int it = 0; it < tiles; it++) {
		cp_async_wait<S - 2>();
		__syncthreads(); // tile it is in; every warp is done with tile it - 1, whose stage the next copies refill
		int next = it + S - 1;
		if (next < tiles)
			issue_tile(kv, sq, start + next * kDecodeTile, min(kDecodeTile, end - start - next * kDecodeTile), head_off,
			           hd, stages + (next % S) * stage_elems);
		cp_async_commit();
		const uint16_t *kt = stages + (it % S) * stage_elems, *vt = kt + kDecodeTile * ks;
		int tile = min(kDecodeTile, end - start - it * kDecodeTile);
		float score = -INFINITY;
		if (lane < tile) {
			const uint4 *k8 = reinterpret_cast<const uint4 *>(kt + lane * ks);
			const float4 *q4 = reinterpret_cast<const float4 *>(myq);
			float dot = 0.f;
#pragma unroll
			for (int c = 0; c < J * 4; c++)
				if (c < hd / 8) {
					uint4 kk = k8[c];
					float4 qa = q4[2 * c], qb = q4[2 * c + 1];
					float2 k0 = kv_io<KT>::two(kk.x), k1 = kv_io<KT>::two(kk.y), k2 = kv_io<KT>::two(kk.z),
					       k3 = kv_io<KT>::two(kk.w);
					dot += qa.x * k0.x + qa.y * k0.y + qa.z * k1.x + qa.w * k1.y + qb.x * k2.x + qb.y * k2.y + qb.z * k3.x +
					       qb.w * k3.y;
				}
			score = dot * a.scale;
			if (a.softcap > 0.f) score = kic_softcap(score, a.softcap);
		}
		float p = softmax_step<J>(score, m, l, acc);
		add_values<J>(p, tile, vt, hd, acc, [](uint16_t v) { return kv16_to_float<KT>(v); });
	}
	cp_async_wait<0>(); // (only empty groups are left; nothing may be in flight when the block exits)
	decode_finish<J>(a, i, h, g, sp, active, m, l, acc, partials, counters);
}

template <int J, int KT>
static kic_status launch_async(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters, cudaStream_t s) {
	auto kernel = attn_decode_async_kernel<J, KT>;
	static bool configured = false; // the opt-in above 48 KB, once per kernel, for the largest group and head
	if (!configured) {
		KIC_CUDA(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
		                              (int)async_smem_bytes(32, 32 * J, kStages<J>)));
		configured = true;
	}
	size_t smem = async_smem_bytes(a.heads / a.heads_kv, a.head_dim, kStages<J>);
	return kic_launch(kernel, dim3(a.heads_kv, a.n, a.splits), dim3(32 * (a.heads / a.heads_kv)), smem, s, a, kv,
	                  partials, counters);
}

template <int J, int KT, bool PIPE>
static kic_status launch_pipe(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters, cudaStream_t s) {
	int group = a.heads / a.heads_kv;
	static bool configured = false; // the opt-in above 48 KB (head_dim 256 with a large group), once per kernel
	if (!configured) {
		KIC_CUDA(cudaFuncSetAttribute(attn_decode_kernel<J, KT, PIPE>, cudaFuncAttributeMaxDynamicSharedMemorySize,
		                              (int)sizeof(float) * decode_smem_floats(32, 32 * J)));
		configured = true;
	}
	size_t smem = sizeof(float) * decode_smem_floats(group, a.head_dim);
	return kic_launch(attn_decode_kernel<J, KT, PIPE>, dim3(a.heads_kv, a.n, a.splits), dim3(32 * group), smem, s, a, kv,
	                  partials, counters);
}

template <int J, int KT>
static kic_status launch_jt(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters, cudaStream_t s) {
	// A tile is one batch of pieces a thread when 32 keys x head_dim / 4 pieces <= kLoadBatch x 32 x group.
	bool one_batch = kDecodeTile * (a.head_dim / 4) <= kLoadBatch * 32 * (a.heads / a.heads_kv);
	if constexpr (KT == KIC_F16 || KT == KIC_BF16)
		if (a.pipeline && a.head_dim % 8 == 0) return launch_async<J, KT>(a, kv, partials, counters, s);
	if (a.pipeline && one_batch) return launch_pipe<J, KT, true>(a, kv, partials, counters, s);
	return launch_pipe<J, KT, false>(a, kv, partials, counters, s);
}

template <int J> static kic_status launch_j(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters,
                                            cudaStream_t s) {
	switch (kv.type) {
	case KIC_F32: return launch_jt<J, KIC_F32>(a, kv, partials, counters, s);
	case KIC_F16: return launch_jt<J, KIC_F16>(a, kv, partials, counters, s);
	case KIC_BF16: return launch_jt<J, KIC_BF16>(a, kv, partials, counters, s);
	case KIC_Q8_0: return launch_jt<J, KIC_Q8_0>(a, kv, partials, counters, s);
	default: return kic_set_error(KIC_ERR_UNSUPPORTED, "decode attention: KV cache type %d", kv.type);
	}
}

kic_status launch_attn_decode(const kic_attn_args &a, const kic_kv_view &kv, float *partials, int *counters,
                              cudaStream_t s) {
	if (a.n <= 0) return KIC_OK;
	if (a.splits < 1 || a.splits > KIC_ATTN_MAX_SPLITS)
		return kic_set_error(KIC_ERR_INVALID, "decode attention: %d splits (1 to %d)", a.splits, (int)KIC_ATTN_MAX_SPLITS);
	if (a.head_dim > 256 || a.head_dim % 4 || a.heads % a.heads_kv != 0 || a.heads / a.heads_kv > 32)
		return kic_set_error(KIC_ERR_UNSUPPORTED, "decode attention: head_dim %d (a multiple of 4 up to 256), heads %d/%d",
		                     a.head_dim, a.heads, a.heads_kv);
	if (a.head_dim <= 32) return launch_j<1>(a, kv, partials, counters, s);
	if (a.head_dim <= 64) return launch_j<2>(a, kv, partials, counters, s);
	if (a.head_dim <= 128) return launch_j<4>(a, kv, partials, counters, s);
	return launch_j<8>(a, kv, partials, counters, s);
}
