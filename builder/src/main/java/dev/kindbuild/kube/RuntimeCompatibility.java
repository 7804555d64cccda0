package dev.kindbuild.kube;

import dev.kindbuild.UserError;
import java.util.List;
import java.util.Optional;

/**
 * What a Kubernetes minor needs from the node's runtime, in one place: the CRI API its kubelet speaks and the
 * containerd versions that serve it, and whether its kubelet still starts on a cgroup v1 host.
 *
 * <ul>
 * <li>below 1.23 the kubelet speaks CRI v1alpha2 only, which containerd 2.0 removed: containerd 1.x;</li>
 * <li>1.23 to 1.25 speak v1 and fall back to v1alpha2; 1.26 dropped v1alpha2 (containerd 1.5 and older no longer
 * supported); kind-build takes containerd 1.6 or newer for all of 1.23–1.35, 1.6/1.7 or 2.x;</li>
 * <li>1.35 is the last release that supports containerd 1.x: from 1.36 containerd 2.0 or newer;</li>
 * <li>from 1.35 the kubelet's {@code failCgroupV1} defaults to true (kind does not override it): no cgroup v1 host.</li>
 * </ul>
 *
 * @param firstMinor first Kubernetes 1.x minor of the row
 * @param lastMinor  last minor of the row ({@link Integer#MAX_VALUE}: every later one)
 * @param criApi     the CRI API versions the kubelet speaks
 * @param atLeast    oldest containerd that serves it
 * @param below      first containerd that no longer does (exclusive), if any
 */
public record RuntimeCompatibility(int firstMinor, int lastMinor, String criApi, ContainerdVersion atLeast,
        Optional<ContainerdVersion> below) {

    /** The first minor whose kubelet refuses a cgroup v1 host by default. */
    public static final int FIRST_MINOR_WITHOUT_CGROUP_V1 = 35;

    public static final List<RuntimeCompatibility> TABLE = List.of(
            new RuntimeCompatibility(0, 22, "v1alpha2", ContainerdVersion.of(1, 0), Optional.of(ContainerdVersion.of(2, 0))),
            new RuntimeCompatibility(23, 25, "v1 (v1alpha2 as fallback)", ContainerdVersion.of(1, 6), Optional.empty()),
            new RuntimeCompatibility(26, 35, "v1", ContainerdVersion.of(1, 6), Optional.empty()),
            new RuntimeCompatibility(36, Integer.MAX_VALUE, "v1", ContainerdVersion.of(2, 0), Optional.empty()));

    /** The row of {@code version} (a 2.x Kubernetes counts as newer than every 1.x minor). */
    public static RuntimeCompatibility of(KubeVersion version) {
        int minor = version.major() > 1 ? Integer.MAX_VALUE : version.minor();
        for (RuntimeCompatibility row : TABLE) {
            if (minor >= row.firstMinor && minor <= row.lastMinor) {
                return row;
            }
        }
        throw new IllegalStateException("no runtime row for " + version);
    }

    /** Whether containerd {@code version} serves this row's CRI API. */
    public boolean accepts(ContainerdVersion version) {
        return version.compareTo(atLeast) >= 0 && below.map(b -> version.compareTo(b) < 0).orElse(true);
    }

    /** The containerd range in words: {@code 1.x (older than 2.0)}, {@code 1.6 or newer}. */
    public String containerdRange() {
        return below.map(b -> (atLeast.major() == 1 && atLeast.minor() == 0 ? "" : atLeast.line() + " or newer, ") + "older than " + b.line())
                .orElse(atLeast.line() + " or newer");
    }

    /** Whether a kubelet of {@code version} starts on a cgroup v1 host (kind does not override {@code failCgroupV1}). */
    public static boolean runsOnCgroupV1(KubeVersion version) {
        return version.major() == 1 && version.minor() < FIRST_MINOR_WITHOUT_CGROUP_V1;
    }

    /**
     * Refuses, in one line naming both versions and the fix, a base whose containerd cannot serve Kubernetes
     * {@code version}'s kubelet.
     *
     * @param base   the base image, as the user named it (or the bundled one)
     * @param source where its containerd version was read (its label, {@code containerd --version}, …)
     */
    public static void check(KubeVersion version, ContainerdVersion containerd, String base, String source) {
        RuntimeCompatibility row = of(version);
        if (row.accepts(containerd)) {
            return;
        }
        String example = row.below.isPresent() ? " (`kind-build base-image --containerd 1.7` builds one: Debian trixie's 1.7; or omit --base-image: the bundled base then has it)"
                : row.atLeast.major() >= 2 ? " (kind's kindest/base has containerd 2.x since kind v0.27)" : "";
        String otherKubernetes = row.below.isPresent() ? ", or build Kubernetes 1.23 or newer on this base"
                : containerd.major() < 2 && row.atLeast.major() >= 2 ? ", or build Kubernetes 1.35 or older on this base" : "";
        String fix = "pass --base-image with a base whose containerd is " + row.containerdRange() + example + otherKubernetes;
        throw new UserError("Kubernetes " + version + " needs containerd " + row.containerdRange() + " (its kubelet speaks CRI "
                + row.criApi + "), but base image " + base + " has containerd " + containerd + " (" + source + "): " + fix);
    }
}
