package dev.kindbuild.verify;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.ContainerFile;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ExecResult;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.engine.NodeLauncher;
import dev.kindbuild.kube.KubeVersion;
import dev.kindbuild.kube.RuntimeCompatibility;
import dev.kindbuild.lifecycle.CleanupStack;
import dev.kindbuild.node.NodeLayout;
import dev.kindbuild.progress.Progress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * `kind-build verify --cluster`: creates a one-node cluster from a node image the way `kind create cluster` does,
 * with no route out of the machine, and checks it really works: kubeadm init with kind's config, kind's CNI manifest
 * templated as kind templates it, the node Ready, a pod Running from a preloaded image, and nothing pulled. The node,
 * its network and the host sysctls its kubelet changed are put back afterwards, whatever happened; a run killed with
 * SIGKILL leaves its marked network and its {@link SysctlRecord} for {@code kind-build cleanup}.
 */
public final class ClusterVerifier {
    static final String KUBECTL = "kubectl";
    static final String ADMIN_CONF = "--kubeconfig=/etc/kubernetes/admin.conf";
    private static final String POD = "kind-build-check";
    private static final String RENDERED_CNI = "/kind/kind-build-cni.yaml";
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration INIT_TIMEOUT = Duration.ofMinutes(6);
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(4);
    private static final Duration POD_TIMEOUT = Duration.ofMinutes(3);
    private static final int KUBELET_RESTARTS_GIVE_UP = 5;

    private final DockerEngine engine;
    private final Progress progress;
    private final boolean verbose;

    public ClusterVerifier(DockerEngine engine, Progress progress, boolean verbose) {
        this.engine = engine;
        this.progress = progress;
        this.verbose = verbose;
    }

    /** A failed check, thrown inside a step so that its line shows ✗. */
    private static final class CheckFailed extends RuntimeException {
        final Check check;

        CheckFailed(Check check) {
            super(check.detail());
            this.check = check;
        }
    }

    public ClusterReport run(String image) {
        return run(image, Optional.empty());
    }

    /**
     * A cluster that passed every check, handed to its user before it is torn down (the network, the node and the
     * host's sysctls are put back whatever the user throws).
     */
    public interface ClusterUse {
        void use(RunningCluster cluster) throws Exception;
    }

    /**
     * The node of a running cluster: its container, the network it is on (with no route out; more containers may
     * join it) and kubectl as the admin.
     */
    public record RunningCluster(DockerEngine engine, String node, String network) {
        /** {@code kubectl ARGS} in the node as the admin. */
        public ExecResult kubectl(String... args) {
            List<String> command = new ArrayList<>(List.of(KUBECTL, ADMIN_CONF));
            command.addAll(List.of(args));
            return engine.exec(node, command);
        }

        /** {@code kubectl ARGS -f FILE} with {@code manifests} as the file (e.g. {@code apply}, {@code delete}). */
        public ExecResult kubectlOnFile(String manifests, String... args) {
            String file = "/kind/kind-build-use-" + Integer.toHexString(manifests.hashCode()) + ".yaml";
            engine.copyFiles(node, List.of(ContainerFile.ofText(file, 0644, manifests)));
            List<String> withFile = new ArrayList<>(List.of(args));
            withFile.addAll(List.of("-f", file));
            return kubectl(withFile.toArray(String[]::new));
        }
    }

