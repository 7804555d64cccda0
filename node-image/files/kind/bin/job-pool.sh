# kind-build: a pool of background jobs for /kind/bin/load-images.sh, at most $JOBS at a time; sourced, not run.
# The caller sets JOB_DIR (an empty directory) and JOBS.
#   spawn KEY CMD...   runs CMD in the background; if it fails, job_err[KEY] = its output and exit code
#   reap_all           waits for every job
# Each job writes its exit code to a file, and that file is the record. bash's `wait -n -p VAR` sometimes ends with
# no job and VAR unset while jobs are still counted as running (bash 5.2: ~8 in 100 runs of 600 short jobs; under
# nounset the loader died mid-load, its images imported but not pinned): `wait -n` is only used to sleep.

declare -A job_key=() job_err=()
job_n=0

collect_done() {
  local n rc
  for n in "${!job_key[@]}"; do
    [[ -s $JOB_DIR/$n.rc ]] || continue
    read -r rc <"$JOB_DIR/$n.rc"
    ((rc == 0)) || job_err[${job_key[$n]}]="$(<"$JOB_DIR/$n") (exit $rc)"
    unset "job_key[$n]"
  done
}

spawn() {
  local key=$1
  shift
  collect_done
  while ((${#job_key[@]} >= JOBS)); do
    wait -n 2>/dev/null || sleep 0.05 # a job ending wakes us; the files say which
    collect_done
  done
  job_n=$((job_n + 1))
  { "$@" </dev/null >"$JOB_DIR/$job_n" 2>&1; echo $? >"$JOB_DIR/$job_n.rc"; } &
  job_key[$job_n]=$key
}

reap_all() {
  wait
  collect_done
}
