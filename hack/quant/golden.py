#!/usr/bin/env python3
"""Golden data for worker/gguf's per-type tests, made by ggml itself.

For each type (ggml-ref's default list plus F16 and BF16), writes into OUT:
  <type>.rand          random blocks: random bytes, with every fp16 field
                       replaced by a random *finite* half (sign, exponent
                       0..30 incl. subnormals and zero, mantissa), so every
                       bit pattern of the packed scales and quants occurs
  <type>.rand.f32.gz   ggml's to_float of <type>.rand (ggml-ref dequant)
  <type>.quant         ggml_quantize_chunk(imatrix=NULL) of src.f32.gz
                       (ggml-ref quantize), what llama-quantize writes
and once:
  src.f32.gz           the float32 rows every type quantizes (see src_rows)
  big.sha256           for each type, the SHA-256 of ggml's quantization of
                       BIG_ROWS rows made by big_source() (also written by the
                       Go test: every value is built from integers with exact
                       float32 operations, so both languages get the same
                       bits), and of ggml's to_float of those blocks: a check
                       over 256 rows that costs 2 lines per type

Usage: golden.py GGML_REF OUT   (hack/quant/make-golden.sh runs it)
Output is deterministic: fixed seeds, gzip with mtime 0.
"""

import gzip
import hashlib
import io
import math
import os
import random
import struct
import subprocess
import sys

# name -> (elements per block, bytes per block, offsets of fp16 fields);
# the offsets are ggml-common.h's block_* layouts.
TYPES = {
    "F16": (1, 2, [0]),
    "BF16": (1, 2, []),
    "Q4_0": (32, 18, [0]),
    "Q4_1": (32, 20, [0, 2]),
    "Q5_0": (32, 22, [0]),
    "Q5_1": (32, 24, [0, 2]),
    "Q8_0": (32, 34, [0]),
    "Q2_K": (256, 84, [80, 82]),
    "Q3_K": (256, 110, [108]),
    "Q4_K": (256, 144, [0, 2]),
    "Q5_K": (256, 176, [0, 2]),
    "Q6_K": (256, 210, [208]),
    "IQ4_NL": (32, 18, [0]),
    "IQ4_XS": (256, 136, [0]),
}

ROW = 256


def finite_half(r: random.Random) -> bytes:
    h = (r.getrandbits(1) << 15) | (r.randrange(31) << 10) | r.getrandbits(10)
    return struct.pack("<H", h)


def random_blocks(name: str) -> bytes:
    qk, size, halves = TYPES[name]
    r = random.Random(f"kubeinfer-golden-{name}")
    # about 2048 elements, at least 8 blocks
    n = max(8, 2048 // qk)
    out = bytearray()
    for _ in range(n):
        b = bytearray(r.getrandbits(8) for _ in range(size))
        for off in halves:
            b[off:off + 2] = finite_half(r)
        if name == "BF16":  # a finite bf16: exponent below 0xff
            b[1] = (b[1] & 0x80) | r.randrange(0x7f)
        out += b
    return bytes(out)


def src_rows() -> list[float]:
    """Eight rows of 256 chosen to reach every branch of the quantizers."""
    r = random.Random("kubeinfer-golden-src")
    rows = []
    rows.append([r.gauss(0, 1) for _ in range(ROW)])                      # plain normal
    rows.append([r.gauss(0, 0.02) for _ in range(ROW)])                   # weight-sized
    rows.append([r.uniform(-1, 1) * (20 if r.random() < 0.02 else 1)      # outliers
                 for _ in range(ROW)])
    rows.append([r.uniform(0.5, 1.5) for _ in range(ROW)])                # all positive: min > 0
    row = [0.0] * ROW                                                     # zeros, tiny, constant
    for i in range(64, 96):
        row[i] = r.uniform(-1e-20, 1e-20)
    for i in range(96, 128):
        row[i] = 0.375
    for i in range(128, 256, 7):
        row[i] = r.gauss(0, 1)
    rows.append(row)
    rows.append([round(r.gauss(0, 4)) / 4 for _ in range(ROW)])          # a coarse grid: ties
    rows.append([r.choice((-1, 1)) * r.expovariate(1) ** 2 for _ in range(ROW)])  # heavy tails
    rows.append([-abs(r.gauss(0, 3000)) for _ in range(ROW)])            # negative, large
    return [struct.unpack("<f", struct.pack("<f", v))[0] for row in rows for v in row]


BIG_ROWS = 256
M64 = (1 << 64) - 1


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


class SplitMix64:
    def __init__(self, seed: int):
        self.s = seed & M64

    def next(self) -> int:
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)


