// embed.cuh: token embedding gather, scaled (Gemma's sqrt(n_embd)), + GPT-2 learned positions.
#pragma once
#include "common.cuh"

// y[i] = table[tokens[i]] * scale (+ pos_table[pos[i]] when pos_table is set); table rows are dim wide in any
// type of types.h (Q8_0 given as a kic_mat). Tokens and positions are device arrays.
kic_status launch_embed(const kic_mat &table, const int32_t *tokens, int n, float scale, const float *pos_table,
                        const int32_t *pos, float *y, cudaStream_t s);
