#!/usr/bin/env python3
"""Train the project's two small models on the Go toolchain's own source tree.

Stages (hack/train/README.md has the commands):

  tokenizer  (any machine; Python 3 + numpy + regex, no torch)
             learns a byte-level BPE vocabulary (GPT-2 pre-tokenizer, GPT-2
             byte-to-unicode symbols, one <|endoftext|> control token) from
             DATA/train.jsonl.gz (written by `go run ./hack/train/prepare`)
             and writes DATA/tokenizer.json.
  models     (the GPU machine; PyTorch) encodes the corpus with that
             tokenizer, trains a small llama (RMSNorm, RoPE, SwiGLU, GQA, tied
             embeddings) and a small GPT-2 (LayerNorm, GELU, learned positions,
             tied output) for a fixed wall-clock budget each, keeps the
             checkpoint with the best validation loss, rounds the weights to
             what the GGUF file stores (f16 matrices, f32 norms/biases/
             positions), writes OUT/<name>.gguf the way llama.cpp's converter
             does (hack/fixtures/make_fixtures.py: tensor names, Q/K
             permutation, metadata), and OUT/<name>.json with the held-out
             loss that PyTorch computes in fp32 on those weights, the
             tokenizer's ids for check texts, and greedy continuations.
  all        both (the default).

The encoder here reproduces worker/tokenizer (llama.cpp's byte-level BPE): the
pre-tokenizer is GPT-2's regex with \\s spelled out as Go's unicode.IsSpace set,
and BPE applies the lowest-ranked merge first. worker/engine/trained_test.go
checks that Go's ids equal the ids recorded here, and that the engine's loss
equals PyTorch's.
"""

from __future__ import annotations

import argparse
import collections
import copy
import gzip
import hashlib
import heapq
import json
import math
import os
import platform
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import make_fixtures as mf  # noqa: E402  (GGUF writer, converter mapping, numpy forwards)

EOT = "<|endoftext|>"

# GPT-2's pre-tokenizer regex, with \s as Go's unicode.IsSpace (the Unicode
# White_Space property) rather than whatever the regex module's tables say.
WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
PATTERN = (rf"'s|'t|'re|'ve|'m|'ll|'d| ?\p{{L}}+| ?\p{{N}}+| ?[^{WS}\p{{L}}\p{{N}}]+"
           rf"|[{WS}]+(?![^{WS}])|[{WS}]+")

# The chat template of both models. They are code models, not assistants: a
# conversation becomes Go comments (the user's words) and code (the
# assistant's turns), and the reply is the code the model writes next.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}{{ message['content'] + '\n' }}"
    "{% else %}{% for line in message['content'].split('\n') %}{{ '// ' + line + '\n' }}{% endfor %}"
    "{% endif %}{% endfor %}")

# Texts whose ids the Go tokenizer must reproduce (besides the held-out sample).
CHECK_TEXTS = [
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello, 世界\")\n}\n",
    "// Copyright 2009 The Go Authors. All rights reserved.\n// Use of this source code is governed by a BSD-style\n",
    "\tif err != nil {\n\t\treturn nil, fmt.Errorf(\"open %s: %w\", name, err)\n\t}\n",
    "x := 0x7fffffff + 1234567 - 3.14e-10i // numbers\n",
    "It's they're we've I'm you'll he'd  don't  DON'T\n",
    "   leading spaces, trailing spaces   \n\n\n\t\t\n  \r\n end",
    "héllo wörld ñ Ελληνικά русский 日本語 🙂🚀 \u00a0nbsp\u2003em space \u200bzero-width",
    "a" * 50 + " " + "=" * 30 + "\x00\x01\x7f",
    "before<|endoftext|>after <|endoftext|> space",
    "func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {",
]


# --------------------------------------------------------------------------
# Byte-level BPE
# --------------------------------------------------------------------------

def byte_symbols() -> list[str]:
    """Symbol of each byte value (GPT-2's bytes_to_unicode)."""
    m = mf.bytes_to_unicode()
    return [m[b] for b in range(256)]


def compile_pattern():
    import regex
    return regex.compile(PATTERN)


def count_words(texts, pat) -> collections.Counter:
    c = collections.Counter()
    for t in texts:
        c.update(pat.findall(t))
    return c


