// model.cu: model creation, weight upload and the forward pass for both families.
#include <algorithm>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.cuh"
#include "add.cuh"
#include "arch.cuh"
#include "dequant.cuh"
#include "embed.cuh"
#include "gemm_skinny.cuh"
#include "glu.cuh"
#include "matvec.cuh"
#include "model.cuh"
#include "norm.cuh"
#include "rope.cuh"
#include "logprobs.cuh"
#include "sample.cuh"
#include "softcap.cuh"
#include "types.h"


static kic_status arena_alloc(kic_model *m, uint64_t bytes, void **out) {
	void *p = nullptr;
	cudaError_t err = cudaMalloc(&p, bytes ? bytes : 1);
	if (err != cudaSuccess) {
		size_t free_b = 0, total_b = 0;
		cudaMemGetInfo(&free_b, &total_b);
		return kic_set_error(KIC_ERR_OUT_OF_MEMORY, "cudaMalloc of %llu bytes failed (%s); %llu MiB in use by the model, %llu MiB free",
		                     (unsigned long long)bytes, cudaGetErrorString(err),
		                     (unsigned long long)(m->device_bytes >> 20), (unsigned long long)(free_b >> 20));
	}
	m->allocs.push_back(p);
	m->device_bytes += bytes;
	*out = p;
	return KIC_OK;
}


void kic_model_release(kic_model *m) {
	if (!m) return;
	kic_tp_stop_threads(m);
	for (kic_model *p : m->peers) kic_model_release(p);
	m->peers.clear();
	cudaSetDevice(m->ordinal);
	if (m->stream) cudaStreamSynchronize(m->stream);
	if (m->prof.on) kic_profile_print(m->prof);
	for (auto &g : m->graphs) cudaGraphExecDestroy(g.second);
	for (auto &g : m->pass_graphs) cudaGraphExecDestroy(g.second);
	for (void *p : m->allocs) cudaFree(p);
	for (int b = 0; b < 2; b++) {
		if (m->stage[b]) cudaFreeHost(m->stage[b]);
		if (m->stage_done[b]) cudaEventDestroy(m->stage_done[b]);
	}
	if (m->inputs_sent) cudaEventDestroy(m->inputs_sent);
	if (m->in_host) cudaFreeHost(m->in_host);
	if (m->logits_host) cudaFreeHost(m->logits_host);
	if (m->sampled_host) cudaFreeHost(m->sampled_host);
	if (m->masks_host) cudaFreeHost(m->masks_host);
	if (m->blas) cublasDestroy(m->blas);
	if (m->stream) cudaStreamDestroy(m->stream);
	kic_nccl_comm_destroy(m->comm);
	delete m;
}

// place_scratch points every scratch buffer into the slab by layout.h, the layout kic_scratch_bytes reports
// and worker/memplan computes.
static void place_scratch(kic_model *m, uint8_t *base, const kic_scratch_layout &l) {
	m->cublas_ws = base + l.cublas_ws;
	m->rope_inv_freq = m->cfg.rope_mode != KIC_ROPE_NONE ? (float *)(base + l.rope_inv_freq) : nullptr;
	m->k_pool = base + l.k_pool;
	m->v_pool = base + l.v_pool;
	m->x = (float *)(base + l.x);
	m->xn = (float *)(base + l.xn);
	m->q = (float *)(base + l.q);
	m->k = (float *)(base + l.k);
	m->v = (float *)(base + l.v);
	m->att = (float *)(base + l.att);
	m->ff1 = (float *)(base + l.ff1);
	m->ff2 = (float *)(base + l.ff2);
	m->logits = (float *)(base + l.logits);
	m->partials = (float *)(base + l.partials);
	m->gather = (float *)(base + l.gather);
	m->attn_counters = (int *)(base + l.attn_counters);
	m->gemm.act16 = base + l.act16;
	m->gemm.act16_elems = l.act16_elems;
	m->gemm.w16 = (__half *)(base + l.w16);
	m->gemm.w16_elems = l.w16_elems;
	m->in_dev = (int32_t *)(base + l.in_dev);
	m->sampled_dev = (int32_t *)(base + l.sampled_dev);
	m->masks = (uint64_t *)(base + l.masks);
	m->q8_raw = base + l.q8_raw;
}

