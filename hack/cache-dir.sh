#!/usr/bin/env bash
# Prints the per-machine cache every clone shares (tools built from source, reference data):
# $KUBEINFER_CACHE, else $XDG_CACHE_HOME/kubeinfer, else ~/.cache/kubeinfer. The Go tools use
# the same rule (internal/devpaths).
echo "${KUBEINFER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeinfer}"
