// persistent.cuh: a one-token decode step's layers in one kernel launch (KUBEINFER_CUDA_PERSISTENT=1).
//
// At batch 1 each of the ~5 kernels a layer costs several microseconds of launch, ramp-up and tail for a few
// microseconds of weight bytes (Llama-3.2-1B's qkv and o projections move their bytes at about a quarter of the
// copy bandwidth; its 128-token attention costs ~12 us a layer for almost no bytes). Here every SM runs one
// cooperative grid that walks the layers in stages separated by grid-wide barriers, each stage spreading its rows
// over every warp of the device:
//   A  the norm (each block its own copy, in shared memory), the qkv rows two at a time (+ bias), rotated, q to
//      the q buffer and k, v into the KV cache;
//   B  attention of each (query head, chunk of keys): partial max, sum and output, the head's last chunk to
//      finish merging its partials into att (no barrier of its own, as decode attention's last block merges);
//   C  att into shared memory, the o rows (+ bias) added to the residual stream x;
//   D  the norm again, the gate and up rows, act(gate) * up into ff (act(up + b) without a gate);
//   E  ff into shared memory, the down rows (+ bias) added to x.
// While attention runs, the grid asks L2 for the o rows C reads (and, KUBEINFER_CUDA_PERSIST_PREFETCH_MB, the
// start of the MLP's rows D reads), and during E for the next layer's qkv rows.
// The embedding before and the final norm, lm_head and sampling after stay the per-kernel path's launches.
// What the path takes is persist_setup's (model.cu) and kic_persist_shapes_ok's: sequential blocks of the llama
// (RMS norms, gated MLP) or gpt family (layer norms, biases, act(up + b)), weights of fp32, fp16, bf16 or the
// block formats kic_persist_type_ok names (a Q4_K_M file's Q4_K and Q6_K, dequantized in registers), whole heads
// rotated or none, no per-head norms, windows, soft-caps or post-norms, one GPU; anything else, and
// every call of more than one token, runs the per-kernel path, which stays the reference.
#pragma once
#include "attention.cuh"

// A projection's rows as the persistent path reads them: row r at w + r * row_bytes, of type (a kic_dtype).
struct kic_persist_mat {
	const void *w = nullptr;
	int64_t row_bytes = 0;
	int32_t type = -1;
};

// One layer's operands: the projections (q, k and v each its own rows, views into a grouped qkv where the model
// groups them, and gate and up likewise; no gate in the gpt family), norms and their biases (a layer norm's), the
// projections' optional biases (qkv_b by the rows of [q; k; v]), rotation frequencies and KV view.
struct kic_persist_layer {
	kic_persist_mat q, k, v, o, gate, up, down;
	const float *attn_norm = nullptr, *attn_norm_b = nullptr, *ffn_norm = nullptr, *ffn_norm_b = nullptr;
	const float *qkv_b = nullptr, *o_b = nullptr, *up_b = nullptr, *down_b = nullptr, *inv_freq = nullptr;
	kic_kv_view kv;
};

struct kic_persist_args {
	const kic_persist_layer *layers = nullptr; // device array of `layers`
	int layers_n = 0;
	float *x = nullptr;        // residual stream, embd
	float *q = nullptr;        // heads * head_dim
	float *att = nullptr;      // heads * head_dim
	float *ff = nullptr;       // ffn
	float *partials = nullptr; // heads * max_chunks * (head_dim + 2)
	int *counters = nullptr;   // heads: each head's chunks done this layer, zero between layers (the merger's reset)
	int max_chunks = 0;        // the most key chunks a head's attention is cut into
	const int32_t *pos = nullptr, *seq = nullptr; // the token's (device: a captured graph stays valid)
	int embd = 0, heads = 0, heads_kv = 0, head_dim = 0, ffn = 0;
	int rope_mode = 0, act = 0;
	bool layer_norm = false; // the gpt family's layer norms (mean and bias), else RMS norms
	bool gated = true;       // act(gate) * up (the llama family), else act(up + b)
	// The projections' type when every one is the same fp32, fp16 or bf16 (the kernel is built for it), else
	// kic_persist_mixed: each matrix read by its own type (kic_persist_type_ok's). And the KV cache's kic_dtype.
	int weight_type = KIC_BF16, kv_type = KIC_F16;
	float eps = 0.f, scale = 0.f, mscale = 1.f;
	// Bytes of the MLP's first matrix (gate_up, or up) asked of L2 at the end of stage A, besides the o rows, so
	// that D's first loads find them there (KUBEINFER_CUDA_PERSIST_PREFETCH_MB; 0 by default until measured: L2
	// holds ~50 MB, and lines evicted before D reads them cost their bytes twice).
	int64_t prefetch_mlp = 0;
	// The block formats dotted on the int8 path (the token rounded to int8 blocks in each block's shared memory,
	// as the per-kernel matvec does: kic_matvec_int8), else dequantized to floats (quant_piece.cuh).
	bool int8 = false;
};

// The block size and the dynamic shared memory a block of the kernel takes for args' shapes.
constexpr int kic_persist_threads = 512;
// weight_type of a model whose projections differ in type or are block-quantized (a Q4_K_M file's Q4_K and
// Q6_K): the kernel reads each matrix by its own type.
constexpr int kic_persist_mixed = -2;
// Whether the path reads a matrix of type with rows of cols values: fp32, fp16 or bf16 rows of whole 16-byte
// loads, or the block formats of quant_piece.cuh (Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS) in
// whole blocks. Q8_0 (stored split in quants and scales), Q2_K and Q3_K stay on the per-kernel path.
bool kic_persist_type_ok(int type, int64_t cols);
// The largest head the attention stage takes (a lane holds head_dim / 32 of its values, for 8 keys at a time).
constexpr int kic_persist_max_head_dim = 128;
size_t kic_persist_smem(const kic_persist_args &a);
// A block's shared memory starts with xs (the normalized token, att or ff: the widest of them, rounded up to whole
// float4s); kic_persist_xs_floats is its length (persistent.cu's persist_heads_at the rest of the layout).
__host__ __device__ inline int64_t kic_persist_xs_floats(const kic_persist_args &a) {
	int64_t e = a.embd, q = (int64_t)a.heads * a.head_dim, f = a.ffn, xs = e > q ? e : q;
	xs = xs > f ? xs : f;
	return (xs + 3) & ~(int64_t)3;
}
// Whether the kernel takes args' shapes and types (the matrices' own are kic_persist_type_ok's, checked as
// persist_setup builds them): a KV cache of fp32, fp16 or bf16, heads of up to kic_persist_max_head_dim values in
// multiples of 4.
bool kic_persist_shapes_ok(const kic_persist_args &a);
// The most blocks of the kernel the device holds at once (the cooperative grid); 0 where it does not apply.
kic_status kic_persist_grid(const kic_persist_args &a, int *blocks);
// launch_persistent_decode runs the layers of one decode token; blocks from kic_persist_grid.
kic_status launch_persistent_decode(const kic_persist_args &a, int blocks, cudaStream_t s);
