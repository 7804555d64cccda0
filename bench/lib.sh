# Shared by the bench scripts. Sourced, not run; needs scripts/lib.sh first.

# start_node IMAGE NAME: a detached node container started as kind starts one (systemd on a tty, tmpfs /run and /tmp,
# /var on a volume, no network): privileged first, and as NodeLauncher's fallback mode when the engine refuses that.
start_node() {
  local common=(-d -t --name "$2" --network none --tmpfs /run --tmpfs /tmp -v /var
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined -v /lib/modules:/lib/modules:ro)
  docker run "${common[@]}" --privileged --cgroupns private "$1" >/dev/null 2>&1 || true
  sleep 2
  if [ "$(docker inspect -f '{{.State.Running}}' "$2" 2>/dev/null)" != true ]; then
    docker rm -f -v "$2" >/dev/null 2>&1 || true
    local cg=(--cgroupns private)
    [ "$(docker info -f '{{.CgroupVersion}}')" = 1 ] && cg=(--cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw)
    docker run "${common[@]}" --cap-add ALL --cap-drop SYS_RESOURCE --device /dev/kmsg --device-cgroup-rule 'a *:* rwm' \
      "${cg[@]}" "$1" >/dev/null
  fi
}
