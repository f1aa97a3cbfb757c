#!/usr/bin/env python3
"""Real-shape models on the GPU machine: fidelity and speed against transformers,
and the GPU memory estimate against what the worker really uses.

Phases (hack/realshape/run.sh runs them all in one device call; each reads and
writes files in --dir, so a failed phase leaves the others' results):

  prepare  (torch + transformers) For each shape (Llama-3.2-1B bf16, Qwen2.5-0.5B
           bf16, GPT-2 XL fp16, Qwen3-4B bf16, Gemma-3-4B's text model bf16,
           Phi-3-mini-4k bf16): a transformers model with the real config and
           seeded random weights, made on the GPU in the model's dtype; written
           as GGUF by hack/fixtures/make_fixtures.py's converter (llama q/k
           permutation, Conv1D transposes, F32 norms, Gemma's 1 + w norms,
           llama3 rope_freqs, the converter's metadata; a synthetic byte-level
           BPE or SentencePiece vocabulary of the real size). The GGUF holds
           exactly the model's 16-bit values. Then
           transformers' logits of a 16-token prompt at every position, in fp32
           (the strict reference: same weights, TF32 off) and in the model's
           dtype, and transformers' speed (eager attention, and sdpa) at batch 1.
  ours     (no torch) kubeinfer-worker logits (CUDA prefill, CUDA decode path,
           CPU engine) and bench (128 prompt + 256 generated; a long prefill).
  vram     kubeinfer-worker inspect -o json --context C --concurrency N (the
           estimate) and serve with the same --max-context/--max-concurrent:
           the VRAM the worker reports when ready (its ModelLoaded narration,
           NVML through go-nvml), nvidia-smi's figure for the process then and
           after N concurrent requests, and the load time (page cache -> ready).
  report   markdown tables and the checks; the exit code is the number of
           failed checks.

Without a GPU (to test the converter and the CPU engine at real widths; numpy's
float64 forward is the reference; --models NAME... picks shapes, e.g. qwen3-4b
gemma3-4b phi3-mini: at 2 layers their files are 1.2, 1.7 and 0.85 GB, and
gemma3-4b's prepare peaks at about 19 GB of memory):
  python3 realshape.py prepare --dir D --weights numpy --layers 2
  python3 realshape.py ours --dir D --bin kubeinfer-worker --devices cpu --no-bench
  python3 realshape.py report --dir D --cpu-only
"""

from __future__ import annotations

import argparse
import gc
import glob
import json
import math
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "hack", "fixtures"))
import make_fixtures as mf  # noqa: E402  (the converter, tokenizer and config code)

# The published configs (config.json of meta-llama/Llama-3.2-1B, Qwen/Qwen2.5-0.5B,
# openai-community/gpt2-xl, Qwen/Qwen3-4B, google/gemma-3-4b-it's text_config as
# Gemma3ForCausalLM, microsoft/Phi-3-mini-4k-instruct), in make_fixtures' spec form.
# make_fixtures fixes what the specs do not say: Gemma 3's five window layers then
# one global (sliding_window_pattern 6), query_pre_attn_scalar = head_dim (256 for
# the 4B: the spec's value is checked), no soft-capping (Gemma 3 has none: no
# final_softcap/attn_softcap keys); Phi-3's rope.dimension_count from
# partial_rotary (1.0 for Phi-3-mini: full rotary, no rope scaling in the 4k model).
SHAPES = [
    dict(name="llama3.2-1b", kind="llama", hf_class="LlamaForCausalLM", gguf_arch="llama", family="llama",
         tokenizer="llama-bpe", vocab_size=128256, hidden=2048, layers=16, heads=32, kv_heads=8, head_dim=64,
         ffn=8192, max_pos=131072, eps=1e-5, rope_theta=500000.0, tie=True, dtype="bf16", seed=11,
         rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                       "original_max_position_embeddings": 8192},
         serve_context=4096),
    dict(name="qwen2.5-0.5b", kind="qwen2", hf_class="Qwen2ForCausalLM", gguf_arch="qwen2", family="llama",
         tokenizer="qwen2", vocab_size=151936, hidden=896, layers=24, heads=14, kv_heads=2, head_dim=64,
         ffn=4864, max_pos=32768, eps=1e-6, rope_theta=1000000.0, rope_scaling=None, tie=True, dtype="bf16",
         seed=12, serve_context=4096),
    dict(name="gpt2-xl", kind="gpt2", hf_class="GPT2LMHeadModel", gguf_arch="gpt2", family="gpt",
         tokenizer="gpt-2", vocab_size=50257, hidden=1600, layers=48, heads=25, head_dim=64, ffn=6400,
         max_pos=1024, eps=1e-5, tie=True, dtype="f16", seed=13, serve_context=1024),
    dict(name="qwen3-4b", kind="qwen3", hf_class="Qwen3ForCausalLM", gguf_arch="qwen3", family="llama",
         tokenizer="qwen3", vocab_size=151936, hidden=2560, layers=36, heads=32, kv_heads=8, head_dim=128,
         ffn=9728, max_pos=40960, eps=1e-6, rope_theta=1000000.0, rope_scaling=None, tie=True, dtype="bf16",
         seed=14, serve_context=4096),
    dict(name="gemma3-4b", kind="gemma3", hf_class="Gemma3ForCausalLM", gguf_arch="gemma3", family="llama",
         tokenizer="gemma", vocab_size=262208, hidden=2560, layers=34, heads=8, kv_heads=4, head_dim=256,
         ffn=10240, max_pos=131072, eps=1e-6, rope_theta=1000000.0, rope_local_theta=10000.0,
         rope_scaling={"rope_type": "linear", "factor": 8.0}, sliding_window=1024, query_pre_attn_scalar=256,
         tie=True, dtype="bf16", seed=15, serve_context=4096),
    dict(name="phi3-mini", kind="phi3", hf_class="Phi3ForCausalLM", gguf_arch="phi3", family="llama",
         tokenizer="phi3", vocab_size=32064, hidden=3072, layers=32, heads=32, kv_heads=32, head_dim=96,
         ffn=8192, max_pos=4096, eps=1e-5, rope_theta=10000.0, rope_scaling=None, partial_rotary=1.0,
         sliding_window=2047, tie=False, dtype="bf16", seed=16, serve_context=4096),
]
# config.json has head_dim (so the converter's TextModel writes attention.key_length /
# value_length): Llama 3.2 (64), Qwen3 (128, not hidden/heads = 80) and Gemma 3 (256, not
# 320; Gemma3Model writes them anyway); Qwen2.5's and Phi-3's configs have none.
CONFIG_HAS_HEAD_DIM = ("llama", "qwen3", "gemma3")
PROMPT_TOKENS, GEN_TOKENS, LONG_PREFILL = 128, 256, 2048
LOGIT_POSITIONS = 16
CONCURRENCY = 8


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def spec_with_tokenizer(spec, layers=None):
    spec = dict(spec)
    if layers:
        spec["layers"] = layers
    if spec["kind"] in mf.GEMMA and spec.get("query_pre_attn_scalar", spec["head_dim"]) != spec["head_dim"]:
        # make_fixtures.hf_config passes head_dim; ours scales by 1/sqrt(head_dim) (all but Gemma 2/3 27B)
        raise ValueError(f"{spec['name']}: query_pre_attn_scalar {spec['query_pre_attn_scalar']} != head_dim")
    add_tok, tok = mf.make_tokenizer(spec)
    tok["tokenizer"] = spec["tokenizer"]
    spec["tok"] = tok
    return spec, add_tok


