// model.cuh: the model object behind the kic_model handle: arena, weights, KV pools, scratch, graphs.
#pragma once
#include <cublas_v2.h>
#include <functional>
#include <map>
#include <vector>

#include "attention.cuh"
#include "gemm.cuh"
#include "layout.h"
#include "nccl.cuh"
#include "persistent.cuh"
#include "profile.cuh"

struct kic_rank_thread; // tp.cu

// For llama-family layers, q, k and v are uploaded into one [q; k; v] matrix (qkv, with qkv_b for their
// biases) and gate and up into one [gate; up] matrix (gate_up), so a decode step reads each group in one
// kernel; q, k, v, gate and up are then views into them. The *_parts counters say how many members landed
// in the group (a member of another dtype goes to its own allocation and the group is not used).
// A file's own fused tensor (gpt2's and gptneox's attn_qkv, phi3's attn_qkv and ffn_up) is the group itself, with
// its members as views and all its parts counted.
struct kic_layer {
	kic_mat q, k, v, qkv, o, gate, up, gate_up, down;
	float *attn_norm = nullptr, *attn_norm_b = nullptr, *q_b = nullptr, *k_b = nullptr, *v_b = nullptr;
	float *qkv_b = nullptr, *o_b = nullptr, *ffn_norm = nullptr, *ffn_norm_b = nullptr, *up_b = nullptr;
	float *down_b = nullptr;
	float *q_norm = nullptr, *k_norm = nullptr;                // per-head RMSNorms of q and k (cfg.qk_norm)
	float *post_attn_norm = nullptr, *post_ffn_norm = nullptr; // RMSNorms before the residual adds (cfg.post_norms)
	int qkv_parts = 0, qkv_b_parts = 0, gate_up_parts = 0;
	bool group_qkv = true, group_gate_up = true; // kic_set_groups: members of one type are grouped
	const float *rope_inv_freq = nullptr;        // this layer's rotation frequencies (device)
	int window = 0;                              // cfg.layer_window's: 0 attends to every position
	int kv_group = 0, kv_slot = 0;               // cfg.layer_kv_group's and layer_kv_slot's
};

// A slab is one device allocation handed out in 256-byte-aligned pieces (kic_slab_take).
struct kic_slab {
	uint8_t *base = nullptr;
	uint64_t size = 0, used = 0;
};

struct kic_model {
	int ordinal = 0;
	int sms = 0; // the device's multiprocessors (decode attention's splits)
	kic_model_config cfg{};
	cudaStream_t stream = nullptr;
	cublasHandle_t blas = nullptr;

	// Arena: every device allocation, freed together.
	std::vector<void *> allocs;
	// A prefill's runs, (first token, tokens): each one sequence's consecutive positions (kic_forward).
	std::vector<std::pair<int, int>> runs;
	uint64_t device_bytes = 0;

	kic_slab weights; // every tensor, when the caller sized it (kic_model_config.weight_bytes)
	void *cublas_ws = nullptr;
	kic_mat tok_embd, output;
	float *pos_embd = nullptr, *out_norm = nullptr, *out_norm_b = nullptr, *out_b = nullptr, *rope_inv_freq = nullptr;
	std::vector<kic_layer> layers;
	uint8_t *k_pool = nullptr, *v_pool = nullptr; // kv_slots x kv_blocks x block_tokens x kv_dim, as cfg.kv_type

	// Scratch sized for max_batch tokens; logits, partials and counters for kic_logit_rows.
	float *x = nullptr, *xn = nullptr, *q = nullptr, *k = nullptr, *v = nullptr, *att = nullptr;
	float *ff1 = nullptr, *ff2 = nullptr, *logits = nullptr, *partials = nullptr;
	int *attn_counters = nullptr; // decode attention: splits finished per (token, KV head)
	kic_gemm_scratch gemm;
	int32_t *in_dev = nullptr, *sampled_dev = nullptr; // tokens | pos | seq | rows | block tables
	int32_t *in_host = nullptr;                         // pinned mirror of in_dev
	cudaEvent_t inputs_sent = nullptr;                  // in_host may be rewritten once this has passed
	float *logits_host = nullptr;                       // pinned
	int32_t *sampled_host = nullptr;                    // pinned
	uint64_t *masks = nullptr, *masks_host = nullptr;   // kic_sample's allowed-token masks and their pinned mirror

	// Upload staging: two pinned buffers, each guarded by an event, and a device landing zone for Q8_0.
	void *stage[2] = {nullptr, nullptr};
	cudaEvent_t stage_done[2] = {nullptr, nullptr};
	int stage_next = 0;
	uint8_t *q8_raw = nullptr;

	std::map<int, cudaGraphExec_t> graphs; // decode batch size -> captured step
	// Prefill passes from graphs too (one GPU; KUBEINFER_CUDA_PREFILL_GRAPHS=0 turns them off): a pass's
	// launches depend only on its shape (prefill_shape), so a shape seen twice is captured and replayed after; at
	// most kic_max_prefill_graphs of them, and shapes_seen counts the ones not captured yet.
	bool prefill_graphs = true;
	std::map<std::vector<int32_t>, cudaGraphExec_t> pass_graphs;
	std::map<std::vector<int32_t>, int> shapes_seen;
	int last_rows = 0;
	int sampled_rows = 0; // rows the last kic_sample picked after the last forward (kic_logprobs reads their picks)
	kic_profile prof; // KUBEINFER_CUDA_PROFILE=1 (profile.cuh)
	// One-token decode steps' layers in one launch (persistent.cuh; KUBEINFER_CUDA_PERSISTENT=1): wanted at
	// create, set up at kic_model_ready (persist_setup) where the model's layers allow it, then on when
	// persist_blocks > 0. persist.layers is a device copy of every layer's operands.
	bool persist_wanted = false;
	int persist_blocks = 0;
	kic_persist_args persist;

	// Tensor parallelism (kic_model_create_tp): this model is one rank's share (cfg.tp_rank of cfg.tp_ranks),
	// meeting the others through comm. Rank 0's handle is the caller's: it owns the other ranks (peers, rank
	// i+1 at i) and the host threads that drive them. gather holds the ranks' logits (layout.h).
	kic_nccl_comm comm = nullptr;
	std::vector<kic_model *> peers;
	std::vector<kic_rank_thread *> threads;
	float *gather = nullptr;
};

// kic_model_init allocates everything but the weights for cfg on device ordinal (kic_model_create's work);
// kic_model_release frees m and, for rank 0 of a tensor-parallel model, every other rank.
kic_status kic_model_init(int32_t ordinal, const kic_model_config *cfg, kic_model *m);
void kic_model_release(kic_model *m);

// Tensor parallelism (tp.cu). kic_tp_each runs fn on every rank of m at once, rank 0 on the calling thread
// and each other rank on its own (each GPU's work is enqueued by its own thread, so collectives never wait
// for a rank that has not been reached yet); it returns the first failure, its message on this thread.
kic_status kic_tp_each(kic_model *m, const std::function<kic_status(kic_model *)> &fn);
// kic_tp_all_reduce sums count floats of x over the ranks, in place, on m's stream; nothing with one rank.
kic_status kic_tp_all_reduce(kic_model *m, float *x, int64_t count);
// kic_tp_gather_logits puts every rank's logits of nrows rows (each computed into its m->gather) in order
// into rank 0's m->logits, whole vocabulary rows.
kic_status kic_tp_gather_logits(kic_model *m, int nrows);
// kic_tp_stop_threads ends rank 0's driver threads (before the ranks are released).
void kic_tp_stop_threads(kic_model *m);
