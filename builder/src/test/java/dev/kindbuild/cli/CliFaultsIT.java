package dev.kindbuild.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.archive.ArchiveFormat;
import dev.kindbuild.image.archive.DockerArchiveOutput;
import dev.kindbuild.image.archive.EngineImages;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.sample.SampleEnvironment;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.ItTeardown;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.Skopeo;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestCache;
import dev.kindbuild.testing.TestEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults of the command line against the real engine, the sample release and a scratch registry: an output over an
 * input archive (the input stays byte for byte), a failed push from the daemonless builder (no tag left in the
 * engine, a JSON error on stdout with --json), a password in a reference (never printed, nothing tagged).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliFaultsIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    private static final String V = "v1.31.2";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Nothing listens on port 1: a push there fails after the build, as a registry that is down does. */
    private static final String DOWN = "127.0.0.1:1/kind-build-test/cli-faults:" + Leaks.PID;

    private DockerEngine engine;
    private TestCache cache;
    private SampleEnvironment env;
    private Path tmp;
    private Path baseArchive;
    private Path baseOci;
    private Path nodeArchive;
    private Path imageArchive;
    private final List<String> engineTags = new ArrayList<>();

    @BeforeAll
    void setUp() throws Exception {
        engine = TestEngine.connect();
        String arch = engine.facts().architecture();
        cache = TestCache.create();
        tmp = Files.createTempDirectory("kind-build-it-cli-faults-");
        RecordingProgress progress = new RecordingProgress();
        TestBaseImage.get(engine, false, progress);
        env = SampleEnvironment.start(V, arch, 0, REGISTRY.host(), progress);
        ImageStore store = ImageStore.defaultLocation();
        StoredImage base = EngineImages.save(engine, TestBaseImage.TAG, store);
        baseArchive = tmp.resolve("base.tar");
        ArchiveFormat.DOCKER.write(store, base, TestBaseImage.TAG, baseArchive);
        baseOci = tmp.resolve("base.oci.tar");
        ArchiveFormat.OCI.write(store, base, TestBaseImage.TAG, baseOci);
        nodeArchive = tmp.resolve("node.tar");
        CliRun node = CliRun.of(build("--base-image", "docker-archive:" + baseArchive, "--image", "kind-build-test/cli-faults-node:" + Leaks.PID,
                "--output", nodeArchive.toString()));
        assertEquals(0, node.exit(), node.err());
        imageArchive = tmp.resolve("image.tar");
        StoredImage pause = store.image(store.resolve("registry.k8s.io/pause:3.10").orElseThrow());
        DockerArchiveOutput.write(store, pause, List.of("example.com/extras/archived:2"), imageArchive);
    }

    @AfterAll
    void tearDown() {
        ItTeardown.run(engine, engineTags, env, cache, tmp);
    }

    /** node-image of the sample release with the daemonless builder, images from the scratch registry, plus {@code extra}. */
    private String[] build(String... extra) {
        List<String> args = new ArrayList<>(List.of("node-image", V, "--builder", "oci", "--k8s-release-url", env.releaseUrl().toString(),
                "--registry-mirror", "registry.k8s.io=" + REGISTRY.host(), "--registry-mirror", "docker.io=" + REGISTRY.host()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    /** The last stderr line is the one ERROR line; the secret appears nowhere. */
    private static String errorLine(CliRun r) {
        assertFalse(r.out().contains("Secret") || r.err().contains("Secret"), r.out() + r.err());
        List<String> errors = r.err().lines().filter(l -> l.startsWith("ERROR: ")).toList();
        assertEquals(1, errors.size(), r.err());
        return errors.get(0);
    }

    @Test
    void anOutputOverTheBaseArchiveIsRefusedAndTheArchiveStaysAsItWas() throws Exception {
        Path link = tmp.resolve("link.tar");
        Files.createSymbolicLink(link, baseArchive);
        for (Path input : List.of(baseArchive, baseOci)) {
            String as = input == baseOci ? "oci-archive:" : "docker-archive:";
            String before = Sha256.of(input);
            for (Path out : input == baseArchive ? List.of(input, link, Path.of("").toAbsolutePath().relativize(input)) : List.of(input)) {
                CliRun r = CliRun.of(build("--base-image", as + input, "--output", out.toString()));
                assertEquals(1, r.exit(), "refused, not exit 0 with the input overwritten: " + r.err());
                assertTrue(errorLine(r).contains("--output " + out + " is the --base-image archive"), r.err());
                assertFalse(r.err().contains("Reading") || r.err().contains("Downloading"), "refused before any work: " + r.err());
                assertEquals(before, Sha256.of(input), "the base archive is unchanged");
            }
        }
        // And the archive still builds a node image.
        Path node = tmp.resolve("node-from-base.tar");
        CliRun ok = CliRun.of(build("--base-image", "docker-archive:" + baseArchive, "--output", node.toString()));
        assertEquals(0, ok.exit(), ok.err());
    }

    @Test
    void addImageRefusesAnOutputOverItsNodeOrImageArchive() throws Exception {
        for (Path input : List.of(imageArchive, nodeArchive)) {
            String before = Sha256.of(input);
            CliRun r = CliRun.of("add-image", "docker-archive:" + nodeArchive, "--from-archive", imageArchive.toString(),
                    "--image", "kind-build-test/cli-faults-added:" + Leaks.PID, "--output", input.toString());
            assertEquals(1, r.exit(), r.err());
            assertTrue(errorLine(r).contains("--output " + input + " is the " + (input == nodeArchive ? "NODE_IMAGE archive" : "--from-archive")), r.err());
            assertEquals(before, Sha256.of(input), input + " is unchanged");
        }
    }

    @Test
    void aFailedPushFromTheOciBuilderLeavesNoTagInTheEngineAndJsonSaysWhy() throws Exception {
        engineTags.add(DOWN);
        CliRun r = CliRun.of(build("--base-image", "docker-archive:" + baseArchive, "--image", DOWN, "--push", "--json"));
        assertEquals(1, r.exit(), r.err());
        String line = errorLine(r);
        assertTrue(line.contains("127.0.0.1:1"), line);
        assertTrue(engine.inspectImage(DOWN).isEmpty(), "the failed push left " + DOWN + " in the engine");
        JsonNode error = JSON.readTree(r.out());
        assertEquals("error", error.path("status").asText(), r.out());
        assertEquals(line.substring("ERROR: ".length()), error.path("error").asText());
        assertEquals(1, error.path("exitCode").asInt());

        String added = "127.0.0.1:1/kind-build-test/cli-faults-added:" + Leaks.PID;
        engineTags.add(added);
        CliRun add = CliRun.of("add-image", "docker-archive:" + nodeArchive, "--from-archive", imageArchive.toString(), "--image", added,
                "--push", "--json");
        assertEquals(1, add.exit(), add.err());
        errorLine(add);
        assertTrue(engine.inspectImage(added).isEmpty(), "the failed push left " + added + " in the engine");
        assertEquals("error", JSON.readTree(add.out()).path("status").asText(), add.out());
    }

    @Test
    void aPushFromTheOciBuilderGoesFromTheStoreToTheRegistryAlone() throws Exception {
        String target = REGISTRY.host() + "/kind-build-test/cli-faults:" + Leaks.PID;
        engineTags.add(target);
        CliRun r = CliRun.of(build("--base-image", "docker-archive:" + baseArchive, "--image", target, "--push", "--json"));
        assertEquals(0, r.exit(), r.err());
        String pushed = JSON.readTree(r.out()).path("pushed").asText();
        assertTrue(pushed.startsWith(target + "@sha256:"), r.out());
        assertEquals(pushed.substring(pushed.indexOf('@') + 1),
                JSON.readTree(Skopeo.run("inspect", "docker://" + target)).path("Digest").asText());
        assertTrue(engine.inspectImage(target).isEmpty(), "the engine is no way station for a push");
    }

    @Test
    void aPasswordInAReferenceReachesNoMessageAndNoEngine() throws Exception {
        String secret = "kbuser:Secret@" + REGISTRY.host() + "/kind-build-test/base:" + Leaks.PID;
        CliRun base = CliRun.of("base-image", "--image", secret);
        assertEquals(1, base.exit(), base.err());
        assertTrue(errorLine(base).contains("--image: invalid image reference \"***@" + REGISTRY.host()), base.err());
        assertTrue(base.err().contains("docker login " + REGISTRY.host()), base.err());
        String tags = new String(new ProcessBuilder("docker", "images", "--format", "{{.Repository}}:{{.Tag}}").start().getInputStream()
                .readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertFalse(tags.contains("kbuser") || tags.contains("Secret"), "nothing tagged with it: " + tags);

        for (String[] args : List.of(build("--base-image", "docker-archive:" + baseArchive, "--extra-image", secret),
                build("--base-image", "kbuser:Secret@" + REGISTRY.host() + "/kind-build-test/base:x"),
                build("--base-image", "docker-archive:" + baseArchive, "--registry-mirror", "quay.io=kbuser:Secret@" + REGISTRY.host(), "--json"),
                new String[] {"verify", secret, "--json"})) {
            CliRun r = CliRun.of(args);
            assertEquals(1, r.exit(), r.err());
            assertTrue(errorLine(r).contains("docker login " + REGISTRY.host()), r.err());
        }
    }
}
