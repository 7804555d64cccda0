#!/usr/bin/env bash
# The loader's job pool (node-image/files/kind/bin/job-pool.sh) against the one it replaced (a15acc6, which trusted
# `wait -n -p`): RUNS shells (default 100) each run 20 rounds of 30 short jobs, two at a time, every seventh failing,
# and check every job was collected with its failure. Prints per pool `RUNS runs, F failed` and the first error.
#   bench/job-pool.sh [RUNS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-100}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat >"$work/before.sh" <<'POOL'
declare -A job_of=() job_err=()
job_n=0
reap_one() {
  local pid="" rc v
  wait -n -p pid
  rc=$?
  v=${job_of[$pid]-}
  [[ -n $v ]] || return 0
  unset "job_of[$pid]"
  ((rc == 0)) || job_err[${v#* }]="$(<"$JOB_DIR/${v%% *}") (exit $rc)"
}
spawn() {
  local key=$1
  shift
  while ((${#job_of[@]} >= JOBS)); do reap_one; done
  job_n=$((job_n + 1))
  "$@" </dev/null >"$JOB_DIR/$job_n" 2>&1 &
  job_of[$!]="$job_n $key"
}
reap_all() { while ((${#job_of[@]} > 0)); do reap_one; done; }
POOL

cat >"$work/stress.sh" <<'STRESS'
set -o nounset -o pipefail
JOB_DIR=$(mktemp -d) JOBS=2
trap 'rm -rf "$JOB_DIR"' EXIT
. "$1"
for ((r = 1; r <= 20; r++)); do
  job_err=()
  for ((k = 1; k <= 30; k++)); do
    if ((k % 7 == 0)); then spawn "k$k" sh -c "echo no k$k; exit 3"; else spawn "k$k" true; fi
  done
  reap_all
  [[ ${#job_err[@]} == 4 && ${job_err[k14]-} == "no k14 (exit 3)" ]] || { echo "round $r: failures ${!job_err[*]}"; exit 1; }
  x=$(echo between rounds)
done
STRESS

for pool in "$root/node-image/files/kind/bin/job-pool.sh" "$work/before.sh"; do
  failed=0 first=""
  for ((i = 1; i <= runs; i++)); do
    if ! out=$(bash "$work/stress.sh" "$pool" 2>&1); then
      failed=$((failed + 1))
      first=${first:-$out}
    fi
  done
  name=$([ "$pool" = "$work/before.sh" ] && echo "before (a15acc6)" || echo "job-pool.sh")
  printf '%-18s %d runs, %d failed%s\n' "$name" "$runs" "$failed" "${first:+ (first: ${first//$'\n'/ })}"
done
