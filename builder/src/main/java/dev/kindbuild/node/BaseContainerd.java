package dev.kindbuild.node;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ExecResult;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.kube.ContainerdVersion;
import dev.kindbuild.kube.KubeVersion;
import dev.kindbuild.kube.RuntimeCompatibility;
import dev.kindbuild.progress.Progress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The containerd of a base image, read without building anything: its {@link Labels#CONTAINERD_VERSION} label (every
 * base kind-build builds has it), else the Debian package database in its layers (nothing is run).
 *
 * @param version the version
 * @param source  where it was read, for messages
 */
public record BaseContainerd(ContainerdVersion version, String source) {
    /** Debian's package, and Docker's. */
    private static final List<String> PACKAGES = List.of("containerd", "containerd.io");

    /** From the image's labels, when it has kind-build's. */
    public static Optional<BaseContainerd> fromLabels(Map<String, String> labels) {
        return ContainerdVersion.parse(labels.get(Labels.CONTAINERD_VERSION))
                .map(v -> new BaseContainerd(v, "its label " + Labels.CONTAINERD_VERSION));
    }

    /** The installed containerd package in {@code /var/lib/dpkg/status} ({@code text} is that file). */
    public static Optional<BaseContainerd> fromDpkgStatus(String text) {
        for (String stanza : text.split("\n\\s*\n")) {
            String name = field(stanza, "Package");
            if (PACKAGES.contains(name) && field(stanza, "Status").endsWith(" installed")) {
                return ContainerdVersion.parse(field(stanza, "Version"))
                        .map(v -> new BaseContainerd(v, "its Debian package " + name));
            }
        }
        return Optional.empty();
    }

    private static String field(String stanza, String key) {
        for (String line : stanza.split("\n")) {
            if (line.startsWith(key + ":")) {
                return line.substring(key.length() + 1).strip();
            }
        }
        return "";
    }

    /** {@link #check} as a step of its own, so the build's output says what was read and where. */
    public static void checkStep(Progress progress, KubeVersion version, Optional<BaseContainerd> containerd, String base) {
        progress.step("Checking the base's containerd for Kubernetes " + version, () -> {
            check(version, containerd, base, progress::notice);
            return containerd;
        }, c -> c.map(b -> b.version() + " (" + b.source() + ")").orElse("not known"));
    }

    /**
     * Refuses a base whose containerd cannot serve {@code version} (one line, both versions, the fix); when the
     * version could not be read, says so in a notice and lets the build go on, since nothing is known to be wrong.
     */
    public static void check(KubeVersion version, Optional<BaseContainerd> containerd, String base, Consumer<String> notice) {
        if (containerd.isPresent()) {
            RuntimeCompatibility.check(version, containerd.get().version(), base, containerd.get().source());
            return;
        }
        RuntimeCompatibility row = RuntimeCompatibility.of(version);
        notice.accept("cannot tell which containerd " + base + " has (no " + Labels.CONTAINERD_VERSION
                + " label, and neither `containerd --version` nor a Debian package says): not checked that it is " + row.containerdRange()
                + ", which Kubernetes " + version + " needs");
    }
}
