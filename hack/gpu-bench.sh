#!/usr/bin/env bash
# Speed on a GPU machine, as one command per table (after hack/cuda-device-test.sh prepare here, with
# carry [".cuda-device"], and the library built there: make -C cuda all):
#
#   bash hack/gpu-bench.sh quant [SHAPE...]  batch-1 decode (128-token prompt, 256 generated) and 2048-token prefill of
#                                    the Llama-3.2-1B and Llama-3.1-8B shapes in bf16 and llama-quantize recipes,
#                                    with the device copy bandwidth measured in the same run (bench prints the
#                                    roofline: file bytes / bandwidth); BENCH_TYPES="bf16 q4_k_m" picks the types,
#                                    BENCH_PATHS="int8 float" times decode with and without the int8 matvec path
#   bash hack/gpu-bench.sh serving [SHAPE]  a worker serving the Llama-3.2-1B shape (or llama3.1-8b; bf16) over
#                                    HTTP to the load generator (test/bench/serving) at 1, 8, 32 and 64 concurrent
#                                    streams (128-token prompts, 256 generated; 1 and 64 again sampled at temperature
#                                    0.8), 64 and 128 clients of 512-token prompts,
#                                    60 streams with and without one 8192-token prompt arriving (inter-token
#                                    latency), 64 streams sharing a 1024-token prefix; the KV cache as f16 (auto),
#                                    then the 64-stream level again with it as q8_0; SERVING=streams stops after the
#                                    1-64 streams table (a quick check of a change to the batched step),
#                                    SERVING=prompts runs only the 512-token prompts and the 8k prompt; SERVE_ARGS adds
#                                    flags to the worker (e.g. SERVE_ARGS="--prefill-chunk 2048")
#   bash hack/gpu-bench.sh kvtypes [SHAPE [TYPE...]]  1 and 64 streams with the KV cache stored as each type
#                                    (default f32 f16 bf16 q8_0): what the storage type costs the decode step
#   bash hack/gpu-bench.sh roofline [SHAPE...]  batch-1 decode of the bf16 shapes (default llama3.2-1b) after
#                                    prompts of 128, 2048 and 8192 tokens (CONTEXTS), logits to the host and sampled
#                                    on the GPU, each as a share of the copy bandwidth for the weights and KV bytes a
#                                    token reads
#   bash hack/gpu-bench.sh knobs [SHAPE]    the library's knobs against their defaults (prefill graphs off,
#                                    both activation halves in every product, mixed steps on, cuBLAS from 17
#                                    tokens; KNOBS picks the settings), one after another: prefill of 128/512/2048 tokens and 32 and 64
#                                    serving streams under each
#   bash hack/gpu-bench.sh persistent [SHAPE...]   batch-1 decode on the per-kernel path and on the persistent one
#                                    (KUBEINFER_CUDA_PERSISTENT=1) at contexts 128, 2048 and 8192 (CONTEXTS), one
#                                    after the other on the same file; PREFETCH_MB="0 16 32" runs the persistent
#                                    path once for each L2 prefetch of the MLP rows (KUBEINFER_CUDA_PERSIST_PREFETCH_MB),
#                                    BENCH_TYPES="bf16 q4_k_m" each weight type
#   bash hack/gpu-bench.sh profile [SHAPE]  where the time of batch-1 decode, a 64-token step and prefill of 512
#                                    and 2048 tokens goes, stage by stage (KUBEINFER_CUDA_PROFILE=1)
#   bash hack/gpu-bench.sh calm             batch-1 decode of zeux/calm (built from source there; after
#                                    CALM_SRC=... hack/calm/prepare.sh here) and of kubeinfer on the Llama-3.2-1B
#                                    shape in the same run (hack/calm/run.sh)
#   bash hack/gpu-bench.sh peers [SHAPE]    HF transformers' batched generate (eager and static cache) at batch
#                                    1, 8, 32, 64 and 128 of the same shape and lengths (test/bench/serving/hf_peer.py;
#                                    needs torch and transformers)
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
# BENCH_PATHS="int8 float" also times decode with the int8 matvec path off (KUBEINFER_CUDA_MATVEC_INT8=0) on the
# same file; the default is the library's default alone.
bench_one() {
	local shape=$1 typ=$2 model=/tmp/$1-$2.gguf path first=1
	for path in ${BENCH_PATHS:-default}; do
		local synth=() int8=1
		[ "$first" = 1 ] && synth=(--synthetic "$shape" --type "$typ")
		[ "$path" = float ] && int8=0
		KUBEINFER_CUDA_MATVEC_INT8=$int8 timeout 240 "$worker" bench "${synth[@]}" --model "$model" --device cuda \
			--prompt-tokens 128 --gen-tokens 256 2>&1 |
			grep -E "^model|sampled on the GPU|roofline \(sampled" | sed "s/^/$shape $typ $path: /"
		first=0
	done
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
	local shape=${1:-llama3.2-1b} port=18000 log=${OUT:-/tmp}/serving-worker.log
	local model=/tmp/serving-$shape.gguf url=http://127.0.0.1:18000/v1 gen=$dir/serving pid
	"$worker" bench --synthetic "$shape" --type bf16 --model "$model" --device cuda --prompt-tokens 8 --gen-tokens 4 >/dev/null 2>&1
	start() { # start KV_TYPE: a worker with 64 slots whose requests may hold an 8k prompt
		"$worker" serve --model "$model" --arch llama --device cuda --port $port --served-name llama \
			--max-concurrent 64 --max-queue 256 --max-context 8448 --kv-cache-type "$1" --inference-events Off \
			${SERVE_ARGS:-} >>"$log" 2>&1 &
		pid=$!
		for _ in $(seq 1 180); do
			curl -sf "$url/../readyz" >/dev/null && break
			sleep 1
		done
		curl -s "$url/../metrics" | grep -E '^kubeinfer_worker_kv_cache_capacity_tokens' # the pool gpuMemoryUtilization left
	}
	stop() { kill "$pid"; wait "$pid" 2>/dev/null; }
	echo "## $shape bf16, KV cache auto (f16)"
	start auto
	if [ "${SERVING:-}" != prompts ]; then
		# 8 requests a client: the first round's prompts arrive together and the last finish with few
		# streams left; over 8 rounds that ramp is a small share of the run, as over vLLM's 1,000 prompts.
		$gen --url $url --concurrency "${STREAMS:-1,8,32,64}" --prompt-tokens 128 --gen-tokens 256 --requests-per-client "${ROUNDS:-8}" --vocab 128000
	fi
	if [ "${SERVING:-}" = streams ]; then
		stop
		return
	fi
	if [ "${SERVING:-}" != prompts ]; then
		echo "## sampled at temperature 0.8 (the load generator's non-greedy setting), not greedy"
		$gen --url $url --concurrency 1,64 --prompt-tokens 128 --gen-tokens 256 --requests-per-client 2 --vocab 128000 --greedy=false
	fi
	echo "## 512-token prompts: 64 clients (every one admitted at once) and 128 (half of them queue for a slot)"
	$gen --url $url --concurrency 64,128 --prompt-tokens 512 --gen-tokens 128 --requests-per-client 1 --vocab 128000
	echo "## inter-token latency of 60 streams, without and with one 8192-token prompt arriving"
	$gen --url $url --concurrency 60 --prompt-tokens 128 --gen-tokens 512 --requests-per-client 1 --vocab 128000
	$gen --url $url --concurrency 60 --prompt-tokens 128 --gen-tokens 512 --requests-per-client 1 --vocab 128000 --long-prompt 8192
	if [ "${SERVING:-}" = prompts ]; then
		stop
		return
	fi
	echo "## a shared 1024-token prefix (the first request of each client computes it, or finds it cached)"
	$gen --url $url --concurrency 64 --prompt-tokens 1152 --shared-prefix 1024 --gen-tokens 256 --requests-per-client 2 --vocab 128000
	curl -s "$url/../metrics" | grep -E '^kubeinfer_worker_(prefix_cache|preemptions)'
	stop
	echo "## $shape bf16, KV cache q8_0"
	start q8_0
	$gen --url $url --concurrency 64 --prompt-tokens 128 --gen-tokens 256 --requests-per-client 2 --vocab 128000
	stop
}

