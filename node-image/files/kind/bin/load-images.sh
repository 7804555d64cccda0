#!/usr/bin/env bash
# kind-build: import the images preloaded under /kind/images/*.tar (docker-archive
# tarballs) into containerd's k8s.io namespace, pin them against kubelet image GC,
# and write a summary to /run/kind/images-loaded.{tsv,json}.
#
# Run by kind-load-images.service (oneshot, before kubelet). Safe to re-run: an
# archive whose RepoTags are all present in containerd *and* pinned is skipped.
# Exit status is non-zero when any archive failed; the others are still imported.
#
# Environment overrides (mainly for tests):
#   KIND_IMAGES_DIR (/kind/images)  KIND_IMAGES_NAMESPACE (k8s.io)
#   KIND_IMAGES_STATE_DIR (/run/kind)  KIND_IMAGES_JOBS (nproc)
#   KIND_CONTAINERD_WAIT_SECONDS (120)  CONTAINERD_ADDRESS (ctr's default socket)
#   KIND_IMAGES_UNPACK (0): 1 = unpack at import. Slower boot, but layer contents are
#     checked against the config's diff_ids now instead of on first use (a layer whose
#     bytes are damaged but whose tar framing is intact imports fine with --no-unpack).
set -o nounset -o pipefail

IMAGES_DIR=${KIND_IMAGES_DIR:-/kind/images}
NAMESPACE=${KIND_IMAGES_NAMESPACE:-k8s.io}
STATE_DIR=${KIND_IMAGES_STATE_DIR:-/run/kind}
JOBS=${KIND_IMAGES_JOBS:-$(nproc)}
WAIT_SECONDS=${KIND_CONTAINERD_WAIT_SECONDS:-120}
PIN_KEY=io.cri-containerd.pinned
PIN_VALUE=pinned
UNPACK=${KIND_IMAGES_UNPACK:-0}

export IMAGES_DIR NAMESPACE PIN_KEY PIN_VALUE UNPACK

log() { echo "kind-load-images: $*"; }

ctr_ns() { ctr --namespace "$NAMESPACE" "$@"; }

