#include <math.h>

#include <vector>

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
	if (!c.layer_kv_group != !c.layer_kv_slot || c.kv_slots < 0 || c.kv_groups < 0 || c.kv_slots > c.layers)
		return kic_set_error(KIC_ERR_INVALID, "KV layer groups: %d slots, %d groups, arrays %p and %p (both or neither)",
		                     c.kv_slots, c.kv_groups, (const void *)c.layer_kv_group, (const void *)c.layer_kv_slot);
	if (!c.layer_kv_group && (c.kv_slots > 0 && c.kv_slots != c.layers || c.kv_groups > 1))
		return kic_set_error(KIC_ERR_INVALID, "KV layer groups: %d slots, %d groups without the layers' places", c.kv_slots,
		                     c.kv_groups);
	if (c.layer_kv_group) {
		// Two layers in one place would overwrite each other's keys.
		std::vector<bool> taken((size_t)kic_kv_slots(&c) * kic_kv_groups(&c));
		for (int i = 0; i < c.layers; i++) {
			int g = c.layer_kv_group[i], s = c.layer_kv_slot[i];
			if (g < 0 || g >= kic_kv_groups(&c) || s < 0 || s >= kic_kv_slots(&c) || taken[(size_t)g * kic_kv_slots(&c) + s])
				return kic_set_error(KIC_ERR_INVALID, "layer %d: KV group %d slot %d (%lld groups of %lld slots, each place once)",
				                     i, g, s, (long long)kic_kv_groups(&c), (long long)kic_kv_slots(&c));
			taken[(size_t)g * kic_kv_slots(&c) + s] = true;
		}
	}
	return KIC_OK;
}

void kic_arch_layers(kic_model *m, const kic_model_config &c) {
	for (int i = 0; i < c.layers; i++) {
		kic_layer &l = m->layers[i];
		l.window = c.layer_window ? c.layer_window[i] : 0;
		l.kv_group = c.layer_kv_group ? c.layer_kv_group[i] : 0;
		l.kv_slot = c.layer_kv_slot ? c.layer_kv_slot[i] : i;
		l.rope_inv_freq = m->rope_inv_freq ? m->rope_inv_freq + (int64_t)i * (c.rope_dim / 2) : nullptr;
	}
}