def normal_ids(tok):
    """[lo, hi): the ordinary tokens' ids. Byte-level BPE (make_fixtures.bpe_vocab):
    bytes and merges first, specials last. SentencePiece (spm_vocab): the head
    tokens, 256 byte tokens, the pieces, added tokens last."""
    if "n_normal" in tok:
        return 0, tok["n_normal"]
    return tok["first_normal"] + 256, tok["n_spm"]


def prompt_ids(spec):
    """LOGIT_POSITIONS ids of ordinary tokens (BOS first where the model adds one)."""
    tok = spec["tok"]
    rng = np.random.default_rng(zlib.crc32(spec["name"].encode()))
    n = LOGIT_POSITIONS - (1 if tok["add_bos"] else 0)
    ids = rng.integers(*normal_ids(tok), n).tolist()
    return ([tok["bos"]] if tok["add_bos"] else []) + [int(i) for i in ids]


def init_std(spec, name, shape, kind):
    """(mean, std) of random weights that keep a deep model well-behaved:
    unit-variance projections, residual outputs scaled by 1/sqrt(2 layers),
    embeddings that give tied logits a spread of about 4 (so top-1 is not a coin
    toss), norm weights 1 +- 5% (Gemma stores w of its (1 + w): "norm1p").

    Gemma (tied) multiplies the input embeddings by sqrt(d), not the output side:
    with E ~ 4/sqrt(d) the logits (final-normed x, RMS 1, times E) still spread
    by 4, but the input row would have RMS 4 and the logit of the input token
    itself would be sqrt(d) * 16 / RMS(x): about 180 at 2 layers and 90 at 34
    (RMS(x) ~ 9 there: every post-normed sublayer output adds RMS 1), 22 sigma,
    so top-1 = the input token, always. Gemma's embedding is therefore smaller by
    g = d^(1/4) (7.1 for 2560: input RMS 0.56) and its final norm weight about
    g: the spread stays g * 4/g = 4 and the input token's own logit becomes
    16 g / RMS(x), about 13 at 34 layers (Llama's and Qwen's tied 16 / RMS(x)
    is about 20-25, RMS(x) < 1 there). A numpy check at 34 layers (width 640):
    logit std 4.0 with and without g, the input token top-1 at 0/16 positions
    with g and 16/16 (gap 25) without."""
    d, L = spec["hidden"], spec["layers"]
    out_proj = name.endswith(("o_proj.weight", "down_proj.weight", "c_proj.weight"))
    gain = d ** 0.25 if spec["kind"] in mf.GEMMA and spec["tie"] else 1.0
    if kind == "embed":
        return 0.0, 4.0 / math.sqrt(d) / gain
    if kind == "pos":
        return 0.0, 0.1
    if kind in ("norm", "norm1p"):
        mean = gain if name == "model.norm.weight" else 1.0
        return (mean - 1.0 if kind == "norm1p" else mean), 0.05 * mean
    if kind == "bias":
        return 0.0, 0.05
    fan_in = shape[1] if kind == "linear" else shape[0]  # nn.Linear [out, in]; Conv1D [in, out]
    return 0.0, (1.0 / math.sqrt(fan_in)) / (math.sqrt(2 * L) if out_proj else 1.0)


def storage_of(a: np.ndarray, dtype: str) -> np.ndarray:
    """float32 -> the 16-bit storage a checkpoint of dtype holds (bf16 as uint16 bits)."""
    return mf.bf16_bits(a) if dtype == "bf16" else a.astype(np.float16)


def to_f32(a: np.ndarray) -> np.ndarray:
    return mf.to_f32(a, mf.GGML_BF16) if a.dtype == np.uint16 else a.astype(np.float32)


