package dev.kindbuild.engine;

/** How a node container was given the privileges systemd, containerd and kubelet need. */
public enum NodeMode {
    /** As kind runs nodes: --privileged with a private cgroup namespace. */
    PRIVILEGED("privileged, as kind runs nodes"),
    /**
     * For engines that refuse --privileged (e.g. a sandbox lacking CAP_SYS_RESOURCE): every capability the engine
     * can grant, and on cgroup v1 the host's cgroup tree mounted read-write with the host cgroup namespace, which is
     * what lets containerd start containers inside the node there.
     */
    FALLBACK("fallback: --privileged refused by this engine; all capabilities but SYS_RESOURCE, every device allowed"
            + " (device cgroup rule a *:* rwm), /dev/kmsg, and on cgroup v1 the host cgroup namespace");

    private final String description;

    NodeMode(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
