package dev.kindbuild.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.kube.KubernetesResolver;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.sample.SampleRelease;
import dev.kindbuild.sample.SampleServer;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestCache;
import dev.kindbuild.testing.TestEngine;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A Kubernetes whose kubelet the base's containerd cannot serve is refused before anything is downloaded or pulled:
 * a stand-in v1.20.2 release (its kubelet speaks CRI v1alpha2 only) on the bundled default base (containerd 2.x) given
 * as --base-image, with both builders. The one ERROR line names both versions and the fix; the release server saw no
 * request at all; nothing is left behind. (Without --base-image such a node gets the containerd 1.7 base.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContainerdMismatchIT {
    private static final String V = "v1.20.2";
    private static final String TAG = "kind-build-test/containerd-mismatch:" + Leaks.PID;

    private DockerEngine engine;
    private String arch;
    private TestCache cache;
    private Path tmp;
    private SampleServer server;
    private String bundledTag;
    private boolean bundledTagExisted;
    private String tarballPath;

    @BeforeAll
    void setUp() throws IOException {
        engine = TestEngine.connect();
        arch = engine.facts().architecture();
        TestBaseImage.get(engine, false, new RecordingProgress());
        ImageInfo base = TestBaseImage.inspect(engine).orElseThrow();
        // node-image without --base-image reuses the bundled recipe's image (the test base) under its own tag.
        bundledTag = "kindest/base:" + base.labels().get("dev.kind-build.built");
        bundledTagExisted = engine.inspectImage(bundledTag).isPresent();
        cache = TestCache.create();
        tmp = Files.createTempDirectory("kind-build-it-containerd-");
        SampleRelease.writeRelease(tmp.resolve("www"), V, arch);
        server = SampleServer.start(tmp.resolve("www"));
        tarballPath = "/" + V + "/" + KubernetesResolver.serverTarballName(arch);
    }

    @AfterAll
    void tearDown() {
        if (server != null) {
            server.close();
        }
        if (engine != null) {
            engine.removeImage(TAG);
            if (!bundledTagExisted) {
                engine.removeImage(bundledTag);
            }
            engine.close();
        }
        if (cache != null) {
            cache.close();
        }
        TempPaths.deleteTree(tmp);
    }

    /** The one ERROR line of a refused run, after checking exit 1 and that nothing was fetched or left. */
    private String refused(CliRun r) {
        assertEquals(1, r.exit(), r.err());
        List<String> errors = r.err().lines().filter(l -> l.startsWith("ERROR: ")).toList();
        assertEquals(1, errors.size(), r.err());
        assertEquals(0, server.requests(tarballPath), "the release was downloaded before the refusal: " + server.requestCounts());
        assertEquals(Map.of(), server.requestCounts(), "nothing at all was fetched from the release server");
        assertTrue(engine.inspectImage(TAG).isEmpty(), TAG + " was tagged");
        Leaks.assertNoContainers(engine);
        String line = errors.get(0);
        assertTrue(line.contains("Kubernetes " + V + " needs containerd older than 2.0 (its kubelet speaks CRI v1alpha2)"), line);
        assertTrue(line.matches(".* has containerd 2\\.\\d+\\.\\d+\\S* \\(.*\\): pass --base-image with a base whose containerd is older than 2\\.0"
                + " \\(`kind-build base-image --containerd 1\\.7` builds one.*"), line);
        return line;
    }

    @Test
    void theDockerBuilderRefusesAContainerd2Base() {
        String line = refused(CliRun.of("node-image", V, "--k8s-release-url", server.baseUri().toString(), "--image", TAG,
                "--builder", "docker", "--base-image", TestBaseImage.TAG));
        assertTrue(line.contains("but base image " + TestBaseImage.TAG + " has containerd"), line);
    }

    @Test
    void theDaemonlessBuilderReadsTheBaseWithoutAnEngine() throws IOException {
        Path archive = tmp.resolve("base.tar");
        try (InputStream in = engine.save(TestBaseImage.TAG)) {
            Files.copy(in, archive);
        }
        Path out = tmp.resolve("node.tar");
        String previousHost = System.setProperty("DOCKER_HOST", "unix:///nonexistent/docker.sock");
        CliRun r;
        try {
            r = CliRun.of("node-image", V, "--k8s-release-url", server.baseUri().toString(), "--image", TAG,
                    "--base-image", "docker-archive:" + archive, "--output", out.toString());
        } finally {
            if (previousHost == null) {
                System.clearProperty("DOCKER_HOST");
            } else {
                System.setProperty("DOCKER_HOST", previousHost);
            }
        }
        String line = refused(r);
        assertTrue(line.contains("but base image sha256:"), "an archive's base is named by its manifest digest: " + line);
        assertFalse(Files.exists(out), "nothing written to --output");
    }
}
