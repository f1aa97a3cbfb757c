/*
 * layout.h: where kic_model_create puts every piece of its scratch slab (the cuBLAS workspace, the KV pool
 * and the activation buffers), as a pure function of the model config.
 *
 * This is the one description of the layout. model.cu places its pointers by it; kic_scratch_bytes reports
 * it through the ABI; worker/memplan computes the same bytes in Go for the operator (which has no library),
 * and its test compiles this file with gcc and compares the two on random configs, so a change here that
 * memplan does not follow fails `make test`. Plain C: no CUDA types, so gcc compiles it too.
 */
#ifndef KIC_LAYOUT_H
#define KIC_LAYOUT_H

#include <stdint.h>
#include <string.h>

#include "kubeinfer_cuda.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
	KIC_SLAB_ALIGN = 256,                 /* every piece starts at a multiple of this */
	KIC_ATTN_SPLITS = 16,                 /* split-K chunks per query row of a full batch (decode and prefill) */
	KIC_ATTN_MAX_SPLITS = 128,            /* a small decode batch splits each query's keys into up to this many */
	KIC_STAGE_BYTES = 16 << 20,           /* one pinned upload staging buffer */
};
#define KIC_CUBLAS_WORKSPACE ((uint64_t)32 << 20)
#define KIC_W16_ELEMS ((int64_t)8 << 20)  /* Q8_0 weight rows dequantized to fp16 for a GEMM, a chunk at a time */

/* Rows of logits (and of decode-attention partials) the scratch holds. */
static inline int64_t kic_logit_rows(const kic_model_config *c) {
	return c->max_batch < KIC_MAX_LOGIT_ROWS ? c->max_batch : KIC_MAX_LOGIT_ROWS;
}

/* The logits columns kic_forward returns: the whole vocabulary, gathered on rank 0 under tensor parallelism. */
static inline int64_t kic_vocab_out(const kic_model_config *c) {
	return c->tp_ranks > 1 ? c->vocab_full : c->vocab;
}

/* Tensor parallelism: the vocabulary rows of the largest rank, the size of each rank's slot of logits. */
static inline int64_t kic_vocab_chunk(const kic_model_config *c) {
	return c->tp_ranks > 1 ? (c->vocab_full + c->tp_ranks - 1) / c->tp_ranks : c->vocab;
}

/* 64-bit words of one row's allowed-token bitmask (kic_sample's masks) over vocab tokens. */
static inline int64_t kic_mask_words(int64_t vocab) {
	return (vocab + 63) / 64;
}

/* (query row, split) slots of attention partials for n rows: KIC_ATTN_SPLITS a row, and room for one row of
 * KIC_ATTN_MAX_SPLITS, so that batch-1 decode over a long context fills the device with blocks. */
static inline int64_t kic_attn_partial_slots(int64_t n) {
	int64_t slots = n * KIC_ATTN_SPLITS, least = KIC_ATTN_MAX_SPLITS;
	return slots > least ? slots : least;
}

/* Partial results (max, sum, head_dim outputs) of the attention kernels for n query rows. */
static inline int64_t kic_attn_partials(int64_t n, int64_t heads, int64_t head_dim) {
	return kic_attn_partial_slots(n) * heads * (head_dim + 2);
}

/* The splits a decode step of n query rows uses when the partials hold `rows` rows (n <= rows): as many as
 * the slots allow, at most KIC_ATTN_MAX_SPLITS; at least KIC_ATTN_SPLITS. */
static inline int kic_attn_decode_splits(int64_t n, int64_t rows) {
	int64_t s = kic_attn_partial_slots(rows) / (n > 0 ? n : 1), most = KIC_ATTN_MAX_SPLITS, least = KIC_ATTN_SPLITS;
	return (int)(s > most ? most : s < least ? least : s);
}

/* Layers' worth of keys and values one KV block holds, and the block tables each sequence has
 * (kic_model_config.kv_slots, kv_groups; 0 means every layer in one group). */
static inline int64_t kic_kv_slots(const kic_model_config *c) { return c->kv_slots > 0 ? c->kv_slots : c->layers; }
static inline int64_t kic_kv_groups(const kic_model_config *c) { return c->kv_groups > 0 ? c->kv_groups : 1; }

/* The width of a sequence's row of block tables: every group's table. */
static inline int64_t kic_table_width(const kic_model_config *c) { return kic_kv_groups(c) * c->max_seq_blocks; }

/* The int32 inputs of one forward call: tokens | pos | seq | rows, then the block tables. */
static inline int64_t kic_input_words(const kic_model_config *c) {
	return 4 * (int64_t)c->max_batch + (int64_t)c->max_batch * kic_table_width(c);
}

/* Bytes of one token's keys (or values) in one layer: kv_dim elements stored as kv_type, whose size is
 * types.h's (worker/kvcache.Type.RowBytes asks gguf's table the same). 0 for a type the pool does not take. */
