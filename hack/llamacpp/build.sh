#!/usr/bin/env bash
# hack/llamacpp/build.sh - build llama.cpp (CPU only) as a *reference tool* for tests.
#
# What it builds:
#   - llama-quantize          (upstream tool: makes quantized GGUF fixtures exactly as users get them)
#   - libllama / libggml*     (shared libraries, CPU backend only)
#   - ggml-ref                (hack/llamacpp/ggml-ref.c: ggml's own dequant/quantize of raw blocks)
#   - llama-logits            (hack/llamacpp/llama-logits.cpp: logits + greedy ids for given token ids)
# Why: llama.cpp/ggml is the reference our Go/CUDA worker is checked against. It is never a
#   dependency of the product; nothing here is linked into it.
# Source: the llama.cpp tree shipped inside the npm package node-llama-cpp (pinned below) as a
#   git bundle (package/llama/gitRelease.bundle), fetched once with `npm pack`.
# Cache: ~/.cache/kubeinfer/llama.cpp/<node-llama-cpp version>/ (override the root with
#   KUBEINFER_CACHE). Nothing is written inside the repository.
# Time: the first run takes ~10 minutes on 2 cores (measured 9m17s: ~35 MB download, configure,
#   compile); later runs only check stamps and take well under a second.
#
# Usage: bin=$(hack/llamacpp/build.sh)      # progress goes to stderr; the last stdout line is
#        "$bin/llama-quantize" ...          # the directory holding the binaries.
set -euo pipefail

# ---- pins -------------------------------------------------------------------------------------
NLC_VERSION=3.22.1
NLC_INTEGRITY='sha512-bltIipuWmc123H7tMIgDGKSsSrhmhlQYeVUC48XTjVW7XGJJiJJyCdlTMzQ/LiWoPkGDpcL4FviDpgw7qfTiDw=='
LLAMA_COMMIT=de3ff815ea7d559ee917f063901b8986f038abc6   # HEAD of the bundle (llama.cpp "v0.5.0" per llama.cpp.info.json)

# Build flags. GGML_NATIVE=OFF gives a portable x86-64 AVX2/FMA/F16C build (INS_ENB defaults).
CMAKE_FLAGS=(
  -DCMAKE_BUILD_TYPE=Release
  -DBUILD_SHARED_LIBS=ON
  -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DGGML_NATIVE=OFF
  -DLLAMA_OPENSSL=OFF            # (LLAMA_CURL is deprecated in this version; no network code wanted)
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF
)
TARGETS=(llama-quantize llama ggml)

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$("$HERE/../cache-dir.sh")/llama.cpp/$NLC_VERSION
SRC=$ROOT/src
BUILD=$ROOT/build
BIN=$BUILD/bin
JOBS=${JOBS:-$(nproc)}

exec 3>&1 1>&2   # everything goes to stderr; fd 3 is the real stdout for the final line
log() { printf '[llamacpp] %s\n' "$*"; }

