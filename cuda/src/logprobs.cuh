// logprobs.cuh: what the OpenAI API returns as logprobs, worked out where the logits are: per row, the
// log-softmax at the sampled token and at the top_n highest logits (best first, ties to the lower id), as
// worker/engine.Logprobs does on the host.
#pragma once
#include "common.cuh"

// logits: rows x vocab floats on the device; tokens: rows picks (negative: none, chosen is NaN); scratch:
// kic_logprobs_scratch(rows, vocab) bytes on the device; out: rows entries on the device. top_n: 0..KIC_MAX_TOP_LOGPROBS.
kic_status launch_logprobs(const float *logits, int rows, int vocab, const int32_t *tokens, int top_n, void *scratch,
                           kic_logprob_row *out, cudaStream_t s);
uint64_t kic_logprobs_scratch(int rows, int vocab);
