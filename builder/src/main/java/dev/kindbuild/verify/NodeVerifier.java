package dev.kindbuild.verify;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import dev.kindbuild.engine.ContainerSpec;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.engine.ExecResult;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.engine.NodeLauncher;
import dev.kindbuild.lifecycle.CleanupStack;
import dev.kindbuild.node.ImageRecord;
import dev.kindbuild.node.NodeLayout;
import dev.kindbuild.progress.Progress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * `kind-build verify`: boots a node image as kind would (optionally with no network), waits for the image loader,
 * and checks what `kind create cluster` relies on — versions agree, every baked-in image is in containerd under its
 * name with the right content and pinned, and one of them really runs, alone and as a pod through CRI v1 as kubelet
 * would start it (not under emulation: see {@link NodeArch}).
 * The node is removed afterwards.
 */
public final class NodeVerifier {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration LOAD_TIMEOUT = Duration.ofMinutes(10);

    private final DockerEngine engine;
    private final Progress progress;

    public NodeVerifier(DockerEngine engine, Progress progress) {
        this.engine = engine;
        this.progress = progress;
    }

    public VerifyReport run(String image, boolean offline) {
        ImageInfo info = engine.inspectImage(image)
                .orElseThrow(() -> new UserError("no image " + image + " in the engine: build it with `kind-build node-image` first"));
        requireNodeImage(image, info);
        NodeArch nodeArch = NodeArch.of(info, engine.facts().architecture()).requireBootable(image);
        String arch = nodeArch.image();
        if (nodeArch.emulated()) {
            progress.notice(nodeArch.notice());
        }
        NodeLauncher launcher = new NodeLauncher(engine);
        String name = "kind-build-verify-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        try (CleanupStack cleanup = new CleanupStack()) {
            long started = System.nanoTime();
            NodeLauncher.Node node = progress.step("Booting " + image + (offline ? " with no network" : ""), () -> {
                NodeLauncher.Node n = launcher.start(image, name, "verify", !offline);
                cleanup.push("node " + name, () -> engine.remove(n.id()));
                launcher.awaitBoot(n, BOOT_TIMEOUT, Optional.of(NodeLayout.LOADER_UNIT));
                return n;
            }, n -> n.mode().name().toLowerCase());
            progress.notice("node mode: " + node.mode().description());

            String loaderState = progress.checkedStep("Waiting for images to load", () -> awaitLoader(node), s -> s.equals("active"), s -> s);
            double loadedAfter = (System.nanoTime() - started) / 1e9;

            List<Check> checks = new ArrayList<>();
            checks.add(loaderState.equals("active")
                    ? Check.pass("image loader", NodeLayout.LOADER_UNIT + " finished " + String.format("%.1fs", loadedAfter) + " after start")
                    : Check.fail("image loader", NodeLayout.LOADER_UNIT + " is " + loaderState + ": " + loaderFailure(node, nodeArch)));
            checks.add(progress.checkedStep("Checking versions", () -> checkVersions(node), Check::ok, Check::detail));
            Optional<Check> containerdDown = loaderState.equals("active") ? Optional.empty() : containerdDown(node);
            if (containerdDown.isPresent()) {
                // Nothing below can be asked of a containerd that does not run; one clear failure instead of timeouts.
                checks.add(containerdDown.get());
                return new VerifyReport(image, arch, node.mode(), offline, loadedAfter, checks,
                        List.of("the images, a container run and the CRI v1 pod: containerd is not running"), Optional.empty());
            }
            List<ImageRecord> records = readRecords(node);
            checks.addAll(progress.checkedStep("Checking images in containerd", () -> checkImages(node, records, arch),
                    l -> l.stream().allMatch(Check::ok), l -> l.stream().filter(Check::ok).count() + "/" + l.size() + " ok"));
            List<String> notChecked = new ArrayList<>();
            CriCheck.Result cri;
            if (nodeArch.emulated()) {
                notChecked.add("running a preloaded image: " + NodeArch.NO_CONTAINERS);
                notChecked.add(CriCheck.NAME + ": " + NodeArch.NO_CONTAINERS);
                cri = new CriCheck(engine).run(node, records, false); // the runtime's versions only
            } else {
                checks.add(progress.checkedStep("Running a preloaded image", () -> runOne(node, records), Check::ok, Check::detail));
                cri = progress.checkedStep("Running a pod through CRI v1", () -> new CriCheck(engine).run(node, records, true),
                        r -> r.check().map(Check::ok).orElse(true), r -> r.check().map(Check::detail).orElse(""));
            }
            cri.check().ifPresent(checks::add);
            return new VerifyReport(image, arch, node.mode(), offline, loadedAfter, checks, notChecked, cri.runtime());
        }
    }

    /**
     * Fails at once, before anything boots, unless {@code image} is a node image: kind-build's node label, or (for
     * kind's own images) a /kind/version file. A base image would otherwise boot and wait 10 minutes for an image
     * loader it does not have, a plain distribution image 90 s for a systemd it does not have.
     */
    private void requireNodeImage(String image, ImageInfo info) {
        Map<String, String> labels = info.labels();
        if ("node".equals(labels.get(Labels.IMAGE_KIND)) || !labels.getOrDefault(NodeLayout.LABEL_IMAGES, "").isEmpty()
                || !labels.getOrDefault(NodeLayout.LABEL_K8S_VERSION, "").isEmpty()) {
            return;
        }
        if ("base".equals(labels.get(Labels.IMAGE_KIND)) || !labels.getOrDefault(Labels.RECIPE_HASH, "").isEmpty()) {
            throw new UserError(image + " is a base image, not a node image: build a node image from it with "
                    + "`kind-build node-image --base-image " + image + "` and verify that");
        }
        if (!hasFile(image, NodeLayout.VERSION_FILE)) {
            throw new UserError(image + " is not a node image (it has no " + NodeLayout.VERSION_FILE
                    + "): build one with `kind-build node-image`");
        }
    }

    /** Whether {@code path} exists in the image: read from a created, never started, container. */
    private boolean hasFile(String image, String path) {
        String id = engine.create(ContainerSpec.builder("kind-build-verify-probe-" + Integer.toHexString(
                ThreadLocalRandom.current().nextInt(1 << 24)), image).entrypoint("/kind-build-never-run")
                .labels(Labels.forContainer("verify-probe")).networkMode("none").build());
        try (java.io.InputStream tar = engine.copyOut(id, path)) {
            tar.read();
            return true;
        } catch (com.github.dockerjava.api.exception.NotFoundException e) {
            return false;
        } catch (java.io.IOException e) {
            return true; // present but unreadable: let the checks tell
        } finally {
            engine.remove(id);
        }
    }

    String awaitLoader(NodeLauncher.Node node) {
        long deadline = System.nanoTime() + LOAD_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String state = engine.exec(node.id(), List.of("systemctl", "is-active", NodeLayout.LOADER_UNIT)).stdout().strip();
            if (state.equals("active")) {
                return state;
            }
            if (state.equals("failed") && failedForGood(node)) {
                return state;
            }
            if (state.equals("inactive")) {
                // After boot, "inactive" with an evaluated condition means it never ran (no tarballs), not "not yet".
                String evaluated = engine.exec(node.id(), List.of("systemctl", "show", "-p", "ConditionTimestampMonotonic",
                        "--value", NodeLayout.LOADER_UNIT)).stdout().strip();
                if (!evaluated.isEmpty() && !evaluated.equals("0")) {
                    return "inactive (skipped: " + NodeLayout.IMAGES_DIR + " is empty)";
                }
                // Boot over, no start job left, never evaluated: systemd dropped the job (a dependency failed).
                if (bootFinished(node) && !loaderJobPending(node)) {
                    return "inactive (never started)";
                }
            }
            sleep(200);
        }
        return "still activating after " + LOAD_TIMEOUT.toMinutes() + " min";
    }

    /**
     * Whether a failed loader stays failed. A containerd restart (PartOf) stops the loader and starts it again in one
     * job; between the two the unit reads "failed" for a moment. Failed with no job pending, twice a second apart, is final.
     */
    private boolean failedForGood(NodeLauncher.Node node) {
        for (int i = 0; i < 2; i++) {
            if (loaderJobPending(node)) {
                return false;
            }
            sleep(1000);
            if (!engine.exec(node.id(), List.of("systemctl", "is-active", NodeLayout.LOADER_UNIT)).stdout().strip().equals("failed")) {
                return false;
            }
        }
        return true;
    }

    /** Whether systemd holds a job (start, restart) for the loader. */
    private boolean loaderJobPending(NodeLauncher.Node node) {
        return !engine.exec(node.id(), List.of("systemctl", "show", "-p", "Job", "--value", NodeLayout.LOADER_UNIT)).stdout().isBlank();
    }

    /** A failed check when containerd.service is not active (checked after the loader ended), with systemd's word. */
    private Optional<Check> containerdDown(NodeLauncher.Node node) {
        String state = engine.exec(node.id(), List.of("systemctl", "is-active", "containerd")).stdout().strip();
        if (state.equals("active")) {
            return Optional.empty();
        }
        String how = engine.exec(node.id(), List.of("systemctl", "show", "-p", "Result,NRestarts", "containerd"))
                .stdout().strip().replace('\n', ' ');
        return Optional.of(Check.fail("containerd", "containerd.service is " + state + " (" + how + "); see journalctl -u containerd"));
    }

    private boolean bootFinished(NodeLauncher.Node node) {
        String state = engine.exec(node.id(), List.of("systemctl", "is-system-running")).stdout().strip();
        return state.equals("running") || state.equals("degraded");
    }

    /** The loader's first FAILED line; its whole journal goes out as detail lines (shown with -v). */
    String loaderFailure(NodeLauncher.Node node, NodeArch nodeArch) {
        ExecResult r = engine.exec(node.id(), List.of("journalctl", "-u", NodeLayout.LOADER_UNIT, "--no-pager", "-o", "cat"));
        List<String> journal = r.stdout().lines().toList();
        progress.detail("journal of " + NodeLayout.LOADER_UNIT + " (last " + Math.min(journal.size(), LOADER_JOURNAL_LINES) + " lines):");
        journal.subList(Math.max(0, journal.size() - LOADER_JOURNAL_LINES), journal.size()).forEach(l -> progress.detail("  " + l));
        return journal.stream().filter(l -> l.contains("FAILED")).findFirst().orElseGet(() -> loaderEnd(node, journal, nodeArch));
    }

    /** How the loader ended when it logged no FAILED line (killed, crashed, stopped with containerd): systemd's word. */
    private String loaderEnd(NodeLauncher.Node node, List<String> journal, NodeArch nodeArch) {
        String how = engine.exec(node.id(), List.of("systemctl", "show", "-p", "Result,ExecMainCode,ExecMainStatus",
                NodeLayout.LOADER_UNIT)).stdout().strip().replace('\n', ' ');
        String last = journal.isEmpty() ? "no journal lines" : "its last line: " + journal.get(journal.size() - 1);
        String hint = how.contains("Result=resources") ? "; " + nodeArch.unspawnable() : "";
        return "ended without a FAILED line (" + how + "); " + last + hint + "; see journalctl -u " + NodeLayout.LOADER_UNIT;
    }

    private static final int LOADER_JOURNAL_LINES = 60;

    private Check checkVersions(NodeLauncher.Node node) {
        String recorded = engine.exec(node.id(), List.of("cat", NodeLayout.VERSION_FILE)).stdout().strip();
        String kubeadm = engine.exec(node.id(), List.of("kubeadm", "version", "-o", "short")).stdout().strip();
        String kubelet = engine.exec(node.id(), List.of("kubelet", "--version")).stdout().strip().replaceFirst("^Kubernetes\\s+", "");
        String detail = NodeLayout.VERSION_FILE + "=" + recorded + ", kubeadm=" + kubeadm + ", kubelet=" + kubelet;
        boolean ok = !recorded.isEmpty() && recorded.equals(kubeadm) && recorded.equals(kubelet);
        return ok ? Check.pass("versions", detail) : Check.fail("versions", detail);
    }

    private List<ImageRecord> readRecords(NodeLauncher.Node node) {
        ExecResult r = engine.exec(node.id(), List.of("cat", NodeLayout.IMAGES_LIST));
        if (!r.ok()) {
            throw new UserError("the node image has no " + NodeLayout.IMAGES_LIST + ": was it built by kind-build node-image?");
        }
        try {
            return JSON.readValue(r.stdout(), new TypeReference<List<ImageRecord>>() {});
        } catch (java.io.IOException e) {
            throw new UserError(NodeLayout.IMAGES_LIST + " in the node is not valid: " + e.getMessage());
        }
    }

    private List<Check> checkImages(NodeLauncher.Node node, List<ImageRecord> records, String arch) {
        Map<String, ContainerdImages.Listed> listed = ContainerdImages.parseList(
                engine.execOk(node.id(), List.of("ctr", "-n", "k8s.io", "images", "ls")));
        List<Check> checks = new ArrayList<>();
        for (ImageRecord r : records) {
            String check = "image " + r.name();
            ContainerdImages.Listed l = listed.get(r.name());
            if (l == null) {
                checks.add(Check.fail(check, "not in containerd's k8s.io namespace"));
                continue;
            }
            Optional<String> config = configDigestOf(node, l.targetDigest(), arch);
            if (config.isEmpty() || !config.get().equals(r.configDigest())) {
                checks.add(Check.fail(check, "content differs: config " + config.orElse("unreadable") + ", recorded " + r.configDigest()));
            } else if (!l.pinned()) {
                checks.add(Check.fail(check, "present but not pinned against kubelet image GC"));
            } else {
                checks.add(Check.pass(check, "pinned, config " + shortDigest(r.configDigest())
                        + (r.digest().isEmpty() ? ", from the Kubernetes release" : ", pulled at " + shortDigest(r.digest()))));
            }
        }
        return checks;
    }

    private Optional<String> configDigestOf(NodeLauncher.Node node, String targetDigest, String arch) {
        String doc = engine.exec(node.id(), List.of("ctr", "-n", "k8s.io", "content", "get", targetDigest)).stdout();
        Optional<String> config = ContainerdImages.configDigest(doc);
        if (config.isPresent()) {
            return config;
        }
        return ContainerdImages.platformManifest(doc, arch).flatMap(m -> ContainerdImages.configDigest(
                engine.exec(node.id(), List.of("ctr", "-n", "k8s.io", "content", "get", m)).stdout()));
    }

    /** Starts the pause image (or the first image) as a task, sees it running, and removes it. */
    private Check runOne(NodeLauncher.Node node, List<ImageRecord> records) {
        if (records.isEmpty()) {
            return Check.fail("run", "no images recorded");
        }
        ImageRecord pick = records.stream().filter(r -> r.name().contains("/pause:")).findFirst().orElse(records.get(0));
        String id = "kind-build-verify";
        ExecResult run = engine.exec(node.id(), List.of("ctr", "-n", "k8s.io", "run", "-d", pick.name(), id));
        try {
            if (!run.ok()) {
                return Check.fail("run " + pick.name(), "ctr run failed: " + run.lastErrorLine());
            }
            sleep(500);
            String tasks = engine.exec(node.id(), List.of("ctr", "-n", "k8s.io", "tasks", "ls")).stdout();
            boolean running = tasks.lines().anyMatch(l -> l.startsWith(id + " ") && l.contains("RUNNING"));
            String exited = running ? "" : tasks.lines().filter(l -> l.startsWith(id + " ")).findFirst().orElse("no task");
            return running ? Check.pass("run " + pick.name(), "unpacked and started with ctr run")
                    : Check.fail("run " + pick.name(), "task not running: " + exited.strip());
        } finally {
            engine.exec(node.id(), List.of("ctr", "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", id));
            sleep(200);
            engine.exec(node.id(), List.of("ctr", "-n", "k8s.io", "tasks", "delete", "-f", id));
            engine.exec(node.id(), List.of("ctr", "-n", "k8s.io", "containers", "delete", id));
        }
    }

    private static String shortDigest(String d) {
        return d.length() > 19 ? d.substring(0, 19) : d;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted");
        }
    }
}
