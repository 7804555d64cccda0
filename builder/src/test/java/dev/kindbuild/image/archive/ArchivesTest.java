package dev.kindbuild.image.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import dev.kindbuild.image.archive.DockerArchive;
import dev.kindbuild.image.layer.ImageAssembly;
import dev.kindbuild.image.layer.ImageContents;
import dev.kindbuild.image.layer.Layer;
import dev.kindbuild.image.layer.LayerBuilder;
import dev.kindbuild.image.layer.LayerEntry;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.support.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchivesTest {
    static final Instant T = Instant.parse("2024-01-01T00:00:00Z");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Base layer + node layer replacing and removing base files; runnable entrypoint not needed to create it. */
    static StoredImage image(ImageStore store) {
        Layer base = new LayerBuilder()
                .add(LayerEntry.file("/etc/containerd/config.toml", text("version = 1\n"), 0644))
                .add(LayerEntry.file("/etc/removed.conf", text("gone"), 0644))
                .add(LayerEntry.file("/usr/bin/tool", text("tool"), 0755))
                .write(store, T);
        StoredImage b = ImageAssembly.scratch("linux", "amd64").layer(base, "base").created(T).write(store);
        Layer top = new LayerBuilder()
                .add(LayerEntry.whiteout("/etc/removed.conf"))
                .add(LayerEntry.file("/etc/containerd/config.toml", text("version = 2\n"), 0644))
                .add(LayerEntry.file("/usr/bin/sudo-like", text("s"), 04755))
                .add(LayerEntry.directory("/var/tmp", 01777, 0, 0))
                .add(LayerEntry.symlink("/sbin/init", "/usr/bin/tool"))
                .add(LayerEntry.hardLink("/usr/bin/tool-again", "/usr/bin/sudo-like"))
                .add(LayerEntry.file("/home/u/f", text("u"), 0600, 3000000, 3000000))
                .write(store, T);
        return ImageAssembly.on(b).layer(top, "node").entrypoint(List.of("/sbin/init")).env("container", "docker")
                .label("dev.kind-build.test", "layers").stopSignal("SIGRTMIN+3").created(T).write(store);
    }

    @Test
    void dockerArchiveRoundTripKeepsConfigAndLayers() throws IOException {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        StoredImage img = image(store);
        Path out = tmp.resolve("out/node.tar");
        DockerArchiveOutput.write(store, img, List.of("kindest/node:test"), out);
        assertEquals(List.of("kindest/node:test"), DockerArchive.repoTags(out));
        StoredImage read = ArchiveImport.dockerArchive(ImageStore.open(tmp.resolve("read")), out);
        assertEquals(img.config().digest(), read.config().digest(), "image ID is the stored config's digest");
        assertEquals("amd64", read.architecture());
        assertNoPartials(out.getParent());

        Path again = tmp.resolve("again.tar");
        DockerArchiveOutput.write(store, img, List.of("kindest/node:test"), again);
        assertEquals(Sha256.of(out), Sha256.of(again), "same image, same archive bytes");

        ImageStore other = ImageStore.open(tmp.resolve("other"));
        StoredImage back = ArchiveImport.dockerArchive(other, out);
        assertEquals(img.config().digest(), back.config().digest());
        assertEquals(img.layers().stream().map(Descriptor::digest).toList(), back.layers().stream().map(Descriptor::digest).toList(),
                "gzipped layers stored as given");
        assertEquals(MediaTypes.OCI_LAYER_GZIP, back.layers().get(0).mediaType());
        assertEquals("version = 2\n", ImageContents.of(other, back).readText("/etc/containerd/config.toml"));
    }

    /** docker save's layout: uncompressed {@code <id>/layer.tar}, a repeated layer as a symlink to the first copy. */
    @Test
    void importsDockerSaveLayoutWithUncompressedAndLinkedLayers() throws IOException {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        StoredImage img = image(store);
        byte[] layerTar;
        try (InputStream in = new GzipCompressorInputStream(store.open(img.layers().get(1).digest()))) {
            layerTar = in.readAllBytes();
        }
        String diffId = img.diffIds().get(1);
        String config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
                + diffId + "\",\"" + diffId + "\"]}}";
        String configHex = Sha256.of(text(config));
        Path saved = tmp.resolve("saved.tar");
        try (OutputStream f = Files.newOutputStream(saved); TarArchiveOutputStream tar = new TarArchiveOutputStream(f)) {
            put(tar, "aaaa/layer.tar", layerTar);
            put(tar, "aaaa/VERSION", text("1.0"));
            TarArchiveEntry link = new TarArchiveEntry("bbbb/layer.tar", TarConstants.LF_SYMLINK);
            link.setLinkName("../aaaa/layer.tar");
            tar.putArchiveEntry(link);
            tar.closeArchiveEntry();
            put(tar, configHex + ".json", text(config));
            put(tar, "manifest.json", text("[{\"Config\":\"" + configHex + ".json\",\"RepoTags\":[\"x/y:z\"],\"Layers\":[\"aaaa/layer.tar\",\"bbbb/layer.tar\"]}]"));
        }
        StoredImage back = ArchiveImport.dockerArchive(ImageStore.open(tmp.resolve("other")), saved);
        assertEquals("sha256:" + configHex, back.config().digest(), "config byte for byte");
        assertEquals(2, back.layers().size());
        for (Descriptor l : back.layers()) {
            assertEquals(MediaTypes.OCI_LAYER, l.mediaType());
            assertEquals(diffId, l.digest(), "an uncompressed layer's digest is its diffID");
        }
    }

    @Test
    void refusesAnArchiveWhoseLayerIsNotWhatItsConfigSays() throws IOException {
        String config = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" + "0".repeat(64) + "\"]}}";
        Path saved = tmp.resolve("bad.tar");
        try (OutputStream f = Files.newOutputStream(saved); TarArchiveOutputStream tar = new TarArchiveOutputStream(f)) {
            put(tar, "l/layer.tar", new byte[1024]);
            put(tar, "c.json", text(config));
            put(tar, "manifest.json", text("[{\"Config\":\"c.json\",\"RepoTags\":[],\"Layers\":[\"l/layer.tar\"]}]"));
        }
        UserError e = assertThrows(UserError.class, () -> ArchiveImport.dockerArchive(ImageStore.open(tmp.resolve("s")), saved));
        assertTrue(e.getMessage().contains("config says"), e.getMessage());
    }

    @Test
    void ociArchiveIsWhatSkopeoReadsAndImportsBack() throws Exception {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        StoredImage img = image(store);
        Path out = tmp.resolve("node-oci.tar");
        OciArchiveOutput.write(store, img, "kindest/node:v1.31.2", out);
        assertNoPartials(tmp);

        Process p = new ProcessBuilder("skopeo", "inspect", "oci-archive:" + out).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), text);
        JsonNode inspect = JSON.readTree(text);
        assertEquals(img.manifest().digest(), inspect.path("Digest").asText());
        assertEquals("amd64", inspect.path("Architecture").asText());
        assertEquals(img.layers().stream().map(Descriptor::digest).toList(),
                JSON.convertValue(inspect.path("Layers"), List.class));
        assertEquals("layers", inspect.path("Labels").path("dev.kind-build.test").asText());

        Process c = new ProcessBuilder("skopeo", "inspect", "--config", "oci-archive:" + out).redirectErrorStream(true).start();
        String config = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, c.waitFor(), config);
        assertEquals(img.diffIds(), JSON.convertValue(JSON.readTree(config).path("rootfs").path("diff_ids"), List.class));

        ImageStore other = ImageStore.open(tmp.resolve("other"));
        StoredImage back = ArchiveImport.ociArchive(other, out, null, "amd64");
        assertEquals(img.manifest().digest(), back.manifest().digest(), "manifest byte for byte");
        assertEquals(img.config().digest(), back.config().digest());
        assertEquals(back, ArchiveImport.ociArchive(other, out, "kindest/node:v1.31.2", "amd64"));
        assertThrows(UserError.class, () -> ArchiveImport.ociArchive(other, out, "other:tag", "amd64"));
    }

    private static void put(TarArchiveOutputStream tar, String name, byte[] content) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(content.length);
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    @Test
    void aBlobChangedInTheStoreFailsBothArchivesAndLeavesNoFile() throws IOException {
        for (ArchiveFormat format : ArchiveFormat.values()) {
            ImageStore store = ImageStore.open(tmp.resolve("store-" + format));
            StoredImage img = image(store);
            Descriptor top = img.layers().get(img.layers().size() - 1);
            Path blob = store.blobPath(top.digest());
            dev.kindbuild.testing.FileDamage.flipByte(blob, top.size() / 2);
            Path out = tmp.resolve("out-" + format + "/node.tar");
            UserError e = assertThrows(UserError.class, () -> format.write(store, img, "kindest/node:test", out), format.toString());
            assertTrue(e.getMessage().contains(blob.toString()) && e.getMessage().contains("kind-build cleanup --store"), e.getMessage());
            assertTrue(!Files.exists(out), format + ": no archive holds the bad bytes");
            assertNoPartials(out.getParent());
            assertTrue(!Files.exists(blob), "the bad blob is removed");
        }
    }

    private static void assertNoPartials(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".partial-")).toList());
        }
    }
}
