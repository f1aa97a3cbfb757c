#!/usr/bin/env python3
"""Summarizes `ncu --csv --metrics gpu__time_duration.sum` output: time per kernel name, sorted.

Usage: ncu --csv --metrics gpu__time_duration.sum ... > k.csv; python3 hack/ncu-summary.py k.csv
"""
import csv
import collections
import sys

rows = [l for l in open(sys.argv[1], errors="replace") if l.startswith('"')]
total = collections.Counter()
count = collections.Counter()
for r in csv.DictReader(rows):
    if r.get("Metric Name") != "gpu__time_duration.sum":
        continue
    name = r["Kernel Name"].split("(")[0].split("<")[0]
    unit = r.get("Metric Unit", "nsecond")
    v = float(r["Metric Value"].replace(",", ""))
    v *= {"nsecond": 1e-3, "usecond": 1.0, "msecond": 1e3}.get(unit, 1e-3)
    total[name] += v
    count[name] += 1
all_us = sum(total.values())
print(f"{len(rows)} rows, {sum(count.values())} kernels, {all_us:.1f} us of kernel time")
for name, us in total.most_common():
    print(f"{us:10.1f} us {100 * us / all_us:5.1f}%  {count[name]:5d} x {us / count[name]:7.2f} us  {name}")
