package dev.kindbuild.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's image loader (the script the jar ships) against a stand-in ctr (test resource {@code fake-ctr}: images,
 * content and pins kept as files, digests checked on ingest): the loader's own logic — restarts, repairs, a damaged
 * layer, an interrupted import, a containerd that is late or never answers — in a second, with no containerd. The same
 * against real containerd 1.6, 1.7 and 2.x, with the garbage collector sweeping: BootLoaderContainerdIT.
 */
class LoadImagesScriptTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private Path bin;
    private Path ctrState;
    private Path containerdRoot;

    @BeforeEach
    void fakeCtr() throws IOException {
        bin = Files.createDirectories(tmp.resolve("bin"));
        try (InputStream in = LoadImagesScriptTest.class.getResourceAsStream("fake-ctr")) {
            Files.copy(in, bin.resolve("ctr"));
        }
        Files.setPosixFilePermissions(bin.resolve("ctr"), PosixFilePermissions.fromString("rwxr-xr-x"));
        ctrState = tmp.resolve("ctr-state");
        containerdRoot = tmp.resolve("containerd");
    }

    @Test
    void everyImageLoadsPinnedAndARestartSkipsThemAll() throws Exception {
        LoaderNode node = LoaderNode.lay(tmp.resolve("node"), 4);
        LoaderNode.Run first = load(node, Map.of());
        assertEquals(0, first.exit(), first.out());
        assertTrue(first.out().contains("done: 4 imported, 0 skipped, 0 failed"), first.out());
        assertAllLoaded(node);
        JsonNode summary = summary(node);
        assertEquals("ok", summary.path("status").asText());
        assertEquals(4, summary.path("counts").path("imported").asInt());
        // Every layer went into containerd's content directory under its digest, the temporary copies are gone.
        for (LoaderNode.TestImage i : node.images) {
            for (String layer : i.layers()) {
                assertTrue(Files.exists(contentBlob(layer)), layer);
            }
        }
        assertFalse(Files.exists(containerdRoot.resolve("kind-load-images")));

        long importsBefore = calls("images import");
        LoaderNode.Run again = load(node, Map.of());
        assertEquals(0, again.exit(), again.out());
        assertTrue(again.out().contains("done: 0 imported, 4 skipped, 0 failed"), again.out());
        assertEquals(importsBefore, calls("images import"), "a restart imports nothing");
    }

    @Test
    void aBlobContainerdLostSinceIsPutBackAtTheNextBoot() throws Exception {
        LoaderNode node = LoaderNode.lay(tmp.resolve("node"), 2);
        assertEquals(0, load(node, Map.of()).exit());
        String layer = node.images.get(1).layers().get(2);
        Files.delete(ctrState.resolve("content").resolve(layer.substring(7)));
        LoaderNode.Run repair = load(node, Map.of());
        assertEquals(0, repair.exit(), repair.out());
        assertTrue(repair.out().contains("repaired: 1 blob(s) were missing from containerd"), repair.out());
        assertTrue(repair.out().contains("done: 1 imported, 1 skipped, 0 failed"), repair.out());
        assertAllLoaded(node);
    }

    @Test
    void aLayerCutShortFailsItsImageAloneByName() throws Exception {
        LoaderNode node = LoaderNode.lay(tmp.resolve("node"), 3);
        String damaged = node.images.get(1).layers().get(1); // image 1's own layer (layer 0 is shared)
        long size;
        try (RandomAccessFile f = new RandomAccessFile(node.blobs.resolve(damaged.substring(7)).toFile(), "rw")) {
            size = f.length();
            f.setLength(size / 2);
        }
        LoaderNode.Run run = load(node, Map.of());
        assertEquals(1, run.exit(), run.out());
        assertTrue(run.out().contains("FAILED " + node.archive(1) + ": layer " + damaged + " has " + size / 2
                + " bytes, its manifest says " + size), run.out());
        assertTrue(run.out().contains("done: 2 imported, 0 skipped, 1 FAILED: " + node.archive(1)), run.out());
        List<String> pinned = pinned();
        assertEquals(List.of(node.images.get(0).name(), node.images.get(2).name()), pinned.stream().sorted().toList());
        assertEquals("failed", summary(node).path("status").asText());
    }

    @Test
    void anInterruptedImportIsTakenAgainImageByImage() throws Exception {
        LoaderNode node = LoaderNode.lay(tmp.resolve("node"), 3);
        LoaderNode.Run run = load(node, Map.of("FAKE_CTR_IMPORT_FAILS", "1"));
        assertEquals(0, run.exit(), run.out());
        assertTrue(run.out().contains("importing all 3 image(s) at once failed (ctr: unexpected EOF"), run.out());
        assertTrue(run.out().contains("done: 3 imported, 0 skipped, 0 failed"), run.out());
        assertEquals(4, calls("images import"), "one for all, then one per image");
        assertAllLoaded(node);
    }

    @Test
    void anImportThatFailsForOneImageFailsThatImageAlone() throws Exception {
        LoaderNode node = LoaderNode.lay(tmp.resolve("node"), 3);
        // The all-at-once import and the first image's own both end half-way; the other two go in.
        LoaderNode.Run run = load(node, Map.of("FAKE_CTR_IMPORT_FAILS", "2"));
        assertEquals(1, run.exit(), run.out());
        assertTrue(run.out().contains("FAILED " + node.archive(0) + ": ctr images import: ctr: unexpected EOF"), run.out());
        assertTrue(run.out().contains("done: 2 imported, 0 skipped, 1 FAILED"), run.out());
        assertEquals(List.of(node.images.get(1).name(), node.images.get(2).name()), pinned().stream().sorted().toList());
    }

    @Test
    void aContainerdStillStartingIsWaitedFor() throws Exception {
        LoaderNode node = LoaderNode.lay(tmp.resolve("node"), 2);
        LoaderNode.Run run = load(node, Map.of("FAKE_CTR_DOWN", "5"));
        assertEquals(0, run.exit(), run.out());
        assertTrue(run.out().contains("done: 2 imported, 0 skipped, 0 failed"), run.out());
    }

    @Test
    void aContainerdThatNeverAnswersFailsWithinTheWaitSayingSo() throws Exception {
        LoaderNode node = LoaderNode.lay(tmp.resolve("node"), 2);
        LoaderNode.Run run = load(node, Map.of("FAKE_CTR_DOWN", "1000000", "KIND_CONTAINERD_WAIT_SECONDS", "1"));
        assertEquals(1, run.exit(), run.out());
        assertTrue(run.out().contains("FAILED: containerd did not answer 'ctr images ls' within 1s: ctr: failed to dial"), run.out());
        assertEquals("containerd-unavailable", summary(node).path("status").asText());
        assertEquals(List.of(), pinned());
    }

    private LoaderNode.Run load(LoaderNode node, Map<String, String> faults) throws IOException, InterruptedException {
        Map<String, String> env = new HashMap<>(Map.of("FAKE_CTR_STATE", ctrState.toString(), "KIND_CONTAINERD_ROOT", containerdRoot.toString()));
        env.putAll(faults);
        // Counters of injected faults start again with each run.
        try (Stream<Path> counters = Files.exists(ctrState) ? Files.list(ctrState) : Stream.empty()) {
            for (Path c : counters.filter(p -> p.toString().endsWith(".count")).toList()) {
                Files.delete(c);
            }
        }
        return node.load(bin.toString(), env);
    }

    private void assertAllLoaded(LoaderNode node) throws IOException {
        List<String> pinned = pinned();
        for (LoaderNode.TestImage i : node.images) {
            assertTrue(pinned.contains(i.name()), i.name() + " pinned: " + pinned);
            for (String b : i.blobs()) {
                assertTrue(Files.exists(ctrState.resolve("content").resolve(b.substring(7))), i.name() + ": " + b + " in containerd");
            }
        }
    }

    /** The names of the pinned images, as the stand-in records them. */
    private List<String> pinned() throws IOException {
        try (Stream<Path> images = Files.list(ctrState.resolve("images"))) {
            return images.filter(p -> Files.exists(ctrState.resolve("pinned").resolve(p.getFileName())))
                    .map(p -> {
                        try {
                            return Files.readString(p).split(" ")[0];
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }).toList();
        }
    }

    private long calls(String command) throws IOException {
        return Files.readAllLines(ctrState.resolve("calls")).stream().filter(l -> l.contains(command)).count();
    }

    private Path contentBlob(String digest) {
        return containerdRoot.resolve("io.containerd.content.v1.content/blobs/sha256").resolve(digest.substring(7));
    }

    private static JsonNode summary(LoaderNode node) throws IOException {
        return JSON.readTree(node.state.resolve("images-loaded.json").toFile());
    }
}
