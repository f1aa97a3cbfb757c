#!/usr/bin/env bash
# Installs the official OpenAI Node SDK and the Ajv JSON Schema validator, which
# worker/server's SDK test drives a real worker with. They live in the user
# cache, not in the repository.
#
# Usage: hack/fetch-sdk-clients.sh   (prints the cache directory on success)
set -euo pipefail

cache="${KUBEINFER_SDK_CACHE:-$("$(dirname "${BASH_SOURCE[0]}")/cache-dir.sh")/sdk-node}"
mkdir -p "$cache"

# Exact versions keep the test's clients the same on every machine; openai 7 needs
# Node.js 22, Debian 12's is 20.
packages=(
  openai@6.49.0
  ajv@8.20.0
  ajv-formats@3.0.1
)

if [[ ! -f "$cache/package.json" ]]; then
  echo '{"private": true}' >"$cache/package.json"
fi
if ! (cd "$cache" && node -e 'for (const p of process.argv.slice(1)) { const [n, v] = p.split(/@(?=[^@]*$)/); if (require(n + "/package.json").version !== v) process.exit(1) }' "${packages[@]}") 2>/dev/null; then
  npm install --prefix "$cache" --no-audit --no-fund --save-exact "${packages[@]}" >&2
fi
echo "$cache"
