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
# It runs on every boot, before kubelet, so it counts processes: process start-up
# (jq's above all, then ctr's) is nearly all of its time. The *.oci.tar path runs
# one tar per archive, ONE jq for all of them, one ctr per layer and per name
# (ctr 1.6 ingests one blob and labels one image per call; those run JOBS at a time)
# and one `ctr images import`. The summary is written without jq.
#
# Environment overrides (mainly for tests):
#   KIND_IMAGES_DIR (/kind/images)  KIND_IMAGES_NAMESPACE (k8s.io)
#   KIND_IMAGES_STATE_DIR (/run/kind)  KIND_IMAGES_JOBS (nproc)
#   KIND_CONTAINERD_WAIT_SECONDS (120)  CONTAINERD_ADDRESS (ctr's default socket)
#   KIND_CONTENT_BLOBS (/var/lib/containerd/io.containerd.content.v1.content/blobs/sha256)
#   KIND_IMAGES_ROUND_LAYERS (0 = all in one round): most layers per import round (step 4; tests only)
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
MAX_ROUND_LAYERS=${KIND_IMAGES_ROUND_LAYERS:-0}
((JOBS >= 1)) || JOBS=1

export IMAGES_DIR NAMESPACE PIN_KEY PIN_VALUE UNPACK CONTENT_BLOBS

log() { echo "kind-load-images: $*"; }

ctr_ns() { ctr --namespace "$NAMESPACE" "$@"; }

