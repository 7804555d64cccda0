#!/usr/bin/env bash
# Measures what docs/measured.md quotes: cold and warm base-image and node-image builds, node image size, boot-to-images-loaded
# time and the tool's peak memory, on the sample release (see scripts/demo). Prints a Markdown table.
# Cold means nothing cached: it removes kind-build's base images, their build cache, the Debian bootstrap image and
# uses an empty download/image cache. Run it on a machine where that is acceptable.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/lib.sh"
version="${K8S_VERSION:-v1.31.2}"
"$root/scripts/install-deps"
"$root/scripts/start-engine"
registry="$("$root/scripts/start-registry" 5000)"
kb="$root/scripts/kind-build"
"$kb" version >/dev/null

work="$(mktemp -d)"
export KIND_BUILD_CACHE="$work/cache"
sample_pid=""
trap '[ -n "$sample_pid" ] && kill "$sample_pid" 2>/dev/null; rm -rf "$work"' EXIT
"$root/scripts/sample" --k8s-version "$version" --registry "$registry" --ready-file "$work/url" >"$work/sample.log" 2>&1 &
sample_pid=$!
WAIT_SECONDS=120 wait_for test -s "$work/url" || die "sample release did not come up"
url="$(cat "$work/url")"
node="kind-build-bench/node:$version"
node_args=(node-image --k8s-version "$version" --k8s-release-url "$url" --image "$node"
  --registry-mirror "registry.k8s.io=$registry" --registry-mirror "docker.io=$registry")

# seconds and peak RSS (MB) of one kind-build run: "<seconds> <MB>"
measure() {
  local out="$work/time.txt"
  /usr/bin/time -f '%e %M' -o "$out" "$kb" "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; die "kind-build $* failed"; }
  awk '{ printf "%.1f %d\n", $1, $2/1024 }' "$out"
}

log "bench: making the base image cold"
for id in $(docker images -q --filter label=dev.kind-build.recipe-hash | sort -u); do docker rmi -f "$id" >/dev/null 2>&1 || true; done
docker image prune -f >/dev/null
docker rmi -f "kind-build/debian-bootstrap:bookworm-$(docker version -f '{{.Server.Arch}}')" >/dev/null 2>&1 || true

read -r base_cold base_cold_mb < <(measure base-image)
read -r base_warm base_warm_mb < <(measure base-image)
docker rmi -f "$node" >/dev/null 2>&1 || true
read -r node_cold node_cold_mb < <(measure "${node_args[@]}")
read -r node_warm node_warm_mb < <(measure "${node_args[@]}")
size_mb=$(( $(docker image inspect -f '{{.Size}}' "$node") / 1000000 ))
images_mb=$(docker run --rm --entrypoint sh "$node" -c 'du -sm /kind/images | cut -f1')
"$kb" verify --offline --json "$node" >"$work/verify.json" 2>"$work/verify.log" || { cat "$work/verify.log" >&2; die "verify failed"; }
loaded=$(jq -r '.bootToImagesLoadedSeconds | . * 10 | round / 10' "$work/verify.json")
docker rmi -f "$node" >/dev/null

cat <<TABLE
| measurement ($(nproc) cores, $(docker version -f '{{.Server.Version}}') engine) | value |
|---|---|
| base-image, cold (Debian bootstrap + build, no cache) | ${base_cold} s |
| base-image, warm (recipe unchanged: reused) | ${base_warm} s |
| node-image, cold (empty download/image cache, base reused) | ${node_cold} s |
| node-image, warm (everything cached) | ${node_warm} s |
| node image size (engine) / of which /kind/images | ${size_mb} MB / ${images_mb} MB |
| verify --offline: node start to images loaded | ${loaded} s |
| peak RSS of kind-build (base cold / node cold / node warm) | ${base_cold_mb} / ${node_cold_mb} / ${node_warm_mb} MB |
TABLE
