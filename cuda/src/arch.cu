#include <math.h>

#include "arch.cuh"

// A scale or cap of 0 means none; otherwise it must be a positive finite number.
static bool scale_ok(float x) { return x == 0.f || (x > 0.f && isfinite(x)); }

kic_status kic_arch_check(const kic_model_config &c) {
	if (c.act != KIC_ACT_SILU && c.act != KIC_ACT_GELU_TANH && c.act != KIC_ACT_GELU)
		return kic_set_error(KIC_ERR_INVALID, "activation %d (silu 0, gelu-tanh 1, gelu 2)", c.act);
	if (c.residual != KIC_RESIDUAL_SEQUENTIAL && c.residual != KIC_RESIDUAL_PARALLEL &&
	    c.residual != KIC_RESIDUAL_PARALLEL_SHARED)
		return kic_set_error(KIC_ERR_INVALID, "residual %d (sequential 0, parallel 1, parallel-shared 2)", c.residual);
	if (!scale_ok(c.embed_scale) || !scale_ok(c.attn_scale) || !scale_ok(c.attn_softcap) || !scale_ok(c.final_softcap) ||
	    !scale_ok(c.rope_attn_factor))
		return kic_set_error(KIC_ERR_INVALID, "embedding scale %g, attention scale %g, soft-caps %g and %g, rope factor %g: "
		                     "each 0 (none) or positive", c.embed_scale, c.attn_scale, c.attn_softcap, c.final_softcap,
		                     c.rope_attn_factor);
	if (c.layer_window)
		for (int i = 0; i < c.layers; i++)
			if (c.layer_window[i] < 0) return kic_set_error(KIC_ERR_INVALID, "layer %d: window %d", i, c.layer_window[i]);
	return KIC_OK;
}

void kic_arch_layers(kic_model *m, const kic_model_config &c) {
	for (int i = 0; i < c.layers; i++) {
		kic_layer &l = m->layers[i];
		l.window = c.layer_window ? c.layer_window[i] : 0;
		l.rope_inv_freq = m->rope_inv_freq ? m->rope_inv_freq + (int64_t)i * (c.rope_dim / 2) : nullptr;
	}
}
