#!/usr/bin/env python3
"""The peer of the serving benchmark: HF transformers' batched generate on the same model shapes and
batch sizes as the load generator (test/bench/serving, hack/gpu-bench.sh serving), printing output tok/s.

    python3 test/bench/serving/hf_peer.py [--shape llama3.2-1b|llama3.1-8b] [--batch 1,8,32,64,128]
        [--prompt-tokens 128] [--gen-tokens 256] [--cache eager,static] [--json]

Needs a GPU, torch and transformers. The model is the published config (meta-llama/Llama-3.2-1B's or
Llama-3.1-8B's config.json) with seeded random weights in bf16, made on the GPU: no download, the same
shapes as `kubeinfer-worker bench --synthetic`. Each batch runs B prompts of exactly --prompt-tokens
random token ids (no padding) and generates exactly --gen-tokens tokens for each (min_new_tokens ==
max_new_tokens, as the load generator's ignore_eos does), greedily. One warm-up generate at each batch
size precedes the timed one; the time includes prefill, as the load generator's tok/s does.

Caches: "eager" is generate's default dynamic KV cache with eager attention (attn_implementation="eager"),
"static" is cache_implementation="static" with the same attention (a preallocated cache, as
torch.compile'd serving uses; not compiled here, so it measures the cache alone).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

# meta-llama/Llama-3.2-1B and Llama-3.1-8B config.json, the fields that shape the computation.
SHAPES = {
    "llama3.2-1b": dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                        num_attention_heads=32, num_key_value_heads=8, head_dim=64, tie_word_embeddings=True,
                        rope_factor=32.0),
    "llama3.1-8b": dict(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                        num_attention_heads=32, num_key_value_heads=8, head_dim=128, tie_word_embeddings=False,
                        rope_factor=8.0),
}


def build(shape: str, attn: str):
    import torch
    import transformers

    fields = dict(SHAPES[shape])
    rope = {"rope_type": "llama3", "factor": fields.pop("rope_factor"), "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
    cfg = transformers.LlamaConfig(**fields, rope_theta=500000.0, rope_scaling=rope, max_position_embeddings=131072,
                                   rms_norm_eps=1e-5, attn_implementation=attn, bos_token_id=1, eos_token_id=2,
                                   pad_token_id=0)
    torch.manual_seed(1)
    with torch.device("cuda"):
        model = transformers.LlamaForCausalLM(cfg).to(torch.bfloat16)
    model.eval()
    return model


def run(model, batch: int, prompt_tokens: int, gen_tokens: int, cache: str) -> float:
    import torch

    g = torch.Generator(device="cuda").manual_seed(batch)
    ids = torch.randint(3, model.config.vocab_size, (batch, prompt_tokens), device="cuda", generator=g)
    mask = torch.ones_like(ids)
    kw = dict(max_new_tokens=gen_tokens, min_new_tokens=gen_tokens, do_sample=False, pad_token_id=0)
    if cache == "static":
        kw["cache_implementation"] = "static"
    with torch.inference_mode():
        model.generate(input_ids=ids, attention_mask=mask, **kw)  # warm-up at this batch size
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = model.generate(input_ids=ids, attention_mask=mask, **kw)
        torch.cuda.synchronize()
        dt = time.perf_counter() - t0
    generated = (out.shape[1] - prompt_tokens) * batch
    if out.shape[1] - prompt_tokens != gen_tokens:
        raise RuntimeError(f"generated {out.shape[1] - prompt_tokens} tokens per sequence, asked for {gen_tokens}")
    return generated / dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", default="llama3.2-1b", choices=sorted(SHAPES))
    ap.add_argument("--batch", default="1,8,32,64,128", help="batch sizes, the load generator's concurrency levels")
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--gen-tokens", type=int, default=256)
    ap.add_argument("--cache", default="eager,static", help="eager, static or both")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    a = ap.parse_args()

    import torch
    import transformers

    batches = [int(b) for b in a.batch.split(",")]
    print(f"# transformers {transformers.__version__}, torch {torch.__version__}, {torch.cuda.get_device_name()}; "
          f"{a.shape} bf16, random weights; prompts {a.prompt_tokens} tokens, {a.gen_tokens} generated, greedy",
          flush=True)
    if not a.json:
        print(f"{'cache':>7} {'batch':>6} {'out tok/s':>10}", flush=True)
    model = build(a.shape, "eager")
    for cache in a.cache.split(","):
        for b in batches:
            try:
                tps = run(model, b, a.prompt_tokens, a.gen_tokens, cache)
                err = ""
            except torch.cuda.OutOfMemoryError as e:  # a large batch of the 8B shape
                tps, err = 0.0, f"out of memory: {e}".splitlines()[0]
                torch.cuda.empty_cache()
            if a.json:
                print(json.dumps({"peer": "transformers", "cache": cache, "shape": a.shape, "batch": b,
                                  "outputTokensPerSecond": round(tps, 1), "error": err}), flush=True)
            else:
                print(f"{cache:>7} {b:>6} {tps:>10.0f} {err}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