def train_bpe(word_counts: dict[str, int], vocab_size: int, log) -> tuple[list[bytes], list[tuple[int, int]]]:
    """Learns merges until the vocabulary (256 bytes + merges + 1 special)
    has vocab_size entries. Returns (token bytes by id, merges as id pairs).
    The most frequent pair wins; ties go to the smallest (left id, right id),
    so the result depends only on the counts."""
    n_target = vocab_size - 1
    toks: list[bytes] = [bytes([b]) for b in range(256)]
    tok_id = {t: i for i, t in enumerate(toks)}
    words = [list(w.encode("utf-8")) for w in word_counts]
    counts = list(word_counts.values())
    pair_counts: dict[tuple[int, int], int] = collections.defaultdict(int)
    where: dict[tuple[int, int], set[int]] = collections.defaultdict(set)
    for wi, w in enumerate(words):
        c = counts[wi]
        for p in zip(w, w[1:]):
            pair_counts[p] += c
            where[p].add(wi)
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)
    merges: list[tuple[int, int]] = []
    t0 = time.time()
    while len(toks) < n_target and heap:
        negc, p = heapq.heappop(heap)
        if pair_counts.get(p, 0) != -negc:
            continue  # stale entry
        if -negc < 2:
            break
        a, b = p
        new_bytes = toks[a] + toks[b]
        nid = tok_id.get(new_bytes)
        if nid is None:
            nid = len(toks)
            toks.append(new_bytes)
            tok_id[new_bytes] = nid
        merges.append(p)
        changed = set()
        for wi in list(where[p]):
            w = words[wi]
            c = counts[wi]
            if len(w) < 2:
                continue
            out = []
            i = 0
            hit = False
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(nid)
                    i += 2
                    hit = True
                else:
                    out.append(w[i])
                    i += 1
            if not hit:
                continue
            for q in zip(w, w[1:]):
                pair_counts[q] -= c
                changed.add(q)
            for q in zip(out, out[1:]):
                pair_counts[q] += c
                where[q].add(wi)
                changed.add(q)
            words[wi] = out
        del where[p]
        for q in changed:
            cq = pair_counts[q]
            if cq > 0:
                heapq.heappush(heap, (-cq, q))
            elif cq == 0:
                del pair_counts[q]
        if len(merges) % 500 == 0:
            log(f"  {len(merges)} merges, {len(toks)} tokens, last {new_bytes!r} x{-negc} ({time.time() - t0:.1f}s)")
    return toks, merges


