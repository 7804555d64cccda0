#!/usr/bin/env bash
# kind-build: load the images preloaded under /kind/images into containerd's k8s.io namespace, pin them against
# kubelet's image GC, and write a summary to /run/kind/images-loaded.{tsv,json}. Run by kind-load-images.service
# (oneshot, after containerd, before kubelet) at every boot; safe to re-run.
#
# What the node image carries (node-image/README.md, "The hand-over to containerd"):
#   /kind/images/<image>.oci.tar   per image a small OCI archive: index.json naming it, its manifest and config
#   /kind/images/blobs/sha256/     every layer once, outside containerd's root
# The order is what keeps every layer safe from containerd's garbage collector, which deletes any file in its content
# directory that its metadata does not record, whenever it runs: first ONE `ctr images import` of the manifests and
# configs creates the images (GC roots that name their layers); then each layer is copied into the content directory
# and recorded at once, so it is referenced the moment containerd knows it; and should a collection delete the copy
# before it is recorded, containerd takes the bytes from the image's own file instead. node-image/README.md says why.
#
# Environment (the tests set these): KIND_IMAGES_DIR (/kind/images), KIND_IMAGES_STATE_DIR (/run/kind),
# KIND_CONTAINERD_ROOT (/var/lib/containerd), KIND_CONTAINERD_WAIT_SECONDS (120); ctr's own CONTAINERD_ADDRESS.
set -o nounset -o pipefail

IMAGES_DIR=${KIND_IMAGES_DIR:-/kind/images}
BLOBS_DIR=$IMAGES_DIR/blobs/sha256
STATE_DIR=${KIND_IMAGES_STATE_DIR:-/run/kind}
CONTAINERD_ROOT=${KIND_CONTAINERD_ROOT:-/var/lib/containerd}
CONTENT_BLOBS=$CONTAINERD_ROOT/io.containerd.content.v1.content/blobs/sha256
PLACING_DIR=$CONTAINERD_ROOT/kind-load-images
WAIT_SECONDS=${KIND_CONTAINERD_WAIT_SECONDS:-120}
NAMESPACE=k8s.io
PIN_LABEL=io.cri-containerd.pinned=pinned
JQ_PROGRAM=$(dirname "${BASH_SOURCE[0]}")/load-images.jq
JOBS=$(nproc)
. "$(dirname "${BASH_SOURCE[0]}")/job-pool.sh"

log() { echo "kind-load-images: $*" >&2; }
ctr_ns() { ctr --namespace "$NAMESPACE" "$@"; }

# ---- time and text ------------------------------------------------------------------------------------------------

# VAR: microseconds since the epoch, without a process.
now_us() { printf -v "$1" '%s' "${EPOCHREALTIME//[!0-9]/}"; }
# VAR START_US: seconds since START_US, as "1.234".
elapsed() {
  local e d
  now_us e
  d=$(((e - $2) / 1000))
  printf -v "$1" '%d.%03d' $((d / 1000)) $((d % 1000))
}
# step FUNCTION: runs it and notes how long it took, for the journal's last line (where a slow or dead boot spent time).
step() {
  local t
  now_us t
  "$1"
  elapsed t "$t"
  step_times+="${step_times:+, }$1 ${t}s"
}
# LINE: F = its tab-separated fields, empty ones kept (`IFS=$'\t' read` would merge consecutive tabs).
tsv_fields() {
  local line=$1
  F=()
  while [[ $line == *$'\t'* ]]; do F+=("${line%%$'\t'*}"); line=${line#*$'\t'}; done
  F+=("$line")
}
# VAR STRING: STRING as a JSON string literal.
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

# ---- per-archive results ------------------------------------------------------------------------------------------

# result INDEX imported|skipped|failed DETAIL: one summary line for archive INDEX, and its journal line.
result() {
  local i=$1 secs detail=${3//[$'\t\n\r']/ }
  elapsed secs "$boot_start"
  case $2 in
    failed) log "FAILED ${archives[$i]}: $detail" ;;
    *) log "$2 ${archives[$i]} (${names[$i]-}${detail:+; $detail})" ;;
  esac
  printf '%s\t%s\t%s\t%s\t%s\n' "${archives[$i]}" "${names[$i]-}" "$2" "$secs" "${detail:0:400}" >>"$work/results"
}

# ---- the steps ----------------------------------------------------------------------------------------------------