# Microseconds since the epoch, without a process (bash 5's EPOCHREALTIME).
now_us() { printf -v "$1" '%s' "${EPOCHREALTIME//[!0-9]/}"; }
# VAR START_US: VAR = seconds since START_US, as "1.234".
elapsed() {
  local e d
  now_us e
  d=$(((e - $2) / 1000))
  printf -v "$1" '%d.%03d' $((d / 1000)) $((d % 1000))
}
# One TSV result line; tabs and newlines in the detail become spaces, at most 400 characters.
# columns: file <TAB> names(comma-separated) <TAB> result <TAB> seconds <TAB> detail
result_tsv() { # file names result start_us detail
  local secs detail=${5//[$'\t\n\r']/ }
  elapsed secs "$4"
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$secs" "${detail:0:400}"
}

# LINE: F = its tab-separated fields, empty ones included (`IFS=$'\t' read` would
# merge consecutive tabs: tab is IFS whitespace).
tsv_fields() {
  local line=$1
  F=()
  while [[ $line == *$'\t'* ]]; do F+=("${line%%$'\t'*}"); line=${line#*$'\t'}; done
  F+=("$line")
}

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

# ---- worker: import one docker-archive, print one TSV result line on stdout --
import_one() {
  local file=$1 pinned_list=$2 start names=() manifest ref missing=0 out detail="" joined
  now_us start
  result_line() { # result detail
    joined=$(IFS=,; printf '%s' "${names[*]-}")
    result_tsv "$file" "$joined" "$1" "$start" "$2"
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

# worker entry point, used via xargs below:
#   load-images.sh --one <results-dir> <pinned-list> <archive>
if [[ ${1-} == --one ]]; then
  results_dir=$2 pinned_list=$3 archive=$4
  import_one "$archive" "$pinned_list" >"$results_dir/$(basename "$archive").tsv"
  exit $?
fi

# ---- main -------------------------------------------------------------------
now_us boot_start
mkdir -p "$STATE_DIR"
tsv="$STATE_DIR/images-loaded.tsv"
json="$STATE_DIR/images-loaded.json"
work=$(mktemp -d "$STATE_DIR/.load-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/jobs" "$work/s"
: >"$work/results"
: >"$work/stub-results"

# VAR STRING: VAR = STRING as a JSON string literal.
json_str() {
  local s=$2 out="" c i
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  if [[ $s == *[[:cntrl:]]* ]]; then
    for ((i = 0; i < ${#s}; i++)); do
      c=${s:i:1}
      [[ $c == [[:cntrl:]] ]] && printf -v c '\\u%04x' "'$c"
      out+=$c
    done
    s=$out
  fi
  printf -v "$1" '"%s"' "$s"
}

write_summary() { # status exit_code
  local secs finished line file names result s detail images="" sep="" n total=0 imported=0 skipped=0 failed=0
  local jfile jnames jresult jdetail jsecs jstatus jns jdir nl=()
  elapsed secs "$boot_start"
  { printf 'file\tnames\tresult\tseconds\tdetail\n'; cat "$work/results" 2>/dev/null; } >"$tsv.tmp"
  mv "$tsv.tmp" "$tsv"
  # The same document jq made before, written by bash: jq costs ~50 ms a start.
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    tsv_fields "$line"
    file=${F[0]} names=${F[1]-} result=${F[2]-} s=${F[3]-} detail=${F[4]-}
    total=$((total + 1))
    case $result in imported) imported=$((imported + 1)) ;; skipped) skipped=$((skipped + 1)) ;; failed) failed=$((failed + 1)) ;; esac
    json_str jfile "$file"; json_str jresult "$result"; json_str jdetail "$detail"
    jnames=""
    IFS=, read -r -a nl <<<"$names"
    for n in ${nl[@]+"${nl[@]}"}; do
      [[ -n $n ]] || continue
      json_str n "$n"; jnames+=${jnames:+,}$n
    done
    if [[ $s =~ ^[0-9]+(\.[0-9]+)?$ ]]; then jsecs=$s; else jsecs=null; fi
    images+="$sep{\"file\":$jfile,\"names\":[$jnames],\"result\":$jresult,\"seconds\":$jsecs,\"detail\":$jdetail}"
    sep=,
  done <"$work/results"
  TZ=UTC printf -v finished '%(%Y-%m-%dT%H:%M:%SZ)T' -1
  json_str jstatus "$1"; json_str jns "$NAMESPACE"; json_str jdir "$IMAGES_DIR"
  printf '{"status":%s,"exitCode":%d,"namespace":%s,"imagesDir":%s,"finished":"%s","seconds":%s,"counts":{"total":%d,"imported":%d,"skipped":%d,"failed":%d},"images":[%s]}\n' \
    "$jstatus" "$2" "$jns" "$jdir" "$finished" "$secs" "$total" "$imported" "$skipped" "$failed" "$images" >"$json.tmp"
  mv "$json.tmp" "$json"
}

# Background jobs, at most JOBS at a time: spawn KEY STDIN CMD...; a job that fails
# leaves its output in job_err[KEY]. (bash's `wait -n -p` instead of an xargs that
# would start a bash per job.)
declare -A job_of=() job_err=()
job_n=0
reap_one() {
  local pid="" rc v
  wait -n -p pid; rc=$?
  if [[ -z $pid || -z ${job_of[$pid]-} ]]; then # no child left to wait for: should not happen
    for v in "${job_of[@]}"; do job_err[${v#* }]="lost track of this job"; done
    job_of=()
    return
  fi
  v=${job_of[$pid]}
  unset "job_of[$pid]"
  ((rc == 0)) || job_err[${v#* }]="$(<"$work/jobs/${v%% *}") (exit $rc)"
}
spawn() {
  local key=$1 in=$2
  shift 2
  while ((${#job_of[@]} >= JOBS)); do reap_one; done
  job_n=$((job_n + 1))
  "$@" <"$in" >"$work/jobs/$job_n" 2>&1 &
  job_of[$!]="$job_n $key"
}
reap_all() { while ((${#job_of[@]} > 0)); do reap_one; done; }

# 1. wait (bounded) for containerd. The first query is the one we need anyway:
#    the names already present and pinned. No sleep when containerd is up.
deadline=$((SECONDS + WAIT_SECONDS))
# (timeout: a missing socket makes ctr wait ~10s for its dial before giving up)
until timeout 3 ctr --namespace "$NAMESPACE" images ls -q "labels.\"$PIN_KEY\"==$PIN_VALUE" >"$work/pinned" 2>"$work/pinned.err"; do
  if ((SECONDS >= deadline)); then
    log "FAILED: containerd did not answer 'ctr images ls' within ${WAIT_SECONDS}s: $(<"$work/pinned.err")"
    write_summary containerd-unavailable 1
    exit 1
  fi
  sleep 0.2
done
declare -A pinned=()
while IFS= read -r ref; do [[ -n $ref ]] && pinned[$ref]=1; done <"$work/pinned"

# 2. the archives (sorted, NUL-safe)
shopt -s nullglob
archives=("$IMAGES_DIR"/*.tar)
if ((${#archives[@]} == 0)); then
  log "no archives in $IMAGES_DIR; nothing to do"
  write_summary ok 0
  exit 0
fi

# 3. kind-build's archives (*.oci.tar), read in one pass: every archive unpacked
#    (one tar each, in parallel) into $work/s/<i>, then ONE jq over all their
#    index.json and blobs. Per archive i: names[i] (comma-separated), layers[i]
#    ("digest size" lines), entries[i] (its index entries as JSON), bad[i] (why unreadable).
stubs=("$IMAGES_DIR"/*.oci.tar)
declare -A names=() layers=() entries=() bad=() t0=()
read_stubs_jq='
  (reduce inputs as $d ({}; .[input_filename] = $d)) as $f
  | $f | keys[] | select(endswith("/index.json")) as $ix
  | ($ix | rtrimstr("/index.json") | split("/") | last) as $i
  | try (
      $f[$ix] as $index
      | ([$index.manifests[].annotations["io.containerd.image.name"] // empty]) as $names
      | ($index.manifests[0].digest // "") as $m
      | if ($names | length) == 0 then error("index.json names no image")
        elif ($m | startswith("sha256:") | not) or $f[($ix | rtrimstr("index.json")) + "blobs/sha256/" + $m[7:]] == null
        then error("index.json does not point at a manifest in the archive")
        else [$i, "ok", ($names | join(",")),
              ([$f[($ix | rtrimstr("index.json")) + "blobs/sha256/" + $m[7:]].layers[] | "\(.digest) \(.size)"] | join(";")),
              ($index.manifests | map(tojson) | join(","))] | join("\t") end
    ) catch ([$i, "bad", tostring] | join("\t"))'
read_stubs() { # stub indexes; prints one line per index, fails when a document is not JSON
  local i files=()
  for i in "$@"; do files+=("$work/s/$i/index.json" "$work/s/$i"/blobs/sha256/*); done
  jq -n -r "$read_stubs_jq" "${files[@]}" 2>&1
}
if ((${#stubs[@]} > 0)); then
  pids=()
  for i in "${!stubs[@]}"; do
    now_us "t0[$i]"
    mkdir "$work/s/$i"
    tar -xf "${stubs[$i]}" -C "$work/s/$i" 2>"$work/s/$i.err" &
    pids[$i]=$!
  done
  readable=()
  for i in "${!stubs[@]}"; do
    if ! wait "${pids[$i]}"; then
      bad[$i]=$(<"$work/s/$i.err")
    elif [[ ! -f $work/s/$i/index.json ]]; then
      bad[$i]="no index.json"
    else
      readable+=("$i")
    fi
  done
  if ((${#readable[@]} > 0)); then
    if ! out=$(read_stubs "${readable[@]}"); then
      # Some document is not JSON: read archive by archive to name the culprits.
      out=""
      for i in "${readable[@]}"; do
        if one=$(read_stubs "$i"); then out+=$one$'\n'; else bad[$i]=${one//$'\n'/ }; fi
      done
    fi
    while IFS= read -r line; do
      [[ -n $line ]] || continue
      tsv_fields "$line"
      i=${F[0]} status=${F[1]-} a=${F[2]-} b=${F[3]-} c=${F[4]-}
      if [[ $status == ok ]]; then
        names[$i]=$a layers[$i]=$b entries[$i]=$c
      else
        bad[$i]=$a
      fi
    done <<<"$out"
  fi
fi

# 4. Register every layer, then import every image with ONE `ctr images import`.
#    The layer files sit in the content store before containerd knows them, and any
#    garbage collection that sweeps the content store deletes files it does not know
#    and registered layers no image refers to yet. The import ends by deleting its
#    lease, which runs the collector synchronously, so all layers must be registered
#    before it and all images created by it: one round. The collector's own trigger
#    (every mutation_threshold metadata writes, 100 by default, ~2 per layer) would
#    strike mid-way with real images, so the node build raises that threshold in
#    containerd's config (ContainerdConfig.forNode). KIND_IMAGES_ROUND_LAYERS splits
#    the work into rounds again, for tests of the collector's effect only.
declare -A registered=()
stub_result() { # index result start detail
  result_tsv "${stubs[$1]}" "${names[$1]-}" "$2" "$3" "$4" >>"$work/stub-results"
}
import_round() { # stub indexes of one round
  local start i d size l out detail ref refs=() layout="$work/round" ok=() tarargs=() idx=""
  local -A want=() have=() why=()
  now_us start
  rm -rf "$layout" && mkdir -p "$layout"
  for i in "$@"; do
    while read -r d size; do
      [[ -n $d && -z ${registered[$d]-} ]] && want[$d]=$size
    done <<<"${layers[$i]//;/$'\n'}"
  done
  # One stat for every layer of the round: present, and of the manifest's size.
  if ((${#want[@]} > 0)); then
    while read -r size l; do have[${l##*/}]=$size; done < <(
      for d in "${!want[@]}"; do printf '%s\0' "$CONTENT_BLOBS/${d#sha256:}"; done |
        xargs -0 stat --printf '%s %n\n' -- 2>/dev/null)
  fi
  job_err=()
  for d in "${!want[@]}"; do
    size=${want[$d]} l=${have[${d#sha256:}]-}
    if [[ -z $l ]]; then
      why[$d]="layer $d is missing from $CONTENT_BLOBS"
    elif [[ $l != "$size" ]]; then
      why[$d]="layer $d has $l bytes, its manifest says $size"
    else
      # stdin is the blob itself, so containerd finds it complete and only records it
      spawn "$d" "$CONTENT_BLOBS/${d#sha256:}" ctr --namespace "$NAMESPACE" content ingest \
        --expected-digest "$d" --expected-size "$size" "kind-load-$$-${d#sha256:}"
    fi
  done
  reap_all
  for d in "${!job_err[@]}"; do why[$d]="register layer $d: ${job_err[$d]}"; done
  for i in "$@"; do
    detail=""
    while read -r d size; do
      [[ -n $d && -n ${why[$d]-} ]] && detail+="${why[$d]}; "
    done <<<"${layers[$i]//;/$'\n'}"
    if [[ -n $detail ]]; then
      log "FAILED ${stubs[$i]}: $detail" >&2
      stub_result "$i" failed "$start" "$detail"
    else
      ok+=("$i")
    fi
  done
  ((${#ok[@]} > 0)) || return 0
  # One OCI layout holding every image of the round: the archives' blobs, their index entries.
  for i in "${ok[@]}"; do
    idx+=${idx:+,}${entries[$i]}
    tarargs+=(-C "$work/s/$i" blobs)
  done
  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  printf '{"schemaVersion":2,"manifests":[%s]}' "$idx" >"$layout/index.json"
  if ! out=$(tar -cf "$work/round.tar" -C "$layout" oci-layout index.json "${tarargs[@]}" 2>&1) \
    || ! out=$(ctr_ns images import --all-platforms --no-unpack "$work/round.tar" 2>&1); then
    for i in "${ok[@]}"; do
      log "FAILED ${stubs[$i]}: ctr images import: $out" >&2
      stub_result "$i" failed "$start" "ctr images import: $out"
    done
    return 0
  fi
  # The round's images exist now: their layers are referenced, safe from the collector.
  for i in "${ok[@]}"; do
    while read -r d size; do [[ -n $d ]] && registered[$d]=1; done <<<"${layers[$i]//;/$'\n'}"
  done
  # ctr 1.6 has no `import --label` and labels one image per call. The pin label is
  # written last, so "present and pinned" also means "import completed".
  job_err=()
  for i in "${ok[@]}"; do
    IFS=, read -r -a refs <<<"${names[$i]}"
    for ref in "${refs[@]}"; do
      spawn "$ref" /dev/null ctr --namespace "$NAMESPACE" images label "$ref" "$PIN_KEY=$PIN_VALUE"
    done
  done
  reap_all
  for i in "${ok[@]}"; do
    detail=""
    IFS=, read -r -a refs <<<"${names[$i]}"
    for ref in "${refs[@]}"; do
      [[ -n ${job_err[$ref]-} ]] && detail+="label $ref: ${job_err[$ref]}; "
    done
    if [[ -n $detail ]]; then
      log "FAILED ${stubs[$i]}: imported but not labelled: $detail" >&2
      stub_result "$i" failed "$start" "$detail"
    else
      log "imported ${stubs[$i]} (${names[$i]//,/ }; layers in place)" >&2
      stub_result "$i" imported "$start" ""
    fi
  done
}
if ((${#stubs[@]} > 0)); then
  round=() round_layers=0
  for i in "${!stubs[@]}"; do
    f=${stubs[$i]}
    if [[ -n ${bad[$i]-} ]]; then
      log "FAILED $f: not a readable image archive (index.json naming an image, its manifest): ${bad[$i]}" >&2
      stub_result "$i" failed "${t0[$i]}" "not a readable image archive: ${bad[$i]:0:200}"
      continue
    fi
    missing=0
    IFS=, read -r -a refs <<<"${names[$i]}"
    for ref in "${refs[@]}"; do [[ -n ${pinned[$ref]-} ]] || missing=1; done
    if ((missing == 0)); then
      log "skipped $f (${names[$i]//,/ }): already present and pinned" >&2
      stub_result "$i" skipped "${t0[$i]}" "already present and pinned"
      continue
    fi
    # (counted as before: every layer of every image, shared ones too)
    n=0
    while read -r d size; do [[ -n $d ]] && n=$((n + 1)); done <<<"${layers[$i]//;/$'\n'}"
    if ((MAX_ROUND_LAYERS > 0 && ${#round[@]} > 0 && round_layers + n > MAX_ROUND_LAYERS)); then
      import_round "${round[@]}"
      round=() round_layers=0
    fi
    round+=("$i") round_layers=$((round_layers + n))
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
  r="$work/results.d/${a##*/}.tsv"
  if [[ -s $r ]]; then
    cat "$r"
  else
    log "FAILED $a: worker produced no result" >&2
    printf '%s\t\tfailed\t\tworker produced no result\n' "$a"
  fi
done >"$work/results"
cat "$work/stub-results" >>"$work/results"

imported=0 skipped=0 failed_files=()
while IFS= read -r line; do
  tsv_fields "$line"
  file=${F[0]} result=${F[2]-}
  case $result in
    imported) imported=$((imported + 1)) ;;
    skipped) skipped=$((skipped + 1)) ;;
    failed) failed_files+=("$file") ;;
  esac
done <"$work/results"
if ((${#failed_files[@]} > 0)); then
  write_summary failed 1
  log "done: $imported imported, $skipped skipped, ${#failed_files[@]} FAILED: ${failed_files[*]}"
  exit 1
fi
write_summary ok 0
log "done: $imported imported, $skipped skipped, 0 failed"
