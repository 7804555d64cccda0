package dev.kindbuild.image.layer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageContentsTest {
    static final Instant T = Instant.parse("2024-01-01T00:00:00Z");

    @TempDir
    Path tmp;

    static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A two-layer image whose top layer replaces, removes and hides base files. */
    static StoredImage twoLayers(ImageStore store, Path bigFile) {
        Layer base = new LayerBuilder()
                .add(LayerEntry.file("/etc/containerd/config.toml", text("version = 1\n"), 0644))
                .add(LayerEntry.file("/etc/removed.conf", text("gone"), 0644))
                .add(LayerEntry.file("/etc/cni/net.d/10-old.conf", text("old"), 0644))
                .add(LayerEntry.file("/etc/cni/net.d/99-also-old.conf", text("old"), 0644))
                .add(LayerEntry.file("/usr/lib/systemd/systemd", text("ELF"), 0755))
                .add(LayerEntry.symlink("/sbin/init", "/usr/lib/systemd/systemd"))
                .add(LayerEntry.symlink("/bin", "usr/bin"))
                .add(LayerEntry.file("/usr/bin/bash", text("bash"), 0755))
                .add(LayerEntry.file("/lib/replaced/child", text("c"), 0644))
                .add(LayerEntry.symlink("/escape", "../../../../etc/containerd"))
                .add(LayerEntry.file("/etc/os-release", text("ID=debian\nVERSION_CODENAME=bookworm\n"), 0644))
                .write(store, T);
        StoredImage baseImage = ImageAssembly.scratch("linux", "amd64").layer(base, "base").created(T).write(store);
        Layer top = new LayerBuilder()
                .add(LayerEntry.whiteout("/etc/removed.conf"))
                .add(LayerEntry.directory("/etc/cni/net.d", 0755, 0, 0))
                .add(LayerEntry.opaque("/etc/cni/net.d"))
                .add(LayerEntry.file("/etc/cni/net.d/10-kindnet.conf", text("new"), 0600, 0, 0))
                .add(LayerEntry.file("/etc/containerd/config.toml", text("version = 2\n"), 0644))
                .add(LayerEntry.file("/lib/replaced", text("now a file"), 0644))
                .add(LayerEntry.file("/usr/local/bin/kubeadm", bigFile, 0755, 0, 0))
                .add(LayerEntry.hardLink("/usr/local/bin/kubeadm-again", "/usr/local/bin/kubeadm"))
                .add(LayerEntry.file("/home/user/.profile", text("p"), 0600, 3000000, 3000000))
                .write(store, T);
        return ImageAssembly.on(baseImage).layer(top, "kind-build node content").created(T).write(store);
    }

    @Test
    void readsWhatTheTopLayerSees() throws IOException {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        Path big = tmp.resolve("kubeadm");
        try (var out = Files.newOutputStream(big)) {
            byte[] chunk = new byte[1 << 16];
            for (int i = 0; i < 64; i++) { // 4 MiB, streamed both ways
                java.util.Arrays.fill(chunk, (byte) i);
                out.write(chunk);
            }
        }
        ImageContents files = ImageContents.of(store, twoLayers(store, big));

        assertEquals("version = 2\n", files.readText("/etc/containerd/config.toml"));
        assertEquals(1, files.resolve("/etc/containerd/config.toml").orElseThrow().layer());
        assertFalse(files.exists("/etc/removed.conf"), "whited out");
        assertEquals(List.of("/etc/cni/net.d/10-kindnet.conf"),
                files.list("/etc/cni/net.d").stream().map(ImageEntry::path).toList(), "opaque dir hides the base's files");
        assertEquals(0600, files.entry("/etc/cni/net.d/10-kindnet.conf").orElseThrow().mode());
        assertTrue(files.entry("/lib/replaced").orElseThrow().isFile());
        assertFalse(files.exists("/lib/replaced/child"), "a file replacing a directory hides what was under it");

        ImageEntry init = files.entry("/sbin/init").orElseThrow();
        assertTrue(init.isSymlink());
        assertEquals("/usr/lib/systemd/systemd", init.linkTarget());
        assertEquals("/usr/lib/systemd/systemd", files.resolve("/sbin/init").orElseThrow().path());
        assertEquals("bash", files.readText("/bin/bash"), "through the /bin -> usr/bin symlink");
        assertEquals("version = 2\n", files.readText("/escape/config.toml"), "'..' stops at the image root");
        assertEquals(3000000, files.entry("/home/user/.profile").orElseThrow().uid());
        assertTrue(files.resolve("/").orElseThrow().isDirectory());

        ImageEntry again = files.entry("/usr/local/bin/kubeadm-again").orElseThrow();
        assertEquals(ImageEntry.Kind.HARD_LINK, again.kind());
        assertEquals("/usr/local/bin/kubeadm", again.linkTarget());
        assertEquals(Files.size(big), again.size());
        try (InputStream a = files.open("/usr/local/bin/kubeadm-again"); InputStream b = Files.newInputStream(big)) {
            assertEquals(dev.kindbuild.support.Sha256.of(big), sha(a));
        }
        assertTrue(files.readText("/etc/os-release").contains("bookworm"));
        assertEquals(List.of("bin", "escape", "etc", "home", "lib", "sbin", "usr"),
                files.list("/").stream().map(e -> e.path().substring(1)).toList());

        assertThrows(UserError.class, () -> files.open("/etc/removed.conf"));
        assertThrows(UserError.class, () -> files.open("/etc"));
        assertThrows(UserError.class, () -> files.list("/etc/containerd/config.toml"));
    }

    @Test
    void symlinkLoopsAreReported() {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        Layer l = new LayerBuilder().add(LayerEntry.symlink("/a", "b")).add(LayerEntry.symlink("/b", "/a")).write(store, T);
        ImageContents files = ImageContents.of(store, ImageAssembly.scratch("linux", "amd64").layer(l, "x").created(T).write(store));
        assertTrue(files.entry("/a").orElseThrow().isSymlink());
        assertThrows(UserError.class, () -> files.resolve("/a"));
    }

    @Test
    void aLayerChangedInTheStoreIsCaughtWhileIndexingNotBuiltOn() throws IOException {
        // What is read from a base (its containerd config) goes into new layers: a layer whose bytes no longer match
        // its digest must fail the read, even where the tar still parses — and even when the tar ends before the blob
        // does (a producer's padding past the end-of-archive blocks), where a tar reader stops short of the end.
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        Layer written = new LayerBuilder()
                .add(LayerEntry.file("/etc/containerd/config.toml", text("version = 2\n".repeat(1000)), 0644))
                .write(store, T, LayerBuilder.Compression.NONE);
        byte[] tar = Files.readAllBytes(store.blobPath(written.blob().digest()));
        byte[] padded = java.util.Arrays.copyOf(tar, tar.length + (64 << 10));
        dev.kindbuild.image.store.Descriptor blob = store.put(padded, dev.kindbuild.image.store.MediaTypes.OCI_LAYER);
        StoredImage image = ImageAssembly.scratch("linux", "amd64").layer(new Layer(blob, blob.digest()), "base").created(T).write(store);
        Path file = store.blobPath(blob.digest());
        dev.kindbuild.testing.FileDamage.flipByte(file, 2048); // inside config.toml's content

        UserError e = assertThrows(UserError.class, () -> ImageContents.of(store, image));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("kind-build cleanup --store"), e.getMessage());
        assertFalse(Files.exists(file));
    }

    private static String sha(InputStream in) throws IOException {
        var d = dev.kindbuild.support.Sha256.newDigest();
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) {
            d.update(buf, 0, n);
        }
        return dev.kindbuild.support.Sha256.hex(d);
    }
}
