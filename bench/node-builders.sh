#!/usr/bin/env bash
# Compares the node-image builders on a real-size fixture (`scripts/sample --real-size`: a ~348 MB server tarball,
# ~449 MB of pulled images): the docker builder and the daemonless (oci) one, cold (empty KIND_BUILD_CACHE) and warm;
# node boot to images loaded against a plain copy of the same bytes; and the floor any builder pays: download +
# sha256sum + gunzip of the tarball, and fetching the image blobs. Prints a Markdown table with the issue's goals.
# It reuses the base image (it builds it if missing) and removes only the images it tagged.
# The fixture itself is cached (default ~/.cache/kind-build-bench-fixture; BENCH_FIXTURE_CACHE overrides) so only the
# first run pays for generating it; the builds never see that cache.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/lib.sh"
. "$root/bench/lib.sh"
version="${K8S_VERSION:-v1.31.2}"
# A registry of our own: other sessions' tests use 5000 with the small sample images under the same names.
registry_port="${BENCH_REGISTRY_PORT:-5077}"
fixture_cache="${BENCH_FIXTURE_CACHE:-$HOME/.cache/kind-build-bench-fixture}"
"$root/scripts/install-deps"
"$root/scripts/start-engine"
registry_was_there=false
registry_answers "127.0.0.1:$registry_port" && registry_was_there=true
registry="$("$root/scripts/start-registry" "$registry_port")"
kb="$root/scripts/kind-build"
"$kb" version >/dev/null

