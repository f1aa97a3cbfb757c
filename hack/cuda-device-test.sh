#!/usr/bin/env bash
# The on-device proof of the CUDA backend, as ONE command for a GPU machine that has nvcc but no Go.
#
# Here (with Go), first:   hack/cuda-device-test.sh prepare
#   builds into .cuda-device/ (git-ignored through the repository's info/exclude): the cudabackend test binary,
#   the kubeinfer-worker binary (cgo) and the serving load generator; the library is built on the GPU machine,
#   whose CUDA version differs from Debian's 11.8.
# There (the device tool), with carry [".cuda-device"]:
#   bash hack/cuda-device-test.sh run
#   1. make -C cuda: libkubeinfer_cuda.so for sm_80/sm_90 with that machine's nvcc
#   2. cuda/build/kernels: every kernel against its CPU reference (attention and the KV write at every KV
#      storage type: f32, f16, bf16, q8_0)
#   3. compute-sanitizer memcheck over the kernel tests and the whole fidelity suite (every fixture, every
#      variant: graphs, no graphs, cuBLAS for every size, chunked prefill) and the batching test
#      (MEMCHECK=0 skips it, for a quick run)
#   4. the Go tests (fidelity of every fixture against the CPU engine, the KV storage types against the CPU
#      engine at the same type and in float32, batching, sampling), no skips allowed
#   5. kubeinfer-worker bench on a synthetic Llama-3.2-1B-shaped bf16 model, with and without graphs
# Logs are packed into $OUT/cuda-device-logs.tgz (when OUT is set) so they come back even when a step fails;
# the exit code is the number of failed steps.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=.cuda-device

prepare() {
	set -e
	local exclude
	exclude=$(git rev-parse --git-path info/exclude)
	mkdir -p "$(dirname "$exclude")"
	grep -qx "/$dir/" "$exclude" 2>/dev/null || echo "/$dir/" >>"$exclude"
	mkdir -p "$dir"
	rm -f "$dir"/*
	CGO_ENABLED=1 go test -c -ldflags "-s -w" -o "$dir/cudabackend.test" ./worker/cudabackend
	CGO_ENABLED=1 go build -trimpath -ldflags "-s -w" -o "$dir/kubeinfer-worker" ./cmd/kubeinfer-worker
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/serving" ./test/bench/serving # hack/gpu-bench.sh serving
	# Compressed, so the repository (with its trained models) and these fit the device tool's 64 MiB.
	gzip -9 "$dir/cudabackend.test" "$dir/kubeinfer-worker" "$dir/serving"
	ls -la "$dir"
}

# unpack restores the binaries prepare compressed (idempotent).
unpack() {
	local f
	for f in "$dir"/*.gz; do
		[ -e "$f" ] || continue
		gunzip -f "$f" && chmod +x "${f%.gz}"
	done
}

run() {
	# Logs go to a folder that is packed into $OUT/cuda-device-logs.tgz at the end (the device tool returns
	# at most 8 files).
	local out=/tmp/cuda-device-logs failed=0
	rm -rf "$out"
	mkdir -p "$out"
	step() { # step NAME CMD...: runs CMD, logs to $out/NAME.log, counts a failure
		local name=$1
		shift
		echo "=== $name: $*"
		if "$@" 2>&1 | tee "$out/$name.log"; then echo "=== $name: ok"; else echo "=== $name: FAILED"; failed=$((failed + 1)); fi
	}
	unpack
	export PATH=$PATH:/usr/local/cuda/bin
	# libcublas/libcublasLt of the toolkit the library was built with (cudart is linked statically).
	export LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv 2>&1 | tee "$out/gpu.log"
	nvcc --version | tail -2
	step build make -C cuda -j"$(nproc)" all build/kernels build/quant-golden || true
	export KUBEINFER_CUDA_LIB=$PWD/cuda/build/libkubeinfer_cuda.so KIC_QUANT_GOLDEN=$PWD/cuda/build/quant-golden
	step kernels cuda/build/kernels
	local sanitizer
	sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
	if [ "${MEMCHECK:-1}" = 0 ]; then
		echo "=== memcheck: skipped (MEMCHECK=0)"
	elif [ -n "$sanitizer" ]; then
		step memcheck-kernels "$sanitizer" --tool memcheck --error-exitcode 9 cuda/build/kernels
		# Bounded (MEMCHECK_TIMEOUT seconds, default 420), so the Go tests and the benchmark still run in one
		# device call; a timeout counts as a failed step.
		step memcheck-model timeout "${MEMCHECK_TIMEOUT:-420}" bash -c "cd worker/cudabackend && '$sanitizer' --tool memcheck \
			--error-exitcode 9 ../../$dir/cudabackend.test -test.run 'TestFidelityAgainstCPU|TestDecodeBatchMatchesSingle' -test.v"
	else
		echo "=== memcheck: compute-sanitizer not found"; failed=$((failed + 1))
	fi
	# The Go tests skip without a GPU; here a skip is a failure, and so is a failing test (pipefail: the
	# pipeline's status is the test binary's, not the grep's).
	# Tensor parallelism needs two GPUs or more: hack/tp-device-test.sh runs those tests.
	step gotest bash -c "set -o pipefail; cd worker/cudabackend && ../../$dir/cudabackend.test -test.v -test.count=1 -test.skip TestTensorParallel | tee /dev/stderr | { ! grep -q -- '--- SKIP'; }"
	local model=/tmp/llama3.2-1b-synthetic.gguf
	step bench "$dir/kubeinfer-worker" bench --synthetic llama3.2-1b --model $model --device cuda --prompt-tokens 128 --gen-tokens 256
	step bench-nographs "$dir/kubeinfer-worker" bench --model $model --device cuda --no-graphs --prompt-tokens 128 --gen-tokens 256
	# Structured output at batch 1 on the 1B shape (its 128256-token vocabulary): per-token cost against greedy on the GPU.
	step constrained bash -c "cd worker/cudabackend && KUBEINFER_CONSTRAINED_MODEL=$model ../../$dir/cudabackend.test -test.run TestGPUConstrainedDecodeOverhead -test.v"
	if [ -n "${OUT:-}" ]; then tar czf "$OUT/cuda-device-logs.tgz" -C "$(dirname "$out")" "$(basename "$out")"; fi
	echo "=== $failed step(s) failed; logs in $out${OUT:+ and \$OUT/cuda-device-logs.tgz}"
	return "$failed"
}

case "${1:-}" in
prepare) prepare ;;
unpack) unpack ;;
run) run ;;
*) echo "usage: $0 prepare|unpack|run" >&2; exit 2 ;;
esac