def write_model(spec, add_tok, w_storage, path):
    """w_storage: HF name -> 16-bit storage array in make_fixtures' (checkpoint) layout."""
    t0 = time.time()
    tensors = mf.convert_tensors(spec, w_storage, spec["dtype"])
    kv = mf.gguf_metadata(spec, spec["name"], spec["dtype"], add_tok,
                          hparams_have_head_dim=spec["kind"] in CONFIG_HAS_HEAD_DIM)
    size = mf.write_gguf(path, kv, tensors)
    log(f"  {path}: {size / 1e9:.2f} GB, {len(tensors)} tensors in {time.time() - t0:.1f}s")
    return size


# --------------------------------------------------------------------------
# prepare
# --------------------------------------------------------------------------


def prepare_numpy(spec, add_tok, d):
    """No torch: numpy weights, reference = make_fixtures' float64 HF-semantics forward."""
    w = {}
    for name, shape, kind in mf.hf_param_specs(spec):
        rng = np.random.default_rng([spec["seed"], zlib.crc32(name.encode())])
        mean, std = init_std(spec, name, shape, kind)
        w[name] = storage_of(mean + std * rng.standard_normal(shape, dtype=np.float32), spec["dtype"])
    path = os.path.join(d, spec["name"] + ".gguf")
    write_model(spec, add_tok, w, path)
    ids = prompt_ids(spec)
    t0 = time.time()
    ref = mf.np_forward_hf(spec, {k: to_f32(v) for k, v in w.items()}, ids).astype(np.float32)
    log(f"  numpy float64 reference in {time.time() - t0:.1f}s")
    np.savez(os.path.join(d, spec["name"] + ".ref.npz"), ids=np.array(ids), ref=ref)
    return dict(reference="numpy float64 (HF semantics, make_fixtures.np_forward_hf)")


def prepare_torch(spec, add_tok, d):
    """Builds the transformers model on the GPU, writes its GGUF and the reference
    logits; returns (model in its 16-bit dtype, info) for the speed runs."""
    import copy
    import torch
    import transformers
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    dev = "cuda"
    dtype = {"bf16": torch.bfloat16, "f16": torch.float16}[spec["dtype"]]
    cfg, Model = mf.hf_config(spec, transformers)
    t0 = time.time()
    with torch.device(dev):
        model = Model(cfg)
    params = dict(model.named_parameters())
    specs = mf.hf_param_specs(spec)
    if set(params) != {n for n, _, _ in specs}:
        raise RuntimeError(f"HF parameter names differ: {sorted(set(params) ^ {n for n, _, _ in specs})}")
    transposed = set()
    with torch.no_grad():
        for name, shape, kind in specs:
            g = torch.Generator(device=dev).manual_seed(spec["seed"] * 1000003 + zlib.crc32(name.encode()))
            mean, std = init_std(spec, name, shape, kind)
            v = torch.randn(shape, generator=g, device=dev, dtype=torch.float32) * std + mean
            p = params[name]
            if tuple(p.shape) != tuple(shape):
                if tuple(p.shape) != tuple(shape[::-1]):
                    raise RuntimeError(f"{name}: HF shape {tuple(p.shape)}, expected {shape}")
                v = v.T  # an nn.Linear where the checkpoint holds Conv1D [in, out]
                transposed.add(name)
            p.copy_(v)
    rope = rope_buffers(torch, model)
    model = model.to(dtype).eval()
    restore_rope(model, rope)
    try:
        model.set_attn_implementation("eager")
    except Exception:
        pass
    mf.check_hf_rope(model, spec)
    if spec["tie"] and model.get_output_embeddings().weight.data_ptr() != model.get_input_embeddings().weight.data_ptr():
        raise RuntimeError("output embedding is not tied")
    log(f"  transformers {Model.__name__} on {dev} in {spec['dtype']}: {sum(p.numel() for p in params.values()) / 1e9:.3f}B "
        f"parameters, attention {getattr(model.config, '_attn_implementation', '?')}, {time.time() - t0:.1f}s")

    # The GGUF holds exactly the model's 16-bit values.
    w = {}
    with torch.no_grad():
        for name, p in model.named_parameters():
            t = p.detach()
            if name in transposed:
                t = t.T
            t = t.contiguous()
            w[name] = t.view(torch.int16).cpu().numpy().view(np.uint16) if t.dtype == torch.bfloat16 else t.cpu().numpy()
    write_model(spec, add_tok, w, os.path.join(d, spec["name"] + ".gguf"))
    weight_bytes = sum(a.nbytes for a in w.values())
    del w

    ids = prompt_ids(spec)
    x = torch.tensor([ids], device=dev)
    with torch.inference_mode():
        lo = model(input_ids=x).logits[0].float().cpu().numpy()
    m32 = copy.deepcopy(model).float()
    with torch.inference_mode():
        ref = m32(input_ids=x).logits[0].float().cpu().numpy()
    del m32
    torch.cuda.empty_cache()
    np.savez(os.path.join(d, spec["name"] + ".ref.npz"), ids=np.array(ids), ref=ref, lo=lo)
    info = dict(reference=f"transformers {transformers.__version__} fp32 eager, TF32 off, torch {torch.__version__}",
                hf_weight_bytes=weight_bytes)
    log(f"  reference logits: fp32 vs {spec['dtype']} max|diff| {float(np.abs(ref - lo).max()):.4f}, "
        f"logit std {float(ref.std()):.2f}, {time.time() - t0:.1f}s in all")
    return model, info


def rope_buffers(torch, model):
    """RoPE's frequency tensors as transformers computed them (float32), and
    Gemma's embedding normalizer sqrt(d) (its embed_scale buffer)."""
    # Every attribute ending in inv_freq: Gemma 3's rotary holds one per layer type
    # (full_attention_inv_freq, sliding_attention_inv_freq).
    return {(n, attr): t.detach().clone() for n, m in model.named_modules()
            for attr in dir(m) if attr.endswith("inv_freq") or attr == "embed_scale"
            if isinstance(t := getattr(m, attr, None), torch.Tensor)}


