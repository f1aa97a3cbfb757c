#!/usr/bin/env python3
"""Cross-check the fidelity fixtures with llama.cpp: for every fixture in
worker/testdata/fidelity, the logits of its prompts from llama.cpp
(llama-logits), from the Go CPU engine (kubeinfer-worker logits) and the
fixture's reference, and llama.cpp's 16 greedy ids against the reference's.

  bin=$(hack/llamacpp/build.sh); go build -o /tmp/kw ./cmd/kubeinfer-worker
  /usr/bin/python3 hack/llamacpp/fidelity.py "$bin" /tmp/kw [NAME...]

llama.cpp applies no sliding window to the llama and phi3 architectures
(phi3's is disabled in llama_model_phi3::load_arch_hparams, llama's never
read) while transformers and our engines do, so for files of those that
declare one only the positions before the window fills are compared, and
greedy ids are not. Exits non-zero when Go and llama.cpp differ by more
than the tolerance on an f32 fixture (1e-3; 2e-2 where ggml computes GELU
through its f16 table); 16-bit fixtures are shown but not judged, as ggml
rounds the activations to 16 bits for those products.
"""

import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

llama_bin, worker = sys.argv[1], sys.argv[2]
only = set(sys.argv[3:])
here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "..", "worker", "testdata", "fidelity")
GELU = ("gpt2", "gptneox", "phi2", "starcoder2", "gemma2", "gemma3")
NO_WINDOW_IN_LLAMACPP = ("llama", "phi3")
ok = True
print(f"{'fixture':20s} {'compared':>9s} {'go vs llama.cpp':>16s} {'ref vs llama.cpp':>17s}  greedy16")
for path in sorted(glob.glob(os.path.join(fixtures, "*.json"))):
    name = os.path.basename(path)[:-5]
    if only and name not in only:
        continue
    fx = json.load(open(path))
    gguf = path[:-5] + ".gguf"
    window = fx["config"].get("sliding_window") if fx["gguf_arch"] in NO_WINDOW_IN_LLAMACPP else None
    go_d = ref_d = 0.0
    greedy, positions = True, 0
    for p in fx["prompts"]:
        ids = p["ids"]
        r = subprocess.run([f"{llama_bin}/llama-logits", "--all", "--greedy", "16", gguf] + [str(i) for i in ids],
                           capture_output=True, text=True, check=True)
        cpp = np.array(json.loads(r.stdout.strip().splitlines()[-1])["logits"])
        greedy_cpp = json.loads(r.stdout.strip().splitlines()[-1])["greedy"]
        with tempfile.NamedTemporaryFile(suffix=".npy") as f:
            subprocess.run([worker, "logits", "--device", "cpu", "--model", gguf, "--top", "0",
                            "--tokens", ",".join(map(str, ids)), "-o", f.name], capture_output=True, check=True)
            go = np.load(f.name)
        n = min(len(ids), window) if window else len(ids)
        positions += n
        go_d = max(go_d, float(np.abs(go[:n] - cpp[:n]).max()))
        ref_d = max(ref_d, float(np.abs(np.array(p["logits"])[:n] - cpp[:n]).max()))
        if not window:
            greedy &= greedy_cpp == p["greedy"][:16]
    tol = 2e-2 if fx["gguf_arch"] in GELU else 1e-3
    bad = fx["dtype"] == "f32" and (go_d > tol or not greedy)
    ok &= not bad
    print(f"{name:20s} {positions:9d} {go_d:16.3g} {ref_d:17.3g}  {'n/a (window)' if window else 'same' if greedy else 'DIFF'}"
          f"{'  FAIL (tolerance %g)' % tol if bad else ''}")
sys.exit(0 if ok else 1)
