#!/bin/bash
# cgroup v2 only, run from kubelet's ExecStartPre (11-kind.conf).
#
# kubelet runs with cgroupRoot=/kubelet and in kubelet.slice; pods need every
# controller available there. A controller can only be delegated downwards
# when the parent has no processes of its own, which is true of the node's
# root cgroup only after systemd moved itself into init.scope.
set -o errexit -o nounset -o pipefail

root=/sys/fs/cgroup
if [[ ! -f "${root}/cgroup.controllers" ]]; then
  echo "ERROR: ${root} is not a cgroup v2 hierarchy" >&2
  exit 1
fi
if [[ -n "$(cat "${root}/cgroup.procs")" ]]; then
  echo "ERROR: processes still live in the root cgroup; cannot delegate controllers" >&2
  exit 1
fi

# "cpu memory pids" -> "+cpu +memory +pids"
enable=""
for c in $(cat "${root}/cgroup.controllers"); do
  enable+=" +${c}"
done
enable="${enable# }"

echo "${enable}" > "${root}/cgroup.subtree_control"
for dir in kubelet kubelet.slice; do
  mkdir -p "${root}/${dir}"
  echo "${enable}" > "${root}/${dir}/cgroup.subtree_control"
done
