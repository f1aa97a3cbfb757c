/*
 * kubeinfer_cuda.h: the whole ABI of libkubeinfer_cuda.so.
 *
 * The Go worker dlopens the library and dlsyms every function declared here
 * (worker/cudabackend), so this file is the contract between them:
 *   - plain C: opaque handles, fixed-width integers, no C++ types;
 *   - every fallible function returns a kic_status; on failure
 *     kic_last_error() returns a message for the calling thread (thread-local,
 *     valid until that thread's next call into the library);
 *   - kic_abi_version() lets a loader refuse a library built from another
 *     header: bump KIC_ABI_VERSION on any change to a signature or struct.
 *
 * Threading: a kic_model may be used from one thread at a time (the Go side
 * serializes calls). Device selection is per model.
 *
 * Layout conventions: matrices are row-major, a linear layer's weight is
 * rows (outputs) x cols (inputs), as GGUF stores it. Activations are fp32.
 */
#ifndef KUBEINFER_CUDA_H
#define KUBEINFER_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KIC_ABI_VERSION 16

#if defined(__GNUC__)
#define KIC_API __attribute__((visibility("default")))
#else
#define KIC_API
#endif

typedef enum kic_status {
	KIC_OK = 0,
	KIC_ERR_INVALID = 1,      /* bad argument: a shape, a type, a null pointer */
	KIC_ERR_NO_DEVICE = 2,    /* no CUDA driver or no device */
	KIC_ERR_OUT_OF_MEMORY = 3,
	KIC_ERR_CUDA = 4,         /* a CUDA runtime call failed */
	KIC_ERR_CUBLAS = 5,
	KIC_ERR_UNSUPPORTED = 6,  /* a tensor type or shape the kernels do not handle */
} kic_status;

/* Tensor element types, numbered as ggml's enum ggml_type (and gguf.GGMLType). */
typedef enum kic_dtype {
	KIC_F32 = 0,
	KIC_F16 = 1,
	KIC_Q4_0 = 2,
	KIC_Q4_1 = 3,
	KIC_Q5_0 = 6,
	KIC_Q5_1 = 7,
	KIC_Q8_0 = 8,
	KIC_Q2_K = 10,
	KIC_Q3_K = 11,
	KIC_Q4_K = 12,
	KIC_Q5_K = 13,
	KIC_Q6_K = 14,
	KIC_IQ4_NL = 20,
	KIC_IQ4_XS = 23,
	KIC_BF16 = 30,
} kic_dtype;

/* The family fixes the norm and the MLP's shape: llama is RMSNorm and a gated MLP (act(gate x) * up x), gpt is
 * LayerNorm with biases and an ungated one (act(up x + b)). */
typedef enum kic_family { KIC_FAMILY_LLAMA = 0, KIC_FAMILY_GPT = 1 } kic_family;
/* A model without RoPE adds a learned position table (KIC_POS_EMBD) to its embeddings. */
typedef enum kic_rope_mode { KIC_ROPE_NONE = 0, KIC_ROPE_NORM = 1, KIC_ROPE_NEOX = 2 } kic_rope_mode;
/* The MLP's nonlinearity, numbered as model.Activation: SiLU, GELU's tanh approximation, the exact (erf) GELU. */
typedef enum kic_act { KIC_ACT_SILU = 0, KIC_ACT_GELU_TANH = 1, KIC_ACT_GELU = 2 } kic_act;
/* How a block adds attention and MLP to its input, numbered as model.Residual: one after the other; both from
 * the block's input, each with its own norm (GPT-NeoX); both from one norm of it (Phi-2). */
typedef enum kic_residual {
	KIC_RESIDUAL_SEQUENTIAL = 0,
	KIC_RESIDUAL_PARALLEL = 1,
	KIC_RESIDUAL_PARALLEL_SHARED = 2,
} kic_residual;

/* Logits and decode-attention scratch are sized for this many rows, so a long
 * prefill chunk (max_batch tokens) does not cost max_batch x vocab floats. */
