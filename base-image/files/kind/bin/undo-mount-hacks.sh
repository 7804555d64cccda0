#!/bin/bash
# Run by undo-mount-hacks.service once systemd is up.
#
# On cgroup v1 the entrypoint may bind a filtered copy over /proc/cgroups
# (hiding the "misc" controller, which systemd cannot handle at boot). kubelet
# and runc must see the kernel's real list, so drop the overlay again.
set -o errexit -o nounset -o pipefail

if [[ ! -f /sys/fs/cgroup/cgroup.controllers ]] \
  && findmnt -rn --mountpoint /proc/cgroups >/dev/null 2>&1; then
  echo "INFO: removing the /proc/cgroups overlay"
  umount /proc/cgroups
fi
