package dev.kindbuild.selfimage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.ItTeardown;
import dev.kindbuild.testing.ProcessRun;
import dev.kindbuild.testing.Skopeo;
import dev.kindbuild.testing.TestCache;
import dev.kindbuild.testing.TestEngine;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * kind-build's own image, made by kind-build with no Docker build: it runs as an unprivileged user on a read-only root
 * with no engine, and its Debian root made again from scratch gives the same digest. (Release shards run in it on a
 * real cluster in ClusterReleaseIT.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SelfImageIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TAG = "kind-build-test/self:" + ProcessHandle.current().pid();

    private DockerEngine engine;
    private TestCache cache;
    private Path tmp;
    private JsonNode built;

    @BeforeAll
    void setUp() throws Exception {
        engine = TestEngine.connect();
        cache = TestCache.create();
        tmp = Files.createTempDirectory("kind-build-it-self-");
        Path archive = tmp.resolve("self.tar");
        CliRun r = CliRun.of("self-image", "--jar", ProcessRun.JAR.toString(), "--image", TAG, "--output", archive.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        built = JSON.readTree(r.out());
        try (InputStream in = new FileInputStream(archive.toFile())) {
            engine.load(in);
        }
    }

    @AfterAll
    void tearDown() {
        ItTeardown.run(engine, List.of(TAG), null, cache, tmp);
    }

    /** {@code docker run --rm} of kind-build's image as a locked-down container, with {@code options} before the image. */
    private static ProcessRun dockerRun(List<String> options, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("docker", "run", "--rm", "--read-only", "--cap-drop", "ALL",
                "--security-opt", "no-new-privileges"));
        command.addAll(options);
        command.add(TAG);
        command.addAll(List.of(args));
        return ProcessRun.of(command);
    }


    @Test
    void runsAsAnUnprivilegedUserOnAReadOnlyRootWithNoEngine() throws Exception {
        ProcessRun version = dockerRun(List.of("--network", "none"), "version");
        assertEquals(0, version.exit(), version.err());
        assertTrue(version.out().startsWith("kind-build " + built.path("version").asText() + " (java 21"), version.out());

        var config = engine.inspectImage(TAG).orElseThrow();
        assertEquals("amd64", config.architecture());
        Process inspect = new ProcessBuilder("docker", "image", "inspect", "--format",
                "{{.Config.User}} {{json .Config.Volumes}} {{index .Config.Entrypoint 0}}", TAG).start();
        String fields = new String(inspect.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, inspect.waitFor());
        assertTrue(fields.startsWith("65532:65532 {\"/var/cache/kind-build\":{}} /usr/lib/jvm/"), fields);

        // The JRE's trust store holds Debian's CAs, made without the maintainer script that would have made it.
        ProcessRun keystore = dockerRun(List.of("--network", "none", "--entrypoint", "keytool"), "-list", "-cacerts", "-storepass", "changeit");
        assertEquals(0, keystore.exit(), keystore.err());
        int entries = Integer.parseInt(keystore.out().replaceAll("(?s).*Your keystore contains (\\d+) entries.*", "$1"));
        assertTrue(entries > 100, keystore.out());
    }

    @Test
    void bothArchesMakeAnIndexAndARootMadeAgainGivesTheSameImage() throws Exception {
        Path archive = tmp.resolve("multi.tar");
        JsonNode multi;
        // A cache of its own: Debian's root is made again by mmdebstrap, for both arches, with no emulation.
        try (TestCache fresh = TestCache.create()) {
            CliRun r = CliRun.of("self-image", "--jar", ProcessRun.JAR.toString(), "--image", TAG, "--arch", "amd64,arm64", "--output-format", "oci",
                    "--output", archive.toString(), "--json");
            assertEquals(0, r.exit(), r.err());
            multi = JSON.readTree(r.out());
        }
        assertEquals(List.of("amd64", "arm64"), List.of(multi.path("arches").get(0).asText(), multi.path("arches").get(1).asText()));
        assertEquals(built.path("manifests").get(0).asText(), multi.path("manifests").get(0).asText(),
                "the amd64 image from a root made again equals the first one, byte for byte");
        byte[] indexBytes = Skopeo.run("inspect", "--raw", "oci-archive:" + archive);
        assertEquals(multi.path("digest").asText(), "sha256:" + dev.kindbuild.support.Sha256.of(indexBytes), "the digest printed names the index");
        JsonNode index = JSON.readTree(indexBytes);
        List<String> platforms = new ArrayList<>();
        index.path("manifests").forEach(m -> platforms.add(m.path("platform").path("architecture").asText() + m.path("platform").path("variant").asText()));
        assertEquals(List.of("amd64", "arm64v8"), platforms);
        JsonNode arm = JSON.readTree(Skopeo.run("--override-arch", "arm64", "inspect", "--config", "--raw", "oci-archive:" + archive));
        assertEquals("arm64", arm.path("architecture").asText());
    }
}
