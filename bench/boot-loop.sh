#!/usr/bin/env bash
# Boots a node image over and over, as users' machines do, and counts the boots whose preloaded images did not all
# load: BOOTS times `kind-build verify --offline IMAGE` (default 100), every second one while a CPU hog runs on every
# core and a second node boots beside it (of BESIDE_IMAGE, default IMAGE; it is verified too and counts); then one
# node restarted with `docker restart` RESTARTS times (default 20), the loader's summary and the pinned images checked
# after each restart.
#   bench/boot-loop.sh IMAGE [BOOTS] [RESTARTS] [BESIDE_IMAGE]
# Prints one line per boot and per restart, then `boots: …, failed: F` and `restarts: R, failed: F`; exits 1 when any
# failed. Removes the containers it started (also on Ctrl-C).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/lib.sh"
. "$root/bench/lib.sh"
image="${1:?usage: bench/boot-loop.sh IMAGE [BOOTS] [RESTARTS]}"
boots="${2:-100}"
restarts="${3:-20}"
beside_image="${4:-$image}"
kb="$root/scripts/kind-build"
"$kb" version >/dev/null
for i in "$image" "$beside_image"; do
  docker image inspect "$i" >/dev/null 2>&1 || die "no image $i in the engine: build it with kind-build node-image first"
done

work="$(mktemp -d)"
node="kind-build-bench-boot-loop-$$"
load_pids=()
stop_load() {
  local p
  for p in ${load_pids[@]+"${load_pids[@]}"}; do kill "$p" 2>/dev/null || true; done
  for p in ${load_pids[@]+"${load_pids[@]}"}; do wait "$p" 2>/dev/null || true; done
  load_pids=()
}
cleanup() {
  stop_load
  docker rm -f -v "$node" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The load: one busy loop per core, and a second node of the same image booting (and checked) beside.
start_load() {
  local c
  for ((c = 0; c < $(nproc); c++)); do
    (while :; do :; done) &
    load_pids+=($!)
  done
  "$kb" verify --offline "$beside_image" >"$work/beside.log" 2>&1 &
  load_pids+=($!)
}

failed_boots=0 beside_boots=0
for ((i = 1; i <= boots; i++)); do
  loaded=quiet
  if ((i % 2 == 0)); then loaded=loaded; start_load; fi
  beside=ok
  t0=$(date +%s.%N)
  "$kb" verify --offline --json "$image" >"$work/verify.json" 2>"$work/verify.log" || true
  t1=$(date +%s.%N)
  if [ "$loaded" = loaded ]; then
    # the node beside is part of the load until it is done; its own result counts too
    kill "${load_pids[@]:0:$(nproc)}" 2>/dev/null || true
    beside_pid=${load_pids[-1]}
    if wait "$beside_pid"; then beside=ok; else beside=FAILED; fi
    beside_boots=$((beside_boots + 1))
    load_pids=("${load_pids[@]:0:$(nproc)}")
    stop_load
  fi
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  if [ "$(jq -r '.passed' "$work/verify.json" 2>/dev/null)" = true ]; then
    line="ok     loaded after $(jq -r '.bootToImagesLoadedSeconds * 10 | round / 10' "$work/verify.json")s"
  else
    failed_boots=$((failed_boots + 1))
    why=$(jq -r '[.checks[]? | select(.ok == false) | "\(.name): \(.detail)"] | join("; ")' "$work/verify.json" 2>/dev/null || true)
    line="FAILED ${why:-$(tail -n 3 "$work/verify.log" | tr '\n' ' ')}"
  fi
  [ "$loaded" = loaded ] && [ "$beside" = ok ] && line+=" (beside: $beside_image ok)"
  [ "$loaded" = loaded ] && [ "$beside" = FAILED ] && { failed_boots=$((failed_boots + 1)); line+=" (the $beside_image node booted beside FAILED: $(grep -m1 '✗' "$work/beside.log" || tail -n1 "$work/beside.log"))"; }
  printf 'boot %3d/%d %-6s %5ss  %s\n' "$i" "$boots" "$loaded" "$secs" "$line"
done

# Restarts: the loader runs again at every boot of the same node; it must skip or repair, never fail.
failed_restarts=0
if ((restarts > 0)); then
  start_node "$image" "$node"
  expected=$(docker exec "$node" jq length /kind/images.json)
  loader_done() { # the loader finished in this boot (active or failed)
    local s
    s=$(docker exec "$node" systemctl is-active kind-load-images.service 2>/dev/null) || true
    [ "$s" = active ] || [ "$s" = failed ]
  }
  for ((r = 0; r <= restarts; r++)); do
    if ((r > 0)); then docker restart -t 5 "$node" >/dev/null; fi
    if ! WAIT_SECONDS=180 wait_for loader_done; then
      status="no result in 180 s"
    else
      status=$(docker exec "$node" jq -r '"\(.status) (\(.counts.imported) imported, \(.counts.skipped) skipped, \(.counts.failed) failed; \(.seconds) s)"' /run/kind/images-loaded.json 2>/dev/null || echo "no summary")
    fi
    pinned=$(docker exec "$node" ctr -n k8s.io images ls -q 'labels."io.cri-containerd.pinned"==pinned' 2>/dev/null | wc -l)
    if [[ $status == ok* ]] && ((pinned >= expected)); then res=ok; else res=FAILED; failed_restarts=$((failed_restarts + 1)); fi
    printf 'restart %2d/%d %-6s loader %s, %d/%d images pinned\n' "$r" "$restarts" "$res" "$status" "$pinned" "$expected"
  done
fi

printf 'boots: %d of %s and %d of %s beside, failed: %d\nrestarts: %d, failed: %d\n' "$boots" "$image" "$beside_boots" \
  "$beside_image" "$failed_boots" "$restarts" "$failed_restarts"
((failed_boots == 0 && failed_restarts == 0))
