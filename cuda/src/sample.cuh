// sample.cuh: token sampling on the GPU, each row by its own parameters: greedy (argmax, lowest index on ties;
// 128 blocks per row, then one warp), or, one block per sampled row, temperature with optional top-k and top-p
// and a draw seeded by the row's seed and step. Top-k and top-p thresholds are found by
// bisection over the row (no sort), the draw by a block-wide prefix sum. Reproducible for a given seed and
// step; the random stream is not the CPU sampler's, so only greedy results match it token for token.
// With masks, each row sees only the tokens its allowed-token bitmask has set (kic_sample's contract).
#pragma once
#include "common.cuh"

// params: rows entries (host memory). scratch: kic_sample_scratch_floats(rows) floats (the argmax's per-block
// partial results). masks: nullptr, or kic_mask_words(vocab) words per row on the device.
int64_t kic_sample_scratch_floats(int rows);
kic_status launch_sample(const float *logits, int rows, int vocab, const kic_sampling *params, const uint64_t *masks,
                         int32_t *tokens, float *scratch, cudaStream_t s);
