package dev.kindbuild.selfimage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.image.layer.Layer;
import dev.kindbuild.image.layer.LayerBuilder;
import dev.kindbuild.image.layer.LayerEntry;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.support.TarWriter;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JavaRootTest {
    private static final String HOME = "usr/lib/jvm/java-21-openjdk-amd64";
    @TempDir
    Path tmp;

    /** A small stand-in for mmdebstrap's extract output: the shapes JavaRoot meets in the real one. */
    private Path debianRoot(boolean withJava) throws Exception {
        Path tar = tmp.resolve("root-" + withJava + ".tar");
        try (OutputStream out = Files.newOutputStream(tar)) {
            TarWriter w = new TarWriter(out, Instant.ofEpochSecond(0));
            w.directory("./dev/", 0755, 0, 0);
            w.file("./dev/stray", 0644, 0, 0, 1, new java.io.ByteArrayInputStream(new byte[1]));
            for (String d : new String[] {"./usr/", "./usr/bin/", "./usr/lib/", "./usr/lib64/", "./usr/sbin/", "./etc/"}) {
                w.directory(d, 0755, 0, 0);
            }
            if (withJava) {
                w.file("./" + HOME + "/bin/java", 0755, 0, 0, 4, new java.io.ByteArrayInputStream("ELF!".getBytes()));
            }
            w.file("./usr/lib/libz.so.1.3", 0644, 0, 0, 3, new java.io.ByteArrayInputStream("lib".getBytes()));
            w.hardLink("./usr/lib/libz-copy", "./usr/lib/libz.so.1.3", 0644, 0, 0);
            w.symlink("./usr/lib/libz.so.1", "libz.so.1.3", 0777, 0, 0);
            w.file("./var/log/apt.log", 0640, 0, 4, 2, new java.io.ByteArrayInputStream("ok".getBytes()));
            for (String cert : new String[] {"ISRG_Root_X1.crt", "DigiCert_Global_Root_G2.crt"}) {
                byte[] pem = JavaTrustStoreTest.resource(cert);
                w.file("./usr/share/ca-certificates/mozilla/" + cert, 0644, 0, 0, pem.length, new java.io.ByteArrayInputStream(pem));
            }
            w.finish();
        }
        return tar;
    }

    @Test
    void addsWhatTheMaintainerScriptsWouldHaveMadeAndDropsDevices() throws Exception {
        JavaRoot.Contents contents = JavaRoot.read(debianRoot(true));
        Map<String, LayerEntry> byPath = contents.entries().stream().collect(Collectors.toMap(LayerEntry::path, Function.identity()));
        assertEquals("/" + HOME, contents.javaHome());
        assertFalse(byPath.keySet().stream().anyMatch(p -> p.equals("dev") || p.startsWith("dev/")), byPath.keySet().toString());
        for (String d : new String[] {"bin", "lib", "lib64", "sbin"}) {
            assertEquals("usr/" + d, byPath.get(d).linkTarget(), d + " → usr/" + d + " (merged /usr)");
        }
        assertEquals("../lib/jvm/java-21-openjdk-amd64/bin/java", byPath.get("usr/bin/java").linkTarget());
        assertTrue(new String(byPath.get("etc/passwd").content(), StandardCharsets.UTF_8)
                .contains("kind-build:x:65532:65532:kind-build:/var/cache/kind-build:"));
        LayerEntry cache = byPath.get("var/cache/kind-build");
        assertEquals(65532, cache.uid());
        assertEquals(LayerEntry.Type.DIRECTORY, cache.type());
        assertEquals(LayerEntry.Type.FILE, byPath.get(JavaTrustStore.PATH).type());
        // Kept as the tar has them: owner, mode, links, and the bytes read in place.
        assertEquals(4, byPath.get("var/log/apt.log").gid());
        assertEquals(0640, byPath.get("var/log/apt.log").mode());
        assertEquals("usr/lib/libz.so.1.3", byPath.get("usr/lib/libz-copy").linkTarget());
        assertEquals(LayerEntry.Type.HARD_LINK, byPath.get("usr/lib/libz-copy").type());
        try (InputStream in = byPath.get("usr/lib/libz.so.1.3").source().open()) {
            assertArrayEquals("lib".getBytes(), in.readAllBytes());
        }
    }

    @Test
    void theSameRootGivesTheSameLayer() throws Exception {
        Path root = debianRoot(true);
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        Layer first = new LayerBuilder().addAll(JavaRoot.read(root).entries()).write(store, Instant.EPOCH);
        Layer second = new LayerBuilder().addAll(JavaRoot.read(root).entries()).write(store, Instant.EPOCH);
        assertEquals(first, second);
    }

    @Test
    void aRootWithoutAJreIsRefusedNamingTheFile() throws Exception {
        Path root = debianRoot(false);
        UserError e = assertThrows(UserError.class, () -> JavaRoot.read(root));
        assertTrue(e.getMessage().contains(root + " holds no JRE"), e.getMessage());
    }
}
