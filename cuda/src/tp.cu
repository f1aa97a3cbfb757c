// tp.cu: tensor parallelism, one model over several GPUs of this process: creating the ranks, the host
// threads that drive them, and the collectives of the forward pass (worker/shard says who holds what).
//
// One process drives every GPU of its pod, one host thread per GPU: the Go side stays one engine with one
// KV pool and one scheduler, and each thread enqueues its rank's whole pass (or launches its captured
// graph) with NCCL's collectives in it, so no rank's host work waits for another's.
#include <condition_variable>
#include <mutex>
#include <string.h>
#include <string>
#include <thread>

#include "model.cuh"

// kic_rank_thread runs jobs for one rank, one at a time, on a thread of its own: a decode step's host work
// is microseconds, too little to start a thread for each.
struct kic_rank_thread {
	std::thread thread;
	std::mutex mu;
	std::condition_variable cv;
	const std::function<kic_status(kic_model *)> *job = nullptr; // set by the caller, cleared when done
	kic_model *rank = nullptr;
	bool quit = false;
	kic_status status = KIC_OK;
	std::string error;

	void loop() {
		std::unique_lock<std::mutex> lk(mu);
		for (;;) {
			cv.wait(lk, [&] { return job || quit; });
			if (quit) return;
			kic_status st = (*job)(rank);
			status = st;
			error = st == KIC_OK ? "" : kic_last_error(); // thread-local: read here, handed to the caller
			job = nullptr;
			cv.notify_all();
		}
	}
};

kic_status kic_tp_each(kic_model *m, const std::function<kic_status(kic_model *)> &fn) {
	for (kic_rank_thread *t : m->threads) {
		std::lock_guard<std::mutex> lk(t->mu);
		t->job = &fn;
		t->cv.notify_all();
	}
	kic_status first = fn(m);
	std::string first_error = first == KIC_OK ? "" : kic_last_error();
	for (kic_rank_thread *t : m->threads) {
		std::unique_lock<std::mutex> lk(t->mu);
		t->cv.wait(lk, [&] { return t->job == nullptr; });
		if (first == KIC_OK && t->status != KIC_OK) {
			first = t->status;
			first_error = "rank " + std::to_string(t->rank->cfg.tp_rank) + ": " + t->error;
		}
	}
	if (first != KIC_OK) return kic_set_error(first, "%s", first_error.c_str());
	return KIC_OK;
}

void kic_tp_stop_threads(kic_model *m) {
	for (kic_rank_thread *t : m->threads) {
		{
			std::lock_guard<std::mutex> lk(t->mu);
			t->quit = true;
			t->cv.notify_all();
		}
		t->thread.join();
		delete t;
	}
	m->threads.clear();
}

kic_status kic_tp_all_reduce(kic_model *m, float *x, int64_t count) {
	if (m->cfg.tp_ranks <= 1) return KIC_OK;
	return kic_nccl_all_reduce_sum(x, (size_t)count, m->comm, m->stream);
}

// gather_logits_kernel writes rank r's logits (rows x its vocabulary rows, in slot r of the gather buffer,
// slots chunk x max_rows floats apart) to columns r*chunk onward of each row of logits.
__global__ void gather_logits_kernel(const float *gather, int64_t max_rows, int64_t chunk, int64_t vocab, int rows,
                                     float *logits) {
	pdl_wait();
	pdl_launch_dependents();
	int row = blockIdx.y;
	for (int64_t v = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; v < vocab; v += (int64_t)gridDim.x * blockDim.x) {
		int64_t r = v / chunk, j = v - r * chunk, width = min(chunk, vocab - r * chunk);
		logits[(int64_t)row * vocab + v] = gather[r * max_rows * chunk + row * width + j];
	}
}

