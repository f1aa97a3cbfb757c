#!/usr/bin/env bash
# Installs, from Debian's archive, what the OpenAI Python SDK vendored in third_party/openai-python needs at run
# time, and the JSON Schema validator worker/server's Python SDK test checks outputs with. Needs root (apt-get).
#
# Usage: hack/python-sdk-deps.sh
set -euo pipefail

packages=(python3 python3-httpx python3-pydantic python3-anyio python3-distro python3-sniffio python3-tqdm python3-jsonschema)
if /usr/bin/python3 -c 'import httpx, pydantic, anyio, distro, sniffio, tqdm, jsonschema' 2>/dev/null; then
  exit 0
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
$sudo apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${packages[@]}" >&2