class Tokenizer:
    """Encoder/decoder for a tokenizer.json written by the tokenizer stage."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.tokens: list[str] = spec["tokens"]
        sym = byte_symbols()
        inv = {s: b for b, s in enumerate(sym)}
        self.tok_bytes = [bytes(inv[ch] for ch in t) if i != spec["eot"] else t.encode()
                          for i, t in enumerate(self.tokens)]
        self.id_of = {t: i for i, t in enumerate(self.tokens)}
        self.eot = spec["eot"]
        self.ranks = {}
        for r, m in enumerate(spec["merges"]):
            left, right = m.split(" ")
            a, b = self.id_of[left], self.id_of[right]
            if (a, b) not in self.ranks:
                self.ranks[(a, b)] = (r, self.id_of[left + right])
        self.byte_id = [self.id_of[s] for s in sym]
        self.pat = compile_pattern()
        self.cache: dict[str, list[int]] = {}

    def bpe(self, word: str) -> list[int]:
        ids = self.cache.get(word)
        if ids is not None:
            return ids
        ids = [self.byte_id[b] for b in word.encode("utf-8")]
        ranks = self.ranks
        while len(ids) > 1:
            best = None
            for p in zip(ids, ids[1:]):
                r = ranks.get(p)
                if r is not None and (best is None or r[0] < best[0]):
                    best = (r[0], r[1], p)
            if best is None:
                break
            _, res, (a, b) = best
            out, i = [], 0
            while i < len(ids):
                if i + 1 < len(ids) and ids[i] == a and ids[i + 1] == b:
                    out.append(res)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            ids = out
        self.cache[word] = ids
        return ids

    def encode_plain(self, text: str) -> list[int]:
        out = []
        for w in self.pat.findall(text):
            out.extend(self.bpe(w))
        return out

    def encode(self, text: str) -> list[int]:
        """As worker/tokenizer's Encode(text, false): <|endoftext|> in the
        text is the control token."""
        out = []
        parts = text.split(EOT)
        for i, part in enumerate(parts):
            if i:
                out.append(self.eot)
            if part:
                out.extend(self.encode_plain(part))
        return out

    def decode(self, ids) -> str:
        return b"".join(self.tok_bytes[i] for i in ids).decode("utf-8", errors="replace")


def read_docs(path: str) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def stage_tokenizer(args, log):
    import regex
    man = json.load(open(os.path.join(args.data, "manifest.json")))
    docs = read_docs(os.path.join(args.data, "train.jsonl.gz"))
    pat = compile_pattern()
    t0 = time.time()
    wc = count_words((d["text"] for d in docs), pat)
    log(f"tokenizer: {len(docs)} training files of {man['go_version']}, "
        f"{sum(wc.values())} pre-tokens, {len(wc)} distinct ({time.time() - t0:.1f}s)")
    # Deterministic order (the counts alone decide the merges, but keep the
    # word list stable too).
    wc = dict(sorted(wc.items(), key=lambda kv: (-kv[1], kv[0])))
    t0 = time.time()
    toks, merges = train_bpe(wc, args.vocab, log)
    sym = byte_symbols()

    def text_of(b: bytes) -> str:
        return "".join(sym[x] for x in b)
    tokens = [text_of(t) for t in toks] + [EOT]
    if len(tokens) != args.vocab:
        raise SystemExit(f"vocabulary has {len(tokens)} tokens, wanted {args.vocab} (corpus too small?)")
    assert len(set(tokens)) == len(tokens)
    spec = {
        "vocab_size": len(tokens),
        "tokens": tokens,
        "merges": [f"{tokens[a]} {tokens[b]}" for a, b in merges],
        "eot": len(tokens) - 1,
        "pattern": PATTERN,
        "corpus": {"go_version": man["go_version"], "train_sha256": man["train"]["sha256"],
                   "train_files": man["train"]["files"], "train_bytes": man["train"]["bytes"]},
        "made_with": {"python": platform.python_version(), "regex": regex.__version__},
    }
    tk = Tokenizer(spec)
    # Round trip on the held-out files, and bytes per token.
    held = read_docs(os.path.join(args.data, "heldout.jsonl.gz"))
    n_ids = n_bytes = 0
    for d in held:
        ids = tk.encode_plain(d["text"])
        if tk.decode(ids) != d["text"]:
            raise SystemExit(f"round trip failed on {d['path']}")
        n_ids += len(ids)
        n_bytes += len(d["text"].encode())
    spec["heldout_bytes_per_token"] = round(n_bytes / n_ids, 4)
    with open(os.path.join(args.data, "tokenizer.json"), "w") as f:
        json.dump(spec, f, ensure_ascii=False)
    log(f"tokenizer: {len(tokens)} tokens, {len(merges)} merges in {time.time() - t0:.1f}s; "
        f"held out: {n_bytes / n_ids:.3f} bytes/token -> {os.path.join(args.data, 'tokenizer.json')}")


# --------------------------------------------------------------------------
# Models (PyTorch)
# --------------------------------------------------------------------------

def model_specs(vocab: int, smoke: bool) -> list[dict]:
    """make_fixtures-style specs (the GGUF converter mapping reads them)."""
    if smoke:
        llama = dict(hidden=64, layers=2, heads=4, kv_heads=2, head_dim=16, ffn=160, max_pos=128)
        gpt = dict(hidden=64, layers=2, heads=4, head_dim=16, ffn=256, max_pos=128)
    else:
        llama = dict(hidden=256, layers=5, heads=8, kv_heads=2, head_dim=32, ffn=640, max_pos=512)
        gpt = dict(hidden=256, layers=4, heads=8, head_dim=32, ffn=1024, max_pos=512)
    return [
        dict(name="llama-go", kind="llama", gguf_arch="llama", family="llama", hf_class="LlamaForCausalLM",
             vocab_size=vocab, eps=1e-5, rope_theta=10000.0, rope_scaling=None, tie=True, **llama),
        dict(name="gpt-go", kind="gpt2", gguf_arch="gpt2", family="gpt", hf_class="GPT2LMHeadModel",
             vocab_size=vocab, eps=1e-5, tie=True, **gpt),
    ]


def build_model(spec, dropout):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    d, H, hd, L = spec["hidden"], spec["heads"], spec["head_dim"], spec["layers"]
    V, P, eps = spec["vocab_size"], spec["max_pos"], spec["eps"]

    def attend(q, k, v):
        """q (B, H, T, hd), k/v (B, Hkv, T, hd): causal, GQA as q head h -> kv head h // (H / Hkv)."""
        if k.shape[1] != q.shape[1]:
            rep = q.shape[1] // k.shape[1]
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        if hasattr(F, "scaled_dot_product_attention"):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        T = q.shape[2]
        s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        s = s.masked_fill(torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1), float("-inf"))
        return torch.softmax(s.float(), -1).to(v.dtype) @ v

    if spec["kind"] == "llama":
        Hkv, ff = spec["kv_heads"], spec["ffn"]

        class RMSNorm(nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = nn.Parameter(torch.ones(d))

            def forward(self, x):
                xf = x.float()
                return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * self.weight

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.input_layernorm = RMSNorm()
                self.q_proj = nn.Linear(d, H * hd, bias=False)
                self.k_proj = nn.Linear(d, Hkv * hd, bias=False)
                self.v_proj = nn.Linear(d, Hkv * hd, bias=False)
                self.o_proj = nn.Linear(H * hd, d, bias=False)
                self.post_attention_layernorm = RMSNorm()
                self.gate_proj = nn.Linear(d, ff, bias=False)
                self.up_proj = nn.Linear(d, ff, bias=False)
                self.down_proj = nn.Linear(ff, d, bias=False)
                self.drop = nn.Dropout(dropout)

            def forward(self, x, cos, sin):
                B, T, _ = x.shape
                h = self.input_layernorm(x)
                q = self.q_proj(h).view(B, T, H, hd).transpose(1, 2)
                k = self.k_proj(h).view(B, T, Hkv, hd).transpose(1, 2)
                v = self.v_proj(h).view(B, T, Hkv, hd).transpose(1, 2)

                def rope(t):  # transformers' rotate_half convention
                    t1, t2 = t[..., :hd // 2], t[..., hd // 2:]
                    return t * cos + torch.cat([-t2, t1], -1) * sin
                a = attend(rope(q), rope(k), v).transpose(1, 2).reshape(B, T, H * hd)
                x = x + self.drop(self.o_proj(a))
                h = self.post_attention_layernorm(x)
                return x + self.drop(self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h)))

        class Llama(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed_tokens = nn.Embedding(V, d)
                self.layers = nn.ModuleList(Block() for _ in range(L))
                self.norm = RMSNorm()
                # transformers: 1 / theta ** (arange(0, hd, 2) / hd), float32
                inv = 1.0 / (spec["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
                self.register_buffer("inv_freq", inv, persistent=False)

            def forward(self, ids):
                T = ids.shape[1]
                pos = torch.arange(T, device=ids.device, dtype=torch.float32)
                ang = pos[:, None] * self.inv_freq[None, :]
                emb = torch.cat([ang, ang], -1)
                x = self.embed_tokens(ids)
                cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
                for blk in self.layers:
                    x = blk(x, cos, sin)
                return self.norm(x) @ self.embed_tokens.weight.t()

            def hf_weights(self):
                """HF LlamaForCausalLM names and layouts (float32 numpy)."""
                w = {"model.embed_tokens.weight": self.embed_tokens.weight, "model.norm.weight": self.norm.weight}
                for i, b in enumerate(self.layers):
                    p = f"model.layers.{i}."
                    w |= {p + "input_layernorm.weight": b.input_layernorm.weight,
                          p + "self_attn.q_proj.weight": b.q_proj.weight,
                          p + "self_attn.k_proj.weight": b.k_proj.weight,
                          p + "self_attn.v_proj.weight": b.v_proj.weight,
                          p + "self_attn.o_proj.weight": b.o_proj.weight,
                          p + "post_attention_layernorm.weight": b.post_attention_layernorm.weight,
                          p + "mlp.gate_proj.weight": b.gate_proj.weight,
                          p + "mlp.up_proj.weight": b.up_proj.weight,
                          p + "mlp.down_proj.weight": b.down_proj.weight}
                return {k: v.detach().float().cpu().numpy() for k, v in w.items()}

        m = Llama()
    else:
        ff = spec["ffn"]

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.ln_1 = nn.LayerNorm(d, eps=eps)
                self.c_attn = nn.Linear(d, 3 * d)
                self.c_proj = nn.Linear(d, d)
                self.ln_2 = nn.LayerNorm(d, eps=eps)
                self.c_fc = nn.Linear(d, ff)
                self.mlp_proj = nn.Linear(ff, d)
                self.drop = nn.Dropout(dropout)

            def forward(self, x):
                B, T, _ = x.shape
                q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=-1)
                q, k, v = (t.view(B, T, H, hd).transpose(1, 2) for t in (q, k, v))
                a = attend(q, k, v).transpose(1, 2).reshape(B, T, d)
                x = x + self.drop(self.c_proj(a))
                h = F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh")  # gelu_new
                return x + self.drop(self.mlp_proj(h))

        class GPT(nn.Module):
            def __init__(self):
                super().__init__()
                self.wte = nn.Embedding(V, d)
                self.wpe = nn.Embedding(P, d)
                self.h = nn.ModuleList(Block() for _ in range(L))
                self.ln_f = nn.LayerNorm(d, eps=eps)

            def forward(self, ids):
                T = ids.shape[1]
                x = self.wte(ids) + self.wpe(torch.arange(T, device=ids.device))
                for blk in self.h:
                    x = blk(x)
                return self.ln_f(x) @ self.wte.weight.t()

            def hf_weights(self):
                """HF GPT2LMHeadModel names; Conv1D weights are [in, out]."""
                t = lambda p: p.t()  # noqa: E731  nn.Linear [out, in] -> Conv1D [in, out]
                w = {"transformer.wte.weight": self.wte.weight, "transformer.wpe.weight": self.wpe.weight,
                     "transformer.ln_f.weight": self.ln_f.weight, "transformer.ln_f.bias": self.ln_f.bias}
                for i, b in enumerate(self.h):
                    p = f"transformer.h.{i}."
                    w |= {p + "ln_1.weight": b.ln_1.weight, p + "ln_1.bias": b.ln_1.bias,
                          p + "attn.c_attn.weight": t(b.c_attn.weight), p + "attn.c_attn.bias": b.c_attn.bias,
                          p + "attn.c_proj.weight": t(b.c_proj.weight), p + "attn.c_proj.bias": b.c_proj.bias,
                          p + "ln_2.weight": b.ln_2.weight, p + "ln_2.bias": b.ln_2.bias,
                          p + "mlp.c_fc.weight": t(b.c_fc.weight), p + "mlp.c_fc.bias": b.c_fc.bias,
                          p + "mlp.c_proj.weight": t(b.mlp_proj.weight), p + "mlp.c_proj.bias": b.mlp_proj.bias}
                return {k: v.detach().float().cpu().numpy().copy() for k, v in w.items()}

        m = GPT()

    # GPT-2 initialisation: N(0, 0.02), residual projections / sqrt(2 L), zero biases.
    with torch.no_grad():
        for n, p in m.named_parameters():
            if p.ndim == 1:
                if n.endswith("bias"):
                    p.zero_()
                continue
            std = 0.02
            if n.endswith(("o_proj.weight", "down_proj.weight", "c_proj.weight", "mlp_proj.weight")):
                std /= math.sqrt(2 * L)
            p.normal_(0.0, std)
    return m


def stored_round(spec, m):
    """Rounds the parameters in place to what the GGUF file stores: 2-D
    weights to f16, except GPT-2's position embeddings, which stay f32 like
    norms and biases (make_fixtures.convert_tensors' type rule)."""
    import torch
    with torch.no_grad():
        for n, p in m.named_parameters():
            if p.ndim == 2 and n != "wpe.weight":
                mx = float(p.abs().max())
                if mx >= 65504:
                    raise RuntimeError(f"{n}: |w| {mx} does not fit f16")
                p.copy_(p.half().float())


def mean_ce(model, windows, device, dtype=None, batch=64):
    """Sum of next-token cross-entropies over windows (lists of ids, each
    evaluated from position 0) and the number of predictions."""
    import torch
    import torch.nn.functional as F
    total, n = 0.0, 0
    by_len = collections.defaultdict(list)
    for w in windows:
        if len(w) >= 2:
            by_len[len(w)].append(w)
    model.eval()
    with torch.no_grad():
        for L, ws in sorted(by_len.items()):
            for i in range(0, len(ws), batch):
                x = torch.tensor(np.array(ws[i:i + batch], dtype=np.int64), device=device)
                if dtype is not None and device.startswith("cuda"):
                    with torch.autocast("cuda", dtype=dtype):
                        lg = model(x[:, :-1])
                else:
                    lg = model(x[:, :-1])
                ce = F.cross_entropy(lg.double().reshape(-1, lg.shape[-1]), x[:, 1:].reshape(-1), reduction="sum")
                total += float(ce)
                n += x[:, 1:].numel()
    return total, n


def chunks(ids, window):
    return [ids[i:i + window] for i in range(0, len(ids), window)]


def sample_windows(arr, n, T, seed):
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(arr) - T - 1, n)
    return [arr[s:s + T + 1].astype(np.int64).tolist() for s in starts]


def greedy(model, prompt, n):
    import torch
    ids = list(prompt)
    gaps = []
    model.eval()
    with torch.no_grad():
        for _ in range(n):
            lg = model(torch.tensor([ids]))[0, -1].double()
            top = torch.topk(lg, 2).values
            gaps.append(round(float(top[0] - top[1]), 6))
            ids.append(int(torch.argmax(lg)))
    return ids[len(prompt):], gaps


def tokenizer_kv(tk: Tokenizer):
    V = len(tk.tokens)
    types = [mf.TOK_NORMAL] * V
    types[tk.eot] = mf.TOK_CONTROL

    def add(kv):
        kv.s("tokenizer.ggml.model", "gpt2")
        kv.s("tokenizer.ggml.pre", "gpt-2")  # GPT-2's regex, as llama.cpp names it
        kv.arr("tokenizer.ggml.tokens", mf.T_STRING, tk.tokens)
        kv.arr("tokenizer.ggml.token_type", mf.T_INT32, types)
        kv.arr("tokenizer.ggml.merges", mf.T_STRING, tk.spec["merges"])
        kv.u32("tokenizer.ggml.bos_token_id", tk.eot)
        kv.u32("tokenizer.ggml.eos_token_id", tk.eot)
        kv.b("tokenizer.ggml.add_bos_token", False)
        kv.s("tokenizer.chat_template", CHAT_TEMPLATE)
    return add


def render_chat(messages):
    """CHAT_TEMPLATE in Python (for the recorded chat prompt)."""
    out = []
    for m in messages:
        if m["role"] == "assistant":
            out.append(m["content"] + "\n")
        else:
            out.extend("// " + line + "\n" for line in m["content"].split("\n"))
    return "".join(out)


# Greedy continuations recorded for the Go test: (name, chat messages or
# None, prompt text). The chat one is what `make demo` asks.
CHAT_MESSAGES = [{"role": "user", "content": "Reverse returns s with its runes in reverse order."}]
GREEDY_PROMPTS = [
    ("chat", CHAT_MESSAGES, render_chat(CHAT_MESSAGES)),
    ("package", None, "package main\n\nimport (\n"),
    ("method", None, "// Len returns the number of elements in the list.\nfunc (l *List) Len() int {\n"),
]


def train_one(spec, tk, data, args, log, out_dir):
    import torch
    import torch.nn.functional as F
    dev = args.device
    torch.manual_seed(args.seed)
    model = build_model(spec, args.dropout).to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"== {spec['name']}: {n_params / 1e6:.2f}M parameters, {json.dumps({k: spec[k] for k in ('hidden', 'layers', 'heads', 'kv_heads', 'ffn', 'max_pos') if k in spec})}")
    T, B = spec["max_pos"], args.batch
    train = torch.from_numpy(data["train"].astype(np.int64)).to(dev)
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt_kw = dict(lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    if dev.startswith("cuda"):
        opt_kw["fused"] = True
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}], **opt_kw)
    amp = torch.bfloat16 if dev.startswith("cuda") else None
    if dev.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
    val_windows = sample_windows(data["val"], args.val_windows, T, 1)
    offs = torch.arange(T + 1, device=dev)
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)
    budget = args.minutes * 60
    best = (float("inf"), None, -1)
    curve = []
    step, ema = 0, None
    t0 = time.time()
    next_eval = t0 + args.eval_every
    while True:
        el = time.time() - t0
        frac = min(el / budget, 1.0)
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        idx = torch.randint(0, len(train) - T - 1, (B,), device=dev, generator=gen)
        xy = train[idx[:, None] + offs]
        if amp is not None:
            with torch.autocast("cuda", dtype=amp):
                lg = model(xy[:, :-1])
        else:
            lg = model(xy[:, :-1])
        loss = F.cross_entropy(lg.float().reshape(-1, lg.shape[-1]), xy[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        done = el >= budget
        if time.time() >= next_eval or done:
            lv = float(loss.detach())
            ema = lv if ema is None else 0.9 * ema + 0.1 * lv
            s, n = mean_ce(model, val_windows, dev, amp)
            vl = s / n
            curve.append({"step": step, "seconds": round(el, 1), "train_loss": round(lv, 4), "val_loss": round(vl, 4),
                          "lr": round(lr, 6)})
            log(f"  step {step:6d}  {el:6.1f}s  train {lv:.4f}  val {vl:.4f}  lr {lr:.2e}  "
                f"{step * B * T / max(el, 1e-9) / 1e6:.2f}M tok/s")
            if vl < best[0]:
                best = (vl, {k: v.detach().clone() for k, v in model.state_dict().items()}, step)
            next_eval = time.time() + args.eval_every
        if done:
            break
    train_seconds = time.time() - t0
    tokens_seen = step * B * T
    log(f"  trained {step} steps, {tokens_seen / 1e6:.1f}M tokens ({tokens_seen / len(data['train']):.1f} epochs) "
        f"in {train_seconds:.0f}s; best val {best[0]:.4f} at step {best[2]}")
    model.load_state_dict(best[1])
    del train

    # What the file stores, evaluated in fp32 on the CPU (no TF32, no autocast).
    model = model.float().cpu()
    stored_round(spec, model)
    torch.set_num_threads(max(1, min(16, os.cpu_count() or 1)))
    res = {"name": spec["name"]}

    sample_ids = data["sample_ids"]
    W = args.sample_window
    s32, n32 = mean_ce(model, chunks(sample_ids, W), "cpu")
    m64 = build_model(spec, 0.0).double()
    m64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    s64, _ = mean_ce(m64, chunks(sample_ids, W), "cpu")
    del m64
    log(f"  held-out sample: {n32} predictions, loss fp32 {s32 / n32:.6f}, fp64 {s64 / n32:.6f}")

    # GGUF
    w = model.hf_weights()
    add_tok = tokenizer_kv(tk)
    kv = mf.gguf_metadata(spec, spec["name"], "f16", add_tok, True)
    tensors = mf.convert_tensors(spec, w, "f16")
    path = os.path.join(out_dir, spec["name"] + ".gguf")
    size = mf.write_gguf(path, kv, tensors)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    log(f"  wrote {path}: {size} bytes ({size / 1e6:.2f} MB), sha256 {digest}")

    # The written file, read back and run with llama.cpp semantics in float64
    # numpy, must give PyTorch's logits (checks names, layouts, permutation).
    rkv, _, rt, _ = mf.read_gguf(path)
    probe = sample_ids[:64]
    with torch.no_grad():
        ref = model(torch.tensor([probe]))[0].double().numpy()
    got = mf.np_forward_gguf(rkv, rt, probe)
    gguf_diff = float(np.max(np.abs(got - ref)))
    hf_diff = float(np.max(np.abs(mf.np_forward_hf(spec, w, probe) - ref)))
    log(f"  GGUF read back, numpy llama.cpp-semantics forward vs PyTorch: max |logit diff| {gguf_diff:.2e}; "
        f"numpy HF-semantics forward: {hf_diff:.2e}")

    # Whole held-out test split, and a train sample of the same size, fp32
    # (on the GPU with TF32 off).
    test_w = chunks(data["test"].astype(np.int64).tolist(), T + 1)
    if args.smoke:
        test_w = test_w[:16]
    tr_w = sample_windows(data["train"], len(test_w), T, 2)
    if dev.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.set_float32_matmul_precision("highest")
    mg = copy.deepcopy(model).to(dev)
    ts, tn = mean_ce(mg, test_w, dev, batch=16)
    trs, trn = mean_ce(mg, tr_w, dev, batch=16)
    del mg
    log(f"  held-out test split: {tn} predictions, loss {ts / tn:.4f} (ppl {math.exp(ts / tn):.2f}); "
        f"train sample: loss {trs / trn:.4f} (ppl {math.exp(trs / trn):.2f})")

    gens = []
    for name, messages, text in GREEDY_PROMPTS:
        pids = tk.encode(text)
        g, gaps = greedy(model, pids, args.greedy_tokens)
        gens.append({"name": name, "messages": messages, "prompt": text, "prompt_ids": pids, "greedy": g,
                     "gaps": gaps, "text": tk.decode(g)})
        log(f"  greedy {name}: {text!r} -> {tk.decode(g)!r}")

    res.update({
        "file": os.path.basename(path), "bytes": size, "sha256": digest,
        "arch": spec["family"], "gguf_arch": spec["gguf_arch"], "dtype": "f16", "parameters": n_params,
        "config": {k: spec[k] for k in ("vocab_size", "hidden", "layers", "heads", "kv_heads", "head_dim",
                                        "ffn", "max_pos", "eps", "rope_theta", "tie") if k in spec},
        "corpus": data["corpus"],
        "tokenizer": {"vocab_size": len(tk.tokens), "merges": len(tk.spec["merges"]), "eos": tk.eot,
                      "bos": tk.eot, "pre": "gpt-2", "heldout_bytes_per_token": tk.spec.get("heldout_bytes_per_token"),
                      "checks": data["checks"]},
        "training": {"device": data["device_name"], "torch": torch.__version__, "seconds": round(train_seconds, 1),
                     "steps": step, "batch": B, "seq_len": T, "tokens": tokens_seen,
                     "epochs": round(tokens_seen / len(data["train"]), 2), "lr": args.lr, "warmup": args.warmup,
                     "weight_decay": args.wd, "dropout": args.dropout, "precision": "bf16 autocast" if amp else "fp32",
                     "best_step": best[2], "best_val_loss": round(best[0], 6), "curve": curve},
        "heldout": {"what": "every token of the held-out test split, windows of max_pos+1 tokens, fp32 on the stored weights",
                    "predictions": tn, "loss": ts / tn, "perplexity": math.exp(ts / tn),
                    "bits_per_byte": ts / tn / math.log(2) * len(data["test"]) / data["test_bytes"]},
        "train_sample": {"predictions": trn, "loss": trs / trn, "perplexity": math.exp(trs / trn)},
        "sample": {"file": data["sample_file"], "source": data["sample_source"], "window": W,
                   "ids": sample_ids, "predictions": n32,
                   "loss_fp32": s32 / n32, "loss_fp64": s64 / n32, "perplexity": math.exp(s32 / n32)},
        "greedy": gens,
        "checks": {"gguf_numpy_vs_torch_max_abs": gguf_diff, "hf_numpy_vs_torch_max_abs": hf_diff},
    })
    with open(os.path.join(out_dir, spec["name"] + ".json"), "w") as f:
        json.dump(res, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    ok = gguf_diff < 2e-3 and hf_diff < 2e-3
    if not ok:
        log("  CHECK FAILED: the GGUF file does not reproduce PyTorch's logits")
    return ok


def pick_sample(tk, docs, budget_tokens):
    """The first lines of a held-out test file (fixed order), up to about
    budget_tokens tokens, cut at a line end."""
    rng = np.random.default_rng(7)
    order = rng.permutation(len(docs))
    for i in order:
        d = docs[int(i)]
        if len(d["text"]) < 4 * budget_tokens:
            continue
        lines = d["text"].splitlines(keepends=True)
        text = ""
        for ln in lines:
            if len(tk.encode_plain(text + ln)) > budget_tokens:
                break
            text += ln
        if len(tk.encode_plain(text)) >= budget_tokens * 0.9:
            return d["path"], text
    raise RuntimeError("no held-out file is long enough for the sample")


def stage_models(args, log):
    import torch
    t_start = time.time()
    spec_path = os.path.join(args.data, "tokenizer.json")
    tk = Tokenizer(json.load(open(spec_path, encoding="utf-8")))
    man = json.load(open(os.path.join(args.data, "manifest.json")))
    os.makedirs(args.out, exist_ok=True)
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    dev_name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else platform.processor() or "cpu"
    log(f"torch {torch.__version__}, device {args.device} ({dev_name}), numpy {np.__version__}, python {platform.python_version()}")

    t0 = time.time()
    train_docs = read_docs(os.path.join(args.data, "train.jsonl.gz"))
    held_docs = read_docs(os.path.join(args.data, "heldout.jsonl.gz"))
    if args.smoke:
        train_docs = train_docs[::20]

    def stream(docs):
        out = []
        for d in docs:
            out.extend(tk.encode_plain(d["text"]))
            out.append(tk.eot)
        return np.array(out, dtype=np.uint16 if len(tk.tokens) <= 65535 else np.int32)
    # Held-out packages: alternate ones validate (checkpoint choice), the others are the test split.
    pkgs = sorted({os.path.dirname(d["path"]) for d in held_docs})
    val_pkgs = set(pkgs[0::2])
    val_docs = [d for d in held_docs if os.path.dirname(d["path"]) in val_pkgs]
    test_docs = [d for d in held_docs if os.path.dirname(d["path"]) not in val_pkgs]
    data = {"train": stream(train_docs), "val": stream(val_docs), "test": stream(test_docs)}
    data["test_bytes"] = sum(len(d["text"].encode()) for d in test_docs)
    log(f"encoded in {time.time() - t0:.1f}s: train {len(data['train'])} tokens ({len(train_docs)} files), "
        f"val {len(data['val'])} ({len(val_docs)} files, {len(val_pkgs)} packages), "
        f"test {len(data['test'])} ({len(test_docs)} files, {len(pkgs) - len(val_pkgs)} packages)")

    src, text = pick_sample(tk, test_docs, args.sample_tokens)
    data["sample_file"] = "heldout-sample.txt"
    data["sample_source"] = "$GOROOT/src/" + src
    data["sample_ids"] = tk.encode_plain(text)
    with open(os.path.join(args.out, data["sample_file"]), "w", encoding="utf-8", newline="") as f:
        f.write(text)
    data["checks"] = [{"text": t, "ids": tk.encode(t)} for t in CHECK_TEXTS]
    data["corpus"] = {"go_version": man["go_version"], "rules": man["rules"],
                      "train_files": len(train_docs), "train_tokens": int(len(data["train"])),
                      "heldout_packages": pkgs, "val_packages": sorted(val_pkgs),
                      "val_tokens": int(len(data["val"])), "test_tokens": int(len(data["test"]))}
    data["device_name"] = dev_name

    ok = True
    for spec in model_specs(len(tk.tokens), args.smoke):
        if args.only and spec["name"] not in args.only:
            continue
        ok = train_one(spec, tk, data, args, log, args.out) and ok
    log(f"done in {time.time() - t_start:.0f}s: {'OK' if ok else 'CHECK FAILED'}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", nargs="?", default="all", choices=["tokenizer", "models", "all"])
    ap.add_argument("--data", default=".train-data", help="corpus directory (go run ./hack/train/prepare)")
    ap.add_argument("--out", default=".train-data/out", help="where the models stage writes")
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--minutes", type=float, default=2.5, help="training time per model")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--eval-every", type=float, default=10.0, help="seconds between validation runs")
    ap.add_argument("--val-windows", type=int, default=128)
    ap.add_argument("--sample-tokens", type=int, default=1024)
    ap.add_argument("--sample-window", type=int, default=256)
    ap.add_argument("--greedy-tokens", type=int, default=48)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--only", nargs="*", help="model names (llama-go, gpt-go)")
    ap.add_argument("--smoke", action="store_true", help="tiny models, a few seconds each (pipeline check)")
    args = ap.parse_args()
    if args.smoke:
        args.minutes = min(args.minutes, 0.2)
        args.batch = min(args.batch, 8)
        args.val_windows = min(args.val_windows, 8)
        args.eval_every = min(args.eval_every, 4)
        args.warmup = min(args.warmup, 20)
        args.greedy_tokens = min(args.greedy_tokens, 12)
        args.sample_window = min(args.sample_window, 64)

    def log(msg):
        print(msg, flush=True)

    if args.stage in ("tokenizer", "all"):
        stage_tokenizer(args, log)
    if args.stage in ("models", "all"):
        if not stage_models(args, log):
            sys.exit(1)


if __name__ == "__main__":
    main()