# Normalise a docker reference the way containerd does for docker archives:
# "pause:3.10" -> "docker.io/library/pause:3.10", "foo/bar:1" -> "docker.io/foo/bar:1".
normalize_ref() {
  local ref=$1 first rest
  if [[ $ref != */* ]]; then
    ref="docker.io/library/$ref"
  else
    first=${ref%%/*}
    if [[ $first != *.* && $first != *:* && $first != localhost ]]; then
      ref="docker.io/$ref"
    fi
  fi
  # a reference with neither tag nor digest means :latest
  rest=${ref##*/}
  if [[ $rest != *:* && $rest != *@* ]]; then
    ref="$ref:latest"
  fi
  printf '%s\n' "$ref"
}

# ---- worker: import one archive, print one TSV result line on stdout -------
# columns: file <TAB> names(comma-separated) <TAB> result <TAB> seconds <TAB> detail
import_one() {
  local file=$1 pinned_list=$2 start names=() manifest ref missing=0 out detail=""
  start=$(date +%s%N)
  result_line() { # result detail
    local secs
    secs=$(awk -v s="$start" -v e="$(date +%s%N)" 'BEGIN { printf "%.3f", (e - s) / 1e9 }')
    local joined
    joined=$(IFS=,; printf '%s' "${names[*]-}")
    printf '%s\t%s\t%s\t%s\t%s\n' "$file" "$joined" "$1" "$secs" "$(printf '%s' "$2" | tr '\t\n' '  ' | cut -c1-400)"
  }

  # reading manifest.json makes tar walk the whole archive, so a truncated file fails here
  local errf
  errf=$(mktemp)
  if ! manifest=$(tar -xOf "$file" manifest.json 2>"$errf"); then
    detail=$(tr '\n' ' ' <"$errf"); rm -f "$errf"
    log "FAILED $file: cannot read manifest.json: $detail" >&2
    result_line failed "cannot read manifest.json: $detail"
    return 1
  fi
  rm -f "$errf"
  local raw
  if ! raw=$(printf '%s' "$manifest" | jq -r '.[] | (.RepoTags // [])[]' 2>&1); then
    log "FAILED $file: invalid manifest.json: $raw" >&2
    result_line failed "invalid manifest.json: $raw"
    return 1
  fi
  while IFS= read -r ref; do
    [[ -n $ref ]] && names+=("$(normalize_ref "$ref")")
  done <<<"$raw"
  if ((${#names[@]} == 0)); then
    log "FAILED $file: manifest.json has no RepoTags; the builder must name every image" >&2
    result_line failed "no RepoTags in manifest.json"
    return 1
  fi

  for ref in "${names[@]}"; do
    grep -qxF -- "$ref" "$pinned_list" || missing=1
  done
  if ((missing == 0)); then
    log "skipped $file (${names[*]}): already present and pinned" >&2
    result_line skipped "already present and pinned"
    return 0
  fi

  # --no-unpack: the CRI plugin (and ctr run) unpack into the snapshotter on
  # first use, so boot only pays for writing blobs into the content store.
  # --all-platforms: never drop an archive because its config names another platform.
  local flags=(--all-platforms)
  [[ $UNPACK == 1 ]] || flags+=(--no-unpack)
  if ! out=$(ctr_ns images import "${flags[@]}" "$file" 2>&1); then
    log "FAILED $file: ctr images import: $out" >&2
    result_line failed "ctr images import: $out"
    return 1
  fi
  # ctr 1.6 has no `import --label`; label each name afterwards. The pin label is
  # written last, so "present and pinned" also means "import completed".
  for ref in "${names[@]}"; do
    if ! out=$(ctr_ns images label "$ref" "$PIN_KEY=$PIN_VALUE" 2>&1); then
      detail+="label $ref: $out; "
    fi
  done
  if [[ -n $detail ]]; then
    log "FAILED $file: imported but not labelled: $detail" >&2
    result_line failed "$detail"
    return 1
  fi
  log "imported $file (${names[*]})" >&2
  result_line imported ""
}

# worker entry point, used via xargs below: load-images.sh --one <results-dir> <pinned-list> <archive>
if [[ ${1-} == --one ]]; then
  results_dir=$2 pinned_list=$3 archive=$4
  import_one "$archive" "$pinned_list" >"$results_dir/$(basename "$archive").tsv"
  exit $?
fi

# ---- main -------------------------------------------------------------------
boot_start=$(date +%s%N)
mkdir -p "$STATE_DIR"
tsv="$STATE_DIR/images-loaded.tsv"
json="$STATE_DIR/images-loaded.json"
work=$(mktemp -d "$STATE_DIR/.load-images.XXXXXX")
trap 'rm -rf "$work"' EXIT

write_summary() { # status exit_code
  local secs
  secs=$(awk -v s="$boot_start" -v e="$(date +%s%N)" 'BEGIN { printf "%.3f", (e - s) / 1e9 }')
  { printf 'file\tnames\tresult\tseconds\tdetail\n'; cat "$work/results" 2>/dev/null; } >"$tsv.tmp"
  mv "$tsv.tmp" "$tsv"
  jq -R -s --arg status "$1" --argjson exit "$2" --argjson seconds "$secs" \
     --arg finished "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg ns "$NAMESPACE" --arg dir "$IMAGES_DIR" '
    (split("\n") | map(select(length > 0) | split("\t"))) as $rows
    | { status: $status, exitCode: $exit, namespace: $ns, imagesDir: $dir,
        finished: $finished, seconds: $seconds,
        counts: { total: ($rows | length),
                  imported: ($rows | map(select(.[2] == "imported")) | length),
                  skipped:  ($rows | map(select(.[2] == "skipped"))  | length),
                  failed:   ($rows | map(select(.[2] == "failed"))   | length) },
        images: [ $rows[] | { file: .[0], names: (.[1] | split(",") | map(select(length > 0))),
                              result: .[2], seconds: (.[3] | tonumber? // null), detail: (.[4] // "") } ] }
  ' <"$work/results" >"$json.tmp" 2>/dev/null || echo '{"status":"'"$1"'","exitCode":'"$2"'}' >"$json.tmp"
  mv "$json.tmp" "$json"
}
touch "$work/results"

# 1. wait (bounded) for containerd
deadline=$((SECONDS + WAIT_SECONDS))
# (timeout: a missing socket makes ctr wait ~10s for its dial before giving up)
until timeout 3 ctr version >/dev/null 2>&1; do
  if ((SECONDS >= deadline)); then
    log "FAILED: containerd did not answer 'ctr version' within ${WAIT_SECONDS}s"
    write_summary containerd-unavailable 1
    exit 1
  fi
  sleep 0.2
done

# 2. the archives (sorted, NUL-safe)
shopt -s nullglob
archives=("$IMAGES_DIR"/*.tar)
if ((${#archives[@]} == 0)); then
  log "no archives in $IMAGES_DIR; nothing to do"
  write_summary ok 0
  exit 0
fi

# 3. names already present and pinned (one query, shared by all workers)
if ! ctr_ns images ls -q "labels.\"$PIN_KEY\"==$PIN_VALUE" >"$work/pinned" 2>"$work/pinned.err"; then
  log "warning: cannot list pinned images ($(cat "$work/pinned.err")); importing everything"
  : >"$work/pinned"
fi

# 4. import in parallel, one worker per CPU; workers log one line each to the journal
log "importing ${#archives[@]} archive(s) from $IMAGES_DIR with $JOBS worker(s)"
mkdir -p "$work/results.d"
printf '%s\0' "${archives[@]}" |
  xargs -0 -r -n 1 -P "$JOBS" "${BASH_SOURCE[0]}" --one "$work/results.d" "$work/pinned" || true

# 5. collect results (an archive whose worker died without a line counts as failed)
for a in "${archives[@]}"; do
  r="$work/results.d/$(basename "$a").tsv"
  if [[ -s $r ]]; then
    cat "$r"
  else
    log "FAILED $a: worker produced no result" >&2
    printf '%s\t\tfailed\t\tworker produced no result\n' "$a"
  fi
done >"$work/results"

imported=$(awk -F'\t' '$3 == "imported"' "$work/results" | wc -l)
skipped=$(awk -F'\t' '$3 == "skipped"' "$work/results" | wc -l)
failed_files=$(awk -F'\t' '$3 == "failed" { print $1 }' "$work/results")
if [[ -n $failed_files ]]; then
  write_summary failed 1
  log "done: $imported imported, $skipped skipped, $(wc -l <<<"$failed_files") FAILED: $(paste -sd' ' <<<"$failed_files")"
  exit 1
fi
write_summary ok 0
log "done: $imported imported, $skipped skipped, 0 failed"
