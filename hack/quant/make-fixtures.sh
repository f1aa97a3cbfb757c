#!/usr/bin/env bash
# Regenerates worker/testdata/quant (quantized fidelity fixtures with llama.cpp
# and float64 reference logits) and worker/gguf/testdata/mix.json (the tensor
# types llama-quantize chooses per recipe), then checks that the worker's Go
# quantizers reproduce every quantized tensor of the fixtures bit for bit.
# See hack/quant/README.md. Needs python3 with numpy (apt-get install python3-numpy).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(hack/llamacpp/build.sh)
work=${KUBEINFER_QUANT_WORK:-$(mktemp -d)}
rm -f worker/testdata/quant/*.gguf worker/testdata/quant/*.json
/usr/bin/python3 hack/quant/quant_fixtures.py "$bin" "$PWD" "$work"
go run ./hack/quant/requant $(cat "$work/models.txt")
du -ch worker/testdata/quant/*.gguf worker/testdata/quant/*.json | tail -1
