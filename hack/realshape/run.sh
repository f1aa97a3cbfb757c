#!/usr/bin/env bash
# Real-shape models on the GPU machine, as ONE command: logits against transformers, speed
# against transformers, and the GPU memory estimate against what the load really took.
#
# Here (with Go), first:   hack/cuda-device-test.sh prepare
#   builds .cuda-device/kubeinfer-worker (cgo; git-ignored through info/exclude).
# There (the device tool), with carry [".cuda-device"]:
#   bash hack/realshape/run.sh
#   1. make -C cuda (sm_90 only, in the background; skipped when cuda/build/libkubeinfer_cuda.so
#      exists, e.g. after hack/cuda-device-test.sh run in the same call)
#   2. prepare: random-weight Llama-3.2-1B (bf16), Qwen2.5-0.5B (bf16), GPT-2 XL (fp16), Qwen3-4B (bf16),
#      Gemma-3-4B's text model (bf16) and Phi-3-mini-4k (bf16) made with transformers on the GPU,
#      written as GGUF into $REALSHAPE_DIR (/tmp/realshape, about 31 GB for all six); transformers'
#      fp32 and 16-bit logits of a 16-token prompt; transformers' speed (once the build is done)
#   3. ours: kubeinfer-worker logits (CUDA prefill, CUDA decode path, CPU engine) and bench
#   4. vram: inspect's estimate vs what serve reports, for every fidelity fixture and the models
#   5. report: markdown tables, also in $OUT/report.md
# Logs land in $OUT (when set) so they come back even when a step fails. The exit code is the
# number of failed checks in the report plus the number of failed phases.
# REALSHAPE_PHASES (default "prepare ours vram report") and REALSHAPE_MODELS (default: all six:
# llama3.2-1b qwen2.5-0.5b gpt2-xl qwen3-4b gemma3-4b phi3-mini) select; the three 4B-class shapes
# take several times the first three's minutes, so a 10-minute device call may need them split, e.g.
# REALSHAPE_MODELS="qwen3-4b gemma3-4b phi3-mini" (the vram phase covers what $REALSHAPE_DIR holds,
# the report every model prepared there); REALSHAPE_BIN is the worker (default
# .cuda-device/kubeinfer-worker); REALSHAPE_SDPA=0 skips transformers' sdpa timings;
# REALSHAPE_GENCODE overrides the library's -gencode flags.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=${OUT:-/tmp/realshape-out}
dir=${REALSHAPE_DIR:-/tmp/realshape}
phases=${REALSHAPE_PHASES:-prepare ours vram report}
models=${REALSHAPE_MODELS:-}
mkdir -p "$out" "$dir"
exec > >(tee -a "$out/run.log") 2>&1
tee_pid=$!
export PYTHONUNBUFFERED=1 PATH=$PATH:/usr/local/cuda/bin
# libcublas/libcublasLt of the toolkit the library is built with (cudart is linked statically).
export LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export KUBEINFER_CUDA_LIB=$PWD/cuda/build/libkubeinfer_cuda.so
bin=${REALSHAPE_BIN:-$PWD/.cuda-device/kubeinfer-worker}
py="python3 hack/realshape/realshape.py"
failed=0
has() { [[ " $phases " == *" $1 "* ]]; }
phase() { # phase NAME CMD...: runs CMD, counts a failure
	local name=$1 t0=$SECONDS rc
	shift
	echo "=== $name: $*"
	"$@"
	rc=$?
	echo "=== $name: exit $rc after $((SECONDS - t0))s"
	[ "$rc" = 0 ] || failed=$((failed + 1))
	return "$rc"
}
nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv
python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
bash hack/cuda-device-test.sh unpack # prepare leaves the binaries gzipped
[ -x "$bin" ] || { echo "$bin missing: run hack/cuda-device-test.sh prepare here and carry .cuda-device"; exit 99; }

done_file=$dir/build.done
rm -f "$done_file"
if [ -f "$KUBEINFER_CUDA_LIB" ]; then
	echo 0 >"$done_file"
else
	gencode=${REALSHAPE_GENCODE:--gencode arch=compute_90,code=sm_90}
	echo "=== build (background): make -C cuda GENCODE='$gencode'"
	(
		t0=$SECONDS
		make -C cuda -j"$(nproc)" GENCODE="$gencode" all >"$out/build.log" 2>&1
		rc=$?
		echo "=== build: exit $rc after $((SECONDS - t0))s"
		echo "$rc" >"$done_file"
	) &
fi
sel=()
[ -n "$models" ] && sel=(--models $models)
if has prepare; then
	speed=()
	[ "${REALSHAPE_SDPA:-1}" = 0 ] && speed=(--no-sdpa)
	phase prepare $py prepare --dir "$dir" "${sel[@]}" "${speed[@]}" --wait-for "$done_file"
fi
while [ ! -f "$done_file" ]; do sleep 1; done
if [ "$(cat "$done_file")" != 0 ]; then
	echo "=== build FAILED:"
	tail -30 "$out/build.log"
	failed=$((failed + 1))
fi
has ours && phase ours $py ours --dir "$dir" "${sel[@]}" --bin "$bin"
has vram && phase vram $py vram --dir "$dir" --bin "$bin"
rc=0
if has report; then
	$py report --dir "$dir" >/dev/null
	rc=$?
	cat "$dir/report.md"
	cp "$dir/report.md" "$out/report.md"
fi
tar czf "$out/results.tgz" -C "$dir" $(cd "$dir" && ls *.json *.log *.md 2>/dev/null) 2>/dev/null
echo "=== $rc failed check(s), $failed failed phase(s); logs in $out"
exec >&- 2>&-
wait "$tee_pid"
exit $((rc + failed))
