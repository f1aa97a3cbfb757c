#include "matvec.cuh"

constexpr int kWarpsPerBlock = 4;

// load8 reads W[row][c..c+7] as floats with one 16-byte (or 8-byte for Q8_0) load.
template <int DT> struct Loader;
template <> struct Loader<KIC_BF16> {
	static __device__ __forceinline__ void load8(const void *w, const __half *, int64_t idx, float out[8]) {
		uint4 u = *reinterpret_cast<const uint4 *>((const uint16_t *)w + idx);
		uint32_t p[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
		for (int k = 0; k < 4; k++) {
			out[2 * k] = __uint_as_float(p[k] << 16);
			out[2 * k + 1] = __uint_as_float(p[k] & 0xffff0000u);
		}
	}
	static __device__ __forceinline__ float load1(const void *w, const __half *, int64_t idx) {
		return bf16_bits_to_float(((const uint16_t *)w)[idx]);
	}
};
template <> struct Loader<KIC_F16> {
	static __device__ __forceinline__ void load8(const void *w, const __half *, int64_t idx, float out[8]) {
		uint4 u = *reinterpret_cast<const uint4 *>((const uint16_t *)w + idx);
		const __half2 *h = reinterpret_cast<const __half2 *>(&u);
#pragma unroll
		for (int k = 0; k < 4; k++) {
			float2 f = __half22float2(h[k]);
			out[2 * k] = f.x;
			out[2 * k + 1] = f.y;
		}
	}
	static __device__ __forceinline__ float load1(const void *w, const __half *, int64_t idx) {
		return half_bits_to_float(((const uint16_t *)w)[idx]);
	}
};
template <> struct Loader<KIC_F32> {
	static __device__ __forceinline__ void load8(const void *w, const __half *, int64_t idx, float out[8]) {
		const float4 *p = reinterpret_cast<const float4 *>((const float *)w + idx);
		float4 a = p[0], b = p[1];
		out[0] = a.x, out[1] = a.y, out[2] = a.z, out[3] = a.w;
		out[4] = b.x, out[5] = b.y, out[6] = b.z, out[7] = b.w;
	}
	static __device__ __forceinline__ float load1(const void *w, const __half *, int64_t idx) {
		return ((const float *)w)[idx];
	}
};
template <> struct Loader<KIC_Q8_0> {
	static __device__ __forceinline__ void load8(const void *w, const __half *d, int64_t idx, float out[8]) {
		uint2 u = *reinterpret_cast<const uint2 *>((const int8_t *)w + idx);
		float sc = __half2float(d[idx / 32]);
		const int8_t *q = reinterpret_cast<const int8_t *>(&u);
#pragma unroll
		for (int k = 0; k < 8; k++) out[k] = (float)q[k] * sc;
	}
	static __device__ __forceinline__ float load1(const void *w, const __half *d, int64_t idx) {
		return (float)((const int8_t *)w)[idx] * __half2float(d[idx / 32]);
	}
};

// One warp per row; VEC: cols % 8 == 0 so every lane takes 8 consecutive values per step.
template <int DT, int NT, bool VEC>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    matvec_kernel(const void *w, const __half *scales, int64_t rows, int64_t cols, const float *x, const float *bias,
                  int accumulate, float *y) {
	int64_t row = (int64_t)blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
	int lane = threadIdx.x & 31;
	if (row >= rows) return;
	float acc[NT];
#pragma unroll
	for (int t = 0; t < NT; t++) acc[t] = 0.f;
	int64_t base = row * cols;
	if (VEC) {
		for (int64_t c = lane * 8; c < cols; c += 32 * 8) {
			float wv[8];
			Loader<DT>::load8(w, scales, base + c, wv);
#pragma unroll
			for (int t = 0; t < NT; t++) {
				const float4 *xp = reinterpret_cast<const float4 *>(x + t * cols + c);
				float4 a = __ldg(xp), b = __ldg(xp + 1);
				acc[t] += wv[0] * a.x + wv[1] * a.y + wv[2] * a.z + wv[3] * a.w + wv[4] * b.x + wv[5] * b.y +
				          wv[6] * b.z + wv[7] * b.w;
			}
		}
	} else {
		for (int64_t c = lane; c < cols; c += 32) {
			float wv = Loader<DT>::load1(w, scales, base + c);
#pragma unroll
			for (int t = 0; t < NT; t++) acc[t] += wv * x[t * cols + c];
		}
	}
#pragma unroll
	for (int t = 0; t < NT; t++) {
		float v = warp_sum(acc[t]);
		if (lane == 0) {
			if (bias) v += bias[row];
			float *out = y + t * rows + row;
			*out = accumulate ? *out + v : v;
		}
	}
}

template <int DT, int NT>
static void launch_dt_nt(const kic_mat &w, const float *x, const float *bias, bool acc, float *y, cudaStream_t s) {
	int blocks = kic_div_up(w.rows, kWarpsPerBlock);
	if (w.cols % 8 == 0)
		matvec_kernel<DT, NT, true><<<blocks, kWarpsPerBlock * 32, 0, s>>>(w.data, w.scales, w.rows, w.cols, x, bias,
		                                                                    acc, y);
	else
		matvec_kernel<DT, NT, false><<<blocks, kWarpsPerBlock * 32, 0, s>>>(w.data, w.scales, w.rows, w.cols, x, bias,
		                                                                     acc, y);
}

template <int DT>
static void launch_dt(const kic_mat &w, const float *x, int nt, const float *bias, bool acc, float *y,
                      cudaStream_t s) {
	switch (nt) {
	case 1: launch_dt_nt<DT, 1>(w, x, bias, acc, y, s); break;
	case 2: launch_dt_nt<DT, 2>(w, x, bias, acc, y, s); break;
	case 4: launch_dt_nt<DT, 4>(w, x, bias, acc, y, s); break;
	default: launch_dt_nt<DT, 8>(w, x, bias, acc, y, s); break;
	}
}

kic_status launch_matvec(const kic_mat &w, const float *x, int n, const float *bias, bool accumulate, float *y,
                         cudaStream_t s) {
	// Passes of 8, 4, 2 and 1 tokens: four instantiations per dtype cover any n.
	for (int t0 = 0, nt = 8; t0 < n; t0 += nt) {
		while (nt > n - t0) nt /= 2;
		const float *xt = x + (int64_t)t0 * w.cols;
		float *yt = y + (int64_t)t0 * w.rows;
		switch (w.dtype) {
		case KIC_BF16: launch_dt<KIC_BF16>(w, xt, nt, bias, accumulate, yt, s); break;
		case KIC_F16: launch_dt<KIC_F16>(w, xt, nt, bias, accumulate, yt, s); break;
		case KIC_F32: launch_dt<KIC_F32>(w, xt, nt, bias, accumulate, yt, s); break;
		case KIC_Q8_0: launch_dt<KIC_Q8_0>(w, xt, nt, bias, accumulate, yt, s); break;
		default: return kic_set_error(KIC_ERR_UNSUPPORTED, "matvec: dtype %d", w.dtype);
		}
		KIC_LAUNCHED();
	}
	return KIC_OK;
}
