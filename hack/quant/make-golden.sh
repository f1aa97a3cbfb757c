#!/usr/bin/env bash
# Regenerates worker/gguf/testdata/quant: ggml's own dequantization of random
# blocks and quantization of fixed rows, for every type the worker supports
# (see hack/quant/README.md). Deterministic; needs python3 (no packages).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(hack/llamacpp/build.sh)
out=worker/gguf/testdata/quant
rm -rf "$out"
python3 hack/quant/golden.py "$bin/ggml-ref" "$out"
du -sh "$out"
