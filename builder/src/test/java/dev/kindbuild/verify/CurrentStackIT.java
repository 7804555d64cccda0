package dev.kindbuild.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.engine.Labels;
import dev.kindbuild.kube.ContainerdVersion;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.StandInNode;
import dev.kindbuild.testing.TestBaseImage;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 20's "done when" for the Kubernetes people build today: a (stand-in) v1.37.0 node on the bundled containerd
 * 2.x base boots offline with every image loaded and pinned, runs a pod through CRI v1 on containerd 2, and
 * `verify --cluster` refuses it on this cgroup v1 host in one line, before anything boots.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CurrentStackIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    private static final String TAG = "kind-build-test/current-stack:" + Leaks.PID;

    private StandInNode standIn;

    @BeforeAll
    void buildNodeImage() throws Exception {
        standIn = StandInNode.build(TAG, REGISTRY, "v1.37.0");
    }

    @AfterAll
    void tearDown() {
        standIn.remove(List.of());
    }

    @Test
    void aV137NodeOnTheContainerd2BasePassesOfflineVerifyWithACriV1Pod() {
        String baseContainerd = standIn.engine().inspectImage(TestBaseImage.TAG).orElseThrow().labels().get(Labels.CONTAINERD_VERSION);
        assertTrue(ContainerdVersion.parse(baseContainerd).orElseThrow().major() >= 2, "the test base's containerd: " + baseContainerd);

        VerifyReport report = new NodeVerifier(standIn.engine(), new RecordingProgress()).run(TAG, true);
        assertTrue(report.passed(), report.toString());
        assertTrue(report.checks().stream().anyMatch(c -> c.name().equals(CriCheck.NAME) && c.ok()), report.toString());
        String runtime = report.runtime().orElseThrow().toString();
        assertTrue(runtime.startsWith("containerd 2."), runtime);
        assertTrue(runtime.contains("(CRI v1)"), runtime);
        Leaks.assertNoContainers(standIn.engine());
    }

    @Test
    void verifyClusterIsRefusedOnThisCgroupV1HostInOneLine() {
        assertEquals(1, standIn.engine().facts().cgroupVersion(), "this test describes a cgroup v1 host");
        CliRun cluster = CliRun.of("verify", TAG, "--cluster");
        assertEquals(1, cluster.exit());
        assertTrue(cluster.err().contains("the kubelet of Kubernetes v1.37.0 refuses a cgroup v1 host"), cluster.err());
        assertFalse(cluster.err().contains("Booting"), "refused before any node starts: " + cluster.err());
        Leaks.assertNoContainers(standIn.engine());
    }
}