# kvtypes SHAPE TYPE...: 1 and 64 streams with the KV cache stored as each type, to see what
# the storage type costs the decode step.
kvtypes() {
	local shape=${1:-llama3.2-1b}
	shift
	local port=18000 log=${OUT:-/tmp}/serving-worker.log model=/tmp/serving-$shape.gguf url=http://127.0.0.1:18000/v1 pid
	"$worker" bench --synthetic "$shape" --type bf16 --model "$model" --device cuda --prompt-tokens 8 --gen-tokens 4 >/dev/null 2>&1
	local types=("$@")
	[ ${#types[@]} -gt 0 ] || types=(f32 f16 bf16 q8_0)
	for kt in "${types[@]}"; do
		echo "## $shape bf16, KV cache $kt"
		"$worker" serve --model "$model" --arch llama --device cuda --port $port --served-name llama \
			--max-concurrent 64 --max-queue 256 --max-context 8448 --kv-cache-type "$kt" --inference-events Off >>"$log" 2>&1 &
		pid=$!
		for _ in $(seq 1 180); do
			curl -sf "$url/../readyz" >/dev/null && break
			sleep 1
		done
		$dir/serving --url $url --concurrency 1,64 --prompt-tokens 128 --gen-tokens 256 --requests-per-client 2 --vocab 128000
		kill "$pid"
		wait "$pid" 2>/dev/null
	done
}

roofline() {
	local shapes=("$@")
	[ ${#shapes[@]} -gt 0 ] || shapes=(llama3.2-1b)
	for shape in "${shapes[@]}"; do
		timeout 300 "$worker" bench --synthetic "$shape" --type bf16 --model "/tmp/$shape-bf16.gguf" --device cuda \
			--prompt-tokens 128 --gen-tokens 128 --contexts "${CONTEXTS:-128,2048,8192}" 2>&1 |
			grep -E "^model|^context|measured device copy" | sed "s/^/$shape: /"
	done
}

persistent() {
	local shapes=("$@") shape typ mb
	[ ${#shapes[@]} -gt 0 ] || shapes=(llama3.2-1b)
	decode_path() { # decode_path SHAPE TYPE PERSISTENT PREFETCH_MB
		KUBEINFER_CUDA_PERSISTENT=$3 KUBEINFER_CUDA_PERSIST_PREFETCH_MB=$4 timeout 300 "$worker" bench \
			--model "/tmp/$1-$2.gguf" --device cuda --prompt-tokens 128 --gen-tokens 128 \
			--contexts "${CONTEXTS:-128,2048,8192}" 2>&1 |
			grep -E "^decode path|^context|sampled on the GPU:|measured device copy" |
			sed "s/^/$1 $2 persistent=$3 prefetch=${4}MB: /"
	}
	for shape in "${shapes[@]}"; do
		for typ in ${BENCH_TYPES:-bf16}; do
			"$worker" bench --synthetic "$shape" --type "$typ" --model "/tmp/$shape-$typ.gguf" --device cuda \
				--prompt-tokens 8 --gen-tokens 2 >/dev/null 2>&1
			decode_path "$shape" "$typ" 0 0
			for mb in ${PREFETCH_MB:-0}; do # MiB of each layer's MLP rows the persistent path asks L2 for during attention
				decode_path "$shape" "$typ" 1 "$mb"
			done
			rm -f "/tmp/$shape-$typ.gguf"
		done
	done
}

# knobs [SHAPE]: the library's knobs against their defaults, one setting after another in one call: bench's
# prefill of 128, 512 and 2048 tokens (median of 5 passes) and 32 and 64 serving streams under each.
# KNOBS: the settings, separated by ';', each "none" (the defaults) or environment assignments.
knobs() {
	local shape=${1:-llama3.2-1b} model=/tmp/knobs-${1:-llama3.2-1b}.gguf knob p
	local settings
	# GEMM_MIN_TOKENS=17 with HI_FROM=17: 17-32-token steps on cuBLAS's hi-half products, not the skinny kernels.
	IFS=";" read -ra settings <<<"${KNOBS:-none;KUBEINFER_CUDA_PREFILL_GRAPHS=0;KUBEINFER_CUDA_GEMM_HI_FROM=0;KUBEINFER_GPU_MIXED_STEP=1;KUBEINFER_CUDA_GEMM_MIN_TOKENS=17 KUBEINFER_CUDA_GEMM_HI_FROM=17}"
	"$worker" bench --synthetic "$shape" --type bf16 --model "$model" --device cuda --prompt-tokens 8 --gen-tokens 2 >/dev/null 2>&1
	for knob in "${settings[@]}"; do
		echo "## $knob"
		(
			# shellcheck disable=SC2086 # the setting's assignments, one word each
			[ "$knob" = none ] || export $knob
			for p in 128 512 2048; do
				timeout 120 "$worker" bench --model "$model" --device cuda --prompt-tokens $p --gen-tokens 2 2>&1 | grep -E "^prefill"
			done
			SERVING=streams STREAMS=32,64 serving "$shape" | grep -vE "^##|capacity"
		)
	done
}

# profile_tables PASS: the tables of the library's profile (kic_profile_print) whose header holds PASS.
profile_tables() {
	awk -v want="$1" '/^kubeinfer cuda profile:/ {on = index($0, want) > 0} on && (/^kubeinfer cuda profile:/ || /^  /)'
}

# profile [SHAPE]: where each pass's time goes, stage by stage (KUBEINFER_CUDA_PROFILE=1: no graphs, an event
# after each stage, so the stages' sum is the pass without launch overlap): batch-1 decode and a 64-token step
# (one bench --batch 64 run), then prefill passes of 512 and 2048 tokens.

profile() {
	local shape=${1:-llama3.2-1b} model=/tmp/profile-${1:-llama3.2-1b}.gguf p
	"$worker" bench --synthetic "$shape" --type bf16 --model "$model" --device cuda --prompt-tokens 8 --gen-tokens 2 >/dev/null 2>&1
	echo "## $shape bf16: decode at 1 and 64 tokens a step (128-token prompts)"
	KUBEINFER_CUDA_PROFILE=1 timeout 180 "$worker" bench --model "$model" --device cuda --prompt-tokens 128 --gen-tokens 64 \
		--batch 64 2>&1 | profile_tables "profile: decode"
	for p in 512 2048; do
		echo "## $shape bf16: prefill of $p tokens"
		KUBEINFER_CUDA_PROFILE=1 timeout 120 "$worker" bench --model "$model" --device cuda --prompt-tokens $p --gen-tokens 2 \
			2>&1 | profile_tables "profile: prefill"
	done
}

peers() {
	python3 test/bench/serving/hf_peer.py --shape "${1:-llama3.2-1b}" --batch 1,8,32,64,128 --prompt-tokens 128 --gen-tokens 256
}

case "${1:-}" in
quant) shift; quant "$@" ;;
serving) shift; serving "$@" ;;
kvtypes) shift; kvtypes "$@" ;;
peers) shift; peers "$@" ;;
roofline) shift; roofline "$@" ;;
knobs) shift; knobs "$@" ;;
profile) shift; profile "$@" ;;
persistent) shift; persistent "$@" ;;
calm) bash hack/calm/run.sh ;;
*) echo "usage: $0 quant|serving|kvtypes|peers|roofline|knobs|persistent|profile|calm" >&2; exit 2 ;;
esac
