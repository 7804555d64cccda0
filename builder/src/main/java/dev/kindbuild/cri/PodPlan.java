package dev.kindbuild.cri;

/**
 * What the CRI pod check runs, read from the node: the sandbox image containerd is configured with, a preloaded image
 * for the container, and the cgroup driver the node's containerd (and so its kubelet) uses.
 *
 * @param sandboxImage containerd's {@code sandbox_image}; the runtime picks it itself, the check only proves it is there
 * @param image        a preloaded image to run in the pod
 * @param driver       the cgroup driver of the node's runc runtime ({@code SystemdCgroup})
 * @param podUid       the pod's UID; names the pod's cgroup as kubelet would
 */
public record PodPlan(String sandboxImage, String image, CgroupDriver driver, String podUid) {
    /** kubelet's --cgroup-driver; it must agree with runc's {@code SystemdCgroup} in containerd's config. */
    public enum CgroupDriver {
        SYSTEMD, CGROUPFS;

        public static CgroupDriver ofSystemdCgroup(boolean systemdCgroup) {
            return systemdCgroup ? SYSTEMD : CGROUPFS;
        }
    }
}
