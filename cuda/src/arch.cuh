// arch.cuh: what kic_model_config says beyond its family's forward pass (the MLP's activation, parallel
// residuals, q/k and post norms, embedding and attention scales, soft-caps, each layer's window and rope table):
// the checks kic_model_create makes of it, and the layers' share of it.
#pragma once
#include "model.cuh"

// kic_arch_check refuses a config whose architecture fields are out of range.
kic_status kic_arch_check(const kic_model_config &c);

// kic_arch_layers gives each of m's layers its window (from c.layer_window, the caller's array, read here
// once) and its rope table (in m->rope_inv_freq, layer i's at i * rope_dim / 2).
void kic_arch_layers(kic_model *m, const kic_model_config &c);