    /** As {@link #run(String)}; when every check passed, {@code use} gets the cluster before it goes. */
    public ClusterReport run(String image, Optional<ClusterUse> use) {
        ImageInfo info = engine.inspectImage(image)
                .orElseThrow(() -> new UserError("no image " + image + " in the engine: build it with `kind-build node-image` first"));
        if (!info.labels().containsKey(NodeLayout.LABEL_K8S_VERSION) && !info.labels().containsKey(NodeLayout.LABEL_IMAGES)) {
            throw new UserError(image + " is not a node image (no " + NodeLayout.LABEL_K8S_VERSION
                    + " label): give an image built by `kind-build node-image`");
        }
        NodeArch nodeArch = NodeArch.of(info, engine.facts().architecture()).requireNative(image);
        int hostCgroup = engine.facts().cgroupVersion();
        KubeVersion.tryParse(info.labels().get(NodeLayout.LABEL_K8S_VERSION)).ifPresent(v -> refuseOnHost(v, hostCgroup, image));
        String name = "kind-build-cluster-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        List<Check> checks = new ArrayList<>();
        Map<String, Double> timings = new LinkedHashMap<>();
        NodeLauncher launcher = new NodeLauncher(engine);
        NodeLauncher.Node[] started = new NodeLauncher.Node[1];
        try (CleanupStack cleanup = new CleanupStack()) {
            // Pushed first, so it runs last: after the node (and its kubelet) is gone. Written down before anything
            // changes, so that `kind-build cleanup` can put the values back if this run is killed (SIGKILL).
            HostSysctls sysctls = HostSysctls.snapshot();
            Path record = SysctlRecord.write(SysctlRecord.defaultDir(), sysctls, Path.of("/proc/sys"));
            cleanup.push("host sysctls", () -> {
                HostSysctls.Restored r = sysctls.restore();
                if (!r.restored().isEmpty()) {
                    progress.notice("restored host sysctls the node's kubelet changed: " + String.join(", ", r.restored()));
                }
                if (r.failed().isEmpty()) {
                    SysctlRecord.remove(record);
                } else {
                    // The record stays: `kind-build cleanup`, run with the rights to write them, puts them back.
                    progress.notice("could not restore host sysctls: " + String.join(", ", r.failed())
                            + "; run `kind-build cleanup` as root to put them back");
                }
            });
            long t0 = System.nanoTime();
            String network = progress.step("Creating a network with no route out", () -> {
                // Labelled with this run's mark, so that `kind-build cleanup` removes it if this run is killed.
                String id = engine.createNetwork(name, true, Labels.forContainer("verify-cluster"));
                cleanup.push("network " + name, () -> engine.removeNetwork(id));
                return name;
            }, n -> n + " (internal)");
            NodeLauncher.Node node = progress.step("Booting " + image, () -> {
                NodeLauncher.Node n = launcher.start(image, name, "verify-cluster", network);
                started[0] = n;
                cleanup.push("node " + name, () -> engine.remove(n.id()));
                launcher.awaitBoot(n, BOOT_TIMEOUT, java.util.Optional.of(NodeLayout.LOADER_UNIT));
                return n;
            }, n -> n.mode().name().toLowerCase());
            progress.notice("node mode: " + node.mode().description());
            timings.put("boot", secondsSince(t0));

            try {
                String loader = progress.step("Waiting for images to load", () -> {
                    NodeVerifier loaderCheck = new NodeVerifier(engine, progress);
                    String state = loaderCheck.awaitLoader(node);
                    if (!state.equals("active")) {
                        throw new CheckFailed(Check.fail("image loader", NodeLayout.LOADER_UNIT + " is " + state + ": "
                                + loaderCheck.loaderFailure(node, nodeArch)));
                    }
                    return state;
                }, s -> s);
                timings.put("imagesLoaded", secondsSince(t0));
                checks.add(Check.pass("image loader", NodeLayout.LOADER_UNIT + " " + loader + " after " + fmt(timings.get("imagesLoaded"))));

                KubeVersion version = KubeVersion.parse(engine.execOk(node.id(), List.of("cat", NodeLayout.VERSION_FILE)).strip(),
                        NodeLayout.VERSION_FILE + " in the node");
                refuseOnHost(version, hostCgroup, image); // an image without kind-build's label is known only now
                String ip = engine.containerIp(node.id(), network)
                        .orElseThrow(() -> new UserError("node " + name + " got no address on network " + network));
                KubeadmConfig config = KubeadmConfig.forNode(version, name, ip);

                long tInit = System.nanoTime();
                checks.add(progress.step("Running kubeadm init (" + config.kubeadmApi() + ", cgroup driver " + config.cgroupDriver() + ")",
                        () -> kubeadmInit(node, config), Check::detail));
                timings.put("kubeadmInit", secondsSince(tInit));

                long tCni = System.nanoTime();
                checks.add(progress.step("Installing the CNI and storage manifests", () -> installAddons(node, config, ip), Check::detail));
                checks.add(progress.step("Waiting for the node to be Ready", () -> awaitReady(node, config), Check::detail));
                timings.put("readyAfterCni", secondsSince(tCni));

                long tPod = System.nanoTime();
                checks.add(progress.step("Running a pod from a preloaded image", () -> runPod(node), Check::detail));
                timings.put("podRunning", secondsSince(tPod));
                checks.add(progress.step("Waiting for the system pods", () -> awaitSystemPods(node), Check::detail));
                checks.add(progress.step("Checking that nothing was pulled", () -> checkNoPulls(node), Check::detail));
            } catch (CheckFailed failed) {
                checks.add(failed.check);
                showNodeLogs(node);
            }
            timings.put("total", secondsSince(t0));
            ClusterReport report = new ClusterReport(image, node.mode(), checks, timings);
            if (use.isPresent() && report.passed()) {
                try {
                    use.get().use(new RunningCluster(engine, node.id(), network));
                } catch (RuntimeException | Error e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalStateException("using the cluster failed: " + e.getMessage(), e);
                }
            }
            return report;
        }
    }

