package dev.kindbuild.engine;

import dev.kindbuild.lifecycle.TempPaths;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Labels kind-build puts on what it creates. Two kinds that never mix:
 * <ul>
 * <li>image labels ({@link #IMAGE_KIND}, {@link #RECIPE_HASH}, …) say what an image is. Every container started from
 * an image inherits them, so they must never mean "kind-build owns this container".</li>
 * <li>the container label {@link #CONTAINER} is set at create time only, with a value unique to that one container
 * ({@code <pid>.<process start ms>.<random>}). {@code cleanup} only takes a container whose value is not also its
 * image's value for that key — a container inherits its image's labels, so an inherited marker is always equal to the
 * image's and is never taken for ours.</li>
 * </ul>
 */
public final class Labels {
    private Labels() {}

    /** Image label: what kind of image kind-build built (base, node, debian-bootstrap). Never on a container of ours. */
    public static final String IMAGE_KIND = "dev.kind-build.image";
    /** Container label set at create time: marks a container this tool created; value from {@link #newContainerMark()}. */
    public static final String CONTAINER = "dev.kind-build.container";
    /** What the container is for: base-build, builder, boot-check, verify. Container label. */
    public static final String PURPOSE = "dev.kind-build.purpose";
    /** Hash of the base-image recipe an image was built from. Image label. */
    public static final String RECIPE_HASH = "dev.kind-build.recipe-hash";
    /**
     * The containerd version of a base image kind-build built ({@code containerd --version}'s, e.g. {@code 1.6.20~ds1}):
     * the node build checks it against the Kubernetes version without running the base. Image label.
     */
    public static final String CONTAINERD_VERSION = "dev.kind-build.containerd-version";
    /** The PID of the kind-build process that created a container. Container label, also part of {@link #CONTAINER}. */
    public static final String PID = "dev.kind-build.pid";

    /**
     * Labels of earlier kind-build versions that were put on images (and so inherited by users' containers). A
     * committed node image sets them empty, so no tool that matched on them can take its containers for its own.
     */
    public static final String LEGACY_OWNER = "dev.kind-build.owner";

    private static final String PROCESS = ProcessHandle.current().pid() + "."
            + ProcessHandle.current().info().startInstant().map(i -> Long.toString(i.toEpochMilli())).orElse("0");

    /** The labels for a container created for {@code purpose} by this process. */
    public static Map<String, String> forContainer(String purpose) {
        return Map.of(CONTAINER, newContainerMark(), PURPOSE, purpose, PID, Long.toString(ProcessHandle.current().pid()));
    }

    /** A fresh value for {@link #CONTAINER}: this process's PID and start time, and a random part. */
    public static String newContainerMark() {
        return PROCESS + "." + UUID.randomUUID().toString().substring(0, 8);
    }

    /** The creating process named by a {@link #CONTAINER} value: its PID and start time (epoch ms, 0 if unknown). */
    public record Creator(long pid, long startMillis) {
        /** Whether that very process still runs (a reused PID with another start time does not count). */
        public boolean alive() {
            return TempPaths.alive(pid, startMillis);
        }

        public boolean isThisProcess() {
            return pid == ProcessHandle.current().pid();
        }
    }

    /** Parses a {@link #CONTAINER} value; empty when it is not one this tool writes. */
    public static Optional<Creator> creatorOf(String mark) {
        if (mark == null) {
            return Optional.empty();
        }
        String[] parts = mark.split("\\.");
        if (parts.length != 3 || parts[2].isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Creator(Long.parseLong(parts[0]), Long.parseLong(parts[1])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether a container with {@code containerLabels}, started from an image with {@code imageLabels}, was created by
     * kind-build: it carries a well-formed {@link #CONTAINER} mark that it did not inherit from its image.
     */
    public static boolean createdByKindBuild(Map<String, String> containerLabels, Map<String, String> imageLabels) {
        String mark = containerLabels.get(CONTAINER);
        if (creatorOf(mark).isEmpty()) {
            return false;
        }
        return imageLabels == null || !mark.equals(imageLabels.get(CONTAINER));
    }
}