def restore_rope(model, saved):
    """model.to(bf16) also rounds RoPE's inv_freq buffer; put back the float32
    frequencies (as a checkpoint loaded in bf16 has them, and as ours uses).
    Gemma's embed_scale too: the bf16 model still multiplies by sqrt(d) rounded
    to bf16 (its forward casts the buffer to the weights' dtype: 50.5 for
    2560, as transformers' bf16 Gemma always does), while the fp32 reference
    (a float() copy) then uses the float32 sqrt(d) as an fp32 Gemma does, and
    as ours and llama.cpp do (50.596)."""
    for (n, attr), t in saved.items():
        setattr(model.get_submodule(n), attr, t)


def speed_torch(spec, model, sdpa=True):
    import torch
    info = {}
    with torch.inference_mode():
        info["speed"] = {"eager": hf_speed(torch, model, spec)}
        if sdpa:
            try:
                # cuDNN's SDPA backend builds a plan for every new sequence length: one per
                # decode step (seen: 13 tok/s). Flash / memory-efficient attention have none.
                torch.backends.cuda.enable_cudnn_sdp(False)
                model.set_attn_implementation("sdpa")
                info["speed"]["sdpa"] = hf_speed(torch, model, spec)
            except Exception as e:
                log(f"  sdpa: {type(e).__name__}: {e}")
        info["torch_copy_bandwidth"] = torch_copy_bandwidth(torch)
    return info


def hf_forward(model, **kw):
    try:
        return model(logits_to_keep=1, use_cache=True, **kw)
    except TypeError:
        return model(use_cache=True, **kw)


def hf_run(torch, model, ids, gen):
    """Greedy generation as ours does it: one prefill, then one step per token."""
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = hf_forward(model, input_ids=ids)
    nxt = out.logits[:, -1:].argmax(-1)
    torch.cuda.synchronize()
    t1 = time.perf_counter()
    past = out.past_key_values
    for _ in range(gen - 1):
        out = hf_forward(model, input_ids=nxt, past_key_values=past)
        past = out.past_key_values
        nxt = out.logits[:, -1:].argmax(-1)
    torch.cuda.synchronize()
    return t1 - t0, time.perf_counter() - t1


def hf_speed(torch, model, spec):
    V = spec["vocab_size"]
    g = torch.Generator().manual_seed(1)
    lo, hi = normal_ids(spec["tok"])
    prompt = torch.randint(lo, hi, (1, PROMPT_TOKENS), generator=g).to("cuda")
    hf_run(torch, model, prompt[:, :16], 4)  # warm-up
    pre, dec = hf_run(torch, model, prompt, GEN_TOKENS)
    long_n = long_prefill_tokens(spec)
    longp = torch.randint(lo, hi, (1, long_n), generator=g).to("cuda")
    hf_run(torch, model, longp, 1)  # warm-up at this shape
    lpre, _ = hf_run(torch, model, longp, 1)
    r = dict(prefill_tokens=PROMPT_TOKENS, prefill_tok_s=PROMPT_TOKENS / pre, decode_tokens=GEN_TOKENS - 1,
             decode_tok_s=(GEN_TOKENS - 1) / dec, long_prefill_tokens=long_n, long_prefill_tok_s=long_n / lpre)
    log(f"  transformers {getattr(model.config, '_attn_implementation', '?')}: prefill {r['prefill_tok_s']:.0f} tok/s, "
        f"decode {r['decode_tok_s']:.1f} tok/s, prefill of {long_n}: {r['long_prefill_tok_s']:.0f} tok/s (vocab {V})")
    return r


def torch_copy_bandwidth(torch, nbytes=1 << 30, reps=20):
    a = torch.empty(nbytes, dtype=torch.uint8, device="cuda")
    b = torch.empty_like(a)
    b.copy_(a)
    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    e0.record()
    for i in range(reps):
        (a if i % 2 else b).copy_(b if i % 2 else a)
    e1.record()
    e1.synchronize()
    bw = 2.0 * nbytes * reps / (e0.elapsed_time(e1) / 1e3)
    del a, b
    return bw


def long_prefill_tokens(spec):
    # bench needs prompt + 2 generated tokens within the context (GPT-2 XL: 1024).
    return min(LONG_PREFILL, spec["max_pos"] - 2)


def cmd_prepare(a):
    """All models and references first, then (after --wait-for appears: the CUDA
    library builds meanwhile, and transformers' eager timings are CPU-bound) the
    transformers speed runs, the models kept on the GPU in between."""
    os.makedirs(a.dir, exist_ok=True)
    failed, done = 0, []
    for base in SHAPES:
        if a.models and base["name"] not in a.models:
            continue
        log(f"== {base['name']}")
        try:
            t0 = time.time()
            spec, add_tok = spec_with_tokenizer(base, a.layers)
            model = None
            if a.weights == "numpy":
                info = prepare_numpy(spec, add_tok, a.dir)
            else:
                model, info = prepare_torch(spec, add_tok, a.dir)
            entry = {k: spec[k] for k in ("name", "kind", "family", "dtype", "vocab_size", "layers", "max_pos", "serve_context")}
            entry.update(info, gguf=os.path.join(a.dir, spec["name"] + ".gguf"), ids=prompt_ids(spec),
                         long_prefill_tokens=long_prefill_tokens(spec), prepare_seconds=time.time() - t0)
            save_entry(a.dir, entry)
            done.append((spec, model, entry))
        except Exception as e:
            import traceback
            traceback.print_exc()
            log(f"  {base['name']}: FAILED: {type(e).__name__}: {e}")
            failed += 1
    if a.weights == "numpy" or a.no_speed:
        return failed
    if a.wait_for:
        t0 = time.time()
        while not os.path.exists(a.wait_for) and time.time() - t0 < 900:
            time.sleep(0.5)
        log(f"waited {time.time() - t0:.1f}s for {a.wait_for}")
    for spec, model, entry in done:
        log(f"== {spec['name']}: transformers speed")
        try:
            entry.update(speed_torch(spec, model, sdpa=not a.no_sdpa))
            save_entry(a.dir, entry)
        except Exception as e:
            import traceback
            traceback.print_exc()
            log(f"  {spec['name']} speed: FAILED: {type(e).__name__}: {e}")
            failed += 1
    return failed


