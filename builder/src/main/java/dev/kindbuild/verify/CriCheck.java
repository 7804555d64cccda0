package dev.kindbuild.verify;

import dev.kindbuild.cri.CriCallFailed;
import dev.kindbuild.cri.CriPodRun;
import dev.kindbuild.cri.NodeCri;
import dev.kindbuild.cri.PodPlan;
import dev.kindbuild.cri.RuntimeVersion;
import dev.kindbuild.engine.ContainerFile;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.NodeLauncher;
import dev.kindbuild.node.ImageRecord;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The "CRI v1 pod" check: what a kubelet ≥ 1.23 asks of the node image, proved without one (none can be built here).
 * Reads the node's containerd config (sandbox image, cgroup driver), gives the node the CNI config kindnet would write
 * when it has none, and runs {@link CriPodRun} through the node's containerd socket ({@link NodeCri}). Also asks the runtime for its versions.
 */
final class CriCheck {
    static final String NAME = "CRI v1 pod";
    static final String SOCKET = "/run/containerd/containerd.sock";
    static final String CONTAINERD_CONFIG = "/etc/containerd/config.toml";
    static final String CNI_DIR = "/etc/cni/net.d";
    /** kindnet's file name, so a CNI config written here is the one a cluster would get. */
    static final String CNI_FILE = CNI_DIR + "/10-kindnet.conflist";
    private static final Pattern SANDBOX = Pattern.compile("(?m)^\\s*sandbox_image\\s*=\\s*\"([^\"]*)\"");
    private static final Pattern SYSTEMD_CGROUP = Pattern.compile("(?m)^\\s*SystemdCgroup\\s*=\\s*(true|false)\\b");
    private static final Duration RPC_TIMEOUT = Duration.ofSeconds(60);

    /** What the check found: the runtime's versions (when it answered) and the check itself (absent under emulation). */
    record Result(Optional<RuntimeVersion> runtime, Optional<Check> check) {}

    private final DockerEngine engine;

    CriCheck(DockerEngine engine) {
        this.engine = engine;
    }

    /** Runs a pod unless {@code podRuns} is false (emulation: no container can start), then only asks for versions. */
    Result run(NodeLauncher.Node node, List<ImageRecord> records, boolean podRuns) {
        String toml = engine.exec(node.id(), List.of("cat", CONTAINERD_CONFIG)).stdout();
        try (NodeCri cri = NodeCri.connect(engine, node.id(), SOCKET, RPC_TIMEOUT)) {
            Optional<RuntimeVersion> version;
            try {
                version = Optional.of(cri.runtime().version());
            } catch (CriCallFailed e) {
                String why = e.getMessage() + " through " + SOCKET + (cri.tunnelError().isEmpty() ? "" : " (" + cri.tunnelError() + ")");
                return new Result(Optional.empty(), podRuns ? Optional.of(Check.fail(NAME, why)) : Optional.empty());
            }
            if (!podRuns) {
                return new Result(version, Optional.empty());
            }
            Optional<String> image = podImage(records);
            Optional<String> sandbox = sandboxImage(toml).or(() -> image);
            if (sandbox.isEmpty() || image.isEmpty()) {
                return new Result(version, Optional.of(Check.fail(NAME, "no sandbox image in " + CONTAINERD_CONFIG + " and no image recorded")));
            }
            PodPlan plan = new PodPlan(sandbox.get(), image.get(), PodPlan.CgroupDriver.ofSystemdCgroup(systemdCgroup(toml)),
                    UUID.randomUUID().toString());
            boolean wroteCni = giveCniConfig(node);
            try {
                CriPodRun.Outcome outcome = cri.runtime().run(plan);
                String cni = wroteCni ? " (CNI: kindnet's ptp config, as kindnetd writes it)" : "";
                return new Result(version, Optional.of(outcome.ok() ? Check.pass(NAME, outcome.detail() + cni)
                        : Check.fail(NAME, outcome.detail())));
            } finally {
                if (wroteCni) {
                    engine.exec(node.id(), List.of("rm", "-f", CNI_FILE));
                }
            }
        }
    }

    /**
     * A node image has no CNI config: kind's CNI (kindnetd) writes it once the cluster runs. Without one no pod gets a
     * network, so the check writes the config kindnet writes for one node (ptp, host-local IPAM, portmap) and removes
     * it afterwards. Returns whether it wrote one.
     */
    private boolean giveCniConfig(NodeLauncher.Node node) {
        String present = engine.exec(node.id(), List.of("sh", "-c", "ls " + CNI_DIR + "/*.conf " + CNI_DIR + "/*.conflist 2>/dev/null")).stdout();
        if (!present.isBlank()) {
            return false;
        }
        engine.copyFiles(node.id(), List.of(ContainerFile.ofBytes(CNI_FILE, 0644, kindnetConflist("10.244.0.0/24")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8))));
        return true;
    }

    static String kindnetConflist(String subnet) {
        return "{\"cniVersion\":\"0.3.1\",\"name\":\"kindnet\",\"plugins\":["
                + "{\"type\":\"ptp\",\"ipMasq\":false,\"mtu\":1500,\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"/run/cni-ipam-state\","
                + "\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"ranges\":[[{\"subnet\":\"" + subnet + "\"}]]}},"
                + "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}}]}\n";
    }

    /** containerd's {@code sandbox_image} (config version 2, as kind-build and kind write it). */
    static Optional<String> sandboxImage(String toml) {
        Matcher m = SANDBOX.matcher(toml);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /**
     * Whether runc runs under the systemd cgroup driver: the first {@code SystemdCgroup} line, the default runc
     * runtime's in kind-build's and kind's configs. Absent means containerd's default, cgroupfs.
     */
    static boolean systemdCgroup(String toml) {
        Matcher m = SYSTEMD_CGROUP.matcher(toml);
        return m.find() && m.group(1).equals("true");
    }

    /** The container's image: the pause image (its entrypoint stays up with no arguments), else the first recorded. */
    static Optional<String> podImage(List<ImageRecord> records) {
        return records.stream().filter(r -> r.name().contains("/pause:")).findFirst().or(() -> records.stream().findFirst())
                .map(ImageRecord::name);
    }
}
