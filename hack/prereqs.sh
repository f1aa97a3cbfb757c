#!/usr/bin/env bash
# Checks what a make target needs before its long part starts, and installs what a fresh
# Debian 12 machine can install itself (apt packages, Go tools built from their modules,
# cached in ~/.cache/kubeinfer/tools). What it cannot install, it names, with how to get it.
#
#   hack/prereqs.sh NAME...     NAME: go gcc git kubectl npm etcd redis nvcc staticcheck helm
#
# Tools built from Go modules print nothing; use hack/prereqs.sh --path NAME for their path.
set -euo pipefail

STATICCHECK_VERSION=v0.8.2
# Helm from its Go module (about 6 minutes on 2 shared cores, once per machine).
HELM_VERSION=v4.3.2
tools="$("$(dirname "${BASH_SOURCE[0]}")/cache-dir.sh")/tools"

sudo_cmd=""
[[ "$(id -u)" -ne 0 ]] && sudo_cmd="sudo"
apt_updated=""

missing() { echo "prereqs: $1 is missing: $2" >&2; exit 1; }

apt_install() { # apt_install PACKAGE: for what Debian packages
	echo "prereqs: installing $1 (apt-get)" >&2
	if [[ -z "$apt_updated" ]]; then
		$sudo_cmd apt-get update -qq >&2
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$1" >&2
}

go_tool() { # go_tool NAME MODULE@VERSION [LDFLAGS]: built once per machine into the tools cache
	local bin="$tools/$2/bin/$1"
	bin="${bin//@/_}"
	if [[ ! -x "$bin" ]]; then
		echo "prereqs: building $1 ($2, once per machine)" >&2
		local start=$SECONDS
		GOBIN="$(dirname "$bin")" go install -ldflags "${3:-}" "$2" >&2
		echo "prereqs: built $1 in $((SECONDS - start))s" >&2
	fi
	echo "$bin"
}

path_only=""
if [[ "${1:-}" == "--path" ]]; then
	path_only=1
	shift
fi

for name in "$@"; do
	case "$name" in
	go) command -v go >/dev/null || missing go "install Go 1.26 (https://go.dev/doc/install)" ;;
	gcc) command -v gcc >/dev/null || apt_install gcc ;;
	git) command -v git >/dev/null || apt_install git ;;
	kubectl) command -v kubectl >/dev/null || missing kubectl "install kubectl (https://kubernetes.io/docs/tasks/tools/)" ;;
	npm) command -v npm >/dev/null || missing npm "install Node.js 20 and npm (apt-get install nodejs npm)" ;;
	etcd)
		if ! command -v etcd >/dev/null; then
			apt_install etcd-server
			# The package starts a system etcd; tests start their own on free ports.
			$sudo_cmd systemctl disable --now etcd >/dev/null 2>&1 || true
		fi
		;;
	redis)
		if ! command -v redis-server >/dev/null; then
			apt_install redis-server
			$sudo_cmd systemctl disable --now redis-server >/dev/null 2>&1 || true # tests start their own
		fi
		;;
	nvcc) "$(dirname "${BASH_SOURCE[0]}")/install-nvcc.sh" >&2 ;;
	staticcheck)
		bin=$(go_tool staticcheck "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION")
		if [[ -n "$path_only" ]]; then echo "$bin"; fi
		;;
	helm)
		bin=$(go_tool helm "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION")
		if [[ -n "$path_only" ]]; then echo "$bin"; fi
		;;
	*) echo "prereqs: unknown prerequisite $name" >&2; exit 2 ;;
	esac
done
