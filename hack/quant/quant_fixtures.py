#!/usr/bin/env python3
"""Quantized fidelity fixtures (worker/testdata/quant) and the mix golden
(worker/gguf/testdata/mix.json.gz), made by llama.cpp itself.

Fixtures. For each model spec (a llama-family and a gpt2-family model whose
rows are all multiples of 256, so llama-quantize needs no fallback types), the
script writes the F32 model the way hack/fixtures/make_fixtures.py writes its
fixtures (same converter layout, tokenizer and weight init), quantizes it with
llama.cpp's own `llama-quantize` to each file type, and records for one prompt:
  * llama.cpp's last-position logits and 16 greedy ids (`llama-logits`, f32 KV);
  * a float64 reference: numpy's forward pass (make_fixtures.np_forward_gguf,
    llama.cpp semantics) over the weights dequantized by ggml's own to_float
    (`ggml-ref dequant`), and its 16 greedy ids.
Neither reference shares code with the Go worker.

llama.cpp itself is not exact: its CPU kernels quantize activations to 8 bits
(Q8_0/Q8_K) before each product with quantized weights, which moves these
random models' logits by 2-6% of their spread. The models' init (small
attention/MLP output projections, "out_mult") keeps that below MAX_CPP_DIFF,
and each fixture's prompt is the first of N_PROMPTS candidates for which
llama.cpp's greedy continuation equals the float64 one, every greedy step's
float64 top-2 gap is at least MIN_GAP, the continuation is no short loop and
llama.cpp's logits are within MAX_CPP_DIFF of float64's: the comparison is
well conditioned, as the seed search of hack/fixtures does.

Mix golden. For a few shapes (layer counts, GQA, tied output, rows that are
not whole blocks) and every file type gguf.FileType knows, the tensor types
llama-quantize chooses, which gguf's TensorType must reproduce.

Usage (hack/quant/make-fixtures.sh runs it): make_fixtures.py BIN_DIR REPO_ROOT WORK_DIR
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import make_fixtures as mf  # noqa: E402

# ggml type ids (ggml.h) of the types llama-quantize writes for these recipes.
GGML_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 10: "Q2_K",
              11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 20: "IQ4_NL", 23: "IQ4_XS", 30: "BF16"}

# The fixtures' file types (llama-quantize names), per spec: the issue's list
# for the two models whose rows are multiples of 256; on a small model whose
# rows are not, the k-quant recipes fall back to Q5_0, Q5_1, Q8_0, IQ4_NL and
# Q4_0 (as small real models do), which covers the 32-element types cheaply.
REQUIRED_FTYPES = ["Q4_K_M", "Q5_K_M", "Q6_K", "Q4_0", "Q8_0", "IQ4_XS"]
FALLBACK_FTYPES = ["Q4_K_M", "Q5_K_M", "IQ4_XS", "Q2_K", "Q4_1"]
# Every recipe gguf.FileType knows, for the mix golden.
MIX_FTYPES = ["F32", "F16", "Q4_0", "Q4_1", "Q8_0", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L",
              "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS", "BF16"]

N_GREEDY = 16
MIN_GAP = 0.05         # float64 top-2 gap at every greedy step
MIN_DISTINCT = 5       # the continuation is not a short loop
MAX_CPP_DIFF = 0.045   # llama.cpp's own max |diff| / std against float64
N_PROMPTS = 24         # candidate prompts per fixture
MAX_SEED_TRIES = 10

SPECS = [
    dict(name="llama", kind="llama", hf_class="LlamaForCausalLM", gguf_arch="llama", family="llama",
         tokenizer="spm", vocab_size=288, hidden=256, layers=1, heads=8, kv_heads=2, head_dim=32, ffn=256,
         max_pos=64, eps=1e-5, rope_theta=10000.0, rope_scaling=None, tie=False, seed=7001,
         init=dict(embed=16.0, out_mult=0.25), ftypes=REQUIRED_FTYPES),
    dict(name="gpt2", kind="gpt2", hf_class="GPT2LMHeadModel", gguf_arch="gpt2", family="gpt",
         tokenizer="gpt-2", vocab_size=288, hidden=256, layers=1, heads=4, head_dim=64, ffn=256, max_pos=24,
         eps=1e-5, tie=True, seed=8001, init=dict(embed=2.4, pos_std=1.0, final_norm=4.0, out_mult=0.25),
         ftypes=REQUIRED_FTYPES),
    dict(name="llama_small", kind="llama", hf_class="LlamaForCausalLM", gguf_arch="llama", family="llama",
         tokenizer="spm", vocab_size=288, hidden=64, layers=2, heads=4, kv_heads=2, head_dim=16, ffn=96,
         max_pos=64, eps=1e-5, rope_theta=10000.0, rope_scaling=None, tie=False, seed=9001,
         init=dict(embed=16.0, out_mult=0.25), ftypes=FALLBACK_FTYPES),
]

# Shapes for the mix golden: values do not matter, only names, shapes and counts.
MIX_SPECS = [
    dict(name="llama16_gqa4", kind="llama", hf_class="LlamaForCausalLM", gguf_arch="llama", family="llama",
         tokenizer="spm", vocab_size=320, hidden=256, layers=16, heads=8, kv_heads=2, head_dim=32, ffn=256,
         max_pos=64, eps=1e-5, rope_theta=10000.0, rope_scaling=None, tie=False, seed=1),
    dict(name="llama32_tied_mha", kind="llama", hf_class="LlamaForCausalLM", gguf_arch="llama", family="llama",
         tokenizer="spm", vocab_size=320, hidden=256, layers=32, heads=8, kv_heads=8, head_dim=32, ffn=256,
         max_pos=64, eps=1e-5, rope_theta=10000.0, rope_scaling=None, tie=True, seed=2),
    dict(name="llama8_fallback", kind="llama", hf_class="LlamaForCausalLM", gguf_arch="llama", family="llama",
         tokenizer="spm", vocab_size=320, hidden=160, layers=8, heads=5, kv_heads=1, head_dim=32, ffn=400,
         max_pos=64, eps=1e-5, rope_theta=10000.0, rope_scaling=None, tie=False, seed=3),
    dict(name="gpt2_12", kind="gpt2", hf_class="GPT2LMHeadModel", gguf_arch="gpt2", family="gpt",
         tokenizer="gpt-2", vocab_size=320, hidden=256, layers=12, heads=4, head_dim=64, ffn=512, max_pos=32,
         eps=1e-5, tie=True, seed=4),
]


def log(msg):
    print(msg, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, **kw).stdout


class Tools:
    def __init__(self, bin_dir):
        self.bin = bin_dir
        self.sizes = {}  # type name -> (block elements, block bytes), from ggml itself
        for line in run([self.path("ggml-ref"), "types", "--all"]).decode().splitlines():
            name, qk, size = line.split()
            self.sizes[name] = (int(qk), int(size))

    def path(self, tool):
        return os.path.join(self.bin, tool)

    def quantize(self, src, dst, ftype):
        run([self.path("llama-quantize"), src, dst, ftype, "2"], stderr=subprocess.DEVNULL)

    def dequant(self, tname, raw: bytes) -> np.ndarray:
        if tname == "F32":
            return np.frombuffer(raw, "<f4").copy()
        return np.frombuffer(run([self.path("ggml-ref"), "dequant", tname], input=raw), "<f4").copy()

    def logits(self, model, ids):
        out = run([self.path("llama-logits"), "--greedy", str(N_GREEDY), model] + [str(i) for i in ids])
        return json.loads(out)


def read_gguf(path, tools: Tools, dequantize=True):
    """A GGUF reader for any type llama-quantize writes: metadata, tensor types in
    file order, and (dequantize) each tensor as float32 by ggml's to_float."""
    buf = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return v if len(v) > 1 else v[0]

    def rstr():
        nonlocal pos
        n = take("<Q")
        s = buf[pos:pos + n].decode("utf-8")
        pos += n
        return s

    def rval(t):
        nonlocal pos
        if t == mf.T_STRING:
            return rstr()
        if t == mf.T_BOOL:
            pos += 1
            return bool(buf[pos - 1])
        if t == mf.T_ARRAY:
            et, n = take("<IQ")
            return [rval(et) for _ in range(n)]
        return take(mf._SCALAR_FMT[t])

    assert buf[:4] == b"GGUF"
    pos = 4
    version, n_t, n_kv = take("<IQQ")
    kv = {}
    for _ in range(n_kv):
        k = rstr()
        kv[k] = rval(take("<I"))
    infos = []
    for _ in range(n_t):
        name = rstr()
        dims = [take("<Q") for _ in range(take("<I"))]
        gtype, off = take("<IQ")
        infos.append((name, dims, GGML_TYPES[gtype], off))
    align = kv.get("general.alignment", 32)
    start = pos + mf._pad(pos, align)
    tensors = {}
    for name, dims, tname, off in infos:
        qk, size = tools.sizes[tname]
        n = int(np.prod(dims))
        raw = buf[start + off:start + off + n // qk * size]
        t = {"dims": dims, "type": tname}
        if dequantize:
            t["f32"] = tools.dequant(tname, raw).reshape(tuple(reversed(dims)))
        tensors[name] = t
    return kv, tensors, [i[0] for i in infos]


def f64_run(kv, tensors, ids):
    """The float64 forward: last-position logits of ids and the greedy
    continuation with each step's top-2 gap."""
    seq = list(ids)
    first = None
    gaps = []
    for _ in range(N_GREEDY):
        lg = mf.np_forward_gguf(kv, tensors, seq)[-1]
        if first is None:
            first = lg
        top = np.sort(lg)[-2:]
        gaps.append(float(top[1] - top[0]))
        seq.append(int(np.argmax(lg)))
    return first, seq[len(ids):], gaps


def base_model(spec, seed, path):
    """Writes spec's F32 model with seed; returns (tokenizer info, kv adder)."""
    add_tok, tok = mf.make_tokenizer(spec)
    tok["tokenizer"] = spec["tokenizer"]
    spec = dict(spec, tok=tok)
    w = mf.init_weights(spec, seed)
    kv = mf.gguf_metadata(spec, spec["name"], "f32", add_tok, spec["kind"] == "llama")
    if spec["kind"] == "gpt2":
        # The converter writes 4 x n_embd; these models have a smaller MLP, as
        # n_inner allows in HF (and llama.cpp reads the tensor shapes by this key).
        kv.items = [(k, t, spec["ffn"] if k == "gpt2.feed_forward_length" else v, e) for k, t, v, e in kv.items]
    mf.write_gguf(path, kv, mf.convert_tensors(spec, w, "f32"))
    return tok


def candidate_prompts(spec, tok):
    return [mf.make_prompts(dict(spec, name=f"{spec['name']}_quant_{k}"), tok)[0] for k in range(N_PROMPTS)]


def evaluate(tools, qpath, prompts, specials):
    """The first prompt that gives a well-conditioned comparison, with its results; None if none does."""
    kv, tensors, order = read_gguf(qpath, tools)
    for ids in prompts:
        ref, greedy, gaps = f64_run(kv, tensors, ids)
        if min(gaps) < MIN_GAP or len(set(greedy)) < MIN_DISTINCT or set(greedy) & set(specials):
            continue
        cpp = tools.logits(qpath, ids)
        std = float(ref.std())
        diff = float(np.abs(np.array(cpp["last_logits"], dtype=np.float64) - ref).max())
        if cpp["greedy"] != greedy or diff / std > MAX_CPP_DIFF:
            continue
        return dict(ids=ids, tensors=tensors, order=order, ref=ref, greedy=greedy, gaps=gaps, cpp=cpp, std=std,
                    diff=diff)
    return None


def build_spec(spec, tools, work, out_dir):
    for attempt in range(MAX_SEED_TRIES):
        seed = spec["seed"] + attempt
        base = os.path.join(work, f"{spec['name']}_f32.gguf")
        tok = base_model(spec, seed, base)
        prompts = candidate_prompts(spec, tok)
        results = []
        for ft in spec["ftypes"]:
            qpath = os.path.join(work, f"{spec['name']}_{ft.lower()}.gguf")
            tools.quantize(base, qpath, ft)
            r = evaluate(tools, qpath, prompts, tok["specials"])
            if r is None:
                log(f"  {spec['name']} seed {seed}: no prompt for {ft}")
                break
            results.append(dict(r, ftype=ft, path=qpath, prompt=prompts.index(r["ids"])))
        else:
            break
    else:
        raise RuntimeError(f"{spec['name']}: no acceptable seed")
    log(f"  {spec['name']} seed {seed}")
    for r in results:
        name = f"{spec['name']}_{r['ftype'].lower()}"
        dst = os.path.join(out_dir, name + ".gguf")
        with open(r["path"], "rb") as src, open(dst, "wb") as f:
            f.write(src.read())
        doc = {
            "name": name,
            "arch": spec["family"],
            "gguf_arch": spec["gguf_arch"],
            "file_type": r["ftype"],
            "seed": seed,
            "config": {k: spec[k] for k in ("vocab_size", "hidden", "layers", "heads", "kv_heads", "head_dim", "ffn",
                                            "max_pos", "eps", "rope_theta", "tie", "init") if k in spec},
            "made_by": "hack/quant/make-fixtures.sh: llama-quantize (llama.cpp v0.5.0 from node-llama-cpp 3.22.1) "
                       "of the F32 model, 2 threads, no imatrix",
            "ids": r["ids"],
            "prompt_candidate": r["prompt"],
            "float64": {
                "how": "numpy float64 forward (hack/fixtures/make_fixtures.py np_forward_gguf) over ggml-ref dequant",
                "last_logits": [round(float(x), 6) for x in r["ref"]],
                "greedy": r["greedy"],
                "min_top2_gap": round(min(r["gaps"]), 6),
            },
            "llamacpp": {
                "how": "hack/llamacpp/llama-logits --greedy 16 (1 thread, f32 KV cache)",
                "last_logits": r["cpp"]["last_logits"],
                "greedy": r["cpp"]["greedy"],
                "max_abs_diff_vs_float64": round(r["diff"], 6),
                "diff_over_std": round(r["diff"] / r["std"], 6),
            },
            "tensor_types": {n: r["tensors"][n]["type"] for n in r["order"]},
        }
        with open(os.path.join(out_dir, name + ".json"), "w") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")
        log(f"  {name}: {os.path.getsize(dst)} bytes, prompt {r['prompt']}, min gap {min(r['gaps']):.3f}, "
            f"llama.cpp vs float64 {r['diff'] / r['std']:.4f}")
    return [os.path.join(work, f"{spec['name']}_f32.gguf")] + [r["path"] for r in results]


def build_mix(tools, work, out_path):
    shapes = []
    for spec in MIX_SPECS:
        base = os.path.join(work, f"mix_{spec['name']}_f32.gguf")
        base_model(spec, spec["seed"], base)
        _, btensors, order = read_gguf(base, tools, dequantize=False)
        assert all(t["type"] == "F32" for t in btensors.values())
        types = {}
        for ft in MIX_FTYPES:
            qpath = os.path.join(work, f"mix_{spec['name']}_q_{ft.lower()}.gguf")
            tools.quantize(base, qpath, ft)
            _, qt, qorder = read_gguf(qpath, tools, dequantize=False)
            assert sorted(qorder) == sorted(order)  # llama-quantize writes them in layer order
            types[ft] = " ".join(qt[n]["type"] for n in order)
            os.remove(qpath)
        shapes.append({
            "name": spec["name"], "arch": spec["gguf_arch"], "layers": spec["layers"],
            "gqa": spec["heads"] // spec.get("kv_heads", spec["heads"]), "tied": spec["tie"],
            "tensors": [[n, btensors[n]["dims"], btensors[n]["type"]] for n in order],
            "types": types,
        })
        os.remove(base)
        log(f"  mix {spec['name']}: {len(order)} tensors x {len(MIX_FTYPES)} file types")
    doc = json.dumps({"made_by": "hack/quant/make-fixtures.sh (llama-quantize, no imatrix)", "shapes": shapes},
                     separators=(",", ":")) + "\n"
    with open(out_path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0, filename="") as z:
        z.write(doc.encode())


def main():
    bin_dir, root, work = sys.argv[1:4]
    tools = Tools(bin_dir)
    out_dir = os.path.join(root, "worker", "testdata", "quant")
    os.makedirs(out_dir, exist_ok=True)
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    made = []
    for spec in SPECS:
        log(f"== {spec['name']}")
        made += build_spec(spec, tools, work, out_dir)
    log("== mix")
    build_mix(tools, work, os.path.join(root, "worker", "gguf", "testdata", "mix.json.gz"))
    with open(os.path.join(work, "models.txt"), "w") as f:
        f.write("\n".join(made) + "\n")
    log(f"done in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
