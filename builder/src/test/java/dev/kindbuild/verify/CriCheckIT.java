package dev.kindbuild.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.cri.CriPodRun;
import dev.kindbuild.cri.NodeCri;
import dev.kindbuild.cri.PodPlan;
import dev.kindbuild.cri.RuntimeVersion;
import dev.kindbuild.engine.ContainerFile;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.NodeLauncher;
import dev.kindbuild.node.NodeImageResult;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.testing.ImageFiles;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.StandInNode;
import dev.kindbuild.testing.RecordingProgress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The "CRI v1 pod" check of `kind-build verify` against a real node: a stand-in v1.31.2 node (systemd cgroup driver,
 * as kubelet ≥ 1.24 in kind) runs a pod through its containerd's CRI v1, on the bundled base's containerd 2.x and on
 * Debian trixie's containerd 1.7 copied over it, both reporting the preloaded images pinned; a sandbox image that is not there, and a pod under the wrong cgroup driver, fail the check and
 * leave no sandbox and no container behind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CriCheckIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    private static final String TAG = "kind-build-test/cri-it:" + Leaks.PID;
    private static final String ABSENT_SANDBOX_TAG = TAG + "-absent-sandbox";
    private static final String CONTAINERD17_TAG = TAG + "-containerd17";
    private static final String ABSENT = "registry.k8s.io/pause:0.0-absent";
    private static final String ENTRYPOINT = "ENTRYPOINT [\"/usr/local/bin/entrypoint\", \"/sbin/init\"]";

    private StandInNode standIn;
    private DockerEngine engine;
    private NodeImageResult node;

    @BeforeAll
    void buildNodeImage() throws IOException {
        standIn = StandInNode.build(TAG, REGISTRY);
        engine = standIn.engine();
        node = standIn.node();
    }

    @AfterAll
    void tearDown() {
        standIn.remove(List.of(ABSENT_SANDBOX_TAG, CONTAINERD17_TAG));
    }

    @Test
    void verifyRunsAPodThroughCriV1UnderTheSystemdDriverAndReportsTheRuntime() {
        VerifyReport report = new NodeVerifier(engine, new RecordingProgress()).run(TAG, true);
        Check cri = criCheck(report);
        assertTrue(cri.ok(), describe(report));
        assertTrue(cri.detail().contains("under kubelet-kubepods-besteffort-pod") && cri.detail().contains(".slice (systemd cgroup driver)"),
                cri.detail());
        assertTrue(cri.detail().contains("container from registry.k8s.io/pause:") && cri.detail().endsWith(
                "running; both removed; both images reported pinned (CNI: kindnet's ptp config, as kindnetd writes it)"), cri.detail());
        RuntimeVersion runtime = report.runtime().orElseThrow();
        assertEquals("containerd", runtime.name());
        assertEquals("v1", runtime.apiVersion());
        assertTrue(runtime.version().startsWith("2."), "the bundled base's containerd: " + runtime);
        assertTrue(report.passed(), describe(report));
        Leaks.assertNoContainers(engine);
    }

    @Test
    void anAbsentSandboxImageFailsTheCheckClearlyAndCreatesNothing() {
        try (ImageFiles derived = new ImageFiles(engine, node.image())) {
            String toml = derived.read(CriCheck.CONTAINERD_CONFIG).replaceFirst("(?m)^(\\s*sandbox_image\\s*=\\s*)\"[^\"]*\"", "$1\"" + ABSENT + "\"");
            engine.copyFiles(derived.containerId(), List.of(ContainerFile.ofText(CriCheck.CONTAINERD_CONFIG, 0644, toml)));
            engine.commit(derived.containerId(), ABSENT_SANDBOX_TAG, List.of(ENTRYPOINT));
        }
        inBootedNode(ABSENT_SANDBOX_TAG, n -> {
            CriCheck.Result result = new CriCheck(engine).run(n, node.images(), true);
            Check check = result.check().orElseThrow();
            assertFalse(check.ok(), check.detail());
            assertEquals("sandbox image " + ABSENT + " is not in the node's containerd: kubelet's pods would pull it", check.detail());
            assertTrue(result.runtime().isPresent());
            assertNothingLeft(n);
        });
    }

    /** kubelet under cgroupfs against a containerd under systemd: the pod fails part-way, and what was made is removed. */
    @Test
    void theWrongCgroupDriverFailsPartWayAndLeavesNothingInTheNode() {
        inBootedNode(TAG, n -> {
            String pause = CriCheck.podImage(node.images()).orElseThrow();
            engine.copyFiles(n.id(), List.of(ContainerFile.ofText(CriCheck.CNI_FILE, 0644, CriCheck.kindnetConflist("10.244.0.0/24"))));
            try (NodeCri cri = NodeCri.connect(engine, n.id(), CriCheck.SOCKET, Duration.ofSeconds(60))) {
                CriPodRun.Outcome wrong = cri.runtime().run(new PodPlan(pause, pause, PodPlan.CgroupDriver.CGROUPFS, UUID.randomUUID().toString()));
                assertFalse(wrong.ok(), wrong.detail());
                assertTrue(wrong.detail().startsWith("RunPodSandbox failed: ") && wrong.detail().contains("/kubelet/kubepods/besteffort/pod"),
                        wrong.detail());
                assertFalse(wrong.detail().contains("left behind"), wrong.detail());
            }
            assertNothingLeft(n);
        });
    }

    private void inBootedNode(String image, java.util.function.Consumer<NodeLauncher.Node> body) {
        NodeLauncher launcher = new NodeLauncher(engine);
        NodeLauncher.Node n = launcher.start(image, "kind-build-test-cri-" + Leaks.PID, "verify", false);
        try {
            launcher.awaitBoot(n, Duration.ofSeconds(90));
            assertEquals("active", new NodeVerifier(engine, new RecordingProgress()).awaitLoader(n));
            body.accept(n);
        } finally {
            engine.remove(n.id());
        }
        Leaks.assertNoContainers(engine);
    }

    /** Debian trixie's containerd 1.7 (scripts/fetch-containerd) over the node's 2.x: the same config, CRI v1 and pins hold. */
    @Test
    void aContainerd17NodeRunsThePodToo() {
        Path bin = Path.of(System.getenv().getOrDefault("KIND_BUILD_CACHE", System.getProperty("user.home") + "/.cache/kind-build"))
                .resolve("containerd/trixie/usr/bin");
        boolean present = Files.isExecutable(bin.resolve("containerd"));
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            assertTrue(present, "CI=true needs Debian trixie's containerd 1.7 in " + bin + ": run scripts/fetch-containerd");
        }
        Assumptions.assumeTrue(present, "no containerd 1.7 in " + bin + " (scripts/fetch-containerd)");
        try (ImageFiles derived = new ImageFiles(engine, node.image())) {
            engine.copyFiles(derived.containerId(), List.of("containerd", "containerd-shim-runc-v2", "ctr").stream()
                    .map(b -> ContainerFile.ofHostFile("/usr/bin/" + b, 0755, bin.resolve(b))).toList());
            engine.commit(derived.containerId(), CONTAINERD17_TAG, List.of(ENTRYPOINT));
        }
        VerifyReport report = new NodeVerifier(engine, new RecordingProgress()).run(CONTAINERD17_TAG, true);
        RuntimeVersion runtime = report.runtime().orElseThrow(() -> new AssertionError(describe(report)));
        assertTrue(runtime.version().startsWith("1.7."), runtime.toString());
        assertEquals("v1", runtime.apiVersion());
        Check cri = criCheck(report);
        assertTrue(cri.ok(), describe(report));
        assertTrue(cri.detail().contains("both images reported pinned"), cri.detail());
        assertTrue(cri.detail().contains(".slice (systemd cgroup driver)"), cri.detail());
        Leaks.assertNoContainers(engine);
    }

    /** No container of the check in containerd's k8s.io namespace (a sandbox is one too), and no task. */
    private void assertNothingLeft(NodeLauncher.Node n) {
        assertEquals("", engine.execOk(n.id(), List.of("ctr", "-n", "k8s.io", "containers", "ls", "-q")).strip());
        assertEquals("", engine.execOk(n.id(), List.of("ctr", "-n", "k8s.io", "tasks", "ls", "-q")).strip());
    }

    private static Check criCheck(VerifyReport report) {
        return report.checks().stream().filter(c -> c.name().equals(CriCheck.NAME)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + CriCheck.NAME + " check: " + describe(report)));
    }

    private static String describe(VerifyReport report) {
        return report.checks().stream().map(c -> (c.ok() ? "ok   " : "FAIL ") + c.name() + ": " + c.detail())
                .collect(Collectors.joining("\n", "verify report:\n", "")) + "\nruntime: " + report.runtime() + ", not checked: " + report.notChecked();
    }
}