static inline uint64_t kic_kv_row_bytes(int32_t kv_type, int64_t kv_dim) {
	switch (kv_type) {
	case KIC_F32: case KIC_F16: case KIC_BF16: case KIC_Q8_0: return kic_type_bytes(kv_type, (uint64_t)kv_dim);
	default: return 0;
	}
}

/* Byte offsets of the pieces in the slab, the element counts the kernels need, and the totals. */
typedef struct kic_scratch_layout {
	uint64_t cublas_ws, rope_inv_freq, k_pool, v_pool, x, xn, q, k, v, att, ff1, ff2, logits, partials, gather,
	    attn_counters, act16, w16, in_dev, sampled_dev, masks, q8_raw;
	int64_t act16_elems, w16_elems;
	uint64_t kv_bytes; /* the K and V pools together */
	uint64_t size;     /* bytes from the slab's start to the end of its last piece */
} kic_scratch_layout;

/* kic_slab_take places bytes at the next aligned offset of a slab of used bytes. */
static inline uint64_t kic_slab_take(uint64_t *used, uint64_t bytes) {
	uint64_t off = (*used + KIC_SLAB_ALIGN - 1) / KIC_SLAB_ALIGN * KIC_SLAB_ALIGN;
	*used = off + bytes;
	return off;
}

static inline kic_scratch_layout kic_scratch_layout_of(const kic_model_config *c) {
	kic_scratch_layout l;
	memset(&l, 0, sizeof l);
	uint64_t u = 0;
	int64_t B = c->max_batch, L = kic_logit_rows(c), E = c->embd, F = c->ffn, V = c->vocab, gather = 0;
	int64_t nq = (int64_t)c->heads * c->head_dim, nkv = (int64_t)c->heads_kv * c->head_dim;
	int64_t qw = nq + 2 * nkv; /* room for a fused [q; k; v] row (gpt2's own, or llama's grouped one) */
	/* Tensor parallelism: rank 0 holds the whole vocabulary's logits, gathered from every rank's slot (each
	 * rank computes its rows into its own slot). */
	if (c->tp_ranks > 1) {
		V = c->tp_rank == 0 ? c->vocab_full : 0;
		gather = kic_vocab_chunk(c) * (c->tp_rank == 0 ? c->tp_ranks : 1);
	}
	int64_t widest = E > F ? E : F;
	widest = widest > nq ? widest : nq;
	uint64_t f = sizeof(float);
	l.cublas_ws = kic_slab_take(&u, KIC_CUBLAS_WORKSPACE);
	if (c->rope_mode != KIC_ROPE_NONE) /* each layer's table */
		l.rope_inv_freq = kic_slab_take(&u, (uint64_t)c->layers * (c->rope_dim / 2) * f);
	uint64_t pool = (uint64_t)kic_kv_slots(c) * c->kv_blocks * c->kv_block_tokens * kic_kv_row_bytes(c->kv_type, nkv);
	l.k_pool = kic_slab_take(&u, pool);
	l.v_pool = kic_slab_take(&u, pool);
	l.kv_bytes = u - l.k_pool;
	l.x = kic_slab_take(&u, B * E * f);
	l.xn = kic_slab_take(&u, B * (E > nq ? E : nq) * f);
	l.q = kic_slab_take(&u, B * qw * f);
	l.k = kic_slab_take(&u, B * nkv * f);
	l.v = kic_slab_take(&u, B * nkv * f);
	l.att = kic_slab_take(&u, B * nq * f);
	l.ff1 = kic_slab_take(&u, B * F * f);
	l.ff2 = kic_slab_take(&u, B * F * f);
	l.logits = kic_slab_take(&u, L * V * f);
	l.partials = kic_slab_take(&u, kic_attn_partials(L, c->heads, c->head_dim) * f);
	l.gather = kic_slab_take(&u, L * gather * f);
	l.attn_counters = kic_slab_take(&u, L * c->heads_kv * sizeof(int32_t));
	l.act16_elems = B * widest;
	l.act16 = kic_slab_take(&u, l.act16_elems * 2 * 2); /* hi and lo 16-bit halves */
	l.w16_elems = KIC_W16_ELEMS;
	l.w16 = kic_slab_take(&u, l.w16_elems * 2);
	l.in_dev = kic_slab_take(&u, kic_input_words(c) * sizeof(int32_t));
	l.sampled_dev = kic_slab_take(&u, B * sizeof(int32_t));
	l.masks = kic_slab_take(&u, L * kic_mask_words(V) * sizeof(uint64_t)); /* kic_sample's, where the logits are */
	l.q8_raw = kic_slab_take(&u, (KIC_STAGE_BYTES / 34) * 34); /* whole Q8_0 blocks of one staging buffer */
	l.size = u;
	return l;
}

#ifdef __cplusplus
}
#endif
#endif /* KIC_LAYOUT_H */
