// embed.cuh: token embedding gather (+ GPT-2 learned positions).
#pragma once
#include "common.cuh"

// y[i] = table[tokens[i]] (+ pos_table[pos[i]] when pos_table is set); table rows are dim wide in dtype
// (F32/F16/BF16, or Q8_0 given as a kic_mat). Tokens and positions are device arrays.
kic_status launch_embed(const kic_mat &table, const int32_t *tokens, int n, const float *pos_table, const int32_t *pos,
                        float *y, cudaStream_t s);
