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
//   D  att into shared memory, the o rows (+ bias) added to the residual stream x;
//   E  the norm again, the gate and up rows, act(gate) * up into ff (act(up + b) without a gate);
//   F  ff into shared memory, the down rows (+ bias) added to x.
// While attention runs, the grid asks L2 for the o rows D reads (and, KUBEINFER_CUDA_PERSIST_PREFETCH_MB, the
// start of the MLP's rows E reads), and during F for the next layer's qkv rows.
// The embedding before and the final norm, lm_head and sampling after stay the per-kernel path's launches.
// What the path takes is persist_setup's (model.cu) and kic_persist_shapes_ok's: sequential blocks of the llama
// (RMS norms, gated MLP) or gpt family (layer norms, biases, act(up + b)), fp32/fp16/bf16 weights, whole heads
// rotated or none, no per-head norms, windows, soft-caps or post-norms, one GPU; anything else, and
// every call of more than one token, runs the per-kernel path, which stays the reference.
#pragma once
#include "attention.cuh"

// One layer's operands: the weights (rows of the args' weight_type; gate_up with a gate, up without), norms and
// their biases (a layer norm's), the projections' optional biases, rotation frequencies and KV view.
struct kic_persist_layer {
	const void *qkv = nullptr, *o = nullptr, *gate_up = nullptr, *up = nullptr, *down = nullptr;
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
	int weight_type = KIC_BF16, kv_type = KIC_F16; // kic_dtype of every projection's weights, of the KV cache
	float eps = 0.f, scale = 0.f, mscale = 1.f;
	// Bytes of the MLP's first matrix (gate_up, or up) asked of L2 at the end of stage A, besides the o rows, so
	// that E's first loads find them there (KUBEINFER_CUDA_PERSIST_PREFETCH_MB; 0 by default until measured: L2
	// holds ~50 MB, and lines evicted before E reads them cost their bytes twice).
	int64_t prefetch_mlp = 0;
};

// The block size and the dynamic shared memory a block of the kernel takes for args' shapes.
constexpr int kic_persist_threads = 512;
// The largest head the attention stage takes (a lane holds head_dim / 32 of its values, for 8 keys at a time).
constexpr int kic_persist_max_head_dim = 128;
size_t kic_persist_smem(const kic_persist_args &a);
// A block's shared memory: xs (the normalized token, att or ff: the widest of them, rounded up to whole float4s),
// then each warp's query head of head_dim floats. kic_persist_xs_floats is xs's length, where the heads start.
__host__ __device__ inline int64_t kic_persist_xs_floats(const kic_persist_args &a) {
	int64_t e = a.embd, q = (int64_t)a.heads * a.head_dim, f = a.ffn, xs = e > q ? e : q;
	xs = xs > f ? xs : f;
	return (xs + 3) & ~(int64_t)3;
}
// Whether the kernel takes args' shapes and types: fp32, fp16 or bf16 weights whose rows are whole 16-byte loads,
// a KV cache of fp32, fp16 or bf16, heads of up to kic_persist_max_head_dim values in multiples of 4.
bool kic_persist_shapes_ok(const kic_persist_args &a);
// The most blocks of the kernel the device holds at once (the cooperative grid); 0 where it does not apply.
kic_status kic_persist_grid(const kic_persist_args &a, int *blocks);
// launch_persistent_decode runs the layers of one decode token; blocks from kic_persist_grid.
kic_status launch_persistent_decode(const kic_persist_args &a, int blocks, cudaStream_t s);