#define KIC_MAX_LOGIT_ROWS 256

typedef struct kic_device_info {
	char name[256];
	int32_t ordinal;
	int32_t cc_major, cc_minor;
	int32_t sm_count;
	int32_t memory_clock_khz;   /* from cudaDeviceGetAttribute; 0 if unknown */
	int32_t memory_bus_width;   /* bits; 0 if unknown */
	uint64_t total_bytes, free_bytes;
	int32_t driver_version, runtime_version;
} kic_device_info;

/* Hyperparameters, mirroring model.Hyper. rope_inv_freq (layers x rope_dim/2
 * floats, layer i's at i * rope_dim/2) holds each layer's inverse frequency of
 * each pair (its base, freq scale and Llama-3 or LongRoPE factors already
 * applied), computed by the caller exactly as the CPU engine does so both
 * engines rotate by bit-identical angles. */
typedef struct kic_model_config {
	int32_t family;             /* kic_family */
	int32_t vocab, embd, layers, ffn;
	int32_t heads, heads_kv, head_dim;
	int32_t context;            /* max positions (learned position table size for gpt) */
	float norm_eps;
	int32_t rope_mode;          /* kic_rope_mode */
	int32_t rope_dim;
	const float *rope_inv_freq;
	int32_t tied_output;        /* 1: logits use token_embd */

	/* What the architecture adds to its family's forward pass; zero values are Llama's (GPT-2 sets act to
	 * KIC_ACT_GELU_TANH). */
	int32_t act;                /* kic_act: the MLP's nonlinearity (on the gate in the llama family) */
	int32_t residual;           /* kic_residual */
	int32_t qk_norm;            /* 1: per-head RMSNorm of q and k before RoPE (KIC_Q_NORM, KIC_K_NORM; Qwen3, Gemma 3) */
	int32_t post_norms;         /* 1: RMSNorm of the attention and MLP outputs before each residual add
	                               (KIC_POST_ATTN_NORM, KIC_POST_FFN_NORM; Gemma 2 and 3) */
	float embed_scale;          /* multiplies the token embeddings (Gemma: sqrt(embd)); 0: 1 */
	float attn_scale;           /* multiplies q.k (query_pre_attn_scalar's rule); 0: 1/sqrt(head_dim) */
	float attn_softcap;         /* > 0: attention scores become cap * tanh(score / cap) (Gemma 2) */
	float final_softcap;        /* > 0: so do the logits */
	float rope_attn_factor;     /* multiplies RoPE's cos and sin (LongRoPE's magnitude correction); 0: 1 */
	const int32_t *layer_window;/* layers entries: how many of the latest positions (the query's own included)
	                               layer i attends to, 0 for all of them; NULL: every layer attends to all. */

	/* Runtime sizing. */
	int32_t kv_block_tokens;    /* tokens per KV block (e.g. 16) */
	int32_t kv_blocks;          /* blocks in the pool */
	/* Layer groups (worker/kvcache.Layout): a block holds kv_slots layers' keys and values of one group, and
	 * each sequence has one block table per group, group g's at g * max_seq_blocks of its row (rows are
	 * kv_groups * max_seq_blocks wide), so window layers give back blocks global layers keep. Layer i's are
	 * at slot layer_kv_slot[i] of the blocks of group layer_kv_group[i]. NULL arrays: one group, layer i at
	 * slot i (kv_slots, kv_groups 0: layers, 1). */
	int32_t kv_slots, kv_groups;
	const int32_t *layer_kv_group, *layer_kv_slot;
	int32_t kv_type;            /* kic_dtype the pool stores keys and values as: KIC_F32, KIC_F16, KIC_BF16 or
	                               KIC_Q8_0 (32 consecutive elements of a token's row under one fp16 scale;
	                               heads_kv * head_dim a multiple of 32) */
	int32_t max_seq_blocks;     /* one group's block-table width: ceil(context / kv_block_tokens) */
	int32_t max_batch;          /* most tokens one kic_forward call takes; of them,
	                               at most min(max_batch, KIC_MAX_LOGIT_ROWS) may want
	                               logits, and a decode call takes at most that many */
	int32_t gemm_min_tokens;    /* use cuBLAS for a call of at least this many tokens (1: every call); <=0: the
	                               library's choice per weight (from 33 for bf16, whose 2-32-token calls take
	                               tensor-core kernels that read it once; 16 otherwise) */
	int32_t use_graphs;         /* capture decode steps in CUDA graphs */
	uint64_t weight_bytes;      /* one allocation for every tensor: the sum of their device sizes (Q8_0:
	                             * quants and scales apart), each rounded up to 256; 0: one per tensor */

	/* Tensor parallelism (kic_model_create_tp): this rank and the number of ranks (0 or 1: none). The
	 * sizes above are then the rank's share (worker/shard): heads, heads_kv, ffn and vocab are its own,
	 * its vocabulary rows start at vocab_start of vocab_full, and rank 0 returns all vocab_full logits. */
	int32_t tp_rank, tp_ranks;
	int32_t vocab_start, vocab_full;
} kic_model_config;

