#!/usr/bin/env python3
"""Kernel time of each forward step in `ncu --csv --metrics gpu__time_duration.sum` output, and the
breakdown of the last decode step: a step starts at the embedding kernel; a decode step is one that runs
decode attention. Compare a decode step's kernel time with bench's ms/token to see what is not kernels.

Usage: ncu --csv --metrics gpu__time_duration.sum --clock-control none --cache-control none \\
           kubeinfer-worker bench ... > k.csv; python3 hack/ncu-decode-step.py k.csv
"""
import collections
import csv
import sys

rows = [l for l in open(sys.argv[1], errors="replace") if l.startswith('"')]
kernels = []
for r in csv.DictReader(rows):
    if r.get("Metric Name") != "gpu__time_duration.sum":
        continue
    v = float(r["Metric Value"].replace(",", ""))
    v *= {"nsecond": 1e-3, "usecond": 1.0, "msecond": 1e3}.get(r.get("Metric Unit", "nsecond"), 1e-3)
    kernels.append((r["Kernel Name"].split("(")[0].replace("void ", "")[:70], v))
steps, cur = [], None
for name, us in kernels:
    if name.startswith("embed_kernel"):
        if cur:
            steps.append(cur)
        cur = []
    if cur is not None:
        cur.append((name, us))
if cur:
    steps.append(cur)
decode = [s for s in steps if any("attn_decode" in n for n, _ in s)]
print(f"{len(kernels)} kernels, {len(steps)} steps ({len(decode)} decode)")
for s in decode[-3:]:
    print(f"decode step: {len(s)} kernels, {sum(us for _, us in s):.1f} us")
if decode:
    agg = collections.defaultdict(lambda: [0.0, 0])
    for name, us in decode[-1]:
        agg[name][0] += us
        agg[name][1] += 1
    for name, (us, n) in sorted(agg.items(), key=lambda x: -x[1][0]):
        print(f"{us:9.1f} us {n:4d} x {us / n:7.2f} us  {name}")
