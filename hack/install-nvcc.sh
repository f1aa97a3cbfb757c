#!/usr/bin/env bash
# Installs nvcc (Debian's nvidia-cuda-toolkit) so `make -C cuda` can compile the CUDA backend.
# Idempotent: does nothing when nvcc is already on PATH. Debian 12 (bookworm) keeps the toolkit in
# the contrib and non-free components, which the stock deb822 sources file does not enable.
set -euo pipefail

if command -v nvcc >/dev/null 2>&1; then
	nvcc --version | tail -n 2
	exit 0
fi

sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi

src=/etc/apt/sources.list.d/debian.sources
if [ -f "$src" ]; then
	# deb822 format: extend every "Components:" line that lacks contrib/non-free.
	if grep -q '^Components:' "$src" && grep '^Components:' "$src" | grep -vqw 'non-free'; then
		$sudo sed -i -E '/^Components:/{/contrib/!s/$/ contrib/;/non-free( |$)/!s/$/ non-free/}' "$src"
	fi
elif [ -f /etc/apt/sources.list ]; then
	$sudo sed -i -E '/^deb /{/contrib/!s/$/ contrib/;/non-free( |$)/!s/$/ non-free/}' /etc/apt/sources.list
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends nvidia-cuda-toolkit
nvcc --version | tail -n 2