def save_entry(d, entry):
    with open(os.path.join(d, entry["name"] + ".hf.json"), "w") as f:
        json.dump(entry, f, indent=1)


# --------------------------------------------------------------------------
# ours
# --------------------------------------------------------------------------


def run_cmd(args, log_path, timeout):
    """Runs a worker command, appending its output to log_path; returns (rc, stdout)."""
    t0 = time.time()
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = 124, e.stdout or "", (e.stderr or "") + f"\ntimed out after {timeout}s"
        out, err = (out.decode() if isinstance(out, bytes) else out), (err.decode() if isinstance(err, bytes) else err)
    with open(log_path, "a") as f:
        f.write(f"$ {' '.join(args)}\n{out}{err}[exit {rc}, {time.time() - t0:.1f}s]\n\n")
    short = [ln for ln in (out + err).splitlines() if "tok/s" in ln or "roofline" in ln or "loaded in" in ln or "error" in ln.lower()]
    log(f"  {' '.join(os.path.basename(x) if '/' in x else x for x in args[:4])} ...: exit {rc} in {time.time() - t0:.1f}s"
        + "".join(f"\n      {ln}" for ln in short[:8]))
    return rc, out


def entries(d):
    return [json.load(open(p)) for p in sorted(glob.glob(os.path.join(d, "*.hf.json")))]


def cmd_ours(a):
    failed = 0
    logp = os.path.join(a.dir, "ours.log")
    for e in entries(a.dir):
        if a.models and e["name"] not in a.models:
            continue
        log(f"== {e['name']}")
        ids = ",".join(map(str, e["ids"]))
        runs = []
        for dev in a.devices:
            runs.append((dev, "prefill"))
            if dev == "cuda":
                runs.append((dev, "decode"))
        for dev, mode in runs:
            outp = os.path.join(a.dir, f"{e['name']}.{dev}-{mode}.npy")
            if os.path.exists(outp):
                os.remove(outp)
            rc, _ = run_cmd([a.bin, "logits", "--model", e["gguf"], "--tokens", ids, "--device", dev, "--mode", mode,
                             "--top", "0", "-o", outp], logp, timeout=240 if dev == "cpu" else 120)
            failed += rc != 0
        if a.no_bench:
            continue
        res = {}
        for key, pt, gt in (("bench", PROMPT_TOKENS, GEN_TOKENS), ("long", e["long_prefill_tokens"], 2)):
            rc, out = run_cmd([a.bin, "bench", "--model", e["gguf"], "--device", "cuda", "--prompt-tokens", str(pt),
                               "--gen-tokens", str(gt)], logp, timeout=120)
            failed += rc != 0
            res[key] = parse_bench(out)
        with open(os.path.join(a.dir, e["name"] + ".bench.json"), "w") as f:
            json.dump(res, f, indent=1)
    return failed


