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
# Logs are written straight into $OUT (when set; else /tmp/cuda-device-logs) as each step runs, so they come
# back even when the device call ends mid-step; the exit code is the number of failed steps.
# One device call is at most 600 s and the whole run (memcheck included) takes longer, so:
#   PHASES   the steps to run, of "build kernels memcheck gotest bench constrained" (default: all)
#   GOTEST   a -test.run pattern for the gotest step (default: every test but tensor parallelism's)
#   BUDGET   seconds this call may use (default 570): each step runs under timeout for what is left, and a
#            step cut short counts as failed; later steps are skipped once nothing is left.
# e.g. PHASES="build kernels bench" first, then PHASES="build gotest" GOTEST='TestFidelity|TestEmbed' (every
# call on a fresh machine builds the library again: about a minute on the H200).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=.cuda-device
binaries=(cudabackend.test kubeinfer-worker serving) # what prepare builds, compressed for the trip

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
	gzip -9 "${binaries[@]/#/$dir/}"
	ls -la "$dir"
}

# unpack restores the binaries prepare compressed (idempotent); other archives in $dir (hack/calm's) stay as
# they are.
unpack() {
	local f
	for f in "${binaries[@]/#/$dir/}"; do
		f=$f.gz
		[ -e "$f" ] || continue
		gunzip -f "$f" && chmod +x "${f%.gz}"
	done
}

run() {
	local out=${OUT:-/tmp/cuda-device-logs} failed=0 t0=$SECONDS phases=${PHASES:-build kernels memcheck gotest bench constrained}
	mkdir -p "$out"
	has() { [[ " $phases " == *" $1 "* ]]; }
	left() { echo $((${BUDGET:-570} - (SECONDS - t0))); }
	step() { # step NAME CMD...: runs CMD under timeout for what is left, logs to $out/NAME.log, counts a failure
		local name=$1 rc
		shift
		if [ "$(left)" -le 5 ]; then echo "=== $name: skipped, no time left"; failed=$((failed + 1)); return; fi
		echo "=== $name ($(left) s left): $*" | tee -a "$out/steps.log"
		timeout "$(left)" "$@" >"$out/$name.log" 2>&1
		rc=$?
		tail -20 "$out/$name.log"
		if [ "$rc" = 0 ]; then echo "=== $name: ok" | tee -a "$out/steps.log"; else
			echo "=== $name: FAILED (exit $rc$([ "$rc" = 124 ] && echo ', out of time'))" | tee -a "$out/steps.log"
			failed=$((failed + 1))
		fi
	}
	unpack
	export PATH=$PATH:/usr/local/cuda/bin
	# libcublas/libcublasLt of the toolkit the library was built with (cudart is linked statically).
	export LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv 2>&1 | tee "$out/gpu.log"
	nvcc --version | tail -2
	has build && step build make -C cuda -j"$(nproc)" all build/kernels build/quant-golden
	export KUBEINFER_CUDA_LIB=$PWD/cuda/build/libkubeinfer_cuda.so KIC_QUANT_GOLDEN=$PWD/cuda/build/quant-golden
	has kernels && step kernels cuda/build/kernels
	local sanitizer
	sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
	if ! has memcheck || [ "${MEMCHECK:-1}" = 0 ]; then
		echo "=== memcheck: skipped (MEMCHECK=0)"
	elif [ -n "$sanitizer" ]; then
		step memcheck-kernels "$sanitizer" --tool memcheck --error-exitcode 9 cuda/build/kernels
		# The whole fidelity suite under memcheck takes most of a call: run it with PHASES="build memcheck".
		step memcheck-model bash -c "cd worker/cudabackend && '$sanitizer' --tool memcheck \
			--error-exitcode 9 ../../$dir/cudabackend.test -test.run 'TestFidelityAgainstCPU|TestDecodeBatchMatchesSingle' -test.v"
	else
		echo "=== memcheck: compute-sanitizer not found"; failed=$((failed + 1))
	fi
	# The Go tests skip without a GPU; here a skip is a failure, and so is a failing test (pipefail: the
	# pipeline's status is the test binary's, not the grep's).
	# Tensor parallelism needs two GPUs or more: hack/tp-device-test.sh runs those tests.
	# -test.timeout a little under the step's: a hang then panics with every goroutine's stack in the log.
	has gotest && step gotest bash -c "set -o pipefail; cd worker/cudabackend && ../../$dir/cudabackend.test -test.v -test.count=1 \
		-test.timeout $(($(left) - 10))s -test.run '${GOTEST:-.}' -test.skip TestTensorParallel | tee /dev/stderr | { ! grep -q -- '--- SKIP'; }"
	local model=/tmp/llama3.2-1b-synthetic.gguf
	has bench && step bench "$dir/kubeinfer-worker" bench --synthetic llama3.2-1b --model $model --device cuda --prompt-tokens 128 --gen-tokens 256
	has bench && step bench-nographs "$dir/kubeinfer-worker" bench --model $model --device cuda --no-graphs --prompt-tokens 128 --gen-tokens 256
	# Structured output at batch 1 on the 1B shape (its 128256-token vocabulary): per-token cost against greedy on the GPU.
	has constrained && step constrained bash -c "cd worker/cudabackend && KUBEINFER_CONSTRAINED_MODEL=$model ../../$dir/cudabackend.test -test.run TestGPUConstrainedDecodeOverhead -test.v"
	echo "=== $failed step(s) failed; logs in $out"
	return "$failed"
}

case "${1:-}" in
prepare) prepare ;;
unpack) unpack ;;
run) run ;;
*) echo "usage: $0 prepare|unpack|run" >&2; exit 2 ;;
esac