def big_source(rows: int) -> list[float]:
    """Must match bigSource in worker/gguf/quant_test.go value for value."""
    r = SplitMix64(20260118)
    out = []

    def sym():  # [-1, 1) in steps of 2^-23: exact
        return ((r.next() >> 40) - (1 << 23)) / float(1 << 23)

    for row in range(rows):
        kind = row % 8
        scale = 2.0 ** ((r.next() >> 60) - 8)
        for i in range(256):
            if kind == 0:
                v = sym() * scale
            elif kind == 1:  # sum of four uniforms: about normal
                s = sum(r.next() >> 40 for _ in range(4)) - (1 << 25)
                v = f32(float(s)) / float(1 << 24) * scale
            elif kind == 2:  # product of two uniforms: heavy tails
                v = f32(sym() * sym()) * scale
            elif kind == 3:  # positive only
                v = f32(float((r.next() >> 40) + (1 << 22))) / float(1 << 24) * scale
            elif kind == 4:  # sparse, one all-zero block of 32
                v = sym() * scale if r.next() % 8 == 0 and not 64 <= i < 96 else 0.0
            elif kind == 5:  # a grid: rounding ties
                v = float(r.next() % 17 - 8) * scale
            elif kind == 6:  # outliers
                v = sym() * scale * (64.0 if r.next() % 32 == 0 else 1.0)
            else:  # negative and large
                v = -f32(float(r.next() >> 40) / float(1 << 24) * 64.0) * scale
            out.append(f32(v))
    return out


def gz(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0, filename="") as f:
        f.write(data)
    return buf.getvalue()


def ggml(ref: str, args: list[str], data: bytes) -> bytes:
    return subprocess.run([ref] + args, input=data, stdout=subprocess.PIPE, check=True).stdout


def main():
    ref, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    src = struct.pack(f"<{len(src_rows())}f", *src_rows())
    assert all(math.isfinite(v) for v in src_rows())
    with open(os.path.join(out, "src.f32.gz"), "wb") as f:
        f.write(gz(src))
    big = struct.pack(f"<{BIG_ROWS * ROW}f", *big_source(BIG_ROWS))
    hashes = []
    for name, (qk, size, _) in TYPES.items():
        bq = ggml(ref, ["quantize", name, "--row", str(ROW)], big)
        bf = ggml(ref, ["dequant", name], bq)
        hashes.append(f"{name} {hashlib.sha256(bq).hexdigest()} {hashlib.sha256(bf).hexdigest()}\n")
        blocks = random_blocks(name)
        f32 = ggml(ref, ["dequant", name], blocks)
        assert len(f32) == len(blocks) // size * qk * 4
        quant = ggml(ref, ["quantize", name, "--row", str(ROW)], src)
        assert len(quant) == len(src) // 4 // qk * size
        low = name.lower()
        with open(os.path.join(out, low + ".rand"), "wb") as f:
            f.write(blocks)
        with open(os.path.join(out, low + ".rand.f32.gz"), "wb") as f:
            f.write(gz(f32))
        with open(os.path.join(out, low + ".quant"), "wb") as f:
            f.write(quant)
        print(f"{name}: {len(blocks) // size} random blocks, {len(quant) // size} quantized blocks")
    with open(os.path.join(out, "big.sha256"), "w") as f:
        f.write(f"# hack/quant/golden.py: sha256 of ggml's quantization of big_source({BIG_ROWS}) rows, "
                "and of ggml's to_float of those blocks\n")
        f.writelines(hashes)


if __name__ == "__main__":
    main()
