package dev.kindbuild.node;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The edits the node build makes to the base image's /etc/containerd/config.toml, as pure text functions. */
public final class ContainerdConfig {
    private static final Pattern SANDBOX = Pattern.compile("(?m)^(\\s*sandbox_image\\s*=\\s*)\"([^\"]*)\"");
    private static final Pattern SYSTEMD_CGROUP = Pattern.compile("(?m)^(\\s*SystemdCgroup\\s*=\\s*)true");

    private ContainerdConfig() {}

    /** The config a node of {@code version} runs with: both builders make the same edits to the base's file. */
    public static String forNode(String toml, dev.kindbuild.kube.KubeVersion version, String pauseImage) {
        String out = withGcMutationThreshold(withSandboxImage(toml, pauseImage));
        if (version.isBefore(dev.kindbuild.kube.KubeVersion.parse("v1.24.0", "cgroup driver cut-over"))) {
            out = withCgroupfsDriver(out);
        }
        return out;
    }

    /** What the node's garbage collector waits for before running on its own. */
    static final int GC_MUTATION_THRESHOLD = 100_000;
    private static final Pattern GC_SECTION = Pattern.compile("(?m)^\\s*\\[plugins\\.\"io\\.containerd\\.gc\\.v1\\.scheduler\"\\]");

    /**
     * The image loader places layer files in the content store before containerd knows them; a collection that
     * starts on its own (after 100 metadata writes by default, ~2 per layer) before the loader's one import would
     * delete them. With this threshold containerd still collects whenever an image or lease is deleted
     * synchronously (kubelet's image GC, the import's end), just not in the middle of loading. A base whose config
     * already sets the scheduler section is left alone.
     */
    static String withGcMutationThreshold(String toml) {
        if (GC_SECTION.matcher(toml).find()) {
            return toml;
        }
        return toml + (toml.endsWith("\n") ? "" : "\n") + "\n# kind-build: no collection on its own while preloaded layers are registered at boot\n"
                + "[plugins.\"io.containerd.gc.v1.scheduler\"]\n  mutation_threshold = " + GC_MUTATION_THRESHOLD + "\n";
    }

    static Optional<String> sandboxImage(String toml) {
        Matcher m = SANDBOX.matcher(toml);
        return m.find() ? Optional.of(m.group(2)) : Optional.empty();
    }

    /** Pins the sandbox (pause) image to the one kubeadm wants. */
    static String withSandboxImage(String toml, String image) {
        Matcher m = SANDBOX.matcher(toml);
        if (!m.find()) {
            throw new IllegalStateException("the base image's containerd config has no sandbox_image line");
        }
        return m.replaceFirst(Matcher.quoteReplacement(m.group(1) + "\"" + image + "\""));
    }

    /** Kubernetes before 1.24 defaulted kubelet to the cgroupfs driver; containerd must match it. */
    static String withCgroupfsDriver(String toml) {
        return SYSTEMD_CGROUP.matcher(toml).replaceAll("$1false");
    }
}