# ---- tools --------------------------------------------------------------------------------------
need=()
command -v cmake >/dev/null || need+=(cmake)
command -v g++   >/dev/null || need+=(g++)
command -v gcc   >/dev/null || need+=(gcc)
command -v make  >/dev/null || need+=(make)
command -v git   >/dev/null || need+=(git)
if ((${#need[@]})); then
  log "installing ${need[*]} (apt-get)"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

mkdir -p "$ROOT"
exec 9>"$ROOT/.lock"
flock 9          # concurrent callers (parallel tests) wait for one build

# ---- 1. tarball -----------------------------------------------------------------------------------
TGZ=$ROOT/node-llama-cpp-$NLC_VERSION.tgz
if [ ! -s "$TGZ" ]; then
  command -v npm >/dev/null || { log "npm is needed once to fetch node-llama-cpp@$NLC_VERSION"; exit 1; }
  log "fetching node-llama-cpp@$NLC_VERSION (npm pack, ~35 MB)"
  tmp=$(mktemp -d "$ROOT/dl.XXXXXX")
  (cd "$tmp" && npm pack --silent "node-llama-cpp@$NLC_VERSION" >/dev/null)
  got="sha512-$(openssl dgst -sha512 -binary "$tmp/node-llama-cpp-$NLC_VERSION.tgz" 2>/dev/null | base64 -w0 ||
                 python3 -c 'import base64,hashlib,sys;print(base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode())' "$tmp/node-llama-cpp-$NLC_VERSION.tgz")"
  [ "$got" = "$NLC_INTEGRITY" ] || { log "integrity mismatch: $got"; rm -rf "$tmp"; exit 1; }
  mv "$tmp/node-llama-cpp-$NLC_VERSION.tgz" "$TGZ"
  rm -rf "$tmp"
fi

# ---- 2. source (git bundle inside the tarball) ----------------------------------------------------
if [ ! -f "$SRC/.kubeinfer-src-ok" ]; then
  log "unpacking llama.cpp source from package/llama/gitRelease.bundle"
  rm -rf "$SRC" "$ROOT/unpack"
  mkdir -p "$ROOT/unpack"
  tar -xzf "$TGZ" -C "$ROOT/unpack" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json
  git -c advice.detachedHead=false clone -q "$ROOT/unpack/package/llama/gitRelease.bundle" "$SRC"
  head=$(git -C "$SRC" rev-parse HEAD)
  [ "$head" = "$LLAMA_COMMIT" ] || { log "unexpected llama.cpp commit $head"; exit 1; }
  cp "$ROOT/unpack/package/llama/llama.cpp.info.json" "$SRC/.node-llama-cpp-info.json"
  rm -rf "$ROOT/unpack"
  touch "$SRC/.kubeinfer-src-ok"
fi

# ---- 3. configure + build the upstream targets ------------------------------------------------------
flags_id=$(printf '%s\n' "${CMAKE_FLAGS[@]}" | sha256sum | cut -c1-16)
if [ "$(cat "$BUILD/.kubeinfer-flags" 2>/dev/null)" != "$flags_id" ] || [ ! -f "$BUILD/CMakeCache.txt" ]; then
  log "configuring (cmake)"
  rm -rf "$BUILD"
  cmake -S "$SRC" -B "$BUILD" "${CMAKE_FLAGS[@]}" >"$ROOT/configure.log" 2>&1 ||
    { tail -40 "$ROOT/configure.log"; exit 1; }
  echo "$flags_id" >"$BUILD/.kubeinfer-flags"
fi
stamp=$BUILD/.kubeinfer-built
if [ ! -f "$stamp" ]; then
  log "building ${TARGETS[*]} with -j$JOBS (first time: ~12 min on 2 cores)"
  start=$SECONDS
  cmake --build "$BUILD" -j"$JOBS" --target "${TARGETS[@]}"
  touch "$stamp"
  log "upstream build took $((SECONDS - start)) s"
fi

# ---- 4. our programs, linked against the shared libraries in $BIN ------------------------------------
INC=(-I"$SRC/include" -I"$SRC/ggml/include")
LINK=(-L"$BIN" -Wl,-rpath,'$ORIGIN')
uptodate() { # out srcs...
  local out=$1; shift
  [ -x "$out" ] || return 1
  for f in "$@" "$stamp"; do [ "$out" -nt "$f" ] || return 1; done
}
if ! uptodate "$BIN/ggml-ref" "$HERE/ggml-ref.c"; then
  log "compiling ggml-ref"
  gcc -O2 -std=c11 -Wall -Wextra "${INC[@]}" -o "$BIN/ggml-ref" "$HERE/ggml-ref.c" "${LINK[@]}" -lggml-base -lm
fi
if ! uptodate "$BIN/llama-logits" "$HERE/llama-logits.cpp"; then
  log "compiling llama-logits"
  g++ -O2 -std=c++17 -Wall -Wextra "${INC[@]}" -o "$BIN/llama-logits" "$HERE/llama-logits.cpp" "${LINK[@]}" -lllama -lggml -lggml-base
fi

log "ready: $BIN"
echo "$BIN" >&3
