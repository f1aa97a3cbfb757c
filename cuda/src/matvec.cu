// matvec.cu: the matvec entry points and their dispatch on the weight type; the kernels are in matvec_impl.cuh,
// instantiated per type in matvec_<type>.cu.
#include "matvec_launch.cuh"
#include "quant_q8.cuh"

// The int8 path (quant_q8.cuh): on by default; KUBEINFER_CUDA_MATVEC_INT8=0 (read at kic_model_create) and the
// kernel tests turn it off to run the float kernels.
bool kic_matvec_int8 = true;
int kic_matvec_q8_warps = kic_matvec_q8_max_warps;

bool kic_matvec_set_q8_warps(int warps) {
	if (warps < 2 || warps > kic_matvec_q8_max_warps || warps % 2) return false;
	kic_matvec_q8_warps = warps;
	return true;
}

bool kic_matvec_use_int8(int dtype, int nt, int64_t cols) {
	return kic_matvec_int8 && kic_q8_type(dtype) && nt >= 1 && nt <= kic_matvec_int8_max_tokens && cols % 32 == 0 &&
	       kic_xq_bytes(nt, cols) <= kic_matvec_int8_max_smem;
}

bool kic_matvec_can_qkv(const kic_mat &w, int n, const kic_qkv_store &st) {
	// Each row is computed by its own warp, and a q8_0 scale needs 32 of them: rope_store_kv writes those.
	return n == 1 && kic_matvec_can_norm(w) && st.head_dim % 2 == 0 && st.kv.type != KIC_Q8_0 &&
	       w.rows == st.nq + 2 * st.nkv && st.nq % st.head_dim == 0 && st.nkv % st.head_dim == 0 &&
	       (st.rope_mode == KIC_ROPE_NONE || (st.rope_dim % 2 == 0 && st.rope_dim <= st.head_dim && st.inv_freq));
}

template <int NORM>
static kic_status launch_qkv_norm(const kic_mat &w, const float *x, const float *bias, float *y,
                                  const kic_matvec_norm &nrm, const kic_qkv_store &st, cudaStream_t s) {
	switch (w.dtype) {
	case KIC_BF16: return launch_qkv_dt<KIC_BF16, NORM>(w, x, bias, y, nrm, st, s);
	case KIC_F16: return launch_qkv_dt<KIC_F16, NORM>(w, x, bias, y, nrm, st, s);
	case KIC_F32: return launch_qkv_dt<KIC_F32, NORM>(w, x, bias, y, nrm, st, s);
	case KIC_Q8_0: return launch_qkv_dt<KIC_Q8_0, NORM>(w, x, bias, y, nrm, st, s);
#define CASE(DT) \
	case DT: return launch_qkv_dt<DT, NORM>(w, x, bias, y, nrm, st, s);
		KIC_FOR_EACH_BLOCK_QUANT(CASE)
#undef CASE
	default: return kic_set_error(KIC_ERR_UNSUPPORTED, "qkv matvec: dtype %d", w.dtype);
	}
}

kic_status launch_matvec_qkv(const kic_mat &w, const float *x, const float *bias, float *y, const kic_matvec_norm &nrm,
                             const kic_qkv_store &st, cudaStream_t s) {
	if (!kic_matvec_can_qkv(w, 1, st))
		return kic_set_error(KIC_ERR_INVALID, "qkv matvec: %lld x %lld rows/cols for q %lld, kv %lld, head_dim %d, rope %d",
		                     (long long)w.rows, (long long)w.cols, (long long)st.nq, (long long)st.nkv, st.head_dim,
		                     st.rope_dim);
	return nrm.b ? launch_qkv_norm<kNormLayer>(w, x, bias, y, nrm, st, s) : launch_qkv_norm<kNormRMS>(w, x, bias, y, nrm, st, s);
}


static kic_status launch(const kic_mat &w, const float *x, int n, const float *bias, bool accumulate, float *y,
                         int kind, int act, const kic_matvec_norm *nrm, cudaStream_t s) {
	if (nrm && (n != 1 || !kic_matvec_can_norm(w)))
		return kic_set_error(KIC_ERR_INVALID, "matvec: a fused norm needs one token and %lld columns (a multiple of 8, at most %d)",
		                     (long long)w.cols, kic_matvec_norm_max_cols);
	int64_t out_rows = kind == kActGLU ? w.rows / 2 : w.rows;
	// Passes of 8, 4, 2 and 1 tokens: four instantiations per dtype cover any n.
	for (int t0 = 0, nt = 8; t0 < n; t0 += nt) {
		while (nt > n - t0) nt /= 2;
		const float *xt = x + (int64_t)t0 * w.cols;
		float *yt = y + (int64_t)t0 * out_rows;
		switch (w.dtype) {
		case KIC_BF16: KIC_TRY(launch_dt<KIC_BF16>(w, xt, nt, bias, accumulate, yt, kind, act, nrm, s)); break;
		case KIC_F16: KIC_TRY(launch_dt<KIC_F16>(w, xt, nt, bias, accumulate, yt, kind, act, nrm, s)); break;
		case KIC_F32: KIC_TRY(launch_dt<KIC_F32>(w, xt, nt, bias, accumulate, yt, kind, act, nrm, s)); break;
		case KIC_Q8_0: KIC_TRY(launch_dt<KIC_Q8_0>(w, xt, nt, bias, accumulate, yt, kind, act, nrm, s)); break;
#define CASE(DT) \
	case DT: KIC_TRY(launch_dt<DT>(w, xt, nt, bias, accumulate, yt, kind, act, nrm, s)); break;
			KIC_FOR_EACH_BLOCK_QUANT(CASE)
#undef CASE
		default: return kic_set_error(KIC_ERR_UNSUPPORTED, "matvec: dtype %d", w.dtype);
		}
	}
	return KIC_OK;
}

kic_status launch_matvec(const kic_mat &w, const float *x, int n, const float *bias, bool accumulate, float *y,
                         cudaStream_t s, const kic_matvec_norm *nrm) {
	return launch(w, x, n, bias, accumulate, y, kActNone, 0, nrm, s);
}

kic_status launch_matvec_act(int act, const kic_mat &w, const float *x, int n, const float *bias, float *y, cudaStream_t s,
                             const kic_matvec_norm *nrm) {
	return launch(w, x, n, bias, false, y, kActFn, act, nrm, s);
}

kic_status launch_matvec_glu(int act, const kic_mat &w, const float *x, int n, float *y, cudaStream_t s,
                             const kic_matvec_norm *nrm) {
	if (w.rows % 2) return kic_set_error(KIC_ERR_INVALID, "glu matvec: %lld rows is not a [gate; up] pair", (long long)w.rows);
	return launch(w, x, n, nullptr, false, y, kActGLU, act, nrm, s);
}