# Waits (bounded) for containerd. Its first answer is the list we need anyway: pinned[name] = manifest digest.
wait_for_containerd() {
  local deadline=$((SECONDS + WAIT_SECONDS)) ref type digest rest
  # (timeout: with no socket ctr waits ~10 s for its dial)
  until timeout 10 ctr --namespace "$NAMESPACE" images ls "labels.\"${PIN_LABEL%%=*}\"==${PIN_LABEL#*=}" >"$work/pinned" 2>"$work/pinned.err"; do
    if ((SECONDS >= deadline)); then
      log "FAILED: containerd did not answer 'ctr images ls' within ${WAIT_SECONDS}s: $(<"$work/pinned.err")"
      write_summary containerd-unavailable 1
      exit 1
    fi
    sleep 0.2
  done
  while read -r ref type digest rest; do
    [[ $digest == sha256:* ]] && pinned[$ref]=$digest
  done <"$work/pinned"
}

# Unpacks every archive (one tar each, in parallel) and reads them all with ONE jq (jq's start-up is most of its cost).
read_archives() {
  local i line out one pids=() readable=() files=()
  for i in "${!archives[@]}"; do
    mkdir "$work/s/$i"
    tar -xf "${archives[$i]}" -C "$work/s/$i" 2>"$work/s/$i.err" &
    pids[$i]=$!
  done
  for i in "${!archives[@]}"; do
    if ! wait "${pids[$i]}"; then
      why[$i]="not a readable image archive: $(<"$work/s/$i.err")"
    elif [[ ! -f $work/s/$i/index.json ]]; then
      why[$i]="not a readable image archive: no index.json"
    else
      readable+=("$i")
    fi
  done
  ((${#readable[@]} > 0)) || return 0
  if ! out=$(jq_archives "${readable[@]}"); then
    out="" # some document is not JSON: read archive by archive to name the culprits
    for i in "${readable[@]}"; do
      if one=$(jq_archives "$i"); then out+=$one$'\n'; else why[$i]="not a readable image archive: ${one//$'\n'/ }"; fi
    done
  fi
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    tsv_fields "$line"
    i=${F[0]}
    if [[ ${F[1]-} == ok ]]; then
      names[$i]=${F[2]} manifest[$i]=${F[3]} blobs[$i]=${F[4]} layers[$i]=${F[5]} entries[$i]=${F[6]}
    else
      why[$i]="not a readable image archive: ${F[2]-}"
    fi
  done <<<"$out"
}
jq_archives() { # INDEX...
  local i files=()
  for i in "$@"; do files+=("$work/s/$i/index.json" "$work/s/$i"/blobs/sha256/*); done
  jq -n -r -f "$JQ_PROGRAM" "${files[@]}" 2>&1
}

# in_content[digest]=1 for every blob containerd holds.
list_content() {
  local d
  ctr_ns content ls -q >"$work/content" 2>"$work/content.err" || log "cannot list containerd's content: $(<"$work/content.err")"
  while read -r d; do [[ -n $d ]] && in_content[$d]=1; done <"$work/content"
}

# Per archive: failed (unreadable), skipped (every name pinned at this manifest, every blob in containerd), or
# planned for import; an image whose name is there but whose blobs are not is repaired by importing it again.
plan() {
  local i ref refs d size current missing
  for i in "${!archives[@]}"; do
    if [[ -n ${why[$i]-} ]]; then
      result "$i" failed "${why[$i]}"
      continue
    fi
    current=1
    IFS=, read -r -a refs <<<"${names[$i]}"
    for ref in "${refs[@]}"; do [[ ${pinned[$ref]-} == "${manifest[$i]}" ]] || current=0; done
    missing=0
    while read -r d size; do [[ -z $d || -n ${in_content[$d]-} ]] || missing=$((missing + 1)); done <<<"${blobs[$i]//;/$'\n'}"
    if ((current && !missing)); then
      result "$i" skipped "already present and pinned"
    else
      ((current)) && repaired[$i]="repaired: $missing blob(s) were missing from containerd"
      planned+=("$i")
    fi
  done
}

# Every layer the plan needs is in the node image, at its manifest's size (one stat for all). An archive whose layer
# is missing or cut short fails by name; the others go on.
check_layers() {
  local i d size l ok=() detail
  local -A want=() have=()
  for i in "${planned[@]}"; do
    while read -r d size; do [[ -n $d ]] && want[$d]=$size; done <<<"${layers[$i]//;/$'\n'}"
  done
  if ((${#want[@]} > 0)); then
    while read -r size l; do have[${l##*/}]=$size; done < <(
      for d in "${!want[@]}"; do printf '%s\0' "$BLOBS_DIR/${d#sha256:}"; done | xargs -0 stat --printf '%s %n\n' -- 2>/dev/null)
  fi
  for i in "${planned[@]}"; do
    detail=""
    while read -r d size; do
      [[ -n $d ]] || continue
      l=${have[${d#sha256:}]-}
      if [[ -z $l ]]; then
        detail+="layer $d is missing from $BLOBS_DIR; "
      elif [[ $l != "$size" ]]; then
        detail+="layer $d has $l bytes, its manifest says $size; "
      fi
    done <<<"${layers[$i]//;/$'\n'}"
    if [[ -n $detail ]]; then result "$i" failed "$detail"; else ok+=("$i"); fi
  done
  planned=(${ok[@]+"${ok[@]}"})
}

# import_manifests INDEX...: one `ctr images import` of an OCI layout holding those images' manifests and configs
# (symlinks to the unpacked archives, which tar follows) and no layer: the images exist from here on, and their
# manifests name their layers (containerd's gc.ref labels), so each layer is referenced the moment containerd records
# it. Output and errors in $work/import.out.
import_manifests() {
  local i idx="" layout="$work/layout"
  rm -rf "$layout"
  mkdir -p "$layout/blobs/sha256"
  for i in "$@"; do
    idx+=${idx:+,}${entries[$i]}
    ln -sf "$work/s/$i"/blobs/sha256/* "$layout/blobs/sha256/"
  done
  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  printf '{"schemaVersion":2,"manifests":[%s]}' "$idx" >"$layout/index.json"
  # --no-unpack: the CRI plugin unpacks on first use. --all-platforms: never drop an image for its platform.
  { tar -chf - -C "$layout" oci-layout index.json blobs | ctr_ns images import --all-platforms --no-unpack -; } >"$work/import.out" 2>&1
}

# All planned images in one import; if it fails, one import per image, so a bad archive fails alone and by name.
import_all() {
  local i ok=()
  ((${#planned[@]} > 0)) || return 0
  import_manifests "${planned[@]}" && return 0
  log "importing all ${#planned[@]} image(s) at once failed ($(tr '\n' ' ' <"$work/import.out")); importing one at a time"
  for i in "${planned[@]}"; do
    if import_manifests "$i"; then ok+=("$i"); else result "$i" failed "ctr images import: $(tr '\n' ' ' <"$work/import.out")"; fi
  done
  planned=(${ok[@]+"${ok[@]}"})
}

# place_layer DIGEST SIZE: the layer into containerd's content directory, then recorded by containerd. The copy goes
# in under a temporary name outside the blob directory and is renamed into place, so containerd never sees half a
# file. Recording it (`ctr content ingest`) finds the file complete and only writes metadata (containerd's default
# "shared" content policy). Should a collection delete the file between the rename and the record, containerd writes
# the bytes from stdin instead: the image's own file, so nothing is lost either way.
place_layer() {
  local hex=${1#sha256:} tmp
  tmp=$PLACING_DIR/$hex.$BASHPID
  if [[ ! -e $CONTENT_BLOBS/$hex ]]; then
    cp "$BLOBS_DIR/$hex" "$tmp" && mv -f "$tmp" "$CONTENT_BLOBS/$hex" || { rm -f "$tmp"; return 1; }
  fi
  ctr --namespace "$NAMESPACE" content ingest --expected-digest "$1" --expected-size "$2" "kind-load-$hex" <"$BLOBS_DIR/$hex"
}

# Every layer of the imported images that containerd does not hold yet, JOBS at a time.
place_layers() {
  local i d size
  local -A wanted=()
  ((${#planned[@]} > 0)) || return 0
  mkdir -p "$PLACING_DIR" "$CONTENT_BLOBS"
  job_err=()
  for i in "${planned[@]}"; do
    while read -r d size; do
      [[ -z $d || -n ${in_content[$d]-} || -n ${wanted[$d]-} ]] && continue
      wanted[$d]=1
      spawn "$d" place_layer "$d" "$size"
    done <<<"${layers[$i]//;/$'\n'}"
  done
  reap_all
  rm -rf "$PLACING_DIR"
}

# Every blob of every imported image is in containerd now; an image that misses one fails by name.
confirm_content() {
  local i d size detail ok=()
  ((${#planned[@]} > 0)) || return 0
  in_content=()
  list_content
  for i in "${planned[@]}"; do
    detail=""
    while read -r d size; do
      [[ -z $d || -n ${in_content[$d]-} ]] || detail+="$d is not in containerd${job_err[$d]:+: ${job_err[$d]}}; "
    done <<<"${blobs[$i]//;/$'\n'}"
    if [[ -z $detail ]]; then ok+=("$i"); else result "$i" failed "$detail"; fi
  done
  planned=(${ok[@]+"${ok[@]}"})
}

# The pin label, written last: "present and pinned at this manifest" then also means "loaded completely".
pin() {
  local i ref refs detail
  job_err=()
  for i in "${planned[@]}"; do
    IFS=, read -r -a refs <<<"${names[$i]}"
    for ref in "${refs[@]}"; do spawn "$ref" ctr --namespace "$NAMESPACE" images label "$ref" "$PIN_LABEL"; done
  done
  reap_all
  for i in "${planned[@]}"; do
    detail=""
    IFS=, read -r -a refs <<<"${names[$i]}"
    for ref in "${refs[@]}"; do [[ -z ${job_err[$ref]-} ]] || detail+="label $ref: ${job_err[$ref]}; "; done
    if [[ -n $detail ]]; then
      result "$i" failed "imported but not pinned: $detail"
    else
      result "$i" imported "${repaired[$i]-}"
    fi
  done
}

# write_summary STATUS EXIT_CODE: the TSV and the JSON (written by bash: jq costs ~50 ms a start).
write_summary() {
  local secs finished line file names_ result s detail images="" sep="" n total=0 imported=0 skipped=0 failed=0
  local jfile jnames jresult jdetail jsecs jstatus jdir nl=()
  elapsed secs "$boot_start"
  { printf 'file\tnames\tresult\tseconds\tdetail\n'; cat "$work/results"; } >"$STATE_DIR/images-loaded.tsv.tmp"
  mv "$STATE_DIR/images-loaded.tsv.tmp" "$STATE_DIR/images-loaded.tsv"
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    tsv_fields "$line"
    file=${F[0]} names_=${F[1]-} result=${F[2]-} s=${F[3]-} detail=${F[4]-}
    total=$((total + 1))
    case $result in imported) imported=$((imported + 1)) ;; skipped) skipped=$((skipped + 1)) ;; failed) failed=$((failed + 1)) ;; esac
    json_str jfile "$file"
    json_str jresult "$result"
    json_str jdetail "$detail"
    jnames=""
    IFS=, read -r -a nl <<<"$names_"
    for n in ${nl[@]+"${nl[@]}"}; do
      [[ -n $n ]] || continue
      json_str n "$n"
      jnames+=${jnames:+,}$n
    done
    if [[ $s =~ ^[0-9]+(\.[0-9]+)?$ ]]; then jsecs=$s; else jsecs=null; fi
    images+="$sep{\"file\":$jfile,\"names\":[$jnames],\"result\":$jresult,\"seconds\":$jsecs,\"detail\":$jdetail}"
    sep=,
  done <"$work/results"
  TZ=UTC printf -v finished '%(%Y-%m-%dT%H:%M:%SZ)T' -1
  json_str jstatus "$1"
  json_str jdir "$IMAGES_DIR"
  printf '{"status":%s,"exitCode":%d,"namespace":"%s","imagesDir":%s,"finished":"%s","seconds":%s,"counts":{"total":%d,"imported":%d,"skipped":%d,"failed":%d},"images":[%s]}\n' \
    "$jstatus" "$2" "$NAMESPACE" "$jdir" "$finished" "$secs" "$total" "$imported" "$skipped" "$failed" "$images" \
    >"$STATE_DIR/images-loaded.json.tmp"
  mv "$STATE_DIR/images-loaded.json.tmp" "$STATE_DIR/images-loaded.json"
}

# Writes the summary and ends: status 1 when any archive failed (the others are loaded all the same).
finish() {
  local line imported=0 skipped=0 failed=()
  while IFS= read -r line; do
    tsv_fields "$line"
    case ${F[2]-} in imported) imported=$((imported + 1)) ;; skipped) skipped=$((skipped + 1)) ;; failed) failed+=("${F[0]}") ;; esac
  done <"$work/results"
  if ((${#failed[@]} > 0)); then
    write_summary failed 1
    log "done: $imported imported, $skipped skipped, ${#failed[@]} FAILED: ${failed[*]} (${step_times})"
    exit 1
  fi
  write_summary ok 0
  log "done: $imported imported, $skipped skipped, 0 failed (${step_times})"
  exit 0
}

# ---- main ---------------------------------------------------------------------------------------------------------
now_us boot_start
mkdir -p "$STATE_DIR"
work=$(mktemp -d "$STATE_DIR/.load-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/s"
JOB_DIR=$work/jobs
mkdir -p "$JOB_DIR"
: >"$work/results"
shopt -s nullglob
archives=("$IMAGES_DIR"/*.tar)
declare -A pinned=() in_content=() names=() manifest=() blobs=() layers=() entries=() why=() repaired=()
planned=()
step_times=""

step wait_for_containerd
((${#archives[@]} > 0)) || { log "no image archives in $IMAGES_DIR"; finish; }
step read_archives
step list_content
step plan
step check_layers
step import_all
step place_layers
step confirm_content
step pin
finish
