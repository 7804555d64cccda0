package dev.kindbuild.node.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.image.archive.ArchiveFormat;
import dev.kindbuild.image.archive.DockerArchiveOutput;
import dev.kindbuild.image.registry.RegistryClients;
import dev.kindbuild.image.registry.RegistryPush;
import dev.kindbuild.image.registry.RegistryTrust;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.kube.KubernetesSource;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.node.NodeImageRequest;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.sample.SampleEnvironment;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.ItTeardown;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestCache;
import dev.kindbuild.testing.TestEngine;
import dev.kindbuild.verify.Check;
import dev.kindbuild.verify.NodeVerifier;
import dev.kindbuild.verify.VerifyReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * `kind-build add-image`: a pulled image and one from an archive added to a daemonless node image as one layer; the
 * result boots offline with both in containerd under their names, pinned, next to the node's own images.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AddImageIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    private static final String V = "v1.31.2";
    private static final String NODE = "kind-build-test/add-image-node:" + Leaks.PID;
    private static final String WITH_EXTRAS = "kind-build-test/add-image-node:" + Leaks.PID + "-extras";
    private static final ObjectMapper JSON = new ObjectMapper();

    private DockerEngine engine;
    private TestCache cache;
    private SampleEnvironment env;
    private Path tmp;

    @BeforeAll
    void setUp() throws Exception {
        engine = TestEngine.connect();
        String arch = engine.facts().architecture();
        cache = TestCache.create();
        tmp = Files.createTempDirectory("kind-build-it-add-image-");
        RecordingProgress progress = new RecordingProgress();
        TestBaseImage.get(engine, false, progress);
        env = SampleEnvironment.start(V, arch, 0, REGISTRY.host(), progress);
        NodeImageRequest request = new NodeImageRequest(new KubernetesSource.Release(V, env.releaseUrl()), Optional.of(NODE),
                Optional.of(TestBaseImage.TAG), arch, RegistryMirrors.parse(List.of("registry.k8s.io=" + REGISTRY.host(), "docker.io=" + REGISTRY.host())),
                RegistryAccess.defaults(), List.of(), false, false, Optional.empty());
        new NodeBuild(ImageStore.defaultLocation(), progress).run(request, new NodeBuild.Options(Optional.of(engine),
                Optional.empty(), ArchiveFormat.DOCKER, false, RegistryTrust.jvmDefault(), Optional.empty()));
    }

    @AfterAll
    void tearDown() {
        ItTeardown.run(engine, List.of(NODE, WITH_EXTRAS), env, cache, tmp);
    }

    @Test
    void addsAPulledAndAnArchivedImageAsOneLayerAndTheNodeLoadsThem() throws Exception {
        // Two images the node does not have: the sample pause image under new names, in a registry and in an archive.
        ImageStore store = ImageStore.defaultLocation();
        StoredImage pause = store.image(store.resolve("registry.k8s.io/pause:3.10").orElseThrow());
        String pulled = REGISTRY.host() + "/extras/pulled:1";
        new RegistryPush(new RegistryClients(RegistryAccess.defaults(), RegistryTrust.jvmDefault(), new RecordingProgress()), store,
                new RecordingProgress()).push(pause, ImageRef.parse(pulled), Optional.empty());
        Path archive = tmp.resolve("from-archive.tar");
        String archived = "example.com/extras/archived:2";
        DockerArchiveOutput.write(store, pause, List.of(archived), archive);
        StoredImage node = store.image(store.resolve(NODE).orElseThrow());

        CliRun r = CliRun.of("add-image", NODE, pulled, "--from-archive", archive.toString(), "--image", WITH_EXTRAS, "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode result = JSON.readTree(r.out());
        assertEquals(List.of(pulled, archived), List.of(result.path("added").get(0).asText(), result.path("added").get(1).asText()));
        assertEquals(12, result.path("images").asInt(), r.out());

        StoredImage extended = store.image(store.resolve(WITH_EXTRAS).orElseThrow());
        List<String> before = node.layers().stream().map(Descriptor::digest).toList();
        List<String> after = extended.layers().stream().map(Descriptor::digest).toList();
        assertEquals(before, after.subList(0, before.size()), "the node's layers unchanged");
        assertEquals(before.size() + 1, after.size(), "one new layer");
        assertEquals(engine.inspectImage(WITH_EXTRAS).orElseThrow().id(), extended.config().digest(), "loaded into the engine");

        VerifyReport report = new NodeVerifier(engine, new RecordingProgress()).run(WITH_EXTRAS, true);
        assertTrue(report.passed(), report.toString());
        for (String name : List.of(pulled, archived, "registry.k8s.io/pause:3.10")) {
            Check c = report.checks().stream().filter(k -> k.name().equals("image " + name)).findFirst()
                    .orElseThrow(() -> new AssertionError("no check of " + name + " in " + report));
            assertTrue(c.ok() && c.detail().startsWith("pinned"), c.toString());
        }
        Leaks.assertNoContainers(engine);
    }

    @Test
    void refusesAnImageThatIsNotANodeImage() {
        CliRun r = CliRun.of("add-image", TestBaseImage.TAG, "registry.k8s.io/pause:3.10", "--image", WITH_EXTRAS + "-never");
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().strip().lines().reduce((a, b) -> b).orElse("").startsWith("ERROR: " + TestBaseImage.TAG + " is not a node image"), r.err());
    }
}
