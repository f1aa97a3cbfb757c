// matvec.cuh: the batch-1 (and small-batch) decode hot path, y = W x for up to 8 tokens per weight pass.
//
// Decode at batch 1 is bound by reading the weights once per token, so the kernel streams each row with
// 16-byte loads (8 bf16/f16 values, 8 int8 Q8_0 quants plus their scale, 8 f32 as two loads), one warp per
// row and 32 rows per block (8 for batches), with several loads per lane issued before the first is used so enough
// bytes are in flight to cover the memory latency. Activations stay fp32 (L1/L2-resident, tiny next to
// the weights), sums are fp32, and the bias and the residual add are fused into the store so a projection
// is one kernel.
#pragma once
#include "common.cuh"
#include "kvcache.cuh"

// A norm fused into the projection's prologue (decode steps of one token): each block normalizes x into
// shared memory, RMSNorm with weight w, or LayerNorm when b is set, as norm_kernel would.
struct kic_matvec_norm {
	const float *w = nullptr, *b = nullptr;
	float eps = 0.f;
};
constexpr int kic_matvec_norm_max_cols = 12288; // 48 KB of shared memory
static inline bool kic_matvec_can_norm(const kic_mat &w) { return w.cols % 8 == 0 && w.cols <= kic_matvec_norm_max_cols; }

// The int8 path for the block formats and Q8_0 (quant_q8.cuh): the token rounded to int8 blocks of 32 in each
// kernel block's shared memory, the weights dotted with __dp4a. kic_matvec_use_int8 is the one rule every launch
// asks: the switch is on (kic_matvec_int8: KUBEINFER_CUDA_MATVEC_INT8=0 turns it off at kic_model_create, the
// kernel tests set it), the type has an int8 dot, the pass is of at most kic_matvec_int8_max_tokens tokens (decode
// steps; larger batches reuse each weight enough for the float path's arithmetic to hide behind the loads), and
// the activations fit in the default 48 KB of shared memory (1.5 bytes a value and token). Otherwise the float
// kernels run, which are also the reference the int8 path is tested against.
extern bool kic_matvec_int8;
// Warps (rows) per block of the int8 path's kernels. Smaller blocks leave an SM more of them at once (a short row's
// block retiring idles less of it) at the price of rounding x once per block; the kernel tests' benchmark runs 16,
// 8 and 4, and on the H200 16 was fastest for every 1B and 8B projection (8 tied on gate+up), so it is the
// default. Even, so the fused qkv kernel keeps rotation pairs in one block; set through kic_matvec_set_q8_warps.
constexpr int kic_matvec_q8_max_warps = 16;
extern int kic_matvec_q8_warps;
bool kic_matvec_set_q8_warps(int warps);
constexpr int kic_matvec_int8_max_tokens = 2;
constexpr int64_t kic_matvec_int8_max_smem = 46 * 1024; // 48 KB less the kernels' static shared memory
bool kic_matvec_use_int8(int dtype, int nt, int64_t cols);

// y[t][r] = sum_c W[r][c] x[t][c] (+ bias[r]) (+ y[t][r] if accumulate), for t < n (any n; tokens are
// processed 8 at a time per pass over the weights). With nrm (n == 1 only), x is normalized first.
kic_status launch_matvec(const kic_mat &w, const float *x, int n, const float *bias, bool accumulate, float *y,
                         cudaStream_t s, const kic_matvec_norm *nrm = nullptr);

// The GPT family's MLP up projection: y[t][r] = act(W_r . x_t + bias[r]), act a kic_act.
kic_status launch_matvec_act(int act, const kic_mat &w, const float *x, int n, const float *bias, float *y, cudaStream_t s,
                             const kic_matvec_norm *nrm = nullptr);

// The Llama family's MLP first half in one pass: W is [gate; up] (2F x E, the two matrices stacked), and
// y[t][r] = act(gate_r . x_t) * (up_r . x_t) for r < F (SwiGLU with KIC_ACT_SILU, GeGLU with KIC_ACT_GELU_TANH).
kic_status launch_matvec_glu(int act, const kic_mat &w, const float *x, int n, float *y, cudaStream_t s,
                             const kic_matvec_norm *nrm = nullptr);

// A one-token decode step's [q; k; v] projection that also does what follows it: rotary embedding of q and
// k (rope_mode KIC_ROPE_NONE: none) and the append of k and v to the KV cache at (seq[0], pos[0]). Rows
// are nq of q, then nkv of k, then nkv of v, head_dim apart within each. A block's warps take the two rows
// of a rotation pair, which they exchange in shared memory; the angles are computed as rope.cu does.
struct kic_qkv_store {
	const int32_t *pos = nullptr, *seq = nullptr;
	int64_t nq = 0, nkv = 0;
	int head_dim = 0, rope_mode = KIC_ROPE_NONE, rope_dim = 0;
	const float *inv_freq = nullptr;
	float mscale = 1.f; // multiplies cos and sin (kic_rope's)
	kic_kv_view kv;
};
// Whether launch_matvec_qkv can take this step: one token, a norm it can fuse, whole pairs in a block, a KV
// pool whose elements can be written one at a time (not q8_0).
bool kic_matvec_can_qkv(const kic_mat &w, int n, const kic_qkv_store &st);
kic_status launch_matvec_qkv(const kic_mat &w, const float *x, const float *bias, float *y, const kic_matvec_norm &nrm,
                             const kic_qkv_store &st, cudaStream_t s);
