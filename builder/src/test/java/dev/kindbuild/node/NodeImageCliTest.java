package dev.kindbuild.node;

import dev.kindbuild.testing.CliRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.kube.KubernetesSource;
import dev.kindbuild.testing.TestCache;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * `kind-build node-image` argument errors: one ERROR line, exit 1, and no engine needed — DOCKER_HOST points at a
 * socket that does not exist, so an error raised only after connecting would read "cannot reach a Docker engine".
 */
class NodeImageCliTest {
    private static final String NO_ENGINE = "unix:///nonexistent/kind-build-test/docker.sock";
    private static TestCache cache;
    private static String previousDockerHost;


    @BeforeAll
    static void noEngine() {
        cache = TestCache.create();
        // docker-java reads DOCKER_HOST from system properties before the environment.
        previousDockerHost = System.setProperty("DOCKER_HOST", NO_ENGINE);
    }

    @AfterAll
    static void restore() {
        if (previousDockerHost == null) {
            System.clearProperty("DOCKER_HOST");
        } else {
            System.setProperty("DOCKER_HOST", previousDockerHost);
        }
        cache.close();
    }

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    /** Exit 1, nothing on stdout, exactly one line on stderr: "ERROR: ..." — and not the engine's. Returns the line. */
    private static String oneErrorLine(CliRun r) {
        assertEquals(1, r.exit(), r.err());
        assertEquals("", r.out());
        List<String> lines = r.err().strip().lines().toList();
        assertEquals(1, lines.size(), r.err());
        String line = lines.get(0);
        assertTrue(line.startsWith("ERROR: "), line);
        assertFalse(line.contains("Docker engine"), "the argument was only checked after connecting: " + line);
        return line;
    }

    @Test
    void noSource() {
        String line = oneErrorLine(run("node-image"));
        assertTrue(line.contains("SOURCE") && line.contains("--k8s-version"), line);
    }

    @Test
    void aVersionThatIsNotOne() {
        String line = oneErrorLine(run("node-image", "--k8s-version", "banana"));
        assertTrue(line.contains("\"banana\" is not a Kubernetes version") && line.contains("v1.31.2"), line);
    }

    @Test
    void aCiMarkerThatLeavesTheReleaseServer() {
        assertEquals("ERROR: --type ci: \"ci/../../etc/passwd\" is not a CI version marker (expected e.g. ci/latest or ci/latest-1.36)",
                oneErrorLine(run("node-image", "ci/../../etc/passwd")));
    }

    @Test
    void anUnsupportedArch() {
        assertEquals("ERROR: unknown --arch 's390x': use one of amd64, arm64", oneErrorLine(run("node-image", "v1.31.2", "--arch", "s390x")));
    }

    @Test
    void aMalformedMirror() {
        String line = oneErrorLine(run("node-image", "v1.31.2", "--registry-mirror", "nonsense"));
        assertTrue(line.startsWith("ERROR: --registry-mirror nonsense: ") && line.contains("HOST=MIRROR"), line);
    }

    /** The control: with valid arguments the same setup does reach for the engine, so the tests above prove something. */
    @Test
    void validArgumentsGetAsFarAsTheEngine() {
        CliRun r = run("node-image", "v1.31.2", "--builder", "docker", "--arch", "amd64", "--registry-mirror", "registry.k8s.io=127.0.0.1:5000");
        assertEquals(1, r.exit(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("ERROR: cannot reach a Docker engine at " + NO_ENGINE), r.err());
    }

    /** With no engine the daemonless builder is chosen, says so, and refuses at once when the image would go nowhere. */
    @Test
    void withoutAnEngineTheDaemonlessBuilderIsChosenAndNeedsAnOutput() {
        CliRun r = run("node-image", "v1.31.2", "--arch", "amd64");
        assertEquals(1, r.exit(), r.err());
        List<String> lines = r.err().strip().lines().toList();
        assertEquals(2, lines.size(), r.err());
        assertTrue(lines.get(0).contains("no Docker engine answers at " + NO_ENGINE + ": building with --builder oci"), r.err());
        assertTrue(lines.get(1).startsWith("ERROR: no Docker engine to load the node image into: give --output FILE"), r.err());
    }

    @Test
    void daemonlessOnlyOptionsAreRefusedWithTheDockerBuilder() {
        assertEquals("ERROR: --output is for --builder oci; the docker builder tags the image in the engine",
                oneErrorLine(run("node-image", "v1.31.2", "--builder", "docker", "--output", "/tmp/x.tar")));
        assertEquals("ERROR: --output-format pdf: choose docker (docker-archive) or oci (OCI image layout tarball)",
                oneErrorLine(run("node-image", "v1.31.2", "--output", "/tmp/x.tar", "--output-format", "pdf")));
        assertEquals("ERROR: --builder kaniko: choose docker or oci", oneErrorLine(run("node-image", "v1.31.2", "--builder", "kaniko")));
        String missing = oneErrorLine(run("node-image", "v1.31.2", "--base-image", "docker-archive:/nonexistent/base.tar", "--output", "/tmp/x.tar"));
        assertTrue(missing.startsWith("ERROR: --base-image docker-archive:/nonexistent/base.tar: no such file"), missing);
    }

    /** Names that cannot work fail when the request is made, not after the build did its work. */
    @Test
    void aRequestWithAnUnusableNameFailsBeforeAnyWork() {
        UserError image = assertThrows(UserError.class, () -> request(Optional.of("Not/Lower:case"), List.of(), Optional.empty()));
        assertTrue(image.getMessage().contains("Not/Lower:case"), image.getMessage());
        UserError digest = assertThrows(UserError.class,
                () -> request(Optional.of("kind-build-test/node@sha256:" + "a".repeat(64)), List.of(), Optional.empty()));
        assertTrue(digest.getMessage().startsWith("--image "), digest.getMessage());
        UserError extra = assertThrows(UserError.class, () -> request(Optional.empty(), List.of("!!!bad"), Optional.empty()));
        assertTrue(extra.getMessage().contains("!!!bad"), extra.getMessage());
        UserError sha = assertThrows(UserError.class, () -> request(Optional.empty(), List.of(), Optional.of("xyz")));
        assertTrue(sha.getMessage().startsWith("--k8s-sha256: \"xyz\""), sha.getMessage());
        request(Optional.of("kind-build-test/node:v1.31.2"), List.of("registry.k8s.io/pause:3.10"), Optional.of("a".repeat(64)));
    }

    private static NodeImageRequest request(Optional<String> image, List<String> extras, Optional<String> sha) {
        return new NodeImageRequest(new KubernetesSource.Release("v1.31.2", null), image, Optional.empty(), "amd64",
                RegistryMirrors.NONE, RegistryAccess.defaults(), extras, false, false, sha);
    }
}
