package dev.kindbuild.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ImageRefTest {
    static final String D = "sha256:" + "ab".repeat(32);

    @ParameterizedTest
    @CsvSource({
        "busybox, docker.io, library/busybox, latest",
        "busybox:1.36, docker.io, library/busybox, 1.36",
        "kindest/kindnetd:v1, docker.io, kindest/kindnetd, v1",
        "docker.io/kindest/kindnetd:v1, docker.io, kindest/kindnetd, v1",
        "index.docker.io/library/busybox, docker.io, library/busybox, latest",
        "registry.k8s.io/pause:3.10, registry.k8s.io, pause, 3.10",
        "registry.k8s.io/coredns/coredns:v1.11.3, registry.k8s.io, coredns/coredns, v1.11.3",
        "registry.k8s.io/etcd:3.5.15-0, registry.k8s.io, etcd, 3.5.15-0",
        "127.0.0.1:5000/pause:3.10, 127.0.0.1:5000, pause, 3.10",
        "localhost/foo, localhost, foo, latest",
        "localhost:5000/a/b/c:x_y, localhost:5000, a/b/c, x_y",
    })
    void parsesWithDockerDefaults(String in, String registry, String repository, String tag) {
        ImageRef r = ImageRef.parse(in);
        assertEquals(registry, r.registry());
        assertEquals(repository, r.repository());
        assertEquals(tag, r.tag());
        assertNull(r.digest());
    }

    @Test
    void digests() {
        ImageRef tagged = ImageRef.parse("registry.k8s.io/pause:3.10@" + D);
        assertEquals("3.10", tagged.tag());
        assertEquals(D, tagged.digest());
        assertEquals("registry.k8s.io/pause:3.10@" + D, tagged.toString());
        assertEquals(D, tagged.qualifier());

        ImageRef only = ImageRef.parse("busybox@" + D);
        assertNull(only.tag());
        assertEquals("docker.io/library/busybox@" + D, only.toString());
        assertThrows(UserError.class, only::nameWithTag);

        ImageRef pinned = ImageRef.parse("registry.k8s.io/pause:3.10").withDigest(D);
        assertEquals(tagged, pinned);
        assertEquals("registry.k8s.io/pause:3.10", pinned.withoutDigest().toString());
        assertEquals("registry.k8s.io/pause:3.10", pinned.nameWithTag());
    }

    @Test
    void fileNames() {
        assertEquals("registry.k8s.io_pause_3.10.tar", ImageRef.parse("registry.k8s.io/pause:3.10").fileName());
        assertEquals("registry.k8s.io_coredns_coredns_v1.11.3.tar", ImageRef.parse("registry.k8s.io/coredns/coredns:v1.11.3").fileName());
        assertEquals("docker.io_kindest_kindnetd_v20250512-df8de77b.tar", ImageRef.parse("kindest/kindnetd:v20250512-df8de77b").fileName());
        assertEquals("127.0.0.1_5000_pause_3.10.tar", ImageRef.parse("127.0.0.1:5000/pause:3.10@" + D).fileName());
        assertTrue(ImageRef.parse("busybox@" + D).fileName().matches("[A-Za-z0-9._-]+\\.tar"));
    }

    @Test
    void mirrorMapping() {
        ImageRef r = ImageRef.parse("busybox:1");
        assertEquals("127.0.0.1:5000/library/busybox:1", r.onRegistry("127.0.0.1:5000", "").toString());
        assertEquals("m.example/hub/library/busybox:1", r.onRegistry("m.example", "hub").toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "Busybox", "registry.k8s.io/Pause:1", "a:b:c", "foo@sha256:123", "foo:-bad", "foo//bar", "foo/", "-foo"})
    void rejectsMalformed(String in) {
        UserError e = assertThrows(UserError.class, () -> ImageRef.parse(in));
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    /** Credentials in a reference: refused at parse time in one line that names the registry, never the secret. */
    @ParameterizedTest
    @ValueSource(strings = {"kbuser:Secret@127.0.0.1:5092/repo:tag", "kbuser:Secret@127.0.0.1:5092/repo:tag@sha256:abababababababababababababababababababababababababababababababab",
        ":Secret@127.0.0.1:5092/repo", "kbuser:Sec/ret@127.0.0.1:5092/repo:tag", "kbuser:Sec@ret@127.0.0.1:5092/repo",
        "https://kbuser:Secret@127.0.0.1:5092/repo:tag", "kbuser:Secret@busybox", "kbuser:Secret@127.0.0.1:5092"})
    void aReferenceWithCredentialsIsRefusedWithoutPrintingThem(String in) {
        UserError e = assertThrows(UserError.class, () -> ImageRef.parse(in));
        assertTrue(!e.getMessage().contains("Secret") && !e.getMessage().contains("Sec"), e.getMessage());
        assertTrue(!e.getMessage().contains("kbuser"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("credentials") && e.getMessage().contains("docker login"), e.getMessage());
        assertTrue(!e.getMessage().contains("invalid digest"), e.getMessage());
        UserError checked = assertThrows(UserError.class, () -> ImageRef.check(in, "--extra-image"));
        assertTrue(checked.getMessage().startsWith("--extra-image: ") && !checked.getMessage().contains("Secret"), checked.getMessage());
    }

    @Test
    void redactionHidesUserInfoAndKeepsDigests() {
        assertEquals("***@127.0.0.1:5092/repo:tag", ImageRef.redact("kbuser:Secret@127.0.0.1:5092/repo:tag"));
        assertEquals("***@127.0.0.1:5092/repo@" + D, ImageRef.redact("kbuser:Secret@127.0.0.1:5092/repo@" + D));
        assertEquals("https://***@h.example/r", ImageRef.redact("https://u:p@h.example/r"));
        assertEquals("***@h.example/r", ImageRef.redact("u:p/w@h.example/r"));
        assertEquals("busybox@" + D, ImageRef.redact("busybox@" + D));
        assertEquals("registry.k8s.io/pause:3.10@" + D, ImageRef.redact("registry.k8s.io/pause:3.10@" + D));
        assertEquals("registry.k8s.io/pause:3.10", ImageRef.redact("registry.k8s.io/pause:3.10"));
        assertNull(ImageRef.redact(null));
    }

    @Test
    void aMalformedReferenceIsStillNamedInItsError() {
        UserError e = assertThrows(UserError.class, () -> ImageRef.parse("foo@sha256:123"));
        assertTrue(e.getMessage().contains("\"foo@sha256:123\""), e.getMessage());
    }
}