def parse_duration(s):
    """A Go time.Duration string: 1.5s, 834ms, 12.3µs, 1m2.5s."""
    total, unit = 0.0, {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    for num, u in re.findall(r"([\d.]+)(h|ms|m|s|us|µs|ns)", s):
        total += float(num) * unit[u]
    return total


def parse_bench(out):
    r = {}
    for line in out.splitlines():
        if m := re.search(r"loaded in (\S+)$", line):
            r["load_seconds"] = parse_duration(m.group(1))
        if m := re.match(r"prefill: (\d+) tokens in \S+, ([\d.]+) tok/s", line):
            r["prefill_tokens"], r["prefill_tok_s"] = int(m.group(1)), float(m.group(2))
        if m := re.match(r"decode:\s+(\d+) tokens in \S+, ([\d.]+) tok/s", line):
            r["decode_tokens"], r["decode_tok_s"] = int(m.group(1)), float(m.group(2))
        if m := re.match(r"decode, sampled on the GPU: (\d+) tokens in \S+, ([\d.]+) tok/s", line):
            r["decode_sampled_tok_s"] = float(m.group(2))
        if m := re.search(r"weights ([\d.]+) MiB x .* of ([\d.]+) GB/s measured", line):
            r["weights_mib"], r["bandwidth_gbs"] = float(m.group(1)), float(m.group(2))
    return r


# --------------------------------------------------------------------------
# vram
# --------------------------------------------------------------------------


def inspect_json(binary, model, context, concurrency):
    p = subprocess.run([binary, "inspect", "-o", "json", "--context", str(context), "--concurrency", str(concurrency), model],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"inspect {model}: exit {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def smi_process_mib(pid):
    try:
        p = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                           capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in p.stdout.splitlines():
        parts = [x.strip() for x in line.split(",")]
        if len(parts) == 2 and parts[0] == str(pid) and parts[1].isdigit():
            return int(parts[1])
    return None


def http(url, body=None, timeout=120):
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def serve_measure(binary, model, arch, context, concurrency, device, port, logp):
    """Starts serve as the operator would, waits for ready, and reads what the worker
    reports (ModelLoaded narration) and what nvidia-smi says, before and after
    `concurrency` concurrent completions."""
    name = os.path.basename(model)[:-5]
    errlog = open(logp, "a")
    errlog.write(f"\n$ serve {model} --max-context {context} --max-concurrent {concurrency}\n")
    errlog.flush()
    args = [binary, "serve", "--model", model, "--arch", arch, "--max-context", str(context),
            "--max-concurrent", str(concurrency), "--device", device, "--port", str(port), "--host", "127.0.0.1",
            "--inference-events", "Off", "--termination-log", ""]
    t0 = time.time()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    reader = threading.Thread(target=lambda: [lines.append(ln) or errlog.write(ln) for ln in p.stdout], daemon=True)
    reader.start()
    r = {"model": name, "context": context, "concurrency": concurrency}
    try:
        base = f"http://127.0.0.1:{port}"
        while time.time() - t0 < 120:
            if p.poll() is not None:
                raise RuntimeError(f"serve exited {p.returncode}")
            try:
                if http(base + "/readyz", timeout=2)[0] == 200:
                    break
            except Exception:
                pass
            time.sleep(0.05)
        else:
            raise RuntimeError("not ready after 120 s")
        r["ready_seconds_wall"] = time.time() - t0
        time.sleep(0.3)  # the narration line follows ready
        for ln in list(lines):
            try:
                j = json.loads(ln)
            except ValueError:
                continue
            if j.get("reason") == "ModelLoaded":
                r["reported_mib"], r["reported_kind"] = j.get("memoryMiB"), j.get("memoryKind")
                r["load_ms"] = j.get("durationMs")
            if j.get("msg") == "KV cache":  # on the GPU: the plan the load allocated, its KV pool filling the utilization
                r["plan_mib"], r["plan_kv_mib"] = j.get("planMiB"), j.get("kvCacheMiB")
            if j.get("msg") == "model ready":
                r["load_seconds"] = j.get("loadSeconds")
        r["smi_ready_mib"] = smi_process_mib(p.pid)
        prompt = "The quick brown fox jumps."
        errs = []

        def one(i):
            try:
                http(base + "/v1/completions", {"model": name, "prompt": f"{i}: {prompt}", "max_tokens": 16,
                                                "temperature": 0}, timeout=120)
            except Exception as e:
                errs.append(f"{type(e).__name__}: {e}")
        ts = [threading.Thread(target=one, args=(i,)) for i in range(concurrency)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        r["load_test_errors"] = errs[:2]
        r["smi_after_load_mib"] = smi_process_mib(p.pid)
    except Exception as e:
        r["error"] = f"{type(e).__name__}: {e}"
    finally:
        p.terminate()
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        reader.join(5)
        errlog.close()
    return r


def cmd_vram(a):
    logp = os.path.join(a.dir, "vram.log")
    jobs = []
    for path in sorted(glob.glob(os.path.join(REPO, "worker", "testdata", "fidelity", "*.gguf"))):
        jobs.append((path, None))
    for e in entries(a.dir):
        jobs.append((e["gguf"], e["serve_context"]))
    results, failed = [], 0
    for i, (path, ctx) in enumerate(jobs):
        try:
            info = inspect_json(a.bin, path, ctx or 0, CONCURRENCY)
            ctx = ctx or info["contextLength"]
            est = inspect_json(a.bin, path, ctx, CONCURRENCY)
            arch = "gpt" if est["family"] == "gpt" else "llama"
            r = serve_measure(a.bin, path, arch, ctx, CONCURRENCY, a.device, 18600 + i, logp)
            g = est["gpuMemory"]
            r.update(estimate_mib=g["requiredMiB"], weights_bytes=g["weightsBytes"], kv_bytes=g["kvCacheBytes"],
                     buffers_bytes=g["buffersBytes"], file_bytes=est["fileBytes"], real_shape=path.startswith(a.dir))
        except Exception as e:
            r = {"model": os.path.basename(path)[:-5], "error": f"{type(e).__name__}: {e}"}
        failed += "error" in r
        log(f"  vram {r}")
        results.append(r)
        with open(os.path.join(a.dir, "vram.json"), "w") as f:
            json.dump(results, f, indent=1)
    return failed


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------


def diff_stats(c, r):
    d = np.abs(c.astype(np.float64) - r.astype(np.float64))
    scale = float(r.std())
    top_c, top_r = c.argmax(-1), r.argmax(-1)
    return dict(max_abs=float(d.max()), rms=float(np.sqrt((d ** 2).mean())), scale=scale,
                max_rel_scale=float(d.max()) / scale, top1=int((top_c == top_r).sum()), n=len(r),
                first_top1=bool(top_c[0] == top_r[0]), per_pos_max=d.max(-1))


def fmt_num(x, f="{:.1f}"):
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f.format(x)


def cmd_report(a):
    ents = entries(a.dir)
    checks, lines = [], []

    def check(name, ok, detail):
        checks.append((name, bool(ok), detail))

    # ---- logits
    lines += ["## Logits against transformers on the same weights", "",
              f"{LOGIT_POSITIONS}-token prompt, logits at every position. Reference: transformers in fp32 on the model's "
              "16-bit weights (eager, TF32 off). `scale` is the reference logits' standard deviation. "
              "Tolerances: CPU engine (fp32 arithmetic) max|Δ| ≤ 1e-3·scale and the same top-1 everywhere; CUDA "
              "(16-bit GEMM inputs, fp32 accumulation) max|Δ| ≤ max(2 × transformers-in-the-model's-dtype max|Δ|, "
              "0.02·scale) and the same top-1 wherever the reference's top-2 gap exceeds 2 × that transformers error.", "",
              "| model | dtype | compared | max abs Δ | rms Δ | max Δ / scale | top-1 agree | first token top-1 | check |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for e in ents:
        refp = os.path.join(a.dir, e["name"] + ".ref.npz")
        if not os.path.exists(refp):
            check(f"{e['name']} reference", False, "missing")
            continue
        z = np.load(refp)
        ref = z["ref"]
        srt = np.sort(ref, -1)
        gap = srt[:, -1] - srt[:, -2]
        hf_lo = diff_stats(z["lo"], ref) if "lo" in z else None
        rows = []
        if hf_lo:
            rows.append((f"transformers {e['dtype']} (eager)", hf_lo, None))
        lo_tol = max(2 * hf_lo["max_abs"], 0.02 * hf_lo["scale"]) if hf_lo else 0.02 * float(ref.std())
        gap_floor = 2 * hf_lo["max_abs"] if hf_lo else 0.0
        for dev, mode in (("cpu", "prefill"), ("cuda", "prefill"), ("cuda", "decode")):
            p = os.path.join(a.dir, f"{e['name']}.{dev}-{mode}.npy")
            if not os.path.exists(p):
                if dev == "cuda" and not a.cpu_only or dev == "cpu":
                    check(f"{e['name']} ours {dev} {mode} logits", False, "no output")
                continue
            c = np.load(p)
            if c.shape != ref.shape:
                check(f"{e['name']} ours {dev} {mode} logits", False, f"shape {c.shape} vs {ref.shape}")
                continue
            s = diff_stats(c, ref)
            if dev == "cpu":
                ok = s["max_abs"] <= 1e-3 * s["scale"] and s["top1"] == s["n"]
                tol = f"≤ {1e-3 * s['scale']:.2e}, top-1 {s['n']}/{s['n']}"
            else:
                sure = gap > gap_floor
                flips = int(((c.argmax(-1) != ref.argmax(-1)) & sure).sum())
                ok = s["max_abs"] <= lo_tol and flips == 0
                tol = f"≤ {lo_tol:.3f}, {flips} top-1 flips where gap > {gap_floor:.3f}"
            check(f"{e['name']} ours {dev} {mode} logits", ok, f"max|Δ| {s['max_abs']:.3g} ({tol})")
            rows.append((f"ours {dev} ({mode})", s, ok))
        for label, s, ok in rows:
            lines.append(f"| {e['name']} | {e['dtype']} | {label} | {s['max_abs']:.4g} | {s['rms']:.3g} | "
                         f"{s['max_rel_scale']:.2e} (scale {s['scale']:.2f}) | {s['top1']}/{s['n']} | "
                         f"{'yes' if s['first_top1'] else 'NO'} | {'' if ok is None else ('ok' if ok else 'FAIL')} |")
        lines.append(f"| {e['name']} | | reference top-2 gap | min {gap.min():.3f}, median {np.median(gap):.3f} | | | | | |")
    lines.append("")

    # ---- speed
    speed_rows = []
    for e in ents:
        bp = os.path.join(a.dir, e["name"] + ".bench.json")
        b = json.load(open(bp)) if os.path.exists(bp) else {}
        speed_rows.append((e, b))
    if any(b for _, b in speed_rows):
        bws = [b["bench"].get("bandwidth_gbs") for _, b in speed_rows if b.get("bench", {}).get("bandwidth_gbs")]
        bw = float(np.median(bws)) * 1e9 if bws else None
        tbw = [e.get("torch_copy_bandwidth") for e, _ in speed_rows if e.get("torch_copy_bandwidth")]
        lines += ["## Speed at batch 1", "",
                  f"Ours: `kubeinfer-worker bench --device cuda --prompt-tokens {PROMPT_TOKENS} --gen-tokens {GEN_TOKENS}` "
                  "(decode with logits copied to the host every token; `sampled` = greedy sampling on the GPU) and a "
                  f"long prefill of {LONG_PREFILL} tokens (GPT-2 XL: 1022, its context is 1024). transformers "
                  f"{ents[0].get('reference', '').split(' fp32')[0].replace('transformers ', '') if ents else ''}: "
                  "the same model and dtype, greedy, one forward per token with its DynamicCache, "
                  "logits_to_keep=1; static cache + torch.compile not run (minutes of compilation per model in a "
                  f"device call that has {len(ents)}). Roofline = measured device-to-device copy bandwidth "
                  f"({fmt_num(bw / 1e9 if bw else None)} GB/s from ours, read + write counted; torch measures "
                  f"{fmt_num(float(np.median(tbw)) / 1e9 if tbw else None)} GB/s) ÷ weight bytes; % roofline = "
                  "weight bytes × tok/s ÷ bandwidth.", "",
                  "| model | weights | roofline tok/s | ours decode tok/s (% roofline) | ours decode, sampled on GPU (%) "
                  "| ours prefill 128 tok/s | ours prefill long tok/s | transformers eager decode tok/s (%) "
                  "| eager prefill 128 | eager prefill long | transformers sdpa (cuDNN SDPA off) decode tok/s (%) | sdpa prefill long "
                  "| ours load, page cache → ready |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        vram = {r["model"]: r for r in load_json(os.path.join(a.dir, "vram.json"), [])}
        for e, b in speed_rows:
            bench, longb = b.get("bench", {}), b.get("long", {})
            wbytes = bench.get("weights_mib", 0) * (1 << 20) or e.get("hf_weight_bytes")
            roof = bw / wbytes if bw and wbytes else None

            def pct(rate):
                return fmt_num(100 * rate / roof, "{:.0f}%") if roof and rate else "n/a"
            sp = e.get("speed", {})
            ea, sd = sp.get("eager", {}), sp.get("sdpa", {})
            v = vram.get(e["name"], {})
            load = "n/a"
            if v.get("load_ms"):
                load = f"{v['load_ms'] / 1e3:.2f} s, {v.get('file_bytes', 0) / 1e9 / (v['load_ms'] / 1e3):.2f} GB/s"
            lines.append(
                f"| {e['name']} ({e['dtype']}) | {fmt_num(wbytes / 1e9 if wbytes else None, '{:.2f} GB')} | {fmt_num(roof, '{:.0f}')} "
                f"| {fmt_num(bench.get('decode_tok_s'))} ({pct(bench.get('decode_tok_s'))}) "
                f"| {fmt_num(bench.get('decode_sampled_tok_s'))} ({pct(bench.get('decode_sampled_tok_s'))}) "
                f"| {fmt_num(bench.get('prefill_tok_s'), '{:.0f}')} "
                f"| {fmt_num(longb.get('prefill_tok_s'), '{:.0f}')} ({longb.get('prefill_tokens', '?')}) "
                f"| {fmt_num(ea.get('decode_tok_s'))} ({pct(ea.get('decode_tok_s'))}) "
                f"| {fmt_num(ea.get('prefill_tok_s'), '{:.0f}')} | {fmt_num(ea.get('long_prefill_tok_s'), '{:.0f}')} "
                f"| {fmt_num(sd.get('decode_tok_s'))} ({pct(sd.get('decode_tok_s'))}) "
                f"| {fmt_num(sd.get('long_prefill_tok_s'), '{:.0f}')} | {load} |")
        lines.append("")

    # ---- vram
    vr = load_json(os.path.join(a.dir, "vram.json"), None)
    if vr is not None:
        lines += ["## GPU memory: estimate vs measured", "",
                  f"Estimate: the plan `kubeinfer-worker serve` logs (`KV cache`: memplan.ForDevice, what the loader allocates "
                  f"by, its KV pool filling gpuMemoryUtilization of the GPU; the weights and buffers are "
                  f"`kubeinfer-worker inspect -o json --context C --concurrency {CONCURRENCY}`'s). Measured: `kubeinfer-worker serve "
                  f"--max-context C --max-concurrent {CONCURRENCY} --device cuda`, the VRAM its ModelLoaded narration "
                  "reports when ready (NVML through go-nvml: this process on its GPU, CUDA context included), and "
                  f"nvidia-smi's figure for the process when ready and after {CONCURRENCY} concurrent completions. "
                  "Check: |estimate − reported| ≤ 5% of reported.", "",
                  "| model | context × concurrency | weights MiB | KV MiB | buffers MiB | estimate MiB | reported MiB "
                  "| nvidia-smi ready | after load | estimate − reported | check |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in vr:
            if "error" in r or not r.get("reported_mib"):
                check(f"vram {r['model']}", False, r.get("error", "no VRAM reported"))
                lines.append(f"| {r['model']} | | | | | {r.get('estimate_mib', '')} | {r.get('error', 'no report')} | | | | FAIL |")
                continue
            # The GPU's plan (its KV pool is what gpuMemoryUtilization leaves) is what the load allocated;
            # inspect's is the least the operator schedules by, divided by the utilization.
            est, rep = r.get("plan_mib") or r["estimate_mib"], r["reported_mib"]
            if r.get("plan_kv_mib"):
                r["kv_bytes"] = r["plan_kv_mib"] * 2**20
            rel = (est - rep) / rep
            ok = abs(rel) <= 0.05 and r.get("reported_kind") == "VRAM"
            check(f"vram {r['model']}", ok, f"estimate {est} MiB vs reported {rep} MiB ({100 * rel:+.1f}%)")
            lines.append(f"| {r['model']} | {r['context']} × {r['concurrency']} | {r['weights_bytes'] / 2**20:.1f} "
                         f"| {r['kv_bytes'] / 2**20:.0f} | {r['buffers_bytes'] / 2**20:.0f} | {est} | {rep} {r.get('reported_kind', '')} "
                         f"| {fmt_num(r.get('smi_ready_mib'), '{}')} | {fmt_num(r.get('smi_after_load_mib'), '{}')} "
                         f"| {est - rep:+d} ({100 * rel:+.1f}%) | {'ok' if ok else 'FAIL'} |")
        lines.append("")

    lines += ["## Checks", ""] + [f"- {'ok  ' if ok else 'FAIL'} {n}: {d}" for n, ok, d in checks]
    nfail = sum(not ok for _, ok, _ in checks)
    lines += ["", f"{len(checks) - nfail} passed, {nfail} failed", ""]
    text = "\n".join(lines)
    with open(os.path.join(a.dir, "report.md"), "w") as f:
        f.write(text)
    print(text)
    return nfail


def load_json(p, default):
    try:
        return json.load(open(p))
    except (OSError, ValueError):
        return default


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("prepare", "ours", "vram", "report"):
        p = sub.add_parser(name)
        p.add_argument("--dir", required=True, help="where the models and results go")
        p.add_argument("--models", nargs="*", help="only these shapes")
        if name == "prepare":
            p.add_argument("--weights", choices=["torch", "numpy"], default="torch")
            p.add_argument("--layers", type=int, help="fewer layers (a quick test of the converter)")
            p.add_argument("--no-sdpa", action="store_true", help="skip transformers' sdpa timing")
            p.add_argument("--no-speed", action="store_true", help="skip transformers' timings")
            p.add_argument("--wait-for", help="time transformers only once this file exists")
        if name in ("ours", "vram"):
            p.add_argument("--bin", default=os.path.join(REPO, ".cuda-device", "kubeinfer-worker"))
        if name == "ours":
            p.add_argument("--devices", nargs="+", default=["cuda", "cpu"])
            p.add_argument("--no-bench", action="store_true")
        if name == "vram":
            p.add_argument("--device", default="cuda")
        if name == "report":
            p.add_argument("--cpu-only", action="store_true", help="no CUDA results are expected")
    a = ap.parse_args()
    a.dir = os.path.abspath(a.dir)
    rc = {"prepare": cmd_prepare, "ours": cmd_ours, "vram": cmd_vram, "report": cmd_report}[a.cmd](a)
    sys.exit(min(rc, 100))


if __name__ == "__main__":
    main()