/* Where an uploaded tensor goes. Per-layer slots take a layer index. A fused tensor (KIC_QKV: rows q, then k,
 * then v; KIC_GATE_UP: rows gate, then up) takes the place of its members, in either family. */
typedef enum kic_slot {
	KIC_TOK_EMBD = 0, KIC_POS_EMBD, KIC_OUT_NORM, KIC_OUT_NORM_B, KIC_OUTPUT, KIC_OUTPUT_B,
	KIC_ATTN_NORM = 16, KIC_ATTN_NORM_B, KIC_Q, KIC_Q_B, KIC_K, KIC_K_B, KIC_V, KIC_V_B,
	KIC_QKV, KIC_QKV_B, KIC_O, KIC_O_B, KIC_FFN_NORM, KIC_FFN_NORM_B,
	KIC_GATE, KIC_UP, KIC_UP_B, KIC_DOWN, KIC_DOWN_B,
	KIC_Q_NORM, KIC_K_NORM, KIC_POST_ATTN_NORM, KIC_POST_FFN_NORM, KIC_GATE_UP,
} kic_slot;

/* One row's sampling parameters for kic_sample (on the GPU). temperature <= 0 is greedy. */
typedef struct kic_sampling {
	float temperature;
	int32_t top_k;              /* 0 disables */
	float top_p;                /* 0 or >= 1 disables */
	uint64_t seed;
	uint64_t step;              /* mixed into the seed so each step draws anew; the row's place in the batch is not */
	float min_p;                /* 0 disables: after top-k and top-p, tokens less likely than min_p x the best */
} kic_sampling;

/* The most alternatives kic_logprobs gives a row: the OpenAI API's top_logprobs limit (worker/engine.MaxTopLogprobs). */
#define KIC_MAX_TOP_LOGPROBS 20

/* One row's logprobs (kic_logprobs): log-softmax values of the row's logits. */
typedef struct kic_logprob_row {
	float chosen;                            /* at the token kic_sample picked; NaN where it picked none */
	int32_t top_ids[KIC_MAX_TOP_LOGPROBS];   /* the top_n highest logits, best first, ties to the lower id */
	float top_logprobs[KIC_MAX_TOP_LOGPROBS];
} kic_logprob_row;

typedef struct kic_model kic_model;

/* ---- library and devices ---------------------------------------------- */
KIC_API int32_t kic_abi_version(void);
KIC_API const char *kic_version(void);          /* e.g. "kubeinfer-cuda 1 (cudart 11080)" */
KIC_API const char *kic_last_error(void);
KIC_API kic_status kic_device_count(int32_t *count);
KIC_API kic_status kic_device_info_get(int32_t ordinal, kic_device_info *out);
/* Device-to-device copy bandwidth in bytes/s over bytes (read + write counted). */
KIC_API kic_status kic_measure_bandwidth(int32_t ordinal, uint64_t bytes, double *bytes_per_sec);

