#!/usr/bin/env bash
# Speed on a GPU machine, as one command per table (after hack/cuda-device-test.sh prepare here, with
# carry [".cuda-device"], and the library built there: make -C cuda all):
#
#   bash hack/gpu-bench.sh quant [SHAPE...]  batch-1 decode (128-token prompt, 256 generated) and 2048-token prefill of
#                                    the Llama-3.2-1B and Llama-3.1-8B shapes in bf16 and llama-quantize recipes,
#                                    with the device copy bandwidth measured in the same run (bench prints the
#                                    roofline: file bytes / bandwidth); BENCH_TYPES="bf16 q4_k_m" picks the types
#   bash hack/gpu-bench.sh serving   a worker serving the Llama-3.2-1B shape (bf16) over HTTP to the load
#                                    generator (test/bench/serving) at 1, 8, 32 and 64 concurrent streams
#                                    (128-token prompts, 256 generated), then 128 clients of 512-token prompts
#
# Models are random weights in the real shapes, written by bench --synthetic to /tmp (the machine keeps
# nothing). Results print as tables; logs go to $OUT when it is set.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=.cuda-device
worker=$dir/kubeinfer-worker
export KUBEINFER_CUDA_LIB=${KUBEINFER_CUDA_LIB:-$PWD/cuda/build/libkubeinfer_cuda.so}
export LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
bash hack/cuda-device-test.sh unpack

# bench_one SHAPE TYPE: decode and prefill figures of one model, one line each.
bench_one() {
	local shape=$1 typ=$2 model=/tmp/$1-$2.gguf
	timeout 240 "$worker" bench --synthetic "$shape" --type "$typ" --model "$model" --device cuda --prompt-tokens 128 --gen-tokens 256 2>&1 |
		grep -E "^model|sampled on the GPU|roofline \(sampled" | sed "s/^/$shape $typ: /"
	timeout 120 "$worker" bench --model "$model" --device cuda --prompt-tokens 2048 --gen-tokens 4 2>&1 | grep -E "^prefill" |
		sed "s/^/$shape $typ: /"
	rm -f "$model"
}

quant() {
	local shapes=("$@")
	[ ${#shapes[@]} -gt 0 ] || shapes=(llama3.2-1b llama3.1-8b)
	for shape in "${shapes[@]}"; do
		for typ in ${BENCH_TYPES:-bf16 q4_k_m q6_k q8_0 q4_0}; do
			bench_one "$shape" "$typ"
		done
	done
}

serving() {
	local model=/tmp/serving-llama3.2-1b.gguf port=18000 log=${OUT:-/tmp}/serving-worker.log
	"$worker" bench --synthetic llama3.2-1b --type bf16 --model "$model" --device cuda --prompt-tokens 8 --gen-tokens 4 >/dev/null 2>&1
	"$worker" serve --model "$model" --arch llama --device cuda --port $port --served-name llama \
		--max-concurrent 64 --max-queue 256 --max-context 1024 --inference-events Off >"$log" 2>&1 &
	local pid=$!
	for _ in $(seq 1 120); do
		curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
		sleep 1
	done
	$dir/serving --url "http://127.0.0.1:$port/v1" --concurrency 1,8,32,64 --prompt-tokens 128 --gen-tokens 256 \
		--requests-per-client 2 --vocab 128000
	$dir/serving --url "http://127.0.0.1:$port/v1" --concurrency 128 --prompt-tokens 512 --gen-tokens 128 \
		--requests-per-client 1 --vocab 128000
	kill "$pid"
	wait "$pid" 2>/dev/null
}

case "${1:-}" in
quant) shift; quant "$@" ;;
serving) serving ;;
*) echo "usage: $0 quant|serving" >&2; exit 2 ;;
esac
