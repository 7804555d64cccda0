package dev.kindbuild.image.layer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.support.Sha256;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerBuilderTest {
    static final Instant EPOCH = Instant.parse("2021-01-13T13:17:07Z");
    static final String LONG = "usr/share/" + "a-rather-long-directory-name/".repeat(5) + "file-with-a-long-name.txt";

    @TempDir
    Path tmp;

    static LayerBuilder sample(Path hostFile) {
        return new LayerBuilder()
                .add(LayerEntry.file("/usr/bin/sudo-like", "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8), 04755))
                .add(LayerEntry.directory("/tmp", 01777, 0, 0))
                .add(LayerEntry.file("/home/u/data", hostFile, 0640, 3000000, 3000001))
                .add(LayerEntry.symlink("/sbin/init", "/usr/lib/systemd/systemd"))
                .add(LayerEntry.symlink("/usr/bin/rel", "../lib/x"))
                .add(LayerEntry.hardLink("/usr/bin/sudo-again", "usr/bin/sudo-like"))
                .add(LayerEntry.file(LONG, new byte[] {1, 2, 3}, 0644))
                .add(LayerEntry.whiteout("/etc/removed.conf"))
                .add(LayerEntry.directory("/etc/cni/net.d", 0755, 0, 0))
                .add(LayerEntry.opaque("/etc/cni/net.d"));
    }

    @Test
    void roundTripKeepsEveryKindOfEntry() throws IOException {
        Path host = Files.writeString(tmp.resolve("data"), "big enough\n".repeat(10000));
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        Layer layer = sample(host).write(store, EPOCH);

        assertEquals(MediaTypes.OCI_LAYER_GZIP, layer.blob().mediaType());
        assertEquals(layer.blob().digest(), "sha256:" + Sha256.of(store.blobPath(layer.blob().digest())));
        assertEquals(Files.size(store.blobPath(layer.blob().digest())), layer.blob().size());
        byte[] tar;
        try (InputStream in = new GzipCompressorInputStream(store.open(layer.blob().digest()))) {
            tar = in.readAllBytes();
        }
        assertEquals(layer.diffId(), "sha256:" + Sha256.of(tar));

        Map<String, TarArchiveEntry> entries = entries(tar);
        assertEquals(List.of("etc", "etc/.wh.removed.conf", "etc/cni", "etc/cni/net.d", "etc/cni/net.d/.wh..wh..opq"),
                new ArrayList<>(entries.keySet()).subList(0, 5), "parents first, markers beside what they hide");
        assertEquals(sortedCopy(entries.keySet()), new ArrayList<>(entries.keySet()), "entries sorted by name");

        TarArchiveEntry sudo = entries.get("usr/bin/sudo-like");
        assertEquals(0104755, sudo.getMode());
        TarArchiveEntry tmpDir = entries.get("tmp");
        assertTrue(tmpDir.isDirectory());
        assertEquals(041777, tmpDir.getMode());
        TarArchiveEntry data = entries.get("home/u/data");
        assertEquals(3000000, data.getLongUserId());
        assertEquals(3000001, data.getLongGroupId());
        assertEquals(0100640, data.getMode());
        assertEquals(Files.size(host), data.getSize());
        TarArchiveEntry init = entries.get("sbin/init");
        assertTrue(init.isSymbolicLink());
        assertEquals("/usr/lib/systemd/systemd", init.getLinkName());
        assertEquals("../lib/x", entries.get("usr/bin/rel").getLinkName());
        TarArchiveEntry hard = entries.get("usr/bin/sudo-again");
        assertTrue(hard.isLink());
        assertEquals("usr/bin/sudo-like", hard.getLinkName());
        assertTrue(entries.containsKey(LONG), "long path kept whole");
        assertTrue(entries.containsKey("etc/.wh.removed.conf"));
        assertTrue(entries.containsKey("etc/cni/net.d/.wh..wh..opq"));
        // implicit parents: 0755 root
        TarArchiveEntry usr = entries.get("usr");
        assertTrue(usr.isDirectory());
        assertEquals(040755, usr.getMode());
        for (TarArchiveEntry e : entries.values()) {
            assertEquals(EPOCH.getEpochSecond(), e.getModTime().getTime() / 1000, e.getName());
            assertEquals("", e.getUserName(), e.getName());
            assertEquals("", e.getGroupName(), e.getName());
            assertEquals(null, e.getLastAccessTime(), e.getName());
            assertEquals(null, e.getStatusChangeTime(), e.getName());
            assertTrue(e.getExtraPaxHeaders().keySet().stream().noneMatch(k -> k.contains("time")), e.getName() + e.getExtraPaxHeaders());
        }
        // gzip header: magic, deflate, no flags (no file name), mtime 0, OS 255
        byte[] head = new byte[10];
        try (InputStream in = store.open(layer.blob().digest())) {
            assertEquals(10, in.readNBytes(head, 0, 10));
        }
        assertArrayEquals(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 255}, zeroXfl(head));
    }

    /** GNU tar reads the same modes, owners and links (what Docker's and containerd's appliers follow). */
    @Test
    void gnuTarAgrees() throws Exception {
        Path host = Files.writeString(tmp.resolve("data"), "x");
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        Layer layer = sample(host).write(store, EPOCH);
        Process p = new ProcessBuilder("tar", "--numeric-owner", "-tvzf", store.blobPath(layer.blob().digest()).toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("-rwsr-xr-x 0/0"), out);
        assertTrue(out.matches("(?s).*drwxrwxrwt 0/0 +0 2021-01-13 \\d\\d:17 tmp/.*"), out);
        assertTrue(out.contains("-rw-r----- 3000000/3000001"), out);
        assertTrue(out.contains("sbin/init -> /usr/lib/systemd/systemd"), out);
        assertTrue(out.contains("usr/bin/sudo-again link to usr/bin/sudo-like"), out);
        assertTrue(out.contains(LONG), out);
        assertFalse(out.contains("warning"), out);
    }

    @Test
    void sameInputsGiveSameDigestsWhateverTheTempDirHostTimesAndOwnersSay() throws IOException {
        Layer a = buildFromTree(tmp.resolve("one"), 1_000_000_000L, "rwxr-xr-x");
        Layer b = buildFromTree(tmp.resolve("two/deeper"), 1_700_000_000L, "rwxrwxrwx");
        assertEquals(a, b);
        Layer c = new LayerBuilder().addTree(tmp.resolve("one/tree"), "/kind", TreeAttributes.rootOwned())
                .write(ImageStore.open(tmp.resolve("store-c")), EPOCH.plusSeconds(1));
        assertNotEquals(a.diffId(), c.diffId(), "the given mtime is what goes in");
    }

    private Layer buildFromTree(Path dir, long hostMtime, String perms) throws IOException {
        Path tree = dir.resolve("tree");
        Files.createDirectories(tree.resolve("images/sub"));
        Files.writeString(tree.resolve("images/a.tar"), "a".repeat(70000));
        Files.writeString(tree.resolve("images/sub/b"), "b");
        Path exe = Files.writeString(tree.resolve("run.sh"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString(perms));
        Files.createSymbolicLink(tree.resolve("link"), Path.of("images/a.tar"));
        try (var walk = Files.walk(tree)) {
            for (Path p : walk.toList()) {
                Files.setLastModifiedTime(p, FileTime.from(hostMtime, TimeUnit.SECONDS));
            }
        }
        ImageStore store = ImageStore.open(dir.resolve("store"));
        return new LayerBuilder().addTree(tree, "/kind", TreeAttributes.rootOwned())
                .add(LayerEntry.file("/kind/version", "v1.31.2\n".getBytes(StandardCharsets.UTF_8), 0644))
                .write(store, EPOCH);
    }

    @Test
    void uncompressedLayerHasTheSameTarAndItsDigestIsTheDiffId() throws IOException {
        Path host = Files.writeString(tmp.resolve("data"), "x");
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        Layer gz = sample(host).write(store, EPOCH);
        Layer plain = sample(host).write(store, EPOCH, LayerBuilder.Compression.NONE);
        assertEquals(MediaTypes.OCI_LAYER, plain.blob().mediaType());
        assertEquals(gz.diffId(), plain.diffId());
        assertEquals(plain.diffId(), plain.blob().digest());
    }

    @Test
    void treeEntriesGetTheGivenOwnerAndModes() throws IOException {
        Path tree = Files.createDirectories(tmp.resolve("t/bin"));
        Files.writeString(tree.resolve("tool"), "x");
        Files.setPosixFilePermissions(tree.resolve("tool"), PosixFilePermissions.fromString("rwx------"));
        Files.writeString(tree.resolve("plain"), "y");
        Files.createSymbolicLink(tree.resolve("alias"), Path.of("tool"));
        List<LayerEntry> entries = new LayerBuilder().addTree(tmp.resolve("t"), "/opt/x", new TreeAttributes(7, 8, 0750, 0640, 0750))
                .entries();
        Map<String, LayerEntry> byPath = new LinkedHashMap<>();
        entries.forEach(e -> byPath.put(e.path(), e));
        assertEquals(0755, byPath.get("opt").mode(), "implicit parent");
        assertEquals(0750, byPath.get("opt/x").mode());
        assertEquals(7, byPath.get("opt/x/bin").uid());
        assertEquals(0750, byPath.get("opt/x/bin/tool").mode());
        assertEquals(0640, byPath.get("opt/x/bin/plain").mode());
        assertEquals(LayerEntry.Type.SYMLINK, byPath.get("opt/x/bin/alias").type());
        assertEquals("tool", byPath.get("opt/x/bin/alias").linkTarget());
    }

    @Test
    void refusesEscapesAndContradictions() {
        assertThrows(IllegalArgumentException.class, () -> LayerEntry.file("../etc/passwd", new byte[0], 0644));
        assertThrows(IllegalArgumentException.class, () -> LayerEntry.file("/usr/../../etc", new byte[0], 0644));
        assertThrows(IllegalArgumentException.class, () -> LayerEntry.hardLink("/a", "/../b"));
        assertThrows(IllegalArgumentException.class, () -> LayerEntry.file("/", new byte[0], 0644));
        assertThrows(IllegalArgumentException.class, () -> LayerEntry.file("/etc/.wh.x", new byte[0], 0644));
        assertThrows(IllegalArgumentException.class, () -> LayerEntry.file("/x", new byte[0], 0100644));
        assertEquals("etc/x", LayerEntry.file("//etc/./x/", new byte[0], 0644).path());
        LayerBuilder dup = new LayerBuilder().add(LayerEntry.file("/a", new byte[0], 0644));
        assertThrows(IllegalArgumentException.class, () -> dup.add(LayerEntry.directory("a", 0755, 0, 0)));
        LayerBuilder fileAsParent = new LayerBuilder().add(LayerEntry.file("/a", new byte[0], 0644))
                .add(LayerEntry.file("/a/b", new byte[0], 0644));
        assertThrows(IllegalArgumentException.class, fileAsParent::entries);
        LayerBuilder danglingHard = new LayerBuilder().add(LayerEntry.hardLink("/a", "/b"));
        assertThrows(IllegalArgumentException.class, danglingHard::entries);
        LayerBuilder both = new LayerBuilder().add(LayerEntry.file("/a", new byte[0], 0644)).add(LayerEntry.whiteout("/a"));
        assertThrows(IllegalArgumentException.class, both::entries);
    }

    static Map<String, TarArchiveEntry> entries(byte[] tar) throws IOException {
        Map<String, TarArchiveEntry> out = new LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                String n = e.getName();
                out.put(n.endsWith("/") ? n.substring(0, n.length() - 1) : n, e);
            }
        }
        return out;
    }

    private static List<String> sortedCopy(java.util.Collection<String> c) {
        List<String> l = new ArrayList<>(c);
        java.util.Collections.sort(l);
        return l;
    }

    /** XFL (byte 8) depends on the level only; compared as written by level 6 (0). */
    private static byte[] zeroXfl(byte[] head) {
        byte[] h = head.clone();
        h[8] = 0;
        return h;
    }
}