/* ---- model ------------------------------------------------------------- */
/* The bytes of the scratch slab kic_model_create allocates for cfg (the cuBLAS workspace, the KV pool and
 * the buffers) and of its KV pool, without a device: the loader checks its memory plan against them. */
KIC_API kic_status kic_scratch_bytes(const kic_model_config *cfg, uint64_t *scratch_bytes, uint64_t *kv_bytes);
/* Allocates the arena (weights are uploaded later), KV pool and scratch. */
KIC_API kic_status kic_model_create(int32_t ordinal, const kic_model_config *cfg, kic_model **out);
KIC_API void kic_model_destroy(kic_model *m);
/* Device bytes allocated so far by the model. */
KIC_API uint64_t kic_model_device_bytes(const kic_model *m);
/* Uploads one tensor from host memory (e.g. the mmapped GGUF) as stored:
 * matrices and embeddings in any kic_dtype (cuda/layout/types.h: ggml's block
 * layouts, byte for byte; Q8_0 is split into quants and scales on the way);
 * 1-D tensors (norms, biases) must be F32. Copies go through a pinned staging
 * buffer. */
KIC_API kic_status kic_upload(kic_model *m, int32_t slot, int32_t layer, int32_t dtype,
                              int64_t rows, int64_t cols, const void *host, uint64_t bytes);
/* Whether layer's q, k, v (and gate, up) are uploaded into one [q; k; v] (and [gate; up]) matrix, so a decode
 * step reads each group in one kernel: the default, for members of one type; 0 when they differ (e.g. a
 * llama-quantize mix with v in Q6_K and q, k in Q4_K), so each gets storage of its own. Called before the
 * layer's tensors are uploaded. */
KIC_API kic_status kic_set_groups(kic_model *m, int32_t layer, int32_t qkv, int32_t gate_up);
/* Checks every required tensor is present and waits for the uploads. */
KIC_API kic_status kic_model_ready(kic_model *m);

/* ---- tensor parallelism --------------------------------------------------
 * One model over n GPUs of this process: cfgs[r] is rank r's config (its share of the model, tp_rank r
 * of tp_ranks n) and ordinals[r] its device. The ranks meet through NCCL, which the library loads at
 * run time (libnccl.so.2, with NVLink multicast off); without it this fails with KIC_ERR_UNSUPPORTED
 * and says so. The handle returned is rank 0's and drives every rank: kic_forward runs all of them (one
 * host thread each) and leaves the gathered logits on rank 0 for kic_sample; kic_model_ready and
 * kic_model_destroy cover all ranks. Upload each rank's tensors through kic_model_rank. */
KIC_API kic_status kic_model_create_tp(int32_t n, const int32_t *ordinals, const kic_model_config *cfgs, kic_model **out);
/* Rank r's handle, for kic_upload, kic_set_groups and kic_model_device_bytes; NULL if there is none. */
KIC_API kic_model *kic_model_rank(kic_model *m, int32_t rank);
/* The NCCL version loaded (e.g. 22703), loading it if needed; fails with KIC_ERR_UNSUPPORTED and a message
 * naming the library when it cannot be loaded. */
KIC_API kic_status kic_nccl_version(int32_t *version);

/* ---- forward ----------------------------------------------------------- */
/* kic_forward's flags. */
#define KIC_FORWARD_PREFILL 1 /* tokens come in runs, each one sequence's consecutive positions (flash attention
                               * kernel, a launch a run) */
#define KIC_FORWARD_HIDDEN 2  /* with PREFILL: logits_out receives the wanted rows' final normed hidden states
                               * (count x embd floats: what the vocabulary projection would read, for
                               * embeddings) instead of their logits, which are not computed */

