#!/usr/bin/env bash
# Tensor parallelism on a machine with 2 or more GPUs, as ONE command (after `hack/cuda-device-test.sh prepare` here,
# with carry [".cuda-device"]; the machine needs nvcc, and NCCL's libnccl.so.2 as NVIDIA's CUDA images have it):
#
#   bash hack/tp-device-test.sh run        (TP_GPUS=4 to split 4 ways as well; default: 2, and 4 when present)
#
#   1. make -C cuda: the library for that machine (CUDA_ARCHS=90 unless set)
#   2. fidelity: every fixture split over 2 (and 4) GPUs against the same model on one GPU, with and without
#      CUDA graphs and with cuBLAS forced: logits within the one-GPU tolerances (bf16 2e-2), identical greedy
#      tokens (TestTensorParallelAgainstOneGPU; fixtures whose shapes cannot split are skipped, saying why)
#   3. real shapes: the Llama-3.2-1B and Llama-3.1-8B shapes in bf16 (random weights) split vs one GPU, the same
#      checks on a 64-token prompt and 32 greedy tokens (TestTensorParallelRealShapes)
#   4. decode speed: the Llama-3.1-8B shape in bf16, batch 1, on 1 GPU and split over 2 (and 4): tok/s and the
#      speed-up (the goal is 1.6x on 2 GPUs)
#   5. a model larger than one GPU: the Llama-3.1-70B shape in bf16 (141 GB) split over every GPU when the disk
#      holds its file, and in Q4_K_M (42 GB) split over every GPU: load, then generate (bench), memory per GPU
#
# Models are written to /tmp by bench --synthetic. Logs are packed into $OUT/tp-device-logs.tgz (when OUT is
# set); the exit code is the number of failed steps.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=.cuda-device
worker=$dir/kubeinfer-worker

run() {
	local out=/tmp/tp-device-logs failed=0
	rm -rf "$out"
	mkdir -p "$out"
	step() { # step NAME CMD...: runs CMD, logs to $out/NAME.log, counts a failure
		local name=$1
		shift
		echo "=== $name: $*"
		if "$@" 2>&1 | tee "$out/$name.log"; then echo "=== $name: ok"; else echo "=== $name: FAILED"; failed=$((failed + 1)); fi
	}
	bash hack/cuda-device-test.sh unpack
	export PATH=$PATH:/usr/local/cuda/bin
	export LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	nvidia-smi --query-gpu=index,name,memory.total,memory.used --format=csv 2>&1 | tee "$out/gpu.log"
	nvidia-smi topo -m 2>&1 | tee -a "$out/gpu.log"
	local gpus
	gpus=$(nvidia-smi -L | wc -l)
	if [ "$gpus" -lt 2 ]; then
		echo "tensor parallelism needs 2 GPUs or more; this machine has $gpus"
		return 1
	fi
	local splits=(2)
	[ "$gpus" -ge 4 ] && splits+=(4)
	[ -n "${TP_GPUS:-}" ] && splits=("$TP_GPUS")
	CUDA_ARCHS=${CUDA_ARCHS:-90} step build make -C cuda -j"$(nproc)" all || true
	export KUBEINFER_CUDA_LIB=$PWD/cuda/build/libkubeinfer_cuda.so

	step fidelity bash -c "cd worker/cudabackend && ../../$dir/cudabackend.test -test.run 'TestTensorParallelAgainstOneGPU' -test.v"

	local m1b=/tmp/tp-llama3.2-1b-bf16.gguf m8b=/tmp/tp-llama3.1-8b-bf16.gguf
	"$worker" bench --synthetic llama3.2-1b --type bf16 --model "$m1b" --device cuda --prompt-tokens 8 --gen-tokens 4 >/dev/null 2>&1
	"$worker" bench --synthetic llama3.1-8b --type bf16 --model "$m8b" --device cuda --prompt-tokens 8 --gen-tokens 4 >/dev/null 2>&1
	for n in "${splits[@]}"; do
		step "realshape-$n" bash -c "cd worker/cudabackend && KUBEINFER_TP_MODELS=$m1b,$m8b KUBEINFER_TP_GPUS=$n \
			../../$dir/cudabackend.test -test.run 'TestTensorParallelRealShapes' -test.v -test.timeout 20m"
	done

	# Decode tok/s (greedy sampled on the GPU), batch 1, 128-token prompt, 256 generated.
	local base=""
	for n in 1 "${splits[@]}"; do
		step "decode-8b-$n" timeout 300 "$worker" bench --model "$m8b" --device cuda --gpus "$n" --prompt-tokens 128 --gen-tokens 256
		local rate
		rate=$(sed -n 's/^decode, sampled on the GPU: .*, \([0-9.]*\) tok\/s.*/\1/p' "$out/decode-8b-$n.log" | head -1)
		[ "$n" = 1 ] && base=$rate
		echo "llama3.1-8b bf16 decode on $n GPU(s): ${rate:-?} tok/s${base:+ (x$(awk -v a="${rate:-0}" -v b="$base" 'BEGIN{if(b>0)printf "%.2f", a/b}') of one GPU)}" |
			tee -a "$out/summary.log"
	done
	rm -f "$m1b" "$m8b"

	# Larger than one GPU: 70B in bf16 when the disk holds it, and in Q4_K_M, over every GPU.
	local free_gb
	free_gb=$(df -BG --output=avail /tmp | tail -1 | tr -dc 0-9)
	local types=(q4_k_m)
	[ "${free_gb:-0}" -ge 160 ] && types=(bf16 q4_k_m)
	for typ in "${types[@]}"; do
		local m70=/tmp/tp-llama3.1-70b-$typ.gguf
		step "70b-$typ" timeout 1800 "$worker" bench --synthetic llama3.1-70b --type "$typ" --model "$m70" --device cuda \
			--gpus "$gpus" --prompt-tokens 128 --gen-tokens 64
		nvidia-smi --query-gpu=index,memory.used --format=csv >>"$out/70b-$typ.log" 2>&1
		"$worker" inspect --gpus 1 --context 1024 --concurrency 1 --model "$m70" 2>&1 | grep "gpu memory" | sed 's/^/one GPU: /' | tee -a "$out/summary.log"
		"$worker" inspect --gpus "$gpus" --context 1024 --concurrency 1 --model "$m70" 2>&1 | grep "gpu memory" | sed "s/^/$gpus GPUs: /" | tee -a "$out/summary.log"
		rm -f "$m70"
	done
	echo "=== summary"
	cat "$out/summary.log"
	if [ -n "${OUT:-}" ]; then tar -C /tmp -czf "$OUT/tp-device-logs.tgz" tp-device-logs; fi
	echo "=== $failed failed step(s)"
	return "$failed"
}

case "${1:-}" in
run) run ;;
*)
	echo "usage: $0 run   (after hack/cuda-device-test.sh prepare here)" >&2
	exit 2
	;;
esac
