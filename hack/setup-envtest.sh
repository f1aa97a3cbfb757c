#!/usr/bin/env bash
# Prints a KUBEBUILDER_ASSETS directory holding etcd and kube-apiserver for envtest.
#
# Release downloads are unavailable here, so the binaries come from packages:
#   etcd            Debian's etcd-server package
#   kube-apiserver  built from the k8s.io/kubernetes module pinned in hack/k8s/go.mod
# They are cached per machine (the build takes minutes) and reused by every clone.
# Progress goes to stderr; stdout is only the directory, for
#   KUBEBUILDER_ASSETS="$(hack/setup-envtest.sh)" go test ./...
set -euo pipefail

K8S_VERSION=1.37.2

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$("$root/hack/cache-dir.sh")/envtest/${K8S_VERSION}"
mkdir -p "$cache"

# Two test runs on one machine must not build into the same directory at once.
exec 9>"$cache/.lock"
flock 9

if [[ ! -x "$cache/etcd" ]]; then
  if ! command -v etcd >/dev/null; then
    echo "setup-envtest: installing etcd from Debian's etcd-server package" >&2
    sudo_cmd=""
    [[ "$(id -u)" -ne 0 ]] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq etcd-server >&2
    # The package starts a system etcd on the default ports; envtest picks free ports, but
    # a stray daemon is not wanted on a build machine.
    $sudo_cmd systemctl disable --now etcd >/dev/null 2>&1 || true
  fi
  cp "$(command -v etcd)" "$cache/etcd.tmp" && mv "$cache/etcd.tmp" "$cache/etcd"
fi

if [[ ! -x "$cache/kube-apiserver" ]]; then
  echo "setup-envtest: building kube-apiserver v${K8S_VERSION} from source (takes about 5-8 minutes on 2 cores, once per machine)" >&2
  pkg=k8s.io/component-base/version
  ldflags="-s -w -X ${pkg}.gitVersion=v${K8S_VERSION} -X ${pkg}.gitMajor=${K8S_VERSION%%.*}"
  minor="${K8S_VERSION#*.}"; minor="${minor%%.*}"
  ldflags+=" -X ${pkg}.gitMinor=${minor} -X ${pkg}.gitTreeState=clean"
  (cd "$root/hack/k8s" && go build -trimpath -o "$cache/kube-apiserver.tmp" -ldflags "$ldflags" k8s.io/kubernetes/cmd/kube-apiserver) >&2
  mv "$cache/kube-apiserver.tmp" "$cache/kube-apiserver"
  echo "setup-envtest: $("$cache/kube-apiserver" --version) ready in $cache" >&2
fi

echo "$cache"