kic_status kic_model_init(int32_t ordinal, const kic_model_config *cfg, kic_model *m) {
	const kic_model_config &c = *cfg;
	if (c.vocab <= 0 || c.embd <= 0 || c.layers <= 0 || c.ffn <= 0 || c.heads <= 0 || c.heads_kv <= 0 ||
	    c.head_dim <= 0 || c.heads % c.heads_kv != 0 || c.context <= 0 || c.kv_block_tokens <= 0 || c.kv_blocks <= 0 ||
	    c.max_seq_blocks <= 0 || c.max_batch <= 0)
		return kic_set_error(KIC_ERR_INVALID, "model config has a non-positive size or heads %% heads_kv != 0");
	if (c.head_dim > 256) return kic_set_error(KIC_ERR_UNSUPPORTED, "head_dim %d > 256", c.head_dim);
	if (c.tp_ranks > 1 && (c.tp_rank < 0 || c.tp_rank >= c.tp_ranks || c.vocab_start < 0 ||
	                       c.vocab_start + c.vocab > c.vocab_full || c.vocab > kic_vocab_chunk(&c)))
		return kic_set_error(KIC_ERR_INVALID, "rank %d of %d holds vocabulary rows %d to %d of %d (chunks of %lld)", c.tp_rank,
		                     c.tp_ranks, c.vocab_start, c.vocab_start + c.vocab, c.vocab_full, (long long)kic_vocab_chunk(&c));
	if (!kic_kv_row_bytes(c.kv_type, (int64_t)c.heads_kv * c.head_dim) ||
	    (c.kv_type == KIC_Q8_0 && ((int64_t)c.heads_kv * c.head_dim) % 32))
		return kic_set_error(KIC_ERR_UNSUPPORTED, "KV cache type %d for rows of %d (f32, f16, bf16; q8_0 for rows of whole 32s)",
		                     c.kv_type, c.heads_kv * c.head_dim);
	// Each layer's pool starts where the one before ends: 8-byte steps keep the attention kernels' vector loads
	// aligned (always so for blocks of an even number of tokens).
	if ((uint64_t)c.kv_blocks * c.kv_block_tokens * kic_kv_row_bytes(c.kv_type, (int64_t)c.heads_kv * c.head_dim) % 8)
		return kic_set_error(KIC_ERR_UNSUPPORTED, "a KV pool layer of %d blocks of %d tokens is not a multiple of 8 bytes",
		                     c.kv_blocks, c.kv_block_tokens);
	if (c.rope_mode != KIC_ROPE_NONE && (!c.rope_inv_freq || c.rope_dim <= 0 || c.rope_dim > c.head_dim || c.rope_dim % 2))
		return kic_set_error(KIC_ERR_INVALID, "rope: dim %d with head_dim %d, inv_freq %p", c.rope_dim, c.head_dim,
		                     (const void *)c.rope_inv_freq);
	KIC_TRY(kic_arch_check(c));
	m->ordinal = ordinal;
	m->cfg = c;
	m->cfg.rope_inv_freq = nullptr; // the caller's arrays are not kept
	m->cfg.layer_window = nullptr;
	m->cfg.layer_kv_group = m->cfg.layer_kv_slot = nullptr;
	// A measurement knob, as KUBEINFER_CUDA_MATVEC_INT8: where cuBLAS takes over, for every weight.
	const char *gemm_env = getenv("KUBEINFER_CUDA_GEMM_MIN_TOKENS");
	if (gemm_env && atoi(gemm_env) > 0) m->cfg.gemm_min_tokens = atoi(gemm_env);
	const char *one_env = getenv("KUBEINFER_CUDA_GEMM_ONE_READ");
	kic_gemm_one_read = !(one_env && strcmp(one_env, "0") == 0);
	const char *split_env = getenv("KUBEINFER_CUDA_GEMM_SPLIT_K");
	kic_gemm_split_k = !split_env || !*split_env ? 1 : strcmp(split_env, "auto") == 0 ? 0 : std::clamp(atoi(split_env), 1, 16);
	KIC_CUDA(cudaSetDevice(ordinal));
	int cc_major = 0;
	KIC_CUDA(cudaDeviceGetAttribute(&cc_major, cudaDevAttrComputeCapabilityMajor, ordinal));
	KIC_CUDA(cudaDeviceGetAttribute(&m->sms, cudaDevAttrMultiProcessorCount, ordinal));
	const char *pdl_env = getenv("KUBEINFER_CUDA_PDL");
	kic_pdl = cc_major >= 9 && !(pdl_env && strcmp(pdl_env, "0") == 0);
	const char *int8_env = getenv("KUBEINFER_CUDA_MATVEC_INT8");
	kic_matvec_int8 = !(int8_env && strcmp(int8_env, "0") == 0);
	const char *hi_env = getenv("KUBEINFER_CUDA_GEMM_HI_FROM");
	kic_gemm_hi_from = hi_env && *hi_env ? std::max(atoi(hi_env), 0) : kic_gemm_hi_from_default;
	const char *persist_env = getenv("KUBEINFER_CUDA_PERSISTENT");
	m->persist_wanted = persist_env && strcmp(persist_env, "1") == 0;
	const char *mlp_env = getenv("KUBEINFER_CUDA_PERSIST_PREFETCH_MB");
	m->persist.prefetch_mlp = mlp_env && *mlp_env ? (int64_t)std::max(atoi(mlp_env), 0) << 20 : 0;
	const char *pass_env = getenv("KUBEINFER_CUDA_PREFILL_GRAPHS");
	m->prefill_graphs = !(pass_env && strcmp(pass_env, "0") == 0);
	const char *prof_env = getenv("KUBEINFER_CUDA_PROFILE");
	m->prof.on = prof_env && strcmp(prof_env, "1") == 0;
	KIC_CUDA(cudaStreamCreateWithFlags(&m->stream, cudaStreamNonBlocking));
	if (cublasCreate(&m->blas) != CUBLAS_STATUS_SUCCESS) return kic_set_error(KIC_ERR_CUBLAS, "cublasCreate failed");
	cublasSetStream(m->blas, m->stream);
	// Scratch, KV pool and the cuBLAS workspace are one allocation, placed by layout.h (worker/memplan computes
	// the same bytes, so its estimate is the allocation).
	kic_scratch_layout lay = kic_scratch_layout_of(&m->cfg);
	uint8_t *scratch = nullptr;
	KIC_TRY(arena_alloc(m, lay.size, (void **)&scratch));
	place_scratch(m, scratch, lay);
	// A fixed workspace keeps cuBLAS from allocating while a decode step is being captured.
	if (cublasSetWorkspace(m->blas, m->cublas_ws, KIC_CUBLAS_WORKSPACE) != CUBLAS_STATUS_SUCCESS)
		return kic_set_error(KIC_ERR_CUBLAS, "cublasSetWorkspace failed");
	if (m->rope_inv_freq)
		KIC_CUDA(cudaMemcpy(m->rope_inv_freq, c.rope_inv_freq, sizeof(float) * c.layers * (c.rope_dim / 2),
		                    cudaMemcpyHostToDevice));
	KIC_CUDA(cudaMemset(m->attn_counters, 0, sizeof(int) * kic_logit_rows(&c) * c.heads_kv));
	if (c.weight_bytes) KIC_TRY(arena_alloc(m, c.weight_bytes, (void **)&m->weights.base));
	m->weights.size = c.weight_bytes;
	KIC_CUDA(cudaMallocHost(&m->in_host, sizeof(int32_t) * kic_input_words(&c)));
	// Logits come back from rank 0 only, the whole vocabulary's; rank 0 alone samples, so it alone takes masks.
	bool rank0 = !(c.tp_ranks > 1 && c.tp_rank > 0);
	// A row of it holds a logits row or, for KIC_FORWARD_HIDDEN, a hidden state.
	int64_t host_vocab = rank0 ? kic_vocab_out(&c) : 1, host_row = rank0 ? std::max(host_vocab, (int64_t)c.embd) : 1;
	KIC_CUDA(cudaMallocHost(&m->logits_host, sizeof(float) * kic_logit_rows(&c) * host_row));
	KIC_CUDA(cudaMallocHost(&m->sampled_host, sizeof(int32_t) * c.max_batch));
	if (rank0) KIC_CUDA(cudaMallocHost(&m->masks_host, sizeof(uint64_t) * kic_logit_rows(&c) * kic_mask_words(host_vocab)));
	KIC_CUDA(cudaEventCreateWithFlags(&m->inputs_sent, cudaEventDisableTiming));
	for (int b = 0; b < 2; b++) {
		KIC_CUDA(cudaMallocHost(&m->stage[b], KIC_STAGE_BYTES));
		KIC_CUDA(cudaEventCreateWithFlags(&m->stage_done[b], cudaEventDisableTiming));
	}
	m->layers.resize(c.layers);
	kic_arch_layers(m, c);
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_model_create(int32_t ordinal, const kic_model_config *cfg, kic_model **out) {
	if (!cfg || !out) return kic_set_error(KIC_ERR_INVALID, "kic_model_create: null argument");
	*out = nullptr;
	kic_model *m = new kic_model();
	kic_status st = kic_model_init(ordinal, cfg, m);
	if (st != KIC_OK) {
		kic_model_release(m);
		return st;
	}
	*out = m;
	return KIC_OK;
}

extern "C" KIC_API void kic_model_destroy(kic_model *m) { kic_model_release(m); }

extern "C" KIC_API kic_status kic_scratch_bytes(const kic_model_config *cfg, uint64_t *scratch_bytes, uint64_t *kv_bytes) {
	if (!cfg || !scratch_bytes || !kv_bytes) return kic_set_error(KIC_ERR_INVALID, "kic_scratch_bytes: null argument");
	kic_scratch_layout l = kic_scratch_layout_of(cfg);
	*scratch_bytes = l.size;
	*kv_bytes = l.kv_bytes;
	return KIC_OK;
}

extern "C" KIC_API uint64_t kic_model_device_bytes(const kic_model *m) { return m ? m->device_bytes : 0; }

// stage_copy copies host bytes to dst (device) through the pinned double buffer. For Q8_0, dst is null
// and each chunk of whole blocks lands in q8_raw and is split into qs/d at block offset.
static kic_status stage_copy(kic_model *m, void *dst, const void *host, uint64_t bytes, int8_t *qs, __half *d) {
	uint64_t chunk = qs ? (KIC_STAGE_BYTES / 34) * 34 : KIC_STAGE_BYTES;
	for (uint64_t off = 0; off < bytes; off += chunk) {
		uint64_t len = bytes - off < chunk ? bytes - off : chunk;
		int b = m->stage_next;
		m->stage_next ^= 1;
		KIC_CUDA(cudaEventSynchronize(m->stage_done[b]));
		memcpy(m->stage[b], (const uint8_t *)host + off, len);
		if (qs) {
			KIC_CUDA(cudaMemcpyAsync(m->q8_raw, m->stage[b], len, cudaMemcpyHostToDevice, m->stream));
			uint64_t first = off / 34;
			KIC_TRY(launch_q8_0_split(m->q8_raw, (int64_t)(len / 34), qs + first * 32, d + first, m->stream));
		} else {
			KIC_CUDA(cudaMemcpyAsync((uint8_t *)dst + off, m->stage[b], len, cudaMemcpyHostToDevice, m->stream));
		}
		KIC_CUDA(cudaEventRecord(m->stage_done[b], m->stream));
	}
	return KIC_OK;
}

// check_mat accepts a matrix of any type of types.h whose rows are whole blocks, with the bytes it takes.
static kic_status check_mat(int32_t dtype, int64_t rows, int64_t cols, uint64_t bytes) {
	const kic_type_traits *t = kic_type(dtype);
	if (!t) return kic_set_error(KIC_ERR_UNSUPPORTED, "tensor type %d is not one the library takes (cuda/layout/types.h)", dtype);
	if (cols % t->block)
		return kic_set_error(KIC_ERR_INVALID, "%s tensor with %lld columns, not whole blocks of %d", t->name, (long long)cols,
		                     t->block);
	uint64_t want = kic_type_bytes(dtype, (uint64_t)rows * cols);
	if (bytes != want)
		return kic_set_error(KIC_ERR_INVALID, "tensor of %lld x %lld %s has %llu bytes, want %llu", (long long)rows,
		                     (long long)cols, t->name, (unsigned long long)bytes, (unsigned long long)want);
	return KIC_OK;
}

// weight_alloc places a tensor in the weights slab (sized by the caller from the file's tensors), or in an
// allocation of its own once the slab is full.
static kic_status weight_alloc(kic_model *m, uint64_t bytes, void **out) {
	kic_slab &s = m->weights;
	uint64_t used = s.used, off = kic_slab_take(&used, bytes);
	if (s.base && used <= s.size) {
		s.used = used;
		*out = s.base + off;
		return KIC_OK;
	}
	return arena_alloc(m, bytes, out);
}

template <typename T> static kic_status weight(kic_model *m, uint64_t count, T **out) {
	return weight_alloc(m, count * sizeof(T), (void **)out);
}

// alloc_mat gives w device storage for rows x cols of dtype (Q8_0: quants and scales apart).
static kic_status alloc_mat(kic_model *m, kic_mat *w, int32_t dtype, int64_t rows, int64_t cols) {
	uint64_t n = (uint64_t)rows * cols;
	w->dtype = dtype, w->rows = rows, w->cols = cols;
	if (dtype == KIC_Q8_0) {
		KIC_TRY(weight_alloc(m, n, &w->data));
		return weight(m, n / 32, &w->scales);
	}
	return weight_alloc(m, kic_type_bytes(dtype, n), &w->data);
}

static kic_status copy_mat(kic_model *m, const kic_mat &w, const void *host, uint64_t bytes) {
	if (w.dtype == KIC_Q8_0) return stage_copy(m, nullptr, host, bytes, (int8_t *)w.data, w.scales);
	return stage_copy(m, w.data, host, bytes, nullptr, nullptr);
}

static kic_status upload_mat(kic_model *m, kic_mat *w, int32_t dtype, int64_t rows, int64_t cols, const void *host,
                             uint64_t bytes) {
	KIC_TRY(check_mat(dtype, rows, cols, bytes));
	if (w->data) return kic_set_error(KIC_ERR_INVALID, "tensor uploaded twice");
	KIC_TRY(alloc_mat(m, w, dtype, rows, cols));
	return copy_mat(m, *w, host, bytes);
}

// upload_grouped places w at rows [row0, row0+rows) of group (group_rows x cols, allocated by the first
// member with that member's dtype) and counts it in *parts. When the layer's members are not all of one type
// (grouped false, from kic_set_groups) each gets its own storage and no group is allocated, so the weights
// take exactly their members' bytes, which is what worker/memplan counts.
static kic_status upload_grouped(kic_model *m, bool grouped, kic_mat *group, int64_t group_rows, int64_t row0, int *parts,
                                 kic_mat *w, int32_t dtype, int64_t rows, int64_t cols, const void *host,
                                 uint64_t bytes) {
	KIC_TRY(check_mat(dtype, rows, cols, bytes));
	if (w->data) return kic_set_error(KIC_ERR_INVALID, "tensor uploaded twice");
	if (!grouped) {
		KIC_TRY(alloc_mat(m, w, dtype, rows, cols));
		return copy_mat(m, *w, host, bytes);
	}
	if (!group->data && *parts == 0) KIC_TRY(alloc_mat(m, group, dtype, group_rows, cols));
	if (group->dtype != dtype || group->cols != cols || row0 + rows > group_rows)
		return kic_set_error(KIC_ERR_INVALID, "a grouped tensor of type %d, %lld x %lld does not fit its group (type %d, %lld x %lld): "
		                     "kic_set_groups should have been told", dtype, (long long)rows, (long long)cols, group->dtype,
		                     (long long)group_rows, (long long)group->cols);
	*w = *group;
	w->rows = rows;
	if (dtype == KIC_Q8_0) { // the int8 quants and the scales apart
		w->data = (int8_t *)group->data + (uint64_t)row0 * cols;
		w->scales = group->scales + row0 * cols / 32;
	} else {
		w->data = (uint8_t *)group->data + kic_type_bytes(dtype, (uint64_t)row0 * cols);
	}
	(*parts)++;
	return copy_mat(m, *w, host, bytes);
}

// upload_vec_grouped is upload_grouped for bias vectors (always F32).
static kic_status upload_vec_grouped(kic_model *m, float **group, int64_t group_len, int64_t off, int *parts,
                                     float **dst, int32_t dtype, int64_t count, const void *host, uint64_t bytes) {
	if (dtype != KIC_F32 || bytes != (uint64_t)count * 4)
		return kic_set_error(KIC_ERR_INVALID, "vector tensors must be F32 with %lld values (got type %d, %llu bytes)",
		                     (long long)count, dtype, (unsigned long long)bytes);
	if (*dst) return kic_set_error(KIC_ERR_INVALID, "tensor uploaded twice");
	if (off + count > group_len) {
		KIC_TRY(weight(m, count, dst));
	} else {
		if (!*group) KIC_TRY(weight(m, group_len, group));
		*dst = *group + off;
		(*parts)++;
	}
	return stage_copy(m, *dst, host, bytes, nullptr, nullptr);
}

static kic_status upload_vec(kic_model *m, float **dst, int32_t dtype, int64_t count, const void *host,
                             uint64_t bytes) {
	if (dtype != KIC_F32 || bytes != (uint64_t)count * 4)
		return kic_set_error(KIC_ERR_INVALID, "vector tensors must be F32 with %lld values (got type %d, %llu bytes)",
		                     (long long)count, dtype, (unsigned long long)bytes);
	if (*dst) return kic_set_error(KIC_ERR_INVALID, "tensor uploaded twice");
	KIC_TRY(weight(m, count, dst));
	return stage_copy(m, *dst, host, bytes, nullptr, nullptr);
}

// upload_fused uploads a file's fused tensor ([q; k; v] or [gate; up], members' rows in order) member by member
// into its group, as the members' own uploads would place them: rows are whole blocks, so each member's bytes
// are a run of the tensor's.
static kic_status upload_fused(kic_model *m, kic_mat *group, int *parts, int count, kic_mat *const members[],
                               const int64_t member_rows[], int32_t dtype, int64_t rows, int64_t cols, const void *host,
                               uint64_t bytes) {
	KIC_TRY(check_mat(dtype, rows, cols, bytes));
	int64_t group_rows = 0;
	for (int i = 0; i < count; i++) group_rows += member_rows[i];
	if (rows != group_rows)
		return kic_set_error(KIC_ERR_INVALID, "a fused tensor of %lld rows, want %lld", (long long)rows, (long long)group_rows);
	int64_t row0 = 0;
	for (int i = 0; i < count; i++) {
		uint64_t off = kic_type_bytes(dtype, (uint64_t)row0 * cols), len = kic_type_bytes(dtype, (uint64_t)member_rows[i] * cols);
		KIC_TRY(upload_grouped(m, true, group, group_rows, row0, parts, members[i], dtype, member_rows[i], cols,
		                       (const uint8_t *)host + off, len));
		row0 += member_rows[i];
	}
	return KIC_OK;
}

// upload_vec_fused is upload_fused for the fused tensor's bias.
static kic_status upload_vec_fused(kic_model *m, float **group, int *parts, int count, float **const members[],
                                   const int64_t member_len[], int32_t dtype, int64_t n, const void *host, uint64_t bytes) {
	int64_t len = 0;
	for (int i = 0; i < count; i++) len += member_len[i];
	if (dtype != KIC_F32 || n != len || bytes != (uint64_t)n * 4)
		return kic_set_error(KIC_ERR_INVALID, "a fused bias must be F32 with %lld values (got type %d, %lld values)",
		                     (long long)len, dtype, (long long)n);
	int64_t off = 0;
	for (int i = 0; i < count; i++) {
		KIC_TRY(upload_vec_grouped(m, group, len, off, parts, members[i], dtype, member_len[i], (const float *)host + off,
		                           (uint64_t)member_len[i] * 4));
		off += member_len[i];
	}
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_set_groups(kic_model *m, int32_t layer, int32_t qkv, int32_t gate_up) {
	if (!m) return kic_set_error(KIC_ERR_INVALID, "kic_set_groups: null model");
	if (layer < 0 || layer >= m->cfg.layers) return kic_set_error(KIC_ERR_INVALID, "layer %d of %d", layer, m->cfg.layers);
	kic_layer &l = m->layers[layer];
	if (l.qkv_parts || l.gate_up_parts || l.q.data || l.gate.data)
		return kic_set_error(KIC_ERR_INVALID, "kic_set_groups after layer %d's tensors were uploaded", layer);
	l.group_qkv = qkv != 0, l.group_gate_up = gate_up != 0;
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_upload(kic_model *m, int32_t slot, int32_t layer, int32_t dtype, int64_t rows,
                                         int64_t cols, const void *host, uint64_t bytes) {
	if (!m || (!host && bytes)) return kic_set_error(KIC_ERR_INVALID, "kic_upload: null argument");
	KIC_CUDA(cudaSetDevice(m->ordinal));
	const kic_model_config &c = m->cfg;
	int64_t n = rows * cols;
	switch (slot) {
	case KIC_TOK_EMBD: return upload_mat(m, &m->tok_embd, dtype, rows, cols, host, bytes);
	case KIC_OUTPUT: return upload_mat(m, &m->output, dtype, rows, cols, host, bytes);
	case KIC_POS_EMBD: return upload_vec(m, &m->pos_embd, dtype, n, host, bytes);
	case KIC_OUT_NORM: return upload_vec(m, &m->out_norm, dtype, n, host, bytes);
	case KIC_OUT_NORM_B: return upload_vec(m, &m->out_norm_b, dtype, n, host, bytes);
	case KIC_OUTPUT_B: return upload_vec(m, &m->out_b, dtype, n, host, bytes);
	}
	if (layer < 0 || layer >= c.layers) return kic_set_error(KIC_ERR_INVALID, "layer %d of %d", layer, c.layers);
	kic_layer &l = m->layers[layer];
	int64_t nq = (int64_t)c.heads * c.head_dim, nkv = (int64_t)c.heads_kv * c.head_dim, qkv_rows = nq + 2 * nkv;
	kic_mat *const qkv[3] = {&l.q, &l.k, &l.v}, *const gate_up[2] = {&l.gate, &l.up};
	float **const qkv_b[3] = {&l.q_b, &l.k_b, &l.v_b};
	const int64_t qkv_split[3] = {nq, nkv, nkv}, gate_up_split[2] = {c.ffn, c.ffn};
	switch (slot) {
	case KIC_ATTN_NORM: return upload_vec(m, &l.attn_norm, dtype, n, host, bytes);
	case KIC_ATTN_NORM_B: return upload_vec(m, &l.attn_norm_b, dtype, n, host, bytes);
	case KIC_Q: return upload_grouped(m, l.group_qkv, &l.qkv, qkv_rows, 0, &l.qkv_parts, &l.q, dtype, rows, cols, host, bytes);
	case KIC_K: return upload_grouped(m, l.group_qkv, &l.qkv, qkv_rows, nq, &l.qkv_parts, &l.k, dtype, rows, cols, host, bytes);
	case KIC_V: return upload_grouped(m, l.group_qkv, &l.qkv, qkv_rows, nq + nkv, &l.qkv_parts, &l.v, dtype, rows, cols, host, bytes);
	case KIC_Q_B: return upload_vec_grouped(m, &l.qkv_b, qkv_rows, 0, &l.qkv_b_parts, &l.q_b, dtype, n, host, bytes);
	case KIC_K_B: return upload_vec_grouped(m, &l.qkv_b, qkv_rows, nq, &l.qkv_b_parts, &l.k_b, dtype, n, host, bytes);
	case KIC_V_B: return upload_vec_grouped(m, &l.qkv_b, qkv_rows, nq + nkv, &l.qkv_b_parts, &l.v_b, dtype, n, host, bytes);
	case KIC_QKV: return upload_fused(m, &l.qkv, &l.qkv_parts, 3, qkv, qkv_split, dtype, rows, cols, host, bytes);
	case KIC_QKV_B: return upload_vec_fused(m, &l.qkv_b, &l.qkv_b_parts, 3, qkv_b, qkv_split, dtype, n, host, bytes);
	case KIC_O: return upload_mat(m, &l.o, dtype, rows, cols, host, bytes);
	case KIC_O_B: return upload_vec(m, &l.o_b, dtype, n, host, bytes);
	case KIC_FFN_NORM: return upload_vec(m, &l.ffn_norm, dtype, n, host, bytes);
	case KIC_FFN_NORM_B: return upload_vec(m, &l.ffn_norm_b, dtype, n, host, bytes);
	case KIC_GATE: return upload_grouped(m, l.group_gate_up, &l.gate_up, 2 * c.ffn, 0, &l.gate_up_parts, &l.gate, dtype, rows, cols, host, bytes);
	case KIC_UP:
		if (c.family == KIC_FAMILY_GPT) return upload_mat(m, &l.up, dtype, rows, cols, host, bytes); // no gate to pair
		return upload_grouped(m, l.group_gate_up, &l.gate_up, 2 * c.ffn, c.ffn, &l.gate_up_parts, &l.up, dtype, rows, cols, host, bytes);
	case KIC_UP_B: return upload_vec(m, &l.up_b, dtype, n, host, bytes);
	case KIC_DOWN: return upload_mat(m, &l.down, dtype, rows, cols, host, bytes);
	case KIC_DOWN_B: return upload_vec(m, &l.down_b, dtype, n, host, bytes);
	case KIC_GATE_UP:
		if (c.family == KIC_FAMILY_GPT) return kic_set_error(KIC_ERR_INVALID, "a gpt-family MLP has no gate");
		return upload_fused(m, &l.gate_up, &l.gate_up_parts, 2, gate_up, gate_up_split, dtype, rows, cols, host, bytes);
	case KIC_Q_NORM: return upload_vec(m, &l.q_norm, dtype, n, host, bytes);
	case KIC_K_NORM: return upload_vec(m, &l.k_norm, dtype, n, host, bytes);
	case KIC_POST_ATTN_NORM: return upload_vec(m, &l.post_attn_norm, dtype, n, host, bytes);
	case KIC_POST_FFN_NORM: return upload_vec(m, &l.post_ffn_norm, dtype, n, host, bytes);
	}
	return kic_set_error(KIC_ERR_INVALID, "unknown tensor slot %d", slot);
}

static kic_status need_mat(const kic_mat &w, int64_t rows, int64_t cols, const char *name, int layer) {
	if (!w.data) return kic_set_error(KIC_ERR_INVALID, "tensor %s of layer %d was not uploaded", name, layer);
	if (w.rows != rows || w.cols != cols)
		return kic_set_error(KIC_ERR_INVALID, "tensor %s of layer %d is %lld x %lld, want %lld x %lld", name, layer,
		                     (long long)w.rows, (long long)w.cols, (long long)rows, (long long)cols);
	return KIC_OK;
}

static kic_status need_vec(const float *p, const char *name, int layer) {
	if (!p) return kic_set_error(KIC_ERR_INVALID, "tensor %s of layer %d was not uploaded", name, layer);
	return KIC_OK;
}

// ready checks one rank's tensors (all of them without tensor parallelism) against its shapes and waits for
// its uploads. A tensor-parallel rank holds its share: its vocabulary rows, heads and feed-forward units; the
// position table is rank 0's only, so the all-reduce adds it once.
static kic_status ready(kic_model *m) {
	const kic_model_config &c = m->cfg;
	bool gpt = c.family == KIC_FAMILY_GPT;
	int64_t E = c.embd, F = c.ffn, nq = (int64_t)c.heads * c.head_dim, nkv = (int64_t)c.heads_kv * c.head_dim;
	KIC_TRY(need_mat(m->tok_embd, c.vocab, E, "token_embd", -1));
	if (!c.tied_output) KIC_TRY(need_mat(m->output, c.vocab, E, "output", -1));
	KIC_TRY(need_vec(m->out_norm, "output_norm", -1));
	if (gpt) KIC_TRY(need_vec(m->out_norm_b, "output_norm.bias", -1));
	// The position table is rank 0's only under tensor parallelism, so the all-reduce adds it once.
	if (c.rope_mode == KIC_ROPE_NONE && (c.tp_ranks <= 1 || c.tp_rank == 0))
		KIC_TRY(need_vec(m->pos_embd, "position_embd", -1));
	for (int i = 0; i < c.layers; i++) {
		kic_layer &l = m->layers[i];
		KIC_TRY(need_vec(l.attn_norm, "attn_norm", i));
		if (gpt) KIC_TRY(need_vec(l.attn_norm_b, "attn_norm.bias", i));
		if (c.residual != KIC_RESIDUAL_PARALLEL_SHARED) { // else the MLP reads attn_norm's output too
			KIC_TRY(need_vec(l.ffn_norm, "ffn_norm", i));
			if (gpt) KIC_TRY(need_vec(l.ffn_norm_b, "ffn_norm.bias", i));
		}
		KIC_TRY(need_mat(l.q, nq, E, "attn_q", i));
		KIC_TRY(need_mat(l.k, nkv, E, "attn_k", i));
		KIC_TRY(need_mat(l.v, nkv, E, "attn_v", i));
		KIC_TRY(need_mat(l.o, E, nq, "attn_output", i));
		if (!gpt) KIC_TRY(need_mat(l.gate, F, E, "ffn_gate", i));
		KIC_TRY(need_mat(l.up, F, E, "ffn_up", i));
		KIC_TRY(need_mat(l.down, E, F, "ffn_down", i));
		if (c.qk_norm) {
			KIC_TRY(need_vec(l.q_norm, "attn_q_norm", i));
			KIC_TRY(need_vec(l.k_norm, "attn_k_norm", i));
		}
		if (c.post_norms) {
			KIC_TRY(need_vec(l.post_attn_norm, "post_attention_norm", i));
			KIC_TRY(need_vec(l.post_ffn_norm, "post_ffw_norm", i));
		}
	}
	KIC_CUDA(cudaSetDevice(m->ordinal));
	KIC_CUDA(cudaStreamSynchronize(m->stream));
	return KIC_OK;
}

static kic_status persist_setup(kic_model *m);

extern "C" KIC_API kic_status kic_model_ready(kic_model *m) {
	if (!m) return kic_set_error(KIC_ERR_INVALID, "kic_model_ready: null model");
	KIC_TRY(ready(m));
	for (kic_model *p : m->peers) KIC_TRY(ready(p));
	if (m->persist_wanted) KIC_TRY(persist_setup(m));
	return KIC_OK;
}

// mark ends the profiled stage `label` (profile.cuh; nothing unless KUBEINFER_CUDA_PROFILE=1).
static void mark(kic_model *m, const char *label) { kic_profile_mark(m->prof, label, m->stream); }

// The kernels of a projection of n tokens: cuBLAS from gemm_min_tokens on; below, the skinny tensor-core kernels
// for 2 or more tokens of the weights they take, the matvec kernels otherwise. gemm_min_tokens <= 0 is the
// library's choice per weight: where the skinny kernels take it, kic_skinny_gemm_from (kic_skinny_gemm_from_wide
// for a wide matrix when cuBLAS reads it once), else 16 (where cuBLAS overtakes the matvec kernels).
enum kic_path { kPathMatvec, kPathSkinny, kPathGemm };
static kic_path path_of(const kic_model *m, const kic_mat &w, int n) {
	int from = m->cfg.gemm_min_tokens;
	if (from <= 0) {
		bool wide = kic_gemm_one_read && w.cols >= kic_skinny_wide && w.rows >= kic_skinny_wide;
		from = !kic_skinny_ok(w, 2) ? 16 : wide ? kic_skinny_gemm_from_wide : kic_skinny_gemm_from;
	}
	if (n >= from) return kPathGemm;
	return n >= 2 && kic_skinny_ok(w, n) ? kPathSkinny : kPathMatvec;
}

// linear runs y = W x (+ bias) (+ y with acc) for n tokens on path_of's kernels; y holds y_rows token rows (the
// max_batch of the activation buffers, kic_logit_rows of the logits), which cuBLAS's one-read form may use.
static kic_status linear(kic_model *m, const kic_mat &w, const float *x, int n, const float *bias, bool acc, float *y,
                         int64_t y_rows) {
	switch (path_of(m, w, n)) {
	case kPathGemm: return launch_gemm(m->blas, w, x, n, bias, acc, y, m->gemm, m->stream, y_rows);
	case kPathSkinny: return launch_skinny(w, x, n, bias, acc, y, m->stream);
	default: return launch_matvec(w, x, n, bias, acc, y, m->stream);
	}
}

// matvec_norm says whether a layer norm can run inside the projection w: single-token steps on the matvec
// path (shared memory holds one normalized row).
static bool matvec_norm(const kic_model *m, int n, const kic_mat &w) {
	return n == 1 && path_of(m, w, n) == kPathMatvec && kic_matvec_can_norm(w);
}

// mlp_in runs the MLP's first half on the residual stream x into ff1: the norm with weights nw, nb (the
// block's ffn_norm; attn_norm where attention and MLP share it), then act(gate x) * (up x) for the llama family,
// act(up x + b) for gpt. One-token decode steps run the norm inside the projection.
static kic_status mlp_in(kic_model *m, const kic_layer &l, int n, const float *nw, const float *nb) {
	const kic_model_config &c = m->cfg;
	cudaStream_t s = m->stream;
	bool gpt = c.family == KIC_FAMILY_GPT;
	int64_t E = c.embd, F = c.ffn;
	kic_matvec_norm nrm{nw, nb, c.norm_eps};
	const kic_mat &first = gpt ? l.up : l.gate_up;
	kic_path path = path_of(m, first, n);
	bool fused_glu = !gpt && path != kPathGemm && l.gate_up_parts == 2 && !l.up_b;
	bool fused_norm = (gpt || fused_glu) && matvec_norm(m, n, first);
	if (!fused_norm) {
		KIC_TRY(launch_norm_rows(gpt, m->x, nullptr, nw, nb, n, (int)E, c.norm_eps, m->xn, s));
		mark(m, "mlp norm");
	}
	const float *in = fused_norm ? m->x : m->xn;
	if (gpt && path != kPathGemm) {
		if (path == kPathSkinny)
			KIC_TRY(launch_skinny_act(c.act, l.up, in, n, l.up_b, m->ff1, s));
		else
			KIC_TRY(launch_matvec_act(c.act, l.up, in, n, l.up_b, m->ff1, s, fused_norm ? &nrm : nullptr));
		mark(m, fused_norm ? "norm+up+act" : "up+act");
		return KIC_OK;
	}
	if (gpt) {
		KIC_TRY(linear(m, l.up, m->xn, n, l.up_b, false, m->ff1, c.max_batch));
		mark(m, "up");
		KIC_TRY(launch_act(c.act, m->ff1, (int64_t)n * F, m->ff1, s));
		mark(m, "act");
		return KIC_OK;
	}
	if (fused_glu) {
		if (path == kPathSkinny)
			KIC_TRY(launch_skinny_glu(c.act, l.gate_up, in, n, m->ff1, s));
		else
			KIC_TRY(launch_matvec_glu(c.act, l.gate_up, in, n, m->ff1, s, fused_norm ? &nrm : nullptr));
		mark(m, fused_norm ? "norm+gate+up+act" : "gate+up+act");
		return KIC_OK;
	}
	if (path_of(m, l.gate, n) == kPathGemm && !l.up_b && kic_gemm_pair_ok(l.gate, l.up, n, m->ff1, m->ff2, m->gemm)) {
		KIC_TRY(launch_gemm_pair(m->blas, l.gate, l.up, m->xn, n, m->ff1, m->ff2, m->gemm, s));
		mark(m, "gate+up");
	} else {
		KIC_TRY(linear(m, l.gate, m->xn, n, nullptr, false, m->ff1, c.max_batch));
		mark(m, "gate");
		KIC_TRY(linear(m, l.up, m->xn, n, l.up_b, false, m->ff2, c.max_batch));
		mark(m, "up");
	}
	KIC_TRY(launch_glu(c.act, m->ff1, m->ff2, (int64_t)n * F, m->ff1, s));
	mark(m, "glu");
	return KIC_OK;
}

// residual_add adds w in + b to the residual stream x; with post (Gemma's post-attention and post-MLP norms) the
// projection is RMS-normalized first.
//
// Under tensor parallelism w is row-parallel, so each rank's product is a partial sum: without post, rank 0 adds
// its partial (and the bias, which the shard plan gives rank 0 only) to x, the other ranks write theirs over x,
// and the all-reduce sums them into the whole stream on every rank. With post the partials are summed in xn
// first, and every rank normalizes the sum and adds it to its (replicated) x.
static kic_status residual_add(kic_model *m, const kic_mat &w, const float *in, int n, const float *b, const float *post) {
	const kic_model_config &c = m->cfg;
	bool rank0 = c.tp_ranks <= 1 || c.tp_rank == 0;
	const float *bias = rank0 ? b : nullptr;
	int64_t count = (int64_t)n * c.embd;
	if (!post) {
		KIC_TRY(linear(m, w, in, n, bias, rank0, m->x, c.max_batch));
		return kic_tp_all_reduce(m, m->x, count);
	}
	KIC_TRY(linear(m, w, in, n, bias, false, m->xn, c.max_batch));
	KIC_TRY(kic_tp_all_reduce(m, m->xn, count));
	return launch_rmsnorm_add(m->xn, post, n, c.embd, c.norm_eps, m->x, m->stream);
}

// attn_scale multiplies q.k: the architecture's, or 1/sqrt(head_dim), rounded to fp32 as the CPU engine does.
static float attn_scale(const kic_model_config &c) {
	return c.attn_scale > 0.f ? c.attn_scale : (float)(1.0 / sqrt((double)c.head_dim));
}

// rope_mscale multiplies RoPE's cos and sin: LongRoPE's magnitude correction, or 1.
static float rope_mscale(const kic_model_config &c) { return c.rope_attn_factor > 0.f ? c.rope_attn_factor : 1.f; }

// layer_kv is layer l's view of the KV pool: its slot of its group's blocks (each pool its elements, then for
// q8_0 their scales; kvcache.cuh), and that group's block table in each sequence's row of in_dev's tables.
static kic_kv_view layer_kv(const kic_model *m, const kic_layer &l) {
	const kic_model_config &c = m->cfg;
	int64_t nkv = (int64_t)c.heads_kv * c.head_dim;
	uint64_t slots = (uint64_t)c.kv_blocks * c.kv_block_tokens, layer_pool = slots * kic_kv_row_bytes(c.kv_type, nkv);
	kic_kv_view kv;
	kv.k = m->k_pool + l.kv_slot * layer_pool, kv.v = m->v_pool + l.kv_slot * layer_pool;
	kv.tables = m->in_dev + 4 * (int64_t)c.max_batch + (int64_t)l.kv_group * c.max_seq_blocks;
	kv.max_blocks = (int)kic_table_width(&c), kv.block_tokens = c.kv_block_tokens, kv.kv_dim = (int)nkv;
	kv.type = c.kv_type, kv.scales = c.kv_type == KIC_Q8_0 ? (int64_t)(slots * nkv) : 0;
	return kv;
}

// run enqueues the whole forward pass for n tokens whose inputs are already in in_dev.
// run enqueues the pass over n tokens; with hidden it stops at the final norm, leaving the nrows wanted rows'
// hidden states in xn.
static kic_status run(kic_model *m, int n, bool prefill, int nrows, bool hidden = false) {
	const kic_model_config &c = m->cfg;
	cudaStream_t s = m->stream;
	bool gpt = c.family == KIC_FAMILY_GPT;
	int64_t B = c.max_batch, E = c.embd;
	int64_t nq = (int64_t)c.heads * c.head_dim, nkv = (int64_t)c.heads_kv * c.head_dim;
	const int32_t *tokens = m->in_dev, *pos = m->in_dev + B, *seq = m->in_dev + 2 * B, *rows = m->in_dev + 3 * B;
	// Parallel blocks (GPT-NeoX, Phi-2) feed attention and MLP the block's input: the MLP's first half runs
	// before attention changes x, its second half after, so x gets attention's sum, then the MLP's, as on the CPU.
	bool parallel = c.residual != KIC_RESIDUAL_SEQUENTIAL, shared = c.residual == KIC_RESIDUAL_PARALLEL_SHARED;

	bool tp = c.tp_ranks > 1;
	KIC_TRY(launch_embed(m->tok_embd, tp ? c.vocab_start : 0, tokens, n, c.embed_scale > 0.f ? c.embed_scale : 1.f,
	                     m->pos_embd, pos, m->x, s));
	// Tensor parallelism: each rank looked up the tokens of its vocabulary rows (zeros for the others), so the
	// sum over ranks is every token's embedding (the position table is rank 0's only). The row-parallel
	// projections below (attention output, down) leave partial sums: residual_add all-reduces them.
	KIC_TRY(kic_tp_all_reduce(m, m->x, (int64_t)n * E));
	mark(m, "embed");
	kic_attn_args a;
	a.out = m->att, a.seq = seq, a.pos = pos, a.n = n, a.heads = c.heads, a.heads_kv = c.heads_kv;
	a.head_dim = c.head_dim, a.scale = attn_scale(c), a.softcap = c.attn_softcap;
	if (!prefill) a.splits = kic_decode_splits(n, (int)kic_logit_rows(&c), c.heads_kv, m->sms); // n <= kic_logit_rows
	// One-token decode steps on the persistent path: every layer in one launch (persist_setup).
	bool persistent = !prefill && n == 1 && m->persist_blocks > 0;
	if (persistent) {
		KIC_TRY(launch_persistent_decode(m->persist, m->persist_blocks, s));
		mark(m, "layers (persistent)");
	}
	for (int li = 0; !persistent && li < c.layers; li++) {
		kic_layer &l = m->layers[li];
		if (parallel) KIC_TRY(mlp_in(m, l, n, shared ? l.attn_norm : l.ffn_norm, shared ? l.attn_norm_b : l.ffn_norm_b));
		kic_kv_view kv = layer_kv(m, l);

		kic_qkv_rows r;
		r.heads = c.heads, r.heads_kv = c.heads_kv, r.head_dim = c.head_dim;
		bool fused_qkv = l.qkv_parts == 3 && (l.qkv_b_parts == 0 || l.qkv_b_parts == 3);
		const float *qkv_b = l.qkv_b_parts ? l.qkv_b : nullptr;
		kic_rope rp;
		rp.mode = c.rope_mode, rp.dim = c.rope_dim, rp.inv_freq = l.rope_inv_freq;
		rp.mscale = rope_mscale(c);
		if (c.qk_norm) rp.q_norm = l.q_norm, rp.k_norm = l.k_norm, rp.norm_eps = c.norm_eps;
		// One-token decode: the norm runs inside the projection, and rope and the KV append in its epilogue
		// (not with q/k norms, which need whole heads).
		kic_qkv_store st;
		st.pos = pos, st.seq = seq, st.nq = nq, st.nkv = nkv, st.head_dim = c.head_dim, st.rope_mode = rp.mode;
		st.rope_dim = rp.dim, st.inv_freq = rp.inv_freq, st.mscale = rp.mscale, st.kv = kv;
		bool fused_store = fused_qkv && !rp.q_norm && matvec_norm(m, n, l.qkv) && kic_matvec_can_qkv(l.qkv, n, st);
		if (fused_store) {
			kic_matvec_norm nrm{l.attn_norm, l.attn_norm_b, c.norm_eps};
			KIC_TRY(launch_matvec_qkv(l.qkv, m->x, qkv_b, m->q, nrm, st, s));
			mark(m, "norm+qkv+rope+kv");
		} else if (fused_qkv && matvec_norm(m, n, l.qkv)) {
			kic_matvec_norm nrm{l.attn_norm, l.attn_norm_b, c.norm_eps};
			KIC_TRY(launch_matvec(l.qkv, m->x, n, qkv_b, false, m->q, s, &nrm));
			mark(m, "norm+qkv");
		} else {
			KIC_TRY(launch_norm_rows(gpt, m->x, nullptr, l.attn_norm, l.attn_norm_b, n, (int)E, c.norm_eps, m->xn, s));
			mark(m, "attn norm");
			if (fused_qkv) {
				KIC_TRY(linear(m, l.qkv, m->xn, n, qkv_b, false, m->q, B));
			} else {
				KIC_TRY(linear(m, l.q, m->xn, n, l.q_b, false, m->q, B));
				KIC_TRY(linear(m, l.k, m->xn, n, l.k_b, false, m->k, B));
				KIC_TRY(linear(m, l.v, m->xn, n, l.v_b, false, m->v, B));
			}
			mark(m, "qkv");
		}
		if (fused_qkv) {
			int64_t w = nq + 2 * nkv;
			r.q = m->q, r.k = m->q + nq, r.v = m->q + nq + nkv, r.q_stride = r.kv_stride = w;
		} else {
			r.q = m->q, r.k = m->k, r.v = m->v, r.q_stride = nq, r.kv_stride = nkv;
		}
		if (!fused_store) {
			KIC_TRY(launch_rope_store_kv(r, pos, seq, n, rp, kv, s));
			mark(m, "rope+kv store");
		}
		a.q = r.q, a.q_stride = r.q_stride, a.window = l.window;
		if (prefill) {
			// One launch a run: the kernel's blocks take consecutive positions of one sequence. Split-K needs
			// partials for every query row: runs of up to kic_logit_rows tokens. Consecutive one-token runs (a
			// decode step's rows carried in a prefill pass) take the decode kernel, one launch for up to
			// kic_logit_rows of them.
			auto rows_of = [&](kic_attn_args r, int first, int len) {
				r.q = a.q + first * a.q_stride, r.out = a.out + (int64_t)first * nq;
				r.seq = a.seq + first, r.pos = a.pos + first, r.n = len;
				return r;
			};
			int logit_rows = (int)kic_logit_rows(&c);
			for (size_t i = 0; i < m->runs.size();) {
				auto [first, len] = m->runs[i];
				size_t j = i;
				while (j < m->runs.size() && m->runs[j].second == 1 && (int)(j - i) < logit_rows) j++;
				if (j - i > 1) {
					kic_attn_args r = rows_of(a, first, (int)(j - i));
					r.splits = kic_decode_splits(r.n, logit_rows, c.heads_kv, m->sms);
					KIC_TRY(launch_attn_decode(r, kv, m->partials, m->attn_counters, s));
					i = j;
					continue;
				}
				int max_tiles = len <= logit_rows ? logit_rows * c.heads_kv : 0;
				KIC_TRY(launch_attn_prefill(rows_of(a, first, len), kv, m->partials, m->attn_counters, max_tiles, s));
				i++;
			}
		} else {
			KIC_TRY(launch_attn_decode(a, kv, m->partials, m->attn_counters, s));
		}
		mark(m, "attention");
		KIC_TRY(residual_add(m, l.o, m->att, n, l.o_b, c.post_norms ? l.post_attn_norm : nullptr));
		mark(m, "o+residual");
		if (!parallel) KIC_TRY(mlp_in(m, l, n, l.ffn_norm, l.ffn_norm_b));
		KIC_TRY(residual_add(m, l.down, m->ff1, n, l.down_b, c.post_norms ? l.post_ffn_norm : nullptr));
		mark(m, "down+residual");
	}
	// Final norm and vocab projection only for the rows that want logits; a tensor-parallel rank computes its
	// vocabulary rows into its slot of the gather buffer, and rank 0 puts all of them in order.
	KIC_TRY(launch_norm_rows(gpt, m->x, rows, m->out_norm, m->out_norm_b, nrows, (int)E, c.norm_eps, m->xn, s));
	mark(m, "final norm");
	if (hidden) return KIC_OK; // every rank's alike after the last all-reduce
	const kic_mat &out = c.tied_output ? m->tok_embd : m->output;
	if (!tp) {
		KIC_TRY(linear(m, out, m->xn, nrows, m->out_b, false, m->logits, kic_logit_rows(&c)));
		mark(m, "lm_head");
	} else {
		// out_b is the rank's piece of the logit bias (its vocabulary rows).
		KIC_TRY(linear(m, out, m->xn, nrows, m->out_b, false, m->gather, kic_logit_rows(&c)));
		KIC_TRY(kic_tp_gather_logits(m, nrows));
		if (c.tp_rank != 0) return KIC_OK;
	}
	// Elementwise, so on rank 0's gathered rows under tensor parallelism.
	if (c.final_softcap > 0.f) KIC_TRY(launch_softcap(m->logits, (int64_t)nrows * kic_vocab_out(&c), c.final_softcap, s));
	return KIC_OK;
}

// capture records one pass (run's arguments) into an executable graph; the stream runs nothing meanwhile.
static kic_status capture(kic_model *m, int n, bool prefill, int nrows, bool hidden, cudaGraphExec_t *out) {
	cudaGraph_t g = nullptr;
	KIC_CUDA(cudaStreamBeginCapture(m->stream, cudaStreamCaptureModeThreadLocal));
	kic_status st = run(m, n, prefill, nrows, hidden);
	cudaError_t err = cudaStreamEndCapture(m->stream, &g);
	if (st != KIC_OK) {
		if (g) cudaGraphDestroy(g);
		return st;
	}
	KIC_CUDA(err);
	err = cudaGraphInstantiateWithFlags(out, g, 0);
	cudaGraphDestroy(g);
	KIC_CUDA(err);
	return KIC_OK;
}

static kic_status run_graph(kic_model *m, int n) {
	auto it = m->graphs.find(n);
	if (it == m->graphs.end()) {
		cudaGraphExec_t exec = nullptr;
		KIC_TRY(capture(m, n, false, n, false, &exec));
		it = m->graphs.emplace(n, exec).first;
	}
	KIC_CUDA(cudaGraphLaunch(it->second, m->stream));
	return KIC_OK;
}

// prefill_shape is everything a prefill pass's launches depend on: the tokens, the rows that want logits, whether
// it stops at the hidden states, and the length of each run (m->runs). Positions, sequences, tokens and block
// tables reach the kernels through in_dev, so one graph serves every pass of a shape.
static std::vector<int32_t> prefill_shape(const kic_model *m, int n, int nrows, bool hidden) {
	std::vector<int32_t> key{n, nrows, hidden};
	for (auto [first, len] : m->runs) key.push_back(len);
	return key;
}

// kic_max_prefill_graphs bounds the captured prefill shapes (each graph holds a pass's ~20 nodes a layer); a
// shape is captured on its second pass, so one-off shapes (a prompt's last chunk) cost no capture.
constexpr size_t kic_max_prefill_graphs = 64, kic_max_shapes_seen = 1024;

static kic_status run_prefill(kic_model *m, int n, int nrows, bool hidden) {
	std::vector<int32_t> key = prefill_shape(m, n, nrows, hidden);
	auto it = m->pass_graphs.find(key);
	if (it == m->pass_graphs.end()) {
		if (m->pass_graphs.size() >= kic_max_prefill_graphs || ++m->shapes_seen[key] < 2) {
			if (m->shapes_seen.size() > kic_max_shapes_seen) m->shapes_seen.clear();
			return run(m, n, true, nrows, hidden);
		}
		m->shapes_seen.erase(key);
		cudaGraphExec_t exec = nullptr;
		// A failed capture fails the call, as a decode step's does (run_graph): its tests must see it fail.
		KIC_TRY(capture(m, n, true, nrows, hidden, &exec));
		it = m->pass_graphs.emplace(std::move(key), exec).first;
	}
	KIC_CUDA(cudaGraphLaunch(it->second, m->stream));
	return KIC_OK;
}

// persist_setup turns the persistent decode path on where the model allows it: sequential blocks on one GPU (RMS
// norms and a gated MLP in the llama family, layer norms and act(up + b) in gpt), projections of types the kernel
// reads (kic_persist_type_ok; one fp32/fp16/bf16 type for all takes the kernel built for it, anything else the
// one that reads each matrix by its type), without per-head norms, post-norms or windows, whole heads rotated or
// none, no attention soft-cap; and kic_persist_shapes_ok's shapes.
// Otherwise every step stays on the per-kernel path. At kic_model_ready, once every weight is in place and before
// any forward call: its copy of the layers' operands is a synchronous upload, which a graph capture could not hold.
static kic_status persist_setup(kic_model *m) {
	const kic_model_config &c = m->cfg;
	bool gpt = c.family == KIC_FAMILY_GPT, whole_rope = c.rope_mode == KIC_ROPE_NONE ||
	                                                 ((c.rope_mode == KIC_ROPE_NORM || c.rope_mode == KIC_ROPE_NEOX) &&
	                                                  c.rope_dim == c.head_dim);
	if (c.residual != KIC_RESIDUAL_SEQUENTIAL || c.tp_ranks > 1 || c.qk_norm || c.post_norms || c.attn_softcap > 0.f ||
	    !whole_rope)
		return KIC_OK;
	int64_t nq = (int64_t)c.heads * c.head_dim, nkv = (int64_t)c.heads_kv * c.head_dim, E = c.embd, F = c.ffn;
	// Rows [r0, r0 + rows) of cols values of w as the kernel reads them; ok turns false where w lacks them or is
	// of a type the kernel does not read (kic_persist_type_ok).
	bool ok = true;
	auto view = [&](const kic_mat &w, int64_t r0, int64_t rows, int64_t cols) {
		kic_persist_mat v;
		if (!w.data || w.cols != cols || w.rows < r0 + rows || !kic_persist_type_ok(w.dtype, cols)) {
			ok = false;
			return v;
		}
		v.row_bytes = (int64_t)kic_type_bytes(w.dtype, (uint64_t)cols), v.type = w.dtype;
		v.w = static_cast<const uint8_t *>(w.data) + r0 * v.row_bytes;
		return v;
	};
	std::vector<kic_persist_layer> host(c.layers);
	int wtype = -1; // the one type of every projection, or kic_persist_mixed (-1: none seen yet)
	for (int li = 0; li < c.layers; li++) {
		const kic_layer &l = m->layers[li];
		if ((l.qkv_b_parts != 0 && l.qkv_b_parts != 3) || (!gpt && l.up_b) || l.post_attn_norm || l.post_ffn_norm ||
		    l.window || (!gpt && (l.attn_norm_b || l.ffn_norm_b)))
			return KIC_OK;
		kic_persist_layer &p = host[li];
		// Each projection by its member matrix: a view into the group where q/k/v (gate/up) are grouped
		// (upload_grouped), so one type or several alike. The MLP's first half: gate and up (the llama family, no
		// up bias), or up alone (gpt).
		p.q = view(l.q, 0, nq, E), p.k = view(l.k, 0, nkv, E), p.v = view(l.v, 0, nkv, E);
		if (!gpt) p.gate = view(l.gate, 0, F, E);
		p.up = view(l.up, 0, F, E), p.o = view(l.o, 0, E, nq), p.down = view(l.down, 0, E, F);
		if (!ok) return KIC_OK;
		for (const kic_persist_mat *w : {&p.q, &p.k, &p.v, &p.o, &p.gate, &p.up, &p.down}) {
			if (!w->w) continue; // the gpt family's gate
			bool plain = w->type == KIC_F32 || w->type == KIC_F16 || w->type == KIC_BF16;
			wtype = (wtype == -1 || wtype == w->type) && plain ? w->type : kic_persist_mixed;
		}
		p.attn_norm = l.attn_norm, p.attn_norm_b = l.attn_norm_b, p.ffn_norm = l.ffn_norm, p.ffn_norm_b = l.ffn_norm_b;
		p.qkv_b = l.qkv_b_parts ? l.qkv_b : nullptr, p.o_b = l.o_b, p.up_b = l.up_b, p.down_b = l.down_b;
		p.inv_freq = l.rope_inv_freq, p.kv = layer_kv(m, l);
	}
	if (c.layers == 0) return KIC_OK;
	kic_persist_args &a = m->persist;
	a.layers_n = c.layers, a.x = m->x, a.q = m->q, a.att = m->att, a.ff = m->ff1, a.partials = m->partials;
	a.max_chunks = (int)kic_attn_partial_slots(kic_logit_rows(&c));
	a.pos = m->in_dev + c.max_batch, a.seq = m->in_dev + 2 * (int64_t)c.max_batch;
	a.embd = c.embd, a.heads = c.heads, a.heads_kv = c.heads_kv, a.head_dim = c.head_dim, a.ffn = c.ffn;
	a.rope_mode = c.rope_mode, a.act = c.act, a.eps = c.norm_eps, a.layer_norm = gpt, a.gated = !gpt;
	a.scale = attn_scale(c);
	a.mscale = rope_mscale(c);
	a.weight_type = wtype, a.kv_type = c.kv_type, a.int8 = kic_matvec_int8;
	int blocks = 0;
	KIC_TRY(kic_persist_grid(a, &blocks));
	if (blocks <= 0) return KIC_OK;
	void *dev = nullptr, *counters = nullptr;
	KIC_TRY(arena_alloc(m, sizeof(kic_persist_layer) * host.size(), &dev));
	KIC_CUDA(cudaMemcpy(dev, host.data(), sizeof(kic_persist_layer) * host.size(), cudaMemcpyHostToDevice));
	a.layers = static_cast<const kic_persist_layer *>(dev);
	KIC_TRY(arena_alloc(m, sizeof(int) * c.heads, &counters));
	KIC_CUDA(cudaMemset(counters, 0, sizeof(int) * c.heads));
	a.counters = static_cast<int *>(counters);
	m->persist_blocks = blocks;
	return KIC_OK;
}

// step enqueues one forward call on one rank: its inputs (copied through its pinned mirror), then the pass,
// from a captured graph when graphs are on: a decode step, and a prefill pass of a shape seen before (unless
// KUBEINFER_CUDA_PREFILL_GRAPHS=0).
static kic_status step(kic_model *m, int32_t n, const int32_t *tokens, const int32_t *pos, const int32_t *seq,
                       int32_t nseq, const int32_t *block_tables, int32_t flags, const uint8_t *want_logits) {
	bool prefill = flags & KIC_FORWARD_PREFILL, hidden = flags & KIC_FORWARD_HIDDEN;
	const kic_model_config &c = m->cfg;
	KIC_CUDA(cudaSetDevice(m->ordinal));
	int64_t B = c.max_batch;
	int32_t *h = m->in_host;
	KIC_CUDA(cudaEventSynchronize(m->inputs_sent)); // the last step's input copy has left in_host
	int nrows = 0;
	for (int i = 0; i < n; i++)
		if (want_logits[i]) h[3 * B + nrows++] = i;
	memcpy(h, tokens, sizeof(int32_t) * n);
	memcpy(h + B, pos, sizeof(int32_t) * n);
	memcpy(h + 2 * B, seq, sizeof(int32_t) * n);
	KIC_CUDA(cudaMemcpyAsync(m->in_dev, h, sizeof(int32_t) * 4 * B, cudaMemcpyHostToDevice, m->stream));
	// Of each (sequence, group) table only the blocks up to the step's last position: the kernels read no
	// further, and a 128k-context model's tables are 8192 blocks wide (2 MB a step at 64 sequences).
	int64_t used = 0, segs = (int64_t)nseq * kic_kv_groups(&c), msb = c.max_seq_blocks;
	for (int i = 0; i < n; i++) used = std::max(used, (int64_t)pos[i] / c.kv_block_tokens + 1);
	for (int64_t r = 0; r < segs; r++) memcpy(h + 4 * B + r * msb, block_tables + r * msb, sizeof(int32_t) * used);
	KIC_CUDA(cudaMemcpy2DAsync(m->in_dev + 4 * B, sizeof(int32_t) * msb, h + 4 * B, sizeof(int32_t) * msb,
	                           sizeof(int32_t) * used, segs, cudaMemcpyHostToDevice, m->stream));
	KIC_CUDA(cudaEventRecord(m->inputs_sent, m->stream));
	m->runs.clear();
	if (prefill)
		for (int i = 0; i < n; i++) {
			if (i == 0 || seq[i] != seq[i - 1]) m->runs.push_back({i, 0});
			m->runs.back().second++;
		}
	if (!prefill && c.use_graphs && nrows == n && !m->prof.on) return run_graph(m, n);
	if (prefill && c.use_graphs && m->prefill_graphs && c.tp_ranks <= 1 && !m->prof.on) return run_prefill(m, n, nrows, hidden);
	kic_profile_begin(m->prof, prefill ? "prefill" : "decode", n, m->stream);
	KIC_TRY(run(m, n, prefill, nrows, hidden));
	kic_profile_end(m->prof, m->stream);
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_forward(kic_model *m, int32_t n, const int32_t *tokens, const int32_t *pos,
                                          const int32_t *seq, int32_t nseq, const int32_t *block_tables,
                                          int32_t flags, const uint8_t *want_logits, float *logits_out) {
	if (!m || !tokens || !pos || !seq || !block_tables || !want_logits)
		return kic_set_error(KIC_ERR_INVALID, "kic_forward: null argument");
	bool prefill = flags & KIC_FORWARD_PREFILL, hidden = flags & KIC_FORWARD_HIDDEN;
	if ((flags & ~(KIC_FORWARD_PREFILL | KIC_FORWARD_HIDDEN)) || (hidden && (!prefill || !logits_out)))
		return kic_set_error(KIC_ERR_INVALID, "kic_forward: flags %d (KIC_FORWARD_HIDDEN needs KIC_FORWARD_PREFILL and logits_out)",
		                     flags);
	const kic_model_config &c = m->cfg;
	if (n <= 0 || n > c.max_batch || nseq <= 0 || nseq > c.max_batch)
		return kic_set_error(KIC_ERR_INVALID, "kic_forward: %d tokens of %d sequences (max %d)", n, nseq, c.max_batch);
	int64_t V = kic_vocab_out(&c);
	int nrows = 0;
	for (int i = 0; i < n; i++) {
		if (tokens[i] < 0 || tokens[i] >= V) return kic_set_error(KIC_ERR_INVALID, "token %d outside the vocabulary", tokens[i]);
		// rope_mode rather than pos_embd: under tensor parallelism only rank 0 holds the table, and every
		// rank checks alike.
		if (pos[i] < 0 || pos[i] >= c.max_seq_blocks * c.kv_block_tokens || (c.rope_mode == KIC_ROPE_NONE && pos[i] >= c.context))
			return kic_set_error(KIC_ERR_INVALID, "position %d out of range", pos[i]);
		if (seq[i] < 0 || seq[i] >= nseq) return kic_set_error(KIC_ERR_INVALID, "sequence index %d of %d", seq[i], nseq);
		for (int64_t g = 0; g < kic_kv_groups(&c); g++) {
			int32_t blk = block_tables[(int64_t)seq[i] * kic_table_width(&c) + g * c.max_seq_blocks + pos[i] / c.kv_block_tokens];
			if (blk < 0 || blk >= c.kv_blocks) return kic_set_error(KIC_ERR_INVALID, "KV block %d of %d", blk, c.kv_blocks);
		}
		if (want_logits[i]) nrows++;
	}
	if (prefill) { // runs of one sequence each, at consecutive positions, no sequence in two
		std::vector<char> seen(nseq);
		for (int i = 0; i < n; i++) {
			bool next = i > 0 && seq[i] == seq[i - 1];
			if (next && pos[i] != pos[i - 1] + 1)
				return kic_set_error(KIC_ERR_INVALID, "kic_forward: prefill token %d of sequence %d at position %d, after %d",
				                     i, seq[i], pos[i], pos[i - 1]);
			if (!next && seen[seq[i]]++)
				return kic_set_error(KIC_ERR_INVALID, "kic_forward: sequence %d in two runs of one prefill", seq[i]);
		}
	}
	if (nrows > kic_logit_rows(&c) || (!prefill && n > kic_logit_rows(&c)))
		return kic_set_error(KIC_ERR_INVALID, "kic_forward: %d rows want logits, %d decode tokens (max %d each)", nrows,
		                     prefill ? 0 : n, (int)kic_logit_rows(&c));
	if (m->peers.empty())
		KIC_TRY(step(m, n, tokens, pos, seq, nseq, block_tables, flags, want_logits));
	else
		KIC_TRY(kic_tp_each(m, [&](kic_model *r) { return step(r, n, tokens, pos, seq, nseq, block_tables, flags, want_logits); }));
	m->last_rows = hidden ? 0 : nrows; // no logits for kic_sample after a hidden pass
	m->sampled_rows = 0;
	if (!logits_out || nrows == 0) return KIC_OK; // kic_sample (or the next call) waits for the step
	int64_t width = hidden ? (int64_t)c.embd : V;
	KIC_CUDA(cudaSetDevice(m->ordinal));
	KIC_CUDA(cudaMemcpyAsync(m->logits_host, hidden ? m->xn : m->logits, sizeof(float) * nrows * width,
	                         cudaMemcpyDeviceToHost, m->stream));
	KIC_CUDA(cudaStreamSynchronize(m->stream));
	memcpy(logits_out, m->logits_host, sizeof(float) * nrows * width);
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_sample(kic_model *m, int32_t rows, const kic_sampling *params, const uint64_t *masks,
                                         int32_t *tokens_out) {
	if (!m || !params || !tokens_out) return kic_set_error(KIC_ERR_INVALID, "kic_sample: null argument");
	if (rows <= 0 || rows > m->last_rows)
		return kic_set_error(KIC_ERR_INVALID, "kic_sample: %d rows but the last forward left %d", rows, m->last_rows);
	KIC_CUDA(cudaSetDevice(m->ordinal));
	// Greedy's scratch is the attention partials, free between steps (and larger for any real head size).
	if (kic_sample_scratch_floats(rows) > kic_attn_partials(rows, m->cfg.heads, m->cfg.head_dim))
		return kic_set_error(KIC_ERR_UNSUPPORTED, "kic_sample: %d heads of dim %d leave too little scratch for sampling",
		                     m->cfg.heads, m->cfg.head_dim);
	int64_t V = kic_vocab_out(&m->cfg);
	if (masks) {
		if (!m->masks_host) return kic_set_error(KIC_ERR_INVALID, "kic_sample: masks given to a rank that does not sample");
		// Staged through the pinned mirror (as kic_forward's inputs) and copied on the stream, after the forward
		// pass; this call waits for the stream before it returns, so the mirror is free again for the next one.
		uint64_t bytes = sizeof(uint64_t) * rows * kic_mask_words(V);
		memcpy(m->masks_host, masks, bytes);
		KIC_CUDA(cudaMemcpyAsync(m->masks, m->masks_host, bytes, cudaMemcpyHostToDevice, m->stream));
	}
	kic_profile_begin(m->prof, "sample", rows, m->stream);
	KIC_TRY(launch_sample(m->logits, rows, (int)V, params, masks ? m->masks : nullptr, m->sampled_dev, m->partials,
	                      m->stream));
	kic_profile_mark(m->prof, masks ? "sample, masked" : "sample", m->stream);
	kic_profile_end(m->prof, m->stream);
	KIC_CUDA(cudaMemcpyAsync(m->sampled_host, m->sampled_dev, sizeof(int32_t) * rows, cudaMemcpyDeviceToHost, m->stream));
	KIC_CUDA(cudaStreamSynchronize(m->stream));
	memcpy(tokens_out, m->sampled_host, sizeof(int32_t) * rows);
	m->sampled_rows = rows;
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_logprobs(kic_model *m, int32_t rows, int32_t top_n, kic_logprob_row *out) {
	if (!m || !out) return kic_set_error(KIC_ERR_INVALID, "kic_logprobs: null argument");
	if (rows <= 0 || rows > m->sampled_rows)
		return kic_set_error(KIC_ERR_INVALID, "kic_logprobs: %d rows but the last kic_sample picked %d", rows, m->sampled_rows);
	if (top_n < 0 || top_n > KIC_MAX_TOP_LOGPROBS)
		return kic_set_error(KIC_ERR_INVALID, "kic_logprobs: top_n %d (0 to %d)", top_n, KIC_MAX_TOP_LOGPROBS);
	KIC_CUDA(cudaSetDevice(m->ordinal));
	// The rows and the kernels' scratch after them land in the attention partials (free between steps, as
	// sampling's scratch); the rows come up through the pinned logits mirror, which holds far more than
	// kic_logit_rows of them.
	int vocab = (int)kic_vocab_out(&m->cfg);
	uint64_t bytes = sizeof(kic_logprob_row) * rows, at = (bytes + 255) / 256 * 256;
	if (at + kic_logprobs_scratch(rows, vocab) > sizeof(float) * kic_attn_partials(rows, m->cfg.heads, m->cfg.head_dim))
		return kic_set_error(KIC_ERR_UNSUPPORTED, "kic_logprobs: %d heads of dim %d leave too little scratch for %d tokens",
		                     m->cfg.heads, m->cfg.head_dim, vocab);
	kic_logprob_row *dev = reinterpret_cast<kic_logprob_row *>(m->partials);
	KIC_TRY(launch_logprobs(m->logits, rows, vocab, m->sampled_dev, top_n, reinterpret_cast<char *>(m->partials) + at, dev,
	                        m->stream));
	KIC_CUDA(cudaMemcpyAsync(m->logits_host, dev, bytes, cudaMemcpyDeviceToHost, m->stream));
	KIC_CUDA(cudaStreamSynchronize(m->stream));
	memcpy(out, m->logits_host, bytes);
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_logits(kic_model *m, int32_t count, const int32_t *rows, float *out) {
	if (!m || !rows || !out) return kic_set_error(KIC_ERR_INVALID, "kic_logits: null argument");
	if (count <= 0 || count > m->last_rows)
		return kic_set_error(KIC_ERR_INVALID, "kic_logits: %d rows but the last forward left %d", count, m->last_rows);
	for (int i = 0; i < count; i++)
		if (rows[i] < 0 || rows[i] >= m->last_rows)
			return kic_set_error(KIC_ERR_INVALID, "kic_logits: row %d of %d", rows[i], m->last_rows);
	KIC_CUDA(cudaSetDevice(m->ordinal));
	int64_t V = kic_vocab_out(&m->cfg);
	// Through the pinned mirror, which holds kic_logit_rows rows (count <= last_rows <= that), on the stream: after
	// the forward pass.
	for (int i = 0; i < count; i++)
		KIC_CUDA(cudaMemcpyAsync(m->logits_host + i * V, m->logits + (int64_t)rows[i] * V, sizeof(float) * V,
		                         cudaMemcpyDeviceToHost, m->stream));
	KIC_CUDA(cudaStreamSynchronize(m->stream));
	memcpy(out, m->logits_host, sizeof(float) * count * V);
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_graph_counts(const kic_model *m, int32_t *decode, int32_t *prefill) {
	if (!m || !decode || !prefill) return kic_set_error(KIC_ERR_INVALID, "kic_graph_counts: null argument");
	*decode = (int32_t)m->graphs.size(), *prefill = (int32_t)m->pass_graphs.size();
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_set_graphs(kic_model *m, int32_t enabled) {
	if (!m) return kic_set_error(KIC_ERR_INVALID, "kic_set_graphs: null model");
	m->cfg.use_graphs = enabled;
	for (kic_model *p : m->peers) p->cfg.use_graphs = enabled;
	return KIC_OK;
}

extern "C" KIC_API kic_status kic_decode_path(const kic_model *m, int32_t *persistent) {
	if (!m || !persistent) return kic_set_error(KIC_ERR_INVALID, "kic_decode_path: null argument");
	*persistent = m->persist_blocks > 0;
	return KIC_OK;
}
