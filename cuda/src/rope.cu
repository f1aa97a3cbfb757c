#include "rope.cuh"

constexpr int kRopeThreads = 256;

// rotate applies the rotation of token position p to heads head vectors of one row. The angle is computed
// once per frequency into shared memory: in fp32 as the CPU engine's float32(pos)*f, sin/cos in double to
// match math.Sincos.
__device__ void rotate(float *row, int heads, int head_dim, int mode, int rope_dim, const float *cs, const float *sn) {
	int half = rope_dim / 2;
	for (int t = threadIdx.x; t < heads * half; t += blockDim.x) {
		int h = t / half, j = t % half;
		float *head = row + (int64_t)h * head_dim;
		int a = mode == KIC_ROPE_NORM ? 2 * j : j;
		int b = mode == KIC_ROPE_NORM ? 2 * j + 1 : j + half;
		float x0 = head[a], x1 = head[b];
		head[a] = x0 * cs[j] - x1 * sn[j];
		head[b] = x0 * sn[j] + x1 * cs[j];
	}
}

// angles works out each frequency's cos and sin (kic_rope_cos_sin) once a row, into shared memory.
__device__ void angles(float p, int half, const float *inv_freq, float mscale, float *cs, float *sn) {
	for (int j = threadIdx.x; j < half; j += blockDim.x) {
		float2 r = kic_rope_cos_sin(p, inv_freq[j], mscale);
		cs[j] = r.x, sn[j] = r.y;
	}
	__syncthreads();
}

// head_norm RMS-normalizes heads head vectors of one row in place with weight w, a warp per head; the sums are
// fp32 like norm_kernel's (the CPU engine's are float64).
__device__ void head_norm(float *row, int heads, int head_dim, const float *w, float eps) {
	int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
	for (int h = warp; h < heads; h += warps) {
		float *x = row + (int64_t)h * head_dim;
		float ss = 0.f;
		for (int d = lane; d < head_dim; d += 32) ss += x[d] * x[d];
		float scale = rsqrtf(warp_sum(ss) / head_dim + eps);
		for (int d = lane; d < head_dim; d += 32) x[d] = x[d] * scale * w[d];
	}
}

// One block per token. store: also append k and v to the cache (after k is normalized and rotated), as the
// pool's type KT.
template <int KT>
__global__ void __launch_bounds__(kRopeThreads)
    rope_store_kv_kernel(kic_qkv_rows r, const int32_t *pos, const int32_t *seq, kic_rope rp, kic_kv_view kv, bool store) {
	__shared__ float cs[128], sn[128];
	pdl_wait();
	pdl_launch_dependents();
	int i = blockIdx.x;
	if (rp.q_norm) {
		head_norm(r.q + (int64_t)i * r.q_stride, r.heads, r.head_dim, rp.q_norm, rp.norm_eps);
		if (r.k) head_norm(r.k + (int64_t)i * r.kv_stride, r.heads_kv, r.head_dim, rp.k_norm, rp.norm_eps);
		__syncthreads();
	}
	if (rp.mode != KIC_ROPE_NONE) {
		float p = (float)pos[i];
		angles(p, rp.dim / 2, rp.inv_freq, rp.mscale, cs, sn);
		rotate(r.q + (int64_t)i * r.q_stride, r.heads, r.head_dim, rp.mode, rp.dim, cs, sn);
		if (r.k) rotate(r.k + (int64_t)i * r.kv_stride, r.heads_kv, r.head_dim, rp.mode, rp.dim, cs, sn);
		__syncthreads();
	}
	if (!store) return;
	int64_t off = kv_offset(kv, seq[i], pos[i]);
	const float *ks = r.k + (int64_t)i * r.kv_stride, *vs = r.v + (int64_t)i * r.kv_stride;
	if constexpr (KT == KIC_F32) {
		const float4 *k = reinterpret_cast<const float4 *>(ks), *v = reinterpret_cast<const float4 *>(vs);
		float4 *kd = reinterpret_cast<float4 *>(kv.k) + off / 4, *vd = reinterpret_cast<float4 *>(kv.v) + off / 4;
		if (kv.kv_dim % 4 == 0 && r.kv_stride % 4 == 0 && ((uintptr_t)r.k % 16) == 0 && ((uintptr_t)r.v % 16) == 0) {
			for (int c = threadIdx.x; c < kv.kv_dim / 4; c += blockDim.x) kd[c] = k[c], vd[c] = v[c];
			return;
		}
	}
	kv_store_row<KT>(kv.k, kv.scales, off, ks, kv.kv_dim);
	kv_store_row<KT>(kv.v, kv.scales, off, vs, kv.kv_dim);
}

