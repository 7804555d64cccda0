#!/usr/bin/env bash
# kind-build: import the images preloaded under /kind/images/*.tar into containerd's
# k8s.io namespace, pin them against kubelet image GC, and write a summary to
# /run/kind/images-loaded.{tsv,json}. Two kinds of archive:
#   *.oci.tar  what kind-build writes: a small OCI archive (index, manifest, config)
#              whose layers the node image already holds in containerd's content
#              store directory. Importing it and registering each layer
#              (`ctr content ingest`, which finds the blob in place) writes only
#              metadata: no image byte is copied at boot.
#   *.tar      any docker-archive (e.g. `docker save` output): imported whole.
#
# Run by kind-load-images.service (oneshot, before kubelet). Safe to re-run: an
# archive whose RepoTags are all present in containerd *and* pinned is skipped.
# Exit status is non-zero when any archive failed; the others are still imported.
#
# Environment overrides (mainly for tests):
#   KIND_IMAGES_DIR (/kind/images)  KIND_IMAGES_NAMESPACE (k8s.io)
#   KIND_IMAGES_STATE_DIR (/run/kind)  KIND_IMAGES_JOBS (nproc)
#   KIND_CONTAINERD_WAIT_SECONDS (120)  CONTAINERD_ADDRESS (ctr's default socket)
#   KIND_CONTENT_BLOBS (/var/lib/containerd/io.containerd.content.v1.content/blobs/sha256)
#   KIND_IMAGES_UNPACK (0): 1 = unpack docker-archives at import. Slower boot, but layer contents are
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
CONTENT_BLOBS=${KIND_CONTENT_BLOBS:-/var/lib/containerd/io.containerd.content.v1.content/blobs/sha256}

export IMAGES_DIR NAMESPACE PIN_KEY PIN_VALUE UNPACK CONTENT_BLOBS

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

# Registers one layer blob that is already in containerd's content store directory:
# stdin is the blob itself, so containerd finds it complete and only records it.
register_layer() { # DIGEST SIZE
  local d=$1 size=$2 blob="$CONTENT_BLOBS/${1#sha256:}" out
  if [[ ! -f $blob ]]; then
    echo "layer $d is missing from $CONTENT_BLOBS"; return 1
  fi
  if [[ $(stat -c %s "$blob") != "$size" ]]; then
    echo "layer $d has $(stat -c %s "$blob") bytes, its manifest says $size"; return 1
  fi
  out=$(ctr_ns content ingest --expected-digest "$d" --expected-size "$size" "kind-load-$$-${d#sha256:}" <"$blob" 2>&1) \
    || { echo "register layer $d: $out"; return 1; }
}

# worker entry points, used via xargs below:
#   load-images.sh --layer <failures-dir> <digest> <size>
#   load-images.sh --one <results-dir> <pinned-list> <archive>
if [[ ${1-} == --layer ]]; then
  out=$(register_layer "$3" "$4") || { printf '%s\n' "$out" >"$2/${3#sha256:}"; exit 1; }
  exit 0
fi
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