    /**
     * A kubelet of 1.35 or newer refuses a cgroup v1 host ({@code failCgroupV1}, which kind leaves at its default):
     * said at once, in one line, instead of after kubeadm's minutes of waiting for a kubelet that keeps exiting. The
     * engine reports the host's cgroup version (from {@code /sys/fs/cgroup}'s filesystem, as the node sees it).
     */
    static void refuseOnHost(KubeVersion version, int hostCgroupVersion, String image) {
        if (hostCgroupVersion == 1 && !RuntimeCompatibility.runsOnCgroupV1(version)) {
            throw new UserError("cannot run a cluster of " + image + " here: the kubelet of Kubernetes " + version
                    + " refuses a cgroup v1 host (failCgroupV1, default since 1.35, and kind does not change it) and this host is cgroup v1: "
                    + "run `verify --cluster` on a cgroup v2 host (kind needs one for this node too), or check this one with `verify --offline`");
        }
    }

    private Check kubeadmInit(NodeLauncher.Node node, KubeadmConfig config) throws Exception {
        engine.copyFiles(node.id(), List.of(ContainerFile.ofText(KubeadmConfig.PATH, 0644, config.render())));
        ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "kubeadm-init");
            t.setDaemon(true);
            return t;
        });
        ExecResult r;
        try {
            Future<ExecResult> init = runner.submit(() -> engine.exec(node.id(), config.initCommand(), null, INIT_TIMEOUT));
            // kubeadm waits minutes for a kubelet that will never come up; a crash-looping kubelet is known sooner.
            while (true) {
                try {
                    r = init.get(2, TimeUnit.SECONDS);
                    break;
                } catch (TimeoutException stillRunning) {
                    int restarts = kubeletRestarts(node);
                    if (restarts >= KUBELET_RESTARTS_GIVE_UP) {
                        engine.exec(node.id(), List.of("pkill", "-f", "kubeadm init"));
                        throw new CheckFailed(Check.fail("kubeadm init", "kubelet cannot start (restarted " + restarts + " times): "
                                + lastKubeletError(node)));
                    }
                }
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : e;
        } finally {
            runner.shutdownNow();
        }
        if (!r.ok()) {
            String why = (r.stderr() + "\n" + r.stdout()).lines().filter(l -> l.contains("error") || l.contains("ERROR")
                    || l.contains("panic") || l.contains("failed")).reduce((a, b) -> b).orElse(r.lastErrorLine());
            throw new CheckFailed(Check.fail("kubeadm init", "exited " + r.exitCode() + ": " + why.strip()));
        }
        for (String taint : config.controlPlaneTaints()) {
            // Missing taints are fine: which ones a version sets differs.
            engine.exec(node.id(), List.of(KUBECTL, ADMIN_CONF, "taint", "nodes", "--all", taint + "-"));
        }
        return Check.pass("kubeadm init", "control plane up (Kubernetes " + config.version() + ")");
    }

    /** How often systemd restarted kubelet; it only starts once kubeadm has written its config. */
    private int kubeletRestarts(NodeLauncher.Node node) {
        String n = engine.exec(node.id(), List.of("systemctl", "show", "-p", "NRestarts", "--value", "kubelet")).stdout().strip();
        try {
            return Integer.parseInt(n);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private String lastKubeletError(NodeLauncher.Node node) {
        String log = engine.exec(node.id(), List.of("journalctl", "-u", "kubelet", "--no-pager", "-o", "cat", "-n", "200")).stdout();
        return log.lines().filter(l -> l.contains("failed") || l.contains("error") || l.contains("E0") || l.contains("F0"))
                .reduce((a, b) -> b).orElse(log.lines().reduce((a, b) -> b).orElse("no kubelet log")).strip();
    }

    private Check installAddons(NodeLauncher.Node node, KubeadmConfig config, String ip) {
        ExecResult cni = engine.exec(node.id(), List.of("cat", "/kind/manifests/default-cni.yaml"));
        if (!cni.ok()) {
            throw new CheckFailed(Check.fail("cni manifest", "/kind/manifests/default-cni.yaml is missing: kind needs it for its default CNI"));
        }
        String manifest;
        try {
            manifest = KindCniManifest.render(cni.stdout(), config.podSubnet(), ip + ":6443");
        } catch (UserError e) {
            throw new CheckFailed(Check.fail("cni manifest", e.getMessage()));
        }
        if (KindCniManifest.hasUnrenderedFields(manifest)) {
            throw new CheckFailed(Check.fail("cni manifest", "default-cni.yaml has template fields but not the marker `"
                    + KindCniManifest.TEMPLATE_MARKER + "`: kind would apply them verbatim"));
        }
        // As kind does, but from a file: the engine API's exec stdin is not reliably closed.
        engine.copyFiles(node.id(), List.of(ContainerFile.ofText(RENDERED_CNI, 0644, manifest)));
        ExecResult applied = engine.exec(node.id(), List.of(KUBECTL, ADMIN_CONF, "create", "-f", RENDERED_CNI));
        if (!applied.ok()) {
            throw new CheckFailed(Check.fail("cni manifest", "kubectl create failed: " + applied.lastErrorLine()));
        }
        // What reached the cluster is what kind's templating gave: no field left verbatim.
        String daemonSets = engine.exec(node.id(), List.of(KUBECTL, ADMIN_CONF, "get", "daemonsets", "-A", "-o", "yaml")).stdout();
        if (daemonSets.contains("{{")) {
            throw new CheckFailed(Check.fail("cni manifest", "a DaemonSet in the cluster still holds a template field: "
                    + daemonSets.lines().filter(l -> l.contains("{{")).findFirst().orElse("").strip()));
        }
        String storage = "no default-storage.yaml (kind would add a hostPath class)";
        if (engine.exec(node.id(), List.of("test", "-f", "/kind/manifests/default-storage.yaml")).ok()) {
            ExecResult s = engine.exec(node.id(), List.of(KUBECTL, ADMIN_CONF, "apply", "-f", "/kind/manifests/default-storage.yaml"));
            if (!s.ok()) {
                throw new CheckFailed(Check.fail("storage manifest", "kubectl apply failed: " + s.lastErrorLine()));
            }
            storage = "default-storage.yaml applied";
        }
        return Check.pass("addon manifests", "default-cni.yaml templated (pod subnet " + config.podSubnet() + ") and applied; " + storage);
    }

    private Check awaitReady(NodeLauncher.Node node, KubeadmConfig config) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        String status = "";
        while (System.nanoTime() < deadline) {
            ExecResult r = engine.exec(node.id(), List.of(KUBECTL, ADMIN_CONF, "get", "nodes", "-o",
                    "jsonpath={.items[0].status.conditions[?(@.type==\"Ready\")].status} {.items[0].status.conditions[?(@.type==\"Ready\")].message}"));
            status = r.stdout().strip();
            if (r.ok() && status.startsWith("True")) {
                return Check.pass("node Ready", config.nodeName() + " is Ready");
            }
            sleep(1000);
        }
        throw new CheckFailed(Check.fail("node Ready", "not Ready after " + READY_TIMEOUT.toSeconds() + "s: " + status));
    }

    private Check runPod(NodeLauncher.Node node) {
        String image = preloadedPauseImage(node);
        ExecResult run = engine.exec(node.id(), List.of(KUBECTL, ADMIN_CONF, "run", POD, "--image=" + image,
                "--restart=Never", "--image-pull-policy=Never"));
        if (!run.ok()) {
            throw new CheckFailed(Check.fail("pod", "kubectl run failed: " + run.lastErrorLine()));
        }
        long deadline = System.nanoTime() + POD_TIMEOUT.toNanos();
        String phase = "";
        while (System.nanoTime() < deadline) {
            phase = engine.exec(node.id(), List.of(KUBECTL, ADMIN_CONF, "get", "pod", POD, "-o",
                    "jsonpath={.status.phase} {.status.podIP}")).stdout().strip();
            if (phase.startsWith("Running")) {
                return Check.pass("pod", POD + " Running from preloaded " + image + " (pod IP " + phase.substring("Running".length()).strip()
                        + ", imagePullPolicy Never)");
            }
            sleep(1000);
        }
        String events = engine.exec(node.id(), List.of(KUBECTL, ADMIN_CONF, "get", "events", "--field-selector",
                "involvedObject.name=" + POD, "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}")).stdout();
        throw new CheckFailed(Check.fail("pod", POD + " is " + (phase.isEmpty() ? "not created" : phase) + " after "
                + POD_TIMEOUT.toSeconds() + "s; " + events.lines().reduce((a, b) -> b).orElse("no events")));
    }

    /**
     * Every pod the cluster itself runs (control plane, kube-proxy, CNI, DNS, storage) Running, and ready unless it is
     * a static pod (kubelet 1.20 never marks static pods with only a startup probe ready; kind does not wait on them).
     */
    private Check awaitSystemPods(NodeLauncher.Node node) {
        long deadline = System.nanoTime() + POD_TIMEOUT.toNanos();
        List<String> waiting = List.of();
        int total = 0;
        while (System.nanoTime() < deadline) {
            ExecResult r = engine.exec(node.id(), List.of(KUBECTL, ADMIN_CONF, "get", "pods", "-A", "-o",
                    "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {.status.phase} "
                            + "{.metadata.ownerReferences[0].kind} {.status.containerStatuses[*].ready}{\"\\n\"}{end}"));
            List<String[]> pods = r.stdout().lines().filter(l -> !l.isBlank() && !l.startsWith("default/" + POD + " "))
                    .map(l -> l.strip().split("\\s+")).toList();
            total = pods.size();
            waiting = pods.stream().filter(f -> !podUp(f)).map(f -> f[0] + " " + (f.length > 1 ? f[1] : "")).toList();
            if (r.ok() && total > 0 && waiting.isEmpty()) {
                return Check.pass("system pods", total + " pods Running (all but static pods ready)");
            }
            sleep(1000);
        }
        throw new CheckFailed(Check.fail("system pods", waiting.size() + " of " + total + " not up after "
                + POD_TIMEOUT.toSeconds() + "s: " + String.join(", ", waiting)));
    }

    /** {@code [ns/name, phase, ownerKind, ready...]}: Running, and ready unless owned by the Node (a static pod). */
    static boolean podUp(String[] fields) {
        if (fields.length < 3 || !fields[1].equals("Running")) {
            return false;
        }
        if (fields[2].equals("Node")) {
            return true;
        }
        for (int i = 3; i < fields.length; i++) {
            if (!fields[i].equals("true")) return false;
        }
        return fields.length > 3;
    }

    /** kubeadm's pause image, as recorded among the node's images (any image would do; this one runs anywhere). */
    private String preloadedPauseImage(NodeLauncher.Node node) {
        String list = engine.exec(node.id(), List.of("cat", NodeLayout.IMAGES_LIST)).stdout();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"name\"\\s*:\\s*\"([^\"]*/pause:[^\"]*)\"").matcher(list);
        if (!m.find()) {
            throw new CheckFailed(Check.fail("pod", NodeLayout.IMAGES_LIST + " records no pause image"));
        }
        return m.group(1);
    }

    private Check checkNoPulls(NodeLauncher.Node node) {
        String events = engine.exec(node.id(), List.of(KUBECTL, ADMIN_CONF, "get", "events", "-A", "-o",
                "jsonpath={range .items[*]}{.reason}|{.message}{\"\\n\"}{end}")).stdout();
        List<String> pulling = events.lines().filter(l -> l.startsWith("Pulling|") || l.startsWith("Pulled|") && !l.contains("already present"))
                .toList();
        long present = events.lines().filter(l -> l.contains("already present on machine")).count();
        String containerdLog = engine.exec(node.id(), List.of("journalctl", "-u", "containerd", "--no-pager", "-o", "cat")).stdout();
        List<String> pulls = containerdLog.lines().filter(l -> l.contains("PullImage")).toList();
        if (!pulling.isEmpty() || !pulls.isEmpty()) {
            throw new CheckFailed(Check.fail("no pulls", (pulling.size() + pulls.size()) + " pull(s): "
                    + (pulling.isEmpty() ? pulls.get(0) : pulling.get(0)).strip()));
        }
        return Check.pass("no pulls", "no image pulled; " + present + " \"already present on machine\" events");
    }

    /** On failure: kubelet's last lines with -v, so the reason is one command away. */
    private void showNodeLogs(NodeLauncher.Node node) {
        if (!verbose) {
            progress.notice("run with -v to see kubelet's last log lines");
            return;
        }
        String kubelet = engine.exec(node.id(), List.of("journalctl", "-u", "kubelet", "--no-pager", "-o", "cat", "-n", "25")).stdout();
        progress.notice("kubelet's last log lines:");
        kubelet.lines().forEach(l -> progress.notice("  " + l));
    }

    private static double secondsSince(long nanos) {
        return Math.round((System.nanoTime() - nanos) / 1e8) / 10.0;
    }

    private static String fmt(double seconds) {
        return String.format("%.1fs", seconds);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted", 130, e);
        }
    }
}