/* Runs n tokens. tokens[i] goes at position pos[i] of sequence seq[i], whose
 * KV blocks are block_tables[seq[i] * max_seq_blocks ...] (nseq rows given).
 * Blocks are owned by the caller (the Go side allocates them). With
 * KIC_FORWARD_PREFILL in flags the tokens come in runs, each the consecutive
 * positions of one sequence (several prompts' chunks prefilled together; no
 * sequence in two runs); otherwise each token is one sequence's decode step.
 * Logits of the rows with want_logits[i] != 0 are written in order to
 * logits_out (count x vocab floats, host memory) and left on the device for
 * kic_sample. With logits_out NULL the step is only enqueued: kic_sample
 * (or the next call) waits for it, so a decode step sampled on the GPU costs
 * one host-device round trip. */
KIC_API kic_status kic_forward(kic_model *m, int32_t n, const int32_t *tokens, const int32_t *pos,
                               const int32_t *seq, int32_t nseq, const int32_t *block_tables,
                               int32_t flags, const uint8_t *want_logits, float *logits_out);
/* What kic_sample gives for a row it could not pick from, instead of a token id. */
#define KIC_SAMPLE_NONFINITE (-1)   /* greedy: the row holds a NaN or +infinity */
#define KIC_SAMPLE_NONE_ALLOWED (-2) /* the row's mask allows no token of the vocabulary */

/* Samples one token per logit row of the last kic_forward (rows in order), row i by params[i]. A row holding a
 * NaN or +infinity anywhere, the tokens a mask excludes too, gives KIC_SAMPLE_NONFINITE, greedy or sampled (the
 * host never sees those logits, so this is how it learns). A row's draw depends on its logits, mask, seed and
 * step only, not on the other rows of the batch. masks (host memory; NULL: every token) limits row i to the tokens its allowed-token bitmask
 * at masks + i * ceil(vocab / 64) has set, bit t % 64 of word t / 64 for token t, as worker/engine.Constraint
 * lays it out (vocab: kic_vocab_out's, the whole vocabulary under tensor parallelism; bits past it are ignored):
 * greedy is the argmax of the allowed tokens (lowest id on ties), temperature, top-k and top-p see the allowed
 * tokens only, and a row that allows none gives KIC_SAMPLE_NONE_ALLOWED. The masks go up through a pinned
 * buffer sized at kic_model_create (no allocation per call). */
KIC_API kic_status kic_sample(kic_model *m, int32_t rows, const kic_sampling *params, const uint64_t *masks,
                              int32_t *tokens_out);
/* Copies the logits of rows rows[0..count) of the last kic_forward (indices among its logit rows, as kic_sample
 * numbers them) to out (count x vocab floats, host memory; vocab: kic_vocab_out's): a batch sampled on the GPU
 * brings to the host only the rows that need their logits there (logprobs, penalties, constraints). Before or
 * after kic_sample; neither changes the logits. */
KIC_API kic_status kic_logits(kic_model *m, int32_t count, const int32_t *rows, float *out);
/* Works out on the device, for logit rows 0..rows of the last kic_forward, what the OpenAI API returns as logprobs:
 * the log-softmax at the token the last kic_sample picked for the row and at the top_n (0..KIC_MAX_TOP_LOGPROBS)
 * highest logits; out (host memory) gets rows entries of a few hundred bytes instead of the rows' logits. After
 * kic_sample of at least that many rows, before the next kic_forward. */
KIC_API kic_status kic_logprobs(kic_model *m, int32_t rows, int32_t top_n, kic_logprob_row *out);
KIC_API kic_status kic_set_graphs(kic_model *m, int32_t enabled);
/* The CUDA graphs m holds: decode steps (one a batch size) and prefill passes (one a shape seen twice; none
 * with KUBEINFER_CUDA_PREFILL_GRAPHS=0). */
KIC_API kic_status kic_graph_counts(const kic_model *m, int32_t *decode, int32_t *prefill);
/* Whether m's one-token decode steps run their layers in one persistent launch (KUBEINFER_CUDA_PERSISTENT=1 at
 * create, and a model the path takes; set up by kic_model_ready): *persistent 1, else 0. */
KIC_API kic_status kic_decode_path(const kic_model *m, int32_t *persistent);

#ifdef __cplusplus
}
#endif
#endif /* KUBEINFER_CUDA_H */