# 4. kind-build's archives (*.oci.tar): layers in place, index/manifest/config in the archive.
#    Each round registers the layers of some images (at most MAX_ROUND_LAYERS, well
#    below the mutation count that starts containerd's garbage collector on its own)
#    and then imports those images with ONE `ctr images import`. That matters: an
#    import ends by deleting its lease, which runs the garbage collector, and that
#    deletes every registered layer no image refers to yet — file included. Within a
#    round nothing runs it before the round's images exist.
MAX_ROUND_LAYERS=${KIND_IMAGES_ROUND_LAYERS:-50}
stub_result() { # file names result start detail
  local secs
  secs=$(awk -v s="$4" -v e="$(date +%s%N)" 'BEGIN { printf "%.3f", (e - s) / 1e9 }')
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$secs" "$(printf '%s' "$5" | tr '\t\n' '  ' | cut -c1-400)" >>"$work/stub-results"
}
import_round() { # stub files of one round; their metadata is in $work/stubs/<name>.{names,layers}
  local start files=("$@") f b d size out layout="$work/round" detail
  start=$(date +%s%N)
  rm -rf "$layout" "$work/layer-failures"; mkdir -p "$layout/blobs/sha256" "$work/layer-failures"
  for f in "${files[@]}"; do cat "$work/stubs/$(basename "$f").layers"; done | sort -u >"$work/round-layers"
  xargs -r -n 2 -P "$JOBS" "${BASH_SOURCE[0]}" --layer "$work/layer-failures" <"$work/round-layers" || true
  local ok=()
  for f in "${files[@]}"; do
    b=$(basename "$f"); detail=""
    while read -r d size; do
      [[ -s $work/layer-failures/${d#sha256:} ]] && detail+="$(cat "$work/layer-failures/${d#sha256:}"); "
    done <"$work/stubs/$b.layers"
    if [[ -n $detail ]]; then
      log "FAILED $f: $detail" >&2
      stub_result "$f" "$(paste -sd, "$work/stubs/$b.names")" failed "$start" "$detail"
    else
      ok+=("$f")
    fi
  done
  ((${#ok[@]} > 0)) || return 0
  # One OCI layout holding every image of the round: the archives' blobs, their index entries.
  for f in "${ok[@]}"; do tar -xf "$f" -C "$layout" blobs; done
  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  for f in "${ok[@]}"; do tar -xOf "$f" index.json; done | jq -s '{schemaVersion: 2, manifests: (map(.manifests) | add)}' >"$layout/index.json"
  tar -cf "$work/round.tar" -C "$layout" oci-layout index.json blobs
  if ! out=$(ctr_ns images import --all-platforms --no-unpack "$work/round.tar" 2>&1); then
    for f in "${ok[@]}"; do
      log "FAILED $f: ctr images import: $out" >&2
      stub_result "$f" "$(paste -sd, "$work/stubs/$(basename "$f").names")" failed "$start" "ctr images import: $out"
    done
    return 0
  fi
  for f in "${ok[@]}"; do
    b=$(basename "$f"); detail=""
    while IFS= read -r ref; do
      out=$(ctr_ns images label "$ref" "$PIN_KEY=$PIN_VALUE" 2>&1) || detail+="label $ref: $out; "
    done <"$work/stubs/$b.names"
    if [[ -n $detail ]]; then
      log "FAILED $f: imported but not labelled: $detail" >&2
      stub_result "$f" "$(paste -sd, "$work/stubs/$b.names")" failed "$start" "$detail"
    else
      log "imported $f ($(paste -sd' ' "$work/stubs/$b.names"); layers in place)" >&2
      stub_result "$f" "$(paste -sd, "$work/stubs/$b.names")" imported "$start" ""
    fi
  done
}
stubs=("$IMAGES_DIR"/*.oci.tar)
touch "$work/stub-results"
if ((${#stubs[@]} > 0)); then
  mkdir -p "$work/stubs"
  round=() round_layers=0
  for f in "${stubs[@]}"; do
    b=$(basename "$f") t0=$(date +%s%N)
    index=$(tar -xOf "$f" index.json 2>&1) \
      && jq -r '.manifests[].annotations["io.containerd.image.name"] // empty' <<<"$index" >"$work/stubs/$b.names" 2>/dev/null \
      && m=$(jq -r '.manifests[0].digest // empty' <<<"$index") && [[ $m == sha256:* && -s $work/stubs/$b.names ]] \
      && tar -xOf "$f" "blobs/sha256/${m#sha256:}" 2>/dev/null | jq -r '.layers[] | "\(.digest) \(.size)"' >"$work/stubs/$b.layers" 2>/dev/null
    if (($? != 0)); then
      log "FAILED $f: not a readable image archive (index.json naming an image, its manifest)" >&2
      stub_result "$f" "" failed "$t0" "not a readable image archive: ${index:0:200}"
      continue
    fi
    missing=0
    while IFS= read -r ref; do grep -qxF -- "$ref" "$work/pinned" || missing=1; done <"$work/stubs/$b.names"
    if ((missing == 0)); then
      log "skipped $f ($(paste -sd' ' "$work/stubs/$b.names")): already present and pinned" >&2
      stub_result "$f" "$(paste -sd, "$work/stubs/$b.names")" skipped "$t0" "already present and pinned"
      continue
    fi
    n=$(wc -l <"$work/stubs/$b.layers")
    if ((${#round[@]} > 0 && round_layers + n > MAX_ROUND_LAYERS)); then
      import_round "${round[@]}"
      round=() round_layers=0
    fi
    round+=("$f") round_layers=$((round_layers + n))
  done
  ((${#round[@]} > 0)) && import_round "${round[@]}"
fi

# 5. docker-archives: import in parallel, one worker per CPU; workers log one line each
archives=()
for a in "$IMAGES_DIR"/*.tar; do [[ $a == *.oci.tar ]] || archives+=("$a"); done
log "imported ${#stubs[@]} image archive(s) with layers in place; importing ${#archives[@]} docker-archive(s) with $JOBS worker(s)"
mkdir -p "$work/results.d"
if ((${#archives[@]} > 0)); then
  printf '%s\0' "${archives[@]}" |
    xargs -0 -r -n 1 -P "$JOBS" "${BASH_SOURCE[0]}" --one "$work/results.d" "$work/pinned" || true
fi

# 6. collect results (an archive whose worker died without a line counts as failed)
for a in ${archives[@]+"${archives[@]}"}; do
  r="$work/results.d/$(basename "$a").tsv"
  if [[ -s $r ]]; then
    cat "$r"
  else
    log "FAILED $a: worker produced no result" >&2
    printf '%s\t\tfailed\t\tworker produced no result\n' "$a"
  fi
done >"$work/results"
cat "$work/stub-results" >>"$work/results"

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
