package dev.kindbuild.node;

import dev.kindbuild.UserError;
import dev.kindbuild.base.BaseImageBuild;
import dev.kindbuild.base.BaseImageRequest;
import dev.kindbuild.components.ComponentRequest;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.kube.ContainerdVersion;
import dev.kindbuild.kube.KubeVersion;
import dev.kindbuild.kube.RuntimeCompatibility;
import java.util.Map;
import dev.kindbuild.engine.ExecResult;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.progress.Progress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Step: the base image the node is built on — the one named by --base-image (present or pullable), or else the
 * bundled base recipe, reused when already built (so node-image works on a machine that has nothing yet).
 */
public final class EnsureBaseImage {
    private EnsureBaseImage() {}

    public static String run(DockerEngine engine, Optional<String> named, String arch, Progress progress) {
        return run(engine, named, arch, Optional.empty(), progress);
    }

    /**
     * As {@link #run(DockerEngine, Optional, String, Progress)}; with no --base-image, the bundled base that serves
     * Kubernetes {@code version}: a containerd 1.7 base for a kubelet that speaks CRI v1alpha2 only, else the default.
     */
    public static String run(DockerEngine engine, Optional<String> named, String arch, Optional<KubeVersion> version, Progress progress) {
        if (named.isPresent()) {
            String ref = named.get();
            if (engine.inspectImage(ref).isPresent()) {
                return checked(engine, ref, arch);
            }
            StringBuilder why = new StringBuilder();
            if (engine.tryPull(ref, "linux/" + arch, Duration.ofMinutes(10), why::append)) {
                return checked(engine, ref, arch);
            }
            throw new UserError("base image " + ref + " is not in the engine and cannot be pulled (" + why
                    + "): build one with `kind-build base-image`, or omit --base-image to use the bundled recipe");
        }
        BaseImageRequest request = bundledRequest(arch, version);
        if (!request.components().isEmpty()) {
            progress.notice("Kubernetes " + version.orElseThrow() + " needs containerd " + RuntimeCompatibility.of(version.get()).containerdRange()
                    + ": using the bundled base with containerd " + LEGACY_CONTAINERD + " (Debian's)");
        }
        return new BaseImageBuild(engine, progress).run(request).image();
    }

    /** The containerd line of the bundled base for kubelets older than containerd 2.0 allows (CRI v1alpha2). */
    public static final String LEGACY_CONTAINERD = "1.7";

    /** The bundled base's request for Kubernetes {@code version} (unknown: the default, containerd 2.x). */
    public static BaseImageRequest bundledRequest(String arch, Optional<KubeVersion> version) {
        boolean legacy = version.map(v -> !RuntimeCompatibility.of(v).accepts(ContainerdVersion.parse("2.0.0").orElseThrow())).orElse(false);
        return new BaseImageRequest(Optional.empty(), BaseImageRequest.DEFAULT_FROM, arch, BaseImageRequest.DEFAULT_MIRROR, false, false,
                legacy ? Map.of("containerd", ComponentRequest.parse("containerd", LEGACY_CONTAINERD)) : Map.of());
    }

    /**
     * A named base image must be for the architecture being built (an amd64 userland under arm64 binaries is a broken
     * image that would still build) and must not be a node image.
     */
    private static String checked(DockerEngine engine, String ref, String arch) {
        ImageInfo info = engine.inspectImage(ref).orElseThrow(() -> new UserError("base image " + ref + " vanished from the engine"));
        refuseUnfit(ref, info.architecture(), info.labels(), arch);
        return ref;
    }

    /** The refusals both builders make: a base for another architecture, or a node image given as a base. */
    public static void refuseUnfit(String ref, String architecture, java.util.Map<String, String> labels, String arch) {
        String imageArch = DockerEngine.normalizeArch(architecture);
        if (!imageArch.equals(arch)) {
            throw new UserError("--base-image " + ref + " is a linux/" + imageArch + " image, but the node image is for linux/"
                    + arch + ": build a base image for " + arch + " (kind-build base-image --arch " + arch
                    + ") or build for --arch " + imageArch);
        }
        if ("node".equals(labels.get(Labels.IMAGE_KIND)) || !labels.getOrDefault(NodeLayout.LABEL_K8S_VERSION, "").isEmpty()) {
            throw new UserError("--base-image " + ref + " is a node image, not a base image: pass a kindest/base image "
                    + "(kind-build base-image builds one), or omit --base-image");
        }
    }

    /** The one-line refusal of an image that lacks {@code missing}, what every kind base image has. */
    public static UserError notABaseImage(String ref, List<String> missing) {
        return new UserError("--base-image " + ref + " is not a kind base image (it has no " + String.join(", ", missing)
                + "): build one with `kind-build base-image`, or omit --base-image");
    }

    /** The paths of one {@link #REQUIRED_FILES} entry, any of which will do ("A or B"). */
    public static List<String> alternatives(String entry) {
        return List.of(entry.split(" or "));
    }

    /**
     * containerd is where kind puts it (/usr/local/bin: kind's own bases, kind-build's since trixie) or where Debian's
     * package does (kind-build's bookworm bases).
     */
    public static final List<String> REQUIRED_FILES = List.of("/sbin/init", "/usr/local/bin/entrypoint",
            "/usr/local/bin/containerd or /usr/bin/containerd",
            NodeLayout.CONTAINERD_CONFIG);
}
