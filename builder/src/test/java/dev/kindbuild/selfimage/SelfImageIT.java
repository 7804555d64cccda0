package dev.kindbuild.selfimage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.sample.SampleEnvironment;
import dev.kindbuild.sample.SampleSize;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.ItTeardown;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.Skopeo;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestCache;
import dev.kindbuild.testing.TestEngine;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * kind-build's own image, made by kind-build with no Docker build: it runs as an unprivileged user on a read-only root
 * with no engine, a release shard runs inside it and stages what a shard run outside stages, and its Debian root
 * made again from scratch gives the same digest.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SelfImageIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path JAR = Path.of(System.getProperty("kindbuild.home", "..")).resolve("builder/target/kind-build-all.jar");
    private static final String TAG = "kind-build-test/self:" + ProcessHandle.current().pid();
    private static final String V1 = "v1.31.2";
    private static final String V2 = "v1.30.6";

    private DockerEngine engine;
    private TestCache cache;
    private SampleEnvironment env;
    private Path tmp;
    private JsonNode built;

    @BeforeAll
    void setUp() throws Exception {
        engine = TestEngine.connect();
        cache = TestCache.create();
        tmp = Files.createTempDirectory("kind-build-it-self-");
        Path archive = tmp.resolve("self.tar");
        CliRun r = CliRun.of("self-image", "--jar", JAR.toString(), "--image", TAG, "--output", archive.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        built = JSON.readTree(r.out());
        try (InputStream in = new FileInputStream(archive.toFile())) {
            engine.load(in);
        }
    }

    @AfterAll
    void tearDown() {
        ItTeardown.run(engine, List.of(TAG), env, cache, tmp);
    }

    /** {@code docker run --rm} of kind-build's image as a locked-down container, with {@code options} before the image. */
    private static Run dockerRun(List<String> options, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("docker", "run", "--rm", "--read-only", "--cap-drop", "ALL",
                "--security-opt", "no-new-privileges"));
        command.addAll(options);
        command.add(TAG);
        command.addAll(List.of(args));
        return run(command);
    }

    private record Run(int exit, String out, String err) {}

    /** The kind-build jar run on this host, with the test's cache. */
    private Run jarRun(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dkindbuild.cache=" + cache.dir(), "-jar", JAR.toString()));
        command.addAll(List.of(args));
        return run(command);
    }

    private static Run run(List<String> command) throws Exception {
        Path out = Files.createTempFile("kind-build-it-self-run-", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.PIPE).start();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(10, TimeUnit.MINUTES), String.join(" ", command) + " did not end");
            return new Run(p.exitValue(), Files.readString(out), err);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @Test
    void runsAsAnUnprivilegedUserOnAReadOnlyRootWithNoEngine() throws Exception {
        Run version = dockerRun(List.of("--network", "none"), "version");
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
        Run keystore = dockerRun(List.of("--network", "none", "--entrypoint", "keytool"), "-list", "-cacerts", "-storepass", "changeit");
        assertEquals(0, keystore.exit(), keystore.err());
        int entries = Integer.parseInt(keystore.out().replaceAll("(?s).*Your keystore contains (\\d+) entries.*", "$1"));
        assertTrue(entries > 100, keystore.out());
    }

    @Test
    void aShardRunInsideItStagesWhatOneRunOutsideWould() throws Exception {
        env = SampleEnvironment.start(List.of(V1, V2), List.of("amd64"), 0, REGISTRY.host(), SampleSize.STAND_IN, new RecordingProgress());
        // The base from a registry: the container has no engine to take it from.
        String base = REGISTRY.host() + "/kind-build-test/self-base:1";
        engine.tag(TestBaseImage.get(engine, false, new RecordingProgress()).imageId(), base);
        try {
            engine.push(base, line -> { });
        } finally {
            engine.removeImage(base);
        }
        // The container runs as 65532: the release file's folder must be readable to others.
        Path folder = Files.createDirectory(tmp.resolve("release"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        String repository = REGISTRY.host() + "/kind-build-test/self-sharded";
        Path file = Files.writeString(folder.resolve("release.yaml"), releaseFile(repository, base));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

        Run inside = dockerRun(List.of("--network", "host", "-v", folder + ":/release:ro"),
                "release", "/release/release.yaml", "--shard", "1/2", "--json");
        assertEquals(0, inside.exit(), inside.err());
        assertTrue(JSON.readTree(inside.out()).path("staged").get(0).path("uploaded").asInt() > 0, inside.out());

        // Outside, the same kind-build (its version is an input of every image): the jar on this host.
        Run outside = jarRun("release", file.toString(), "--shard", "2/2");
        assertEquals(0, outside.exit(), outside.err());
        Run done = jarRun("release", file.toString(), "--finalize");
        assertEquals(0, done.exit(), done.err());

        String single = REGISTRY.host() + "/kind-build-test/self-single";
        Path singleFile = Files.writeString(folder.resolve("single.yaml"), releaseFile(single, base));
        Run whole = jarRun("release", singleFile.toString());
        assertEquals(0, whole.exit(), whole.err());
        for (String v : List.of(V1, V2)) {
            assertArrayEquals(Skopeo.run("inspect", "--raw", "docker://" + single + ":" + v),
                    Skopeo.run("inspect", "--raw", "docker://" + repository + ":" + v), v + ": the same index from a shard run in the image");
        }
    }

    private String releaseFile(String repository, String base) {
        return "repository: " + repository + "\n"
                + "versions: [" + V1 + ", " + V2 + "]\n"
                + "arches: [amd64]\n"
                + "baseImage: " + base + "\n"
                + "kubernetesReleaseUrl: " + env.releaseUrl() + "\n"
                + "registryMirrors: {registry.k8s.io: \"" + REGISTRY.host() + "\", docker.io: \"" + REGISTRY.host() + "\"}\n";
    }

    @Test
    void bothArchesMakeAnIndexAndARootMadeAgainGivesTheSameImage() throws Exception {
        Path archive = tmp.resolve("multi.tar");
        JsonNode multi;
        // A cache of its own: Debian's root is made again by mmdebstrap, for both arches, with no emulation.
        try (TestCache fresh = TestCache.create()) {
            CliRun r = CliRun.of("self-image", "--jar", JAR.toString(), "--image", TAG, "--arch", "amd64,arm64", "--output-format", "oci",
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
