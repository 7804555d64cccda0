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
        String out = withSandboxImage(toml, pauseImage);
        if (version.isBefore(dev.kindbuild.kube.KubeVersion.parse("v1.24.0", "cgroup driver cut-over"))) {
            out = withCgroupfsDriver(out);
        }
        return out;
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
