package dev.kindbuild.image.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.image.layer.ImageContents;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.testing.ImageFiles;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.TestEngine;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store's images in a real engine: loaded from a docker-archive file and through the API, saved back. */
class EngineImagesIT {
    static final String REPO = "kind-build-test/layers-" + Leaks.PID;
    static DockerEngine engine;

    @TempDir
    Path tmp;

    @BeforeAll
    static void connect() {
        engine = TestEngine.connect();
    }

    @AfterAll
    static void cleanUp() {
        if (engine != null) {
            for (String tag : List.of(REPO + ":file", REPO + ":api")) {
                engine.removeImage(tag);
            }
            engine.close();
        }
    }

    @Test
    void dockerArchiveFileLoadsWithItsConfigAndLayerSemantics() throws IOException {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        StoredImage img = ArchivesTest.image(store);
        Path archive = tmp.resolve("node.tar");
        DockerArchiveOutput.write(store, img, List.of(REPO + ":file"), archive);
        try (InputStream in = Files.newInputStream(archive)) {
            engine.load(in);
        }
        ImageInfo info = engine.inspectImage(REPO + ":file").orElseThrow();
        assertEquals(img.config().digest(), info.id(), "the engine's image ID is the stored config's digest");
        assertEquals(List.of("/sbin/init"), info.entrypoint());
        assertEquals("SIGRTMIN+3", info.stopSignal());
        assertTrue(info.env().contains("container=docker"), info.env().toString());
        assertEquals("layers", info.labels().get("dev.kind-build.test"));
        assertEquals("amd64", info.architecture());

        // What the engine made of the layers: whiteout applied, modes, owners, links as written.
        try (ImageFiles files = new ImageFiles(engine, REPO + ":file")) {
            assertEquals("version = 2\n", files.read("/etc/containerd/config.toml"));
            Map<String, TarArchiveEntry> etc = entries(files.containerId(), "/etc");
            assertFalse(etc.containsKey("etc/removed.conf"), etc.keySet().toString());
            assertTrue(etc.containsKey("etc/containerd/config.toml"), etc.keySet().toString());
            Map<String, TarArchiveEntry> usr = entries(files.containerId(), "/usr/bin");
            assertEquals(04755, usr.get("bin/sudo-like").getMode() & 07777);
            assertTrue(usr.get("bin/tool-again").isLink() || usr.get("bin/tool-again").getSize() == 1, "hard link kept");
            assertEquals(01777, entries(files.containerId(), "/var/tmp").get("tmp").getMode() & 07777);
            TarArchiveEntry init = entries(files.containerId(), "/sbin/init").get("init");
            assertTrue(init.isSymbolicLink());
            assertEquals("/usr/bin/tool", init.getLinkName());
            assertEquals(3000000, entries(files.containerId(), "/home/u/f").get("f").getLongUserId());
        }
    }

    @Test
    void loadsThroughTheApiAndSavesBackIntoTheStore() {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        StoredImage img = ArchivesTest.image(store);
        EngineImages.load(engine, store, img, List.of(REPO + ":api"));
        assertEquals(img.config().digest(), engine.inspectImage(REPO + ":api").orElseThrow().id());

        ImageStore other = ImageStore.open(tmp.resolve("other"));
        StoredImage saved = EngineImages.save(engine, REPO + ":api", other);
        assertEquals(img.config().digest(), saved.config().digest(), "config byte for byte, image ID unchanged");
        assertEquals(img.diffIds(), saved.diffIds());
        for (Descriptor l : saved.layers()) {
            // Docker 20.10 saves uncompressed layers; a newer engine may gzip them: both are stored as given
            if (l.mediaType().equals(MediaTypes.OCI_LAYER)) {
                assertTrue(saved.diffIds().contains(l.digest()));
            }
        }
        assertEquals("version = 2\n", ImageContents.of(other, saved).readText("/etc/containerd/config.toml"));
    }

    private static Map<String, TarArchiveEntry> entries(String container, String path) throws IOException {
        Map<String, TarArchiveEntry> out = new HashMap<>();
        try (InputStream in = engine.copyOut(container, path); TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                String n = e.getName();
                out.put(n.endsWith("/") ? n.substring(0, n.length() - 1) : n, e);
            }
        }
        return out;
    }
}
