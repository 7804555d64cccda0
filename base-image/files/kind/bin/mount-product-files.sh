#!/bin/bash
# OCI createContainer hook (see /etc/containerd/cri-base.json).
#
# The entrypoint gives every node its own DMI product name/uuid, because all
# nodes of a host would otherwise report the host's and kubelet uses
# product_uuid as the node's system UUID. Containers started in the node see a
# fresh /sys, so repeat the same bind mounts inside each container's rootfs.
#
# runc runs this hook in the container's mount namespace before pivot_root:
# node paths (/kind/...) and the container root (<bundle>/<root.path>) are
# both visible. The OCI state JSON arrives on stdin.
set -o errexit -o nounset -o pipefail

bundle="$(jq -r '.bundle')"
rootfs="$(jq -r '.root.path' "${bundle}/config.json")"
if [[ "${rootfs}" != /* ]]; then
  rootfs="${bundle}/${rootfs}"
fi

bind_ro() { # bind_ro SOURCE TARGET, only when both exist
  if [[ -f "$1" && -e "$2" ]]; then
    mount --bind -o ro "$1" "$2"
  fi
}

# A node without DMI (no /sys/class/dmi) has nothing to hide: all no-ops.
bind_ro /kind/product_name "${rootfs}/sys/class/dmi/id/product_name"
bind_ro /kind/product_uuid "${rootfs}/sys/class/dmi/id/product_uuid"
bind_ro /kind/product_uuid "${rootfs}/sys/devices/virtual/dmi/id/product_uuid"
