// embed.cuh: token embedding gather (+ GPT-2 learned positions).
#pragma once
#include "common.cuh"

// y[i] = table[tokens[i] - vocab_start] * scale (+ pos_table[pos[i]] when pos_table is set); table rows are dim
// wide in dtype (any type of types.h, Q8_0 given as a kic_mat). Tokens and positions are device arrays. Under
// tensor parallelism the table holds rows vocab_start to vocab_start + table.rows of the vocabulary, and a token
// outside them gives zeros (plus its position), which the all-reduce of the ranks' rows fills in.
kic_status launch_embed(const kic_mat &table, int64_t vocab_start, const int32_t *tokens, int n, float scale,
                        const float *pos_table, const int32_t *pos, float *y, cudaStream_t s);
