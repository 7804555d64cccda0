#!/usr/bin/env bash
# Measures what docs/measured.md quotes for the real arm64 node: the images for arm64 (scripts/real-cluster-images), a warm
# daemonless build of the v1.20.2 tree cross-compiled for linux/arm64 (run twice; the second run is the warm
# figure), and `verify --offline` of that node under binfmt emulation. Prints a Markdown table.
# The first run of scripts/fetch-real-kubernetes and the first compile take minutes; they are not measured.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/lib.sh"
"$root/scripts/install-deps"
"$root/scripts/start-engine"
"$root/scripts/enable-emulation"
registry="$("$root/scripts/start-registry" 5000)"
kb="$root/scripts/kind-build"
"$kb" version >/dev/null
eval "$("$root/scripts/fetch-real-kubernetes")"   # sets tree= and goroot=

node="kind-build-bench/node:v1.20.2-arm64"
work="$(mktemp -d)"
trap 'docker rmi "$node" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

seconds() { # COMMAND...: runs it (output to $work/log), prints its wall-clock seconds
  local start ms
  start="$(date +%s%3N)"
  "$@" >"$work/out" 2>"$work/log" || { tail -n 20 "$work/log" >&2; die "failed: $*"; }
  ms=$(( $(date +%s%3N) - start ))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

images_s="$(seconds "$root/scripts/real-cluster-images" "$registry/arm64" "$tree" arm64)"
mirrors="$(cat "$work/out")"
# shellcheck disable=SC2086 # the mirror flags are words
build() { "$kb" node-image --type source "$tree" --k8s-version v1.20.2 --arch arm64 --builder oci --go-root "$goroot" \
  --image "$node" --output "$work/node.tar" $mirrors; }
first_s="$(seconds build)"
rm -f "$work/node.tar"
warm_s="$(seconds build)"
docker load -q -i "$work/node.tar" >/dev/null
verify_s="$(seconds "$kb" verify --offline --json "$node")"
checks="$(grep -c '"ok" : true' "$work/out" || true)"

printf '| measurement | seconds |\n|---|---|\n'
printf '| real-cluster-images for arm64 | %s |\n' "$images_s"
printf '| node-image --arch arm64 (first run here) | %s |\n' "$first_s"
printf '| node-image --arch arm64 (warm) | %s |\n' "$warm_s"
printf '| verify --offline under emulation (%s checks ok) | %s |\n' "$checks" "$verify_s"