kic_status kic_tp_gather_logits(kic_model *m, int nrows) {
	const kic_model_config &c = m->cfg;
	if (nrows <= 0) return KIC_OK;
	int64_t L = kic_logit_rows(&c), chunk = kic_vocab_chunk(&c);
	if (c.tp_rank != 0) return kic_nccl_send(m->gather, (size_t)nrows * c.vocab, 0, m->comm, m->stream);
	KIC_TRY(kic_nccl_group_start());
	for (int r = 1; r < c.tp_ranks; r++) {
		int64_t width = c.vocab_full - r * chunk < chunk ? c.vocab_full - r * chunk : chunk;
		kic_status st = kic_nccl_recv(m->gather + r * L * chunk, (size_t)(nrows * width), r, m->comm, m->stream);
		if (st != KIC_OK) {
			kic_nccl_group_end();
			return st;
		}
	}
	KIC_TRY(kic_nccl_group_end());
	dim3 grid(kic_div_up(c.vocab_full, 256 * 8), nrows);
	return kic_launch(gather_logits_kernel, grid, dim3(256), 0, m->stream, (const float *)m->gather, L, chunk,
	                  (int64_t)c.vocab_full, nrows, m->logits);
}

extern "C" KIC_API kic_status kic_model_create_tp(int32_t n, const int32_t *ordinals, const kic_model_config *cfgs,
                                                  kic_model **out) {
	if (!ordinals || !cfgs || !out) return kic_set_error(KIC_ERR_INVALID, "kic_model_create_tp: null argument");
	*out = nullptr;
	if (n < 2 || n > 64) return kic_set_error(KIC_ERR_INVALID, "kic_model_create_tp: %d ranks (2 to 64)", n);
	for (int r = 0; r < n; r++) {
		const kic_model_config &c = cfgs[r];
		if (c.tp_rank != r || c.tp_ranks != n || c.vocab_full != cfgs[0].vocab_full || c.kv_blocks != cfgs[0].kv_blocks ||
		    c.max_batch != cfgs[0].max_batch || c.max_seq_blocks != cfgs[0].max_seq_blocks || c.embd != cfgs[0].embd ||
		    kic_table_width(&c) != kic_table_width(&cfgs[0]))
			return kic_set_error(KIC_ERR_INVALID, "kic_model_create_tp: config %d is not rank %d of %d of one model", r, r, n);
	}
	KIC_TRY(kic_nccl_load()); // before any allocation: without NCCL there is nothing to build
	std::vector<kic_model *> ranks;
	kic_status st = KIC_OK;
	for (int r = 0; r < n && st == KIC_OK; r++) {
		kic_model *m = new kic_model();
		ranks.push_back(m);
		st = kic_model_init(ordinals[r], &cfgs[r], m);
	}
	std::vector<kic_nccl_comm> comms(n, nullptr);
	std::vector<int> devs(ordinals, ordinals + n);
	if (st == KIC_OK) st = kic_nccl_comm_init_all(comms.data(), n, devs.data());
	kic_model *root = ranks[0];
	for (int r = 0; r < (int)ranks.size(); r++) {
		ranks[r]->comm = comms[r];
		if (r > 0) root->peers.push_back(ranks[r]);
	}
	if (st != KIC_OK) {
		kic_model_release(root); // and its peers
		return st;
	}
	for (kic_model *p : root->peers) {
		kic_rank_thread *t = new kic_rank_thread();
		t->rank = p;
		t->thread = std::thread([t] { t->loop(); });
		root->threads.push_back(t);
	}
	// NCCL connects its channels on first use: do it now, outside any CUDA graph capture, with one all-reduce
	// and one gather of a logits row (the buffers' contents do not matter).
	st = kic_tp_each(root, [](kic_model *m) -> kic_status {
		KIC_CUDA(cudaSetDevice(m->ordinal));
		KIC_TRY(kic_tp_all_reduce(m, m->x, m->cfg.embd));
		KIC_TRY(kic_tp_gather_logits(m, 1));
		KIC_CUDA(cudaStreamSynchronize(m->stream));
		return KIC_OK;
	});
	if (st != KIC_OK) {
		kic_model_release(root);
		return st;
	}
	*out = root;
	return KIC_OK;
}

extern "C" KIC_API kic_model *kic_model_rank(kic_model *m, int32_t rank) {
	if (!m || rank < 0 || rank > (int32_t)m->peers.size()) return nullptr;
	return rank == 0 ? m : m->peers[rank - 1];
}

extern "C" KIC_API kic_status kic_nccl_version(int32_t *version) {
	if (!version) return kic_set_error(KIC_ERR_INVALID, "kic_nccl_version: null argument");
	*version = 0;
	KIC_TRY(kic_nccl_load());
	*version = kic_nccl_version_code();
	return KIC_OK;
}
