package dev.kindbuild.base;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.components.InstalledComponent;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.engine.NodeMode;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.Skopeo;
import dev.kindbuild.testing.TestCache;
import dev.kindbuild.testing.TestEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/** Builds the real base image on the real engine, boots it as kind would, and checks what kind relies on. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BaseImageIT {
    /** Its own tag: other tests share {@code TestBaseImage}, which may already exist when this class runs. */
    private static final String TAG = "kind-build-test/base-it:" + ProcessHandle.current().pid();
    private static final ObjectMapper JSON = new ObjectMapper();
    private DockerEngine engine;
    private BaseImageResult built;

    @BeforeAll
    void connect() {
        engine = TestEngine.connect();
    }

    @AfterAll
    void close() {
        if (engine != null) {
            engine.removeImage(TAG);
            engine.close();
        }
    }

    private BaseImageRequest request(boolean force) {
        return new BaseImageRequest(Optional.of(TAG), BaseImageRequest.DEFAULT_FROM, engine.facts().architecture(),
                BaseImageRequest.DEFAULT_MIRROR, force, false);
    }

    @Test
    @Order(1)
    void buildsAnImageWithKindsNodeConfiguration() {
        RecordingProgress progress = new RecordingProgress();
        java.util.Set<String> danglingBefore = java.util.Set.copyOf(engine.danglingImages());
        // --force: a real build of every step, whatever the engine already has.
        BaseImageResult result = new BaseImageBuild(engine, progress).run(request(true));
        List<String> leftBehind = engine.danglingImages().stream().filter(id -> !danglingBefore.contains(id)).toList();
        assertTrue(leftBehind.isEmpty(), "the build left untagged images: " + leftBehind);
        built = result;
        assertFalse(result.reused());
        assertTrue(result.from().isPresent());
        if (result.from().get().how().equals("bootstrapped")) {
            // No registry is reachable here: the output must say the FROM image was bootstrapped.
            assertTrue(progress.succeeded().stream().anyMatch(s -> s.contains("cannot pull " + BaseImageRequest.DEFAULT_FROM)
                    && s.contains("bootstrapped kind-build/debian-bootstrap:" + BaseImageRequest.DEFAULT_SUITE + "-")), progress.succeeded().toString());
        }

        ImageInfo info = engine.inspectImage(result.image()).orElseThrow();
        assertEquals(List.of("/usr/local/bin/entrypoint", "/sbin/init"), info.entrypoint());
        assertTrue(info.env().contains("container=docker"), info.env().toString());
        assertEquals("SIGRTMIN+3", info.stopSignal());
        assertEquals(result.recipeHash(), info.labels().get(Labels.RECIPE_HASH));
        assertEquals("base", info.labels().get(Labels.IMAGE_KIND));
        assertFalse(info.labels().containsKey(Labels.CONTAINER), "containers of a base image must not look like kind-build's");
        assertFalse(info.labels().containsKey(Labels.LEGACY_OWNER), info.labels().toString());
        // The containerd it got, as the node build reads it without running the base.
        assertEquals(ComponentLabels.plain(ContainerdLabel.read(engine, result.image()).text()), info.labels().get(Labels.CONTAINERD_VERSION));
        // Every runtime component, its version and where it came from, in the labels and the result alike.
        List<InstalledComponent> components = InstalledComponent.fromLabel(info.labels().get(InstalledComponent.LABEL));
        assertEquals(List.of("containerd", "runc", "crictl", "cni-plugins"), components.stream().map(InstalledComponent::name).toList());
        assertEquals(components, result.components());
        assertEquals(components.get(0).version(), info.labels().get(Labels.CONTAINERD_VERSION));
        assertEquals(components.get(1).version(), info.labels().get("dev.kind-build.runc-version"));
        assertTrue(components.get(0).version().startsWith("2."), components.toString());
        if (components.get(0).source().startsWith("debian ")) {
            // No upstream here: one notice says Debian stood in, one what the missing crictl breaks.
            assertEquals("debian sid", components.get(0).source());
            assertEquals(List.of("2.1.9", "1.3.6", "", "1.9.1"), components.stream().map(InstalledComponent::version).toList());
            assertEquals("absent", components.get(2).source());
            assertEquals("none", info.labels().get("dev.kind-build.crictl-version"));
            assertEquals(1, progress.notices().stream().filter(n -> n.contains("using Debian's packages instead of kind's pins: "
                    + "containerd 2.1.9 (sid), runc 1.3.6 (sid), cni-plugins 1.9.1 (sid)")).count(), progress.notices().toString());
            assertTrue(progress.notices().stream().anyMatch(n -> n.startsWith("no crictl in this base") && n.contains("kind load")
                    && n.contains("kind export logs")), progress.notices().toString());
        }
    }

    @Test
    @Order(2)
    void bootsWithSystemdAndContainerdAndLeavesNoContainer() {
        RecordingProgress progress = new RecordingProgress();
        NodeMode mode = BootCheck.run(engine, TAG, progress);
        assertTrue(progress.notices().stream().anyMatch(n -> n.startsWith("node mode: ")), progress.notices().toString());
        assertTrue(progress.succeeded().stream().anyMatch(s -> s.startsWith("Checking containerd")));
        assertTrue(mode == NodeMode.PRIVILEGED || mode == NodeMode.FALLBACK);
        String pid = Long.toString(ProcessHandle.current().pid());
        assertTrue(engine.containersWithLabel(Labels.PID, pid).isEmpty(), "boot-check container left behind");
    }

    @Test
    @Order(3)
    void rebuildWithAnUnchangedRecipeReusesTheImage() {
        RecordingProgress progress = new RecordingProgress();
        BaseImageResult second = new BaseImageBuild(engine, progress).run(request(false));
        assertTrue(second.reused());
        assertEquals(built.imageId(), second.imageId());
        assertTrue(progress.succeeded().stream().anyMatch(s -> s.startsWith("Reusing base image")));
    }

    @Test
    @Order(4)
    void theCliWritesTheBaseAsADockerArchiveAndARecord() throws Exception {
        Path dir = Files.createTempDirectory("kind-build-it-base-");
        try (TestCache cache = TestCache.create()) {
            Path archive = dir.resolve("base.tar");
            Path record = dir.resolve("base.json");
            CliRun run = CliRun.of("base-image", "--image", TAG, "--output", archive.toString(), "--record", record.toString());
            assertEquals(0, run.exit(), run.err());
            assertTrue(run.out().contains("written to " + archive), run.out());
            JsonNode result = JSON.readTree(record.toFile());
            assertTrue(result.path("reused").asBoolean(), result.toString());
            assertEquals(built.imageId(), result.path("imageId").asText());
            assertEquals("docker", result.path("output").path("format").asText());
            assertEquals(built.components().get(0).version(), result.path("components").path(0).path("version").asText(), result.toString());
            assertEquals(built.components().get(0).source(), result.path("components").path(0).path("source").asText());
            // skopeo, the independent reader: the archive's config is the engine's image.
            JsonNode manifest = JSON.readTree(Skopeo.run("inspect", "--raw", "docker-archive:" + archive));
            assertEquals(built.imageId(), manifest.path("config").path("digest").asText());
            try (java.util.stream.Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of("base.json", "base.tar"), files.map(f -> f.getFileName().toString()).sorted().toList(),
                        "no temp file left beside the outputs");
            }
        } finally {
            dev.kindbuild.lifecycle.TempPaths.deleteTree(dir);
        }
    }
}