work="$(mktemp -d)"
sample_pid=""
node="kind-build-bench/node-builders:$version"
node_oci="kind-build-bench/node-builders-oci:$version"
probe="kind-build-bench-node-builders-$$"
cleanup() {
  # every step may fail (a trap runs under set -e too), and none may keep the others from running
  if [ -n "$sample_pid" ]; then kill "$sample_pid" 2>/dev/null || true; wait "$sample_pid" 2>/dev/null || true; fi
  docker rm -f -v "$probe" >/dev/null 2>&1 || true
  docker rmi -f "$node" "$node_oci" >/dev/null 2>&1 || true
  $registry_was_there || "$root/scripts/stop-registry" "$registry_port" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

log "bench: serving the real-size fixture (generated once into $fixture_cache)"
KIND_BUILD_CACHE="$fixture_cache" "$root/scripts/sample" --real-size --k8s-version "$version" --registry "$registry" \
  --ready-file "$work/url" >"$work/sample.log" 2>&1 &
sample_pid=$!
WAIT_SECONDS=900 wait_for test -s "$work/url" || { cat "$work/sample.log" >&2; die "sample release did not come up"; }
url="$(cat "$work/url")"
tarball_url="$url/$version/kubernetes-server-linux-$(docker version -f '{{.Server.Arch}}').tar.gz"

has_oci=false
"$kb" node-image --help 2>/dev/null | grep -q -- '--builder' && has_oci=true
builder_flag=()
$has_oci && builder_flag=(--builder docker)
common=("$version" --k8s-release-url "$url" --registry-mirror "registry.k8s.io=$registry" --registry-mirror "docker.io=$registry")

# seconds and peak RSS (MB) of one kind-build run with its own KIND_BUILD_CACHE ($1): "<seconds> <MB>"
measure() {
  local cache="$1"; shift
  local out="$work/time.txt"
  KIND_BUILD_CACHE="$cache" /usr/bin/time -f '%e %M' -o "$out" "$kb" "$@" >"$work/last.log" 2>&1 \
    || { cat "$work/last.log" >&2; die "kind-build $* failed"; }
  awk '{ printf "%.2f %d\n", $1, $2/1024 }' "$out"
}
# seconds of a shell command: "<seconds>"
seconds_of() {
  local t0 t1
  t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f\n", a / b }'; }

# (d) the floor: what fetching and checking the inputs costs, whatever builds from them
log "bench: floor (download, sha256sum, gunzip; image blobs)"
dl=$(seconds_of curl -fsS -o "$work/server.tar.gz" "$tarball_url")
sum=$(seconds_of sh -c "sha256sum '$work/server.tar.gz' >/dev/null")
gunzip_s=$(seconds_of sh -c "gunzip -c '$work/server.tar.gz' >/dev/null")
tarball_mb=$(( $(stat -c %s "$work/server.tar.gz") / 1000000 ))
unpacked_mb=$(( $(gunzip -c "$work/server.tar.gz" | wc -c) / 1000000 ))
rm -f "$work/server.tar.gz"
fetch_blobs() {
  local repo tag manifest digest
  mkdir -p "$work/blobs"
  for repo in $(curl -fsS "http://$registry/v2/_catalog?n=1000" | jq -r '.repositories[]'); do
    for tag in $(curl -fsS "http://$registry/v2/$repo/tags/list" | jq -r '.tags[]'); do
      manifest="$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$registry/v2/$repo/manifests/$tag")"
      for digest in $(jq -r '.config.digest, .layers[].digest' <<<"$manifest"); do
        curl -fsS -o "$work/blobs/${digest#sha256:}" "http://$registry/v2/$repo/blobs/$digest"
      done
    done
  done
}
blobs=$(seconds_of fetch_blobs)
blobs_mb=$(( $(du -sb "$work/blobs" | cut -f1) / 1000000 ))
rm -rf "$work/blobs"
floor=$(awk -v a="$dl" -v b="$sum" -v c="$gunzip_s" -v d="$blobs" 'BEGIN { printf "%.2f\n", a + b + c + d }')

# The base both builders start from: the docker builder's own, reused (built if missing; never removed here).
log "bench: base image"
KIND_BUILD_CACHE="$work/cache-base" "$kb" base-image --json >"$work/base.json" 2>"$work/base.log" \
  || { cat "$work/base.log" >&2; die "base-image failed"; }
base="$(jq -r .image "$work/base.json")"

# (a) docker builder
log "bench: docker builder, cold and warm"
docker rmi -f "$node" >/dev/null 2>&1 || true
m=$(measure "$work/cache-docker" node-image "${common[@]}" "${builder_flag[@]}" --base-image "$base" --image "$node"); read -r docker_cold docker_cold_mb <<<"$m"
m=$(measure "$work/cache-docker" node-image "${common[@]}" "${builder_flag[@]}" --base-image "$base" --image "$node"); read -r docker_warm docker_warm_mb <<<"$m"
images_mb=$(docker run --rm --entrypoint sh "$node" -c 'du -sm /kind/images | cut -f1')

# (b) daemonless builder: no engine, base from a docker-archive, result to a file
oci_cold=n/a oci_warm=n/a oci_cold_mb=n/a oci_warm_mb=n/a
if $has_oci; then
  log "bench: oci builder, cold and warm"
  docker save -o "$work/base.tar" "$base"
  oci_args=(node-image "${common[@]}" --builder oci --base-image "docker-archive:$work/base.tar"
    --output "$work/node-oci.tar" --output-format docker --image "$node_oci")
  m=$(DOCKER_HOST=unix:///nonexistent measure "$work/cache-oci" "${oci_args[@]}"); read -r oci_cold oci_cold_mb <<<"$m"
  m=$(DOCKER_HOST=unix:///nonexistent measure "$work/cache-oci" "${oci_args[@]}"); read -r oci_warm oci_warm_mb <<<"$m"
fi

# (c) boot to images loaded, and the loader's own time, against copying the same bytes
log "bench: boot to images loaded"
verify_failures=""
verify_loaded() { # $1 = image: node start to images loaded, per verify (a failed check elsewhere is reported, not fatal)
  "$kb" verify --offline --json "$1" >"$work/verify.json" 2>"$work/verify.log" || true
  jq -e '.bootToImagesLoadedSeconds' "$work/verify.json" >/dev/null 2>&1 || { cat "$work/verify.log" >&2; die "verify $1 failed"; }
  jq -r '.bootToImagesLoadedSeconds * 100 | round / 100' "$work/verify.json"
}
verify_failed_checks() { # what the last verify found wrong, for the notes under the table
  jq -r --arg image "$1" '.checks[] | select(.ok == false) | "- verify \($image): \(.name): \(.detail)"' "$work/verify.json"
}
loader_seconds() { # $1 = image: the loader's own time from /run/kind/images-loaded.json, on a node started as kind does
  start_node "$1" "$probe"
  WAIT_SECONDS=120 wait_for docker exec "$probe" test -s /run/kind/images-loaded.json 2>/dev/null \
    || die "the loader wrote no summary in $1"
  docker exec "$probe" cat /run/kind/images-loaded.json | jq -r '.seconds * 100 | round / 100'
  docker rm -f -v "$probe" >/dev/null
}
plain_copy_seconds() { # $1 = image: cp of /kind/images (and a content store, if baked in) to a fresh dir in a container
  docker run --rm --entrypoint sh "$1" -c '
    src=/kind/images; c=/var/lib/containerd/io.containerd.content.v1.content; [ -d "$c" ] && src="$src $c"
    mkdir /tmp/copy; t0=$(date +%s.%N); cp -r $src /tmp/copy/; sync; t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" "BEGIN { printf \"%.2f\\n\", b - a }"'
}
docker_loaded=$(verify_loaded "$node")
verify_failures+="$(verify_failed_checks "$node")"$'\n'
docker_loader=$(loader_seconds "$node")
docker_copy=$(plain_copy_seconds "$node")
oci_loaded=n/a oci_loader=n/a oci_copy=n/a
if $has_oci && [ -s "$work/node-oci.tar" ]; then
  docker load -i "$work/node-oci.tar" >/dev/null
  oci_loaded=$(verify_loaded "$node_oci")
  verify_failures+="$(verify_failed_checks "$node_oci")"$'\n'
  oci_loader=$(loader_seconds "$node_oci")
  oci_copy=$(plain_copy_seconds "$node_oci")
fi

goal() { # $1 = value, $2 = op (le|ge), $3 = bound: "yes"/"no"/"n/a"
  awk -v v="$1" -v op="$2" -v b="$3" 'BEGIN { if (v == "n/a") print "n/a"; else if (op == "le") print (v + 0 <= b ? "yes" : "no"); else print (v + 0 >= b ? "yes" : "no") }'
}
na_oci() { $has_oci && printf '%s' "$1" || printf 'n/a (no --builder oci)'; }
warm_best="$docker_warm"; $has_oci && warm_best="$oci_warm"
cold_floor=$($has_oci && ratio "$oci_cold" "$floor" || echo n/a)
peak=$(printf '%s\n' "$docker_cold_mb" "$docker_warm_mb" "$oci_cold_mb" "$oci_warm_mb" | grep -v n/a | sort -n | tail -n1)

cat <<TABLE
Fixture: server tarball ${tarball_mb} MB gzipped / ${unpacked_mb} MB unpacked; image blobs ${blobs_mb} MB (compressed); /kind/images in the docker-built node ${images_mb} MB.

| measurement ($(nproc) cores, $(docker version -f '{{.Server.Version}}') engine) | value |
|---|---|
| docker builder, cold (empty KIND_BUILD_CACHE, base reused) | ${docker_cold} s, ${docker_cold_mb} MB RSS |
| docker builder, warm | ${docker_warm} s, ${docker_warm_mb} MB RSS |
| oci builder, cold (no engine; base from docker-archive) | $(na_oci "${oci_cold} s, ${oci_cold_mb} MB RSS") |
| oci builder, warm | $(na_oci "${oci_warm} s, ${oci_warm_mb} MB RSS") |
| floor: download / sha256sum / gunzip of the tarball / image blobs | ${dl} / ${sum} / ${gunzip_s} / ${blobs} s = ${floor} s |
| node start to images loaded, verify (docker-built / oci-built) | ${docker_loaded} / $(na_oci "${oci_loaded}") s |
| the loader's own time, images-loaded.json (docker-built / oci-built) | ${docker_loader} / $(na_oci "${oci_loader}") s |
| plain cp of the same bytes in a container (docker-built / oci-built) | ${docker_copy} / $(na_oci "${oci_copy}") s |

| goal | value | met |
|---|---|---|
| oci warm rebuild ≤ 1 s | ${warm_best} s | $(goal "$warm_best" le 1) |
| cold oci / floor ≤ 2 | $(na_oci "$cold_floor") | $(goal "$cold_floor" le 2) |
| docker warm rebuild ≤ 3 s (the committed image kept for unchanged inputs) | ${docker_warm} s | $(goal "$docker_warm" le 3) |
| boot to images loaded ≤ 1 s for ~450 MB (verify, docker-built) | ${docker_loaded} s | $(goal "$docker_loaded" le 1) |
| peak RSS ≤ 512 MB (any build above) | ${peak} MB | $(goal "$peak" le 512) |
TABLE
if [ -n "${verify_failures//$'\n'/}" ]; then
  printf '\nverify reported failed checks (timings above still stand):\n%s\n' "$verify_failures"
fi