static kic_status check_rope(const kic_rope &rp, int head_dim) {
	if (rp.mode != KIC_ROPE_NONE && rp.mode != KIC_ROPE_NORM && rp.mode != KIC_ROPE_NEOX)
		return kic_set_error(KIC_ERR_INVALID, "rope mode %d", rp.mode);
	if (rp.mode != KIC_ROPE_NONE && (rp.dim <= 0 || rp.dim > 256 || rp.dim % 2 || rp.dim > head_dim || !rp.inv_freq))
		return kic_set_error(KIC_ERR_INVALID, "rope dim %d of head_dim %d, inv_freq %p", rp.dim, head_dim,
		                     (const void *)rp.inv_freq);
	if (rp.q_norm && !rp.k_norm) return kic_set_error(KIC_ERR_INVALID, "q norm without a k norm");
	return KIC_OK;
}

kic_status launch_rope(float *x, int64_t row_stride, const int32_t *pos, int n, int heads, int head_dim, const kic_rope &rp,
                       cudaStream_t s) {
	if (n <= 0 || (rp.mode == KIC_ROPE_NONE && !rp.q_norm)) return KIC_OK;
	KIC_TRY(check_rope(rp, head_dim));
	kic_qkv_rows r;
	r.q = x, r.q_stride = row_stride, r.heads = heads, r.head_dim = head_dim;
	return kic_launch(rope_store_kv_kernel<KIC_F32>, dim3(n), dim3(kRopeThreads), 0, s, r, pos, (const int32_t *)nullptr,
	                  rp, kic_kv_view{}, false);
}

kic_status launch_rope_store_kv(const kic_qkv_rows &r, const int32_t *pos, const int32_t *seq, int n, const kic_rope &rp,
                                const kic_kv_view &kv, cudaStream_t s) {
	if (n <= 0) return KIC_OK;
	KIC_TRY(check_rope(rp, r.head_dim));
	if (kv.type == KIC_Q8_0 && kv.kv_dim % 32)
		return kic_set_error(KIC_ERR_UNSUPPORTED, "q8_0 KV cache: rows of %d elements, not groups of 32", kv.kv_dim);
	switch (kv.type) {
	case KIC_F32: return kic_launch(rope_store_kv_kernel<KIC_F32>, dim3(n), dim3(kRopeThreads), 0, s, r, pos, seq, rp, kv, true);
	case KIC_F16: return kic_launch(rope_store_kv_kernel<KIC_F16>, dim3(n), dim3(kRopeThreads), 0, s, r, pos, seq, rp, kv, true);
	case KIC_BF16: return kic_launch(rope_store_kv_kernel<KIC_BF16>, dim3(n), dim3(kRopeThreads), 0, s, r, pos, seq, rp, kv, true);
	case KIC_Q8_0: return kic_launch(rope_store_kv_kernel<KIC_Q8_0>, dim3(n), dim3(kRopeThreads), 0, s, r, pos, seq, rp, kv, true);
	default: return kic_set_error(KIC_ERR_UNSUPPORTED, "KV cache type %d", kv.type);
	}
}
