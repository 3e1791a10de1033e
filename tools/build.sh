#!/usr/bin/env bash
# Builds the real peers (Kubernetes, etcd, kwok, BuildKit, act, kustomize, Helm,
# the oracle, ...) from their published Go modules, through the small Go modules
# of ours under tools/<name>/ (a go.mod that pins the upstream versions and lists
# the programs as `tool` lines, its go.sum, and optionally an `ldflags` file).
#
#   tools/build.sh NAME [NAME...]   build what is missing, print each bin dir
#   tools/build.sh all              every tools/*/go.mod
#   tools/build.sh --path NAME      print the bin dir (empty + exit 1 if not built)
#
# The binaries go to $GITOPS_TOOLS_CACHE/<name>-<key>/bin, where <key> hashes the
# module's go.mod, go.sum, ldflags and this script: a version bump is a new
# directory, an unchanged module is never rebuilt. Nothing built is committed.
# While it builds, one progress line per 15 s goes to stderr (packages compiled
# out of the total, elapsed time), since a first build takes minutes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${GITOPS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-action/tools}"
export GOFLAGS="${GOFLAGS:--mod=mod} -buildvcs=false"
export GOTOOLCHAIN=local

key_of() {
  cat "$here/$1/go.mod" "$here/$1/go.sum" "$here/$1/ldflags" "$here/build.sh" 2>/dev/null |
    sha256sum | cut -c1-12
}

dir_of() { echo "$cache/$1-$(key_of "$1")"; }

progress() { # NAME TOTAL LOG START
  local n
  while sleep 15; do
    n=$(grep -c . "$3" 2>/dev/null || true)
    printf 'tools: building %s: %s/%s packages compiled, %ss\n' \
      "$1" "${n:-0}" "$2" "$(($(date +%s) - $4))" >&2
  done
}

build_one() {
  local name=$1 out log start total ldflags="" pid rc
  [ -f "$here/$name/go.mod" ] || { echo "tools: no module tools/$name/go.mod" >&2; return 2; }
  out=$(dir_of "$name")
  if [ -f "$out/.complete" ]; then echo "$out/bin"; return 0; fi
  rm -rf "$out"; mkdir -p "$out/bin"
  [ -f "$here/$name/ldflags" ] && ldflags=$(grep -v '^#' "$here/$name/ldflags" | tr '\n' ' ')
  start=$(date +%s)
  echo "tools: building $name into $out (first build on a machine takes minutes)" >&2
  (cd "$here/$name" && go mod download >&2)
  total=$(cd "$here/$name" && go list -deps tool 2>/dev/null | grep -c . || echo '?')
  log="$out/build.log"; : >"$log"
  progress "$name" "$total" "$log" "$start" & pid=$!
  rc=0
  (cd "$here/$name" && go build -v -trimpath -ldflags "-s -w $ldflags" -o "$out/bin/" tool) \
    2>"$log" || rc=$?
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  if [ "$rc" != 0 ]; then
    grep -v '^[a-z0-9._/-]*$' "$log" | tail -30 >&2
    echo "tools: building $name failed (log: $log)" >&2
    return "$rc"
  fi
  touch "$out/.complete"
  echo "tools: built $name in $(($(date +%s) - start))s: $(ls "$out/bin" | tr '\n' ' ')" >&2
  echo "$out/bin"
}

if [ "${1:-}" = "--path" ]; then
  d=$(dir_of "$2"); [ -f "$d/.complete" ] || exit 1; echo "$d/bin"; exit 0
fi
names=("$@")
if [ "${1:-}" = "all" ]; then
  names=(); for m in "$here"/*/go.mod; do names+=("$(basename "$(dirname "$m")")"); done
fi
[ ${#names[@]} -gt 0 ] || { sed -n '2,16p' "$0" >&2; exit 2; }
for n in "${names[@]}"; do build_one "$n"; done
