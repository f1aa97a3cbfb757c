#!/usr/bin/env bash
# Batch-1 decode of zeux/calm (built from source here) and kubeinfer on the Llama-3.2-1B shape, in one run
# on the GPU machine, with the device copy bandwidth measured by kubeinfer's bench in the same run.
#
# Here: hack/cuda-device-test.sh prepare && CALM_SRC=... hack/calm/prepare.sh
# There (device tool, carry [".cuda-device"]): bash hack/calm/run.sh   (or bash hack/gpu-bench.sh calm)
#   1. calm: make (sm_90), a random fp16 model made by transformers (hack/calm/make_model.py), converted by
#      calm's tools/convert.py --dtype fp16, then `run -n 256 -t 1 -p 0` three times: sampling at
#      temperature 1 so that random weights do not stop early on an end token; calm reads the logits on the
#      host every token. Its "throughput" counts every position (the prompt too, token by token).
#   2. kubeinfer: make -C cuda (unless built) and kubeinfer-worker bench --synthetic llama3.2-1b (bf16, the
#      same bytes as fp16) with a 128-token prompt: logits to the host, and sampled on the GPU.
# Logs go to $OUT (or /tmp/calm-out).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=${OUT:-/tmp/calm-out} work=${CALM_WORK:-/tmp/calm-work}
mkdir -p "$out" "$work"
export PATH=$PATH:/usr/local/cuda/bin LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
bash hack/cuda-device-test.sh unpack
[ -f cuda/build/libkubeinfer_cuda.so ] || make -C cuda -j"$(nproc)" CUDA_ARCHS=90 all >"$out/kubeinfer-build.log" 2>&1 &
build=$!

tar -xzf .cuda-device/calm.tar.gz -C "$work"
gunzip -c .cuda-device/llama3-tokenizer.json.gz >"$work/tokenizer.json"
# CUDA 13's headers no longer define _ALIGNAS, which calm's helpers.cuh uses; alignas is its C++11 spelling.
# Nor cudaDeviceProp.memoryClockRate, which calm only prints (its peak bandwidth line): 0 there.
sed -i 's/union _ALIGNAS(\(.*\)) ablock/union alignas(\1) ablock/' "$work/calm/src/helpers.cuh"
sed -i 's/(double)devprop\.memoryClockRate/0.0/' "$work/calm/src/infer.cu"
# gcc links calm's C++ objects here (nvcc's host compiler runtime is not implied): add libstdc++.
sed -i 's/^LDFLAGS=-lm$/LDFLAGS=-lm -lstdc++/' "$work/calm/Makefile"
make -C "$work/calm" CUARCH=sm_90 >"$out/calm-build.log" 2>&1 || { echo "calm: build failed"; tail -20 "$out/calm-build.log"; exit 1; }
python3 hack/calm/make_model.py "$work/hf" "$work/tokenizer.json" 2>&1 | tail -1
python3 "$work/calm/tools/convert.py" "$work/l1b.calm" "$work/hf" --dtype fp16 >"$out/calm-convert.log" 2>&1 ||
	{ echo "calm: convert failed"; tail -20 "$out/calm-convert.log"; exit 1; }
prompt="Write a long story about a lighthouse keeper who finds a map in a bottle, and tell it slowly. $(printf 'The sea was grey and the wind was cold. %.0s' $(seq 1 10))"
for i in 1 2 3; do
	"$work/calm/build/run" "$work/l1b.calm" -n 256 -t 1 -p 0 -s "$i" -c 4096 -i "$prompt" 2>&1 >/dev/null | grep -E '^# [0-9]+ tokens' |
		sed 's/^/calm fp16: /'
done
wait "$build" || { echo "kubeinfer: library build failed"; tail -20 "$out/kubeinfer-build.log"; exit 1; }
export KUBEINFER_CUDA_LIB=$PWD/cuda/build/libkubeinfer_cuda.so
.cuda-device/kubeinfer-worker bench --synthetic llama3.2-1b --type bf16 --model "$work/l1b.gguf" --device cuda \
	--prompt-tokens 128 --gen-tokens 256 2>&1 | grep -E '^decode|roofline' | sed 's/^/kubeinfer bf16: /'
