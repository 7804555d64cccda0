package dev.kindbuild.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.ContainerFile;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.node.ContentStoreLayout;
import dev.kindbuild.node.NodeImageResult;
import dev.kindbuild.node.NodeLayout;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.sample.SampleImage;
import dev.kindbuild.testing.ImageFiles;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.StandInNode;
import dev.kindbuild.testing.RecordingProgress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * `kind-build verify` against the real engine: a node image whose /kind/images holds a damaged tarball must fail
 * the image-loader check, naming the file, while every real image still loads. Builds its own node image from the
 * sample environment (private cache, kind-build-test/ tags, all removed at the end).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeVerifierIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    private static final String TAG = "kind-build-test/verify-it:" + Leaks.PID;
    private static final String CORRUPT_TAG = TAG + "-corrupt";
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
        standIn.remove(List.of(CORRUPT_TAG));
    }

    /**
     * The short form of bench/boot-loop.sh: the node boots BOOTS times and every preloaded image loads every time,
     * every second boot while a busy loop runs on each core and a second node boots beside it. (Node images that kept
     * their layers in containerd's content directory lost them in some boots, to containerd's garbage collector.)
     */
    @Test
    void everyBootLoadsEveryImageAlsoUnderLoad() throws Exception {
        int boots = Integer.getInteger("kindbuild.boots", 20);
        List<String> failures = new java.util.ArrayList<>();
        for (int i = 1; i <= boots; i++) {
            boolean loaded = i % 2 == 0;
            List<Thread> hogs = new java.util.ArrayList<>();
            java.util.concurrent.CompletableFuture<VerifyReport> beside = null;
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            if (loaded) {
                for (int c = 0; c < Runtime.getRuntime().availableProcessors(); c++) {
                    Thread t = new Thread(() -> {
                        long x = 0;
                        while (!stop.get()) {
                            x += System.nanoTime() % 7;
                        }
                        if (x == 42) {
                            System.out.print("");
                        }
                    });
                    t.setDaemon(true);
                    t.start();
                    hogs.add(t);
                }
                beside = java.util.concurrent.CompletableFuture.supplyAsync(
                        () -> new NodeVerifier(engine, new RecordingProgress()).run(TAG, true));
            }
            try {
                VerifyReport report = new NodeVerifier(engine, new RecordingProgress()).run(TAG, true);
                if (!report.passed()) {
                    failures.add("boot " + i + (loaded ? " (loaded)" : "") + ": " + describe(report));
                }
            } finally {
                stop.set(true);
                for (Thread t : hogs) {
                    t.join();
                }
            }
            if (beside != null) {
                VerifyReport other = beside.get();
                if (!other.passed()) {
                    failures.add("node beside boot " + i + ": " + describe(other));
                }
            }
        }
        assertEquals(List.of(), failures, failures.size() + " of " + boots + " boots lost images");
        Leaks.assertNoContainers(engine);
    }

    /**
     * containerd failing its first start at boot (systemd restarts it a second later) must not cost the node its
     * images: the loader waits for containerd rather than giving up with systemd's start job.
     */
    @Test
    void aContainerdThatFailsItsFirstStartStillGetsEveryImageLoaded() {
        String flakyTag = TAG + "-flaky-containerd";
        String dropIn = "[Service]\n"
                + "ExecStartPre=/bin/sh -c 'test -e /run/kind-build-test-started || { touch /run/kind-build-test-started; exit 1; }'\n";
        try (ImageFiles derived = new ImageFiles(engine, node.image())) {
            engine.copyFiles(derived.containerId(), List.of(ContainerFile.ofBytes(
                    "/etc/systemd/system/containerd.service.d/90-fail-first-start.conf", 0644, dropIn.getBytes(StandardCharsets.UTF_8))));
            engine.commit(derived.containerId(), flakyTag, List.of(ENTRYPOINT));
        }
        try {
            VerifyReport report = new NodeVerifier(engine, new RecordingProgress()).run(flakyTag, true);
            assertTrue(report.passed(), describe(report));
        } finally {
            engine.removeImage(flakyTag);
        }
        Leaks.assertNoContainers(engine);
    }

    @Test
    void aTruncatedTarballFailsTheLoaderCheckNamingItWhileEveryRealImagePasses() {
        String arch = engine.facts().architecture();
        byte[] data = new byte[256 * 1024];
        new java.util.Random(42).nextBytes(data);
        byte[] archive = SampleImage.of(arch, "registry.k8s.io/zz-corrupt:v1").withFile("zz/data", data, 0644).dockerArchive();
        // Cut inside the layer's data (not on a 512-byte block boundary), as an interrupted copy would.
        byte[] truncated = Arrays.copyOf(archive, archive.length / 2 + 77);
        try (ImageFiles derived = new ImageFiles(engine, node.image())) {
            engine.copyFiles(derived.containerId(),
                    List.of(ContainerFile.ofBytes(NodeLayout.IMAGES_DIR + "/zz-corrupt.tar", 0644, truncated)));
            engine.commit(derived.containerId(), CORRUPT_TAG, List.of(ENTRYPOINT));
        }

        RecordingProgress progress = new RecordingProgress();
        VerifyReport report = new NodeVerifier(engine, progress).run(CORRUPT_TAG, true);
        String described = describe(report);
        // The step whose check failed shows ✗, never ✓.
        assertFalse(progress.succeeded().stream().anyMatch(s -> s.startsWith("Waiting for images to load")), progress.events().toString());
        assertTrue(progress.events().stream().anyMatch(ev -> ev instanceof dev.kindbuild.progress.BuildEvent.StepFailed f
                && f.step().equals("Waiting for images to load")), progress.events().toString());
        assertFalse(report.passed(), described);
        List<Check> failed = report.checks().stream().filter(c -> !c.ok()).toList();
        assertEquals(1, failed.size(), described);
        Check loader = failed.get(0);
        assertEquals("image loader", loader.name(), described);
        assertTrue(loader.detail().contains("zz-corrupt.tar"), loader.detail());

        List<Check> imageChecks = report.checks().stream().filter(c -> c.name().startsWith("image ") && !c.name().equals("image loader")).toList();
        assertEquals(node.images().stream().map(r -> "image " + r.name()).sorted().toList(),
                imageChecks.stream().map(Check::name).sorted().toList(), described);
        assertTrue(imageChecks.stream().allMatch(c -> c.ok() && c.detail().startsWith("pinned")), described);
        Leaks.assertNoContainers(engine);
    }

    @Test
    void aDamagedLayerInTheContentStoreFailsTheLoaderByName() {
        String damagedTag = TAG + "-damaged-layer";
        String blob;
        try (ImageFiles derived = new ImageFiles(engine, node.image())) {
            blob = derived.list(ContentStoreLayout.LAYER_BLOBS).keySet().iterator().next();
            // Cut short, as an interrupted copy would leave it.
            engine.copyFiles(derived.containerId(), List.of(ContainerFile.ofBytes(ContentStoreLayout.LAYER_BLOBS + "/" + blob,
                    0444, new byte[100])));
            engine.commit(derived.containerId(), damagedTag, List.of(ENTRYPOINT));
        }
        try {
            VerifyReport report = new NodeVerifier(engine, new RecordingProgress()).run(damagedTag, true);
            String described = describe(report);
            assertFalse(report.passed(), described);
            Check loader = report.checks().stream().filter(c -> c.name().equals("image loader")).findFirst().orElseThrow();
            assertFalse(loader.ok(), described);
            assertTrue(loader.detail().contains("layer sha256:" + blob + " has 100 bytes, its manifest says"), loader.detail());
            // Only the images that use that layer are missing; every other one loaded and is pinned.
            assertTrue(report.checks().stream().anyMatch(c -> c.name().startsWith("image ") && c.ok()), described);
        } finally {
            engine.removeImage(damagedTag);
        }
        Leaks.assertNoContainers(engine);
    }

    @Test
    void anImageThatIsNotThereIsOneClearError() {
        UserError e = assertThrows(UserError.class,
                () -> new NodeVerifier(engine, new RecordingProgress()).run(TAG + "-never-built", true));
        assertTrue(e.getMessage().startsWith("no image " + TAG + "-never-built in the engine"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        Leaks.assertNoContainers(engine);
    }

    private static String describe(VerifyReport report) {
        return report.checks().stream().map(c -> (c.ok() ? "ok   " : "FAIL ") + c.name() + ": " + c.detail())
                .collect(Collectors.joining("\n", "verify report:\n", ""));
    }
}
