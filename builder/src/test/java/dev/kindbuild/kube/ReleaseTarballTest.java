package dev.kindbuild.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReleaseTarballTest {
    @TempDir
    Path tmp;

    /** A tar entry for tests: regular file (link == null, type 0), symlink (type 2) or hard link (type 1). */
    record E(String name, String content, byte type, String link) {
        static E file(String name, String content) {
            return new E(name, content, TarArchiveEntry.LF_NORMAL, null);
        }

        static E symlink(String name, String target) {
            return new E(name, "", TarArchiveEntry.LF_SYMLINK, target);
        }

        static E hardlink(String name, String target) {
            return new E(name, "", TarArchiveEntry.LF_LINK, target);
        }
    }

    static Path tarGz(Path out, List<E> entries) throws IOException {
        try (OutputStream f = Files.newOutputStream(out);
                GZIPOutputStream gz = new GZIPOutputStream(f);
                TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (E e : entries) {
                TarArchiveEntry te = new TarArchiveEntry(e.name(), e.type(), true);
                if (e.link() != null) {
                    te.setLinkName(e.link());
                } else {
                    te.setSize(e.content().getBytes(StandardCharsets.UTF_8).length);
                    te.setMode(0100755);
                }
                tar.putArchiveEntry(te);
                if (e.link() == null) {
                    tar.write(e.content().getBytes(StandardCharsets.UTF_8));
                }
                tar.closeArchiveEntry();
            }
        }
        return out;
    }

    static List<E> release(String versionFile, String dockerTag) {
        List<E> list = new ArrayList<>();
        list.add(E.file("kubernetes/LICENSES/vendor/x/LICENSE", "text"));
        list.add(E.file("kubernetes/server/bin/kubeadm", "adm"));
        list.add(E.file("kubernetes/server/bin/kubelet", "let"));
        list.add(E.file("kubernetes/server/bin/kubectl", "ctl"));
        list.add(E.file("kubernetes/server/bin/kube-apiserver", "big binary not needed"));
        list.add(E.file("kubernetes/server/bin/kube-proxy.tar", "proxy image"));
        list.add(E.file("kubernetes/server/bin/kube-apiserver.tar", "apiserver image"));
        list.add(E.file("kubernetes/server/bin/conformance.tar", "not wanted"));
        list.add(E.symlink("kubernetes/server/bin/kube-ctl-link", "kubectl"));
        if (dockerTag != null) list.add(E.file("kubernetes/server/bin/kube-apiserver.docker_tag", dockerTag));
        if (versionFile != null) list.add(E.file("kubernetes/version", versionFile));
        return list;
    }

    @Test
    void extractsOnlyWhatIsNeeded() throws Exception {
        Path t = tarGz(tmp.resolve("k.tar.gz"), release("v1.31.2\n", "v1.31.2"));
        ReleaseTarball.Contents c = ReleaseTarball.extract(t, tmp.resolve("out"), "k.tar.gz");
        assertEquals(List.of("kubeadm", "kubelet", "kubectl"), List.copyOf(c.binaries().keySet()));
        assertEquals("ctl", Files.readString(c.binaries().get("kubectl")));
        assertTrue(Files.isExecutable(c.binaries().get("kubeadm")));
        assertEquals(List.of(tmp.resolve("out/images/kube-apiserver.tar"), tmp.resolve("out/images/kube-proxy.tar")), c.imageTars());
        assertEquals(Optional.of("v1.31.2"), c.version());
        assertFalse(Files.exists(tmp.resolve("out/bin/kube-apiserver")));
        assertFalse(Files.exists(tmp.resolve("out/images/conformance.tar")));
    }

    @Test
    void theVersionFileWinsOverTheDockerTag() throws Exception {
        // Release tarballs of 1.31 and later carry kubernetes/version; kind reads it first, the docker tag only without it.
        Path t = tarGz(tmp.resolve("k.tar.gz"), release("v1.37.0-alpha.1.23+0123456789abcd\n", "v1.37.0-alpha.1.23_0123456789abcd-dirty"));
        assertEquals(Optional.of("v1.37.0-alpha.1.23+0123456789abcd"), ReleaseTarball.extract(t, tmp.resolve("o"), "k").version());
    }

    @Test
    void versionFallsBackToDockerTag() throws Exception {
        Path t = tarGz(tmp.resolve("k.tar.gz"), release(null, "v1.30.0-alpha.3.5_abcdef\n"));
        assertEquals(Optional.of("v1.30.0-alpha.3.5+abcdef"), ReleaseTarball.extract(t, tmp.resolve("o"), "k").version());
        Path none = tarGz(tmp.resolve("n.tar.gz"), release(null, null));
        assertEquals(Optional.empty(), ReleaseTarball.extract(none, tmp.resolve("o2"), "k").version());
        Path bad = tarGz(tmp.resolve("b.tar.gz"), release("banana", null));
        UserError e = assertThrows(UserError.class, () -> ReleaseTarball.extract(bad, tmp.resolve("o3"), "b.tar.gz"));
        assertTrue(e.getMessage().startsWith("b.tar.gz: kubernetes/version: \"banana\" is not a Kubernetes version"), e.getMessage());
    }

    @Test
    void missingBinariesAreListed() throws Exception {
        Path t = tarGz(tmp.resolve("k.tar.gz"), List.of(E.file("kubernetes/server/bin/kubelet", "x"), E.file("kubernetes/version", "v1.31.0")));
        UserError e = assertThrows(UserError.class, () -> ReleaseTarball.extract(t, tmp.resolve("o"), "https://h/k.tar.gz"));
        assertEquals("https://h/k.tar.gz is not a usable kubernetes-server tarball: it lacks kubernetes/server/bin/kubeadm, "
                + "kubernetes/server/bin/kubectl", e.getMessage());
    }

    @Test
    void rejectsEntriesThatEscape() throws Exception {
        assertUnsafe(E.file("/etc/passwd", "x"), "\"/etc/passwd\"");
        assertUnsafe(E.file("kubernetes/../../evil", "x"), "\"kubernetes/../../evil\"");
        assertUnsafe(E.file("../kubernetes/server/bin/kubeadm", "x"), "\"../kubernetes/server/bin/kubeadm\"");
        assertUnsafe(E.symlink("kubernetes/server/bin/kubeadm", "/usr/bin/evil"), "\"kubernetes/server/bin/kubeadm\" -> \"/usr/bin/evil\"");
        assertUnsafe(E.symlink("kubernetes/x", "../../etc/shadow"), "\"kubernetes/x\" -> \"../../etc/shadow\"");
        assertUnsafe(E.hardlink("kubernetes/y", "../outside"), "\"kubernetes/y\" -> \"../outside\"");
    }

    @Test
    void linksInsideTheArchiveAreFineButWantedFilesMustBeRegular() throws Exception {
        List<E> entries = release("v1.31.2", null);
        entries.add(E.symlink("kubernetes/a/b/link", "../../server/bin/kubeadm"));
        ReleaseTarball.extract(tarGz(tmp.resolve("ok.tar.gz"), entries), tmp.resolve("o"), "ok");
        List<E> linked = release("v1.31.2", null);
        linked.add(E.symlink("kubernetes/server/bin/kubelet", "kubectl"));
        UserError e = assertThrows(UserError.class,
                () -> ReleaseTarball.extract(tarGz(tmp.resolve("l.tar.gz"), linked), tmp.resolve("o2"), "l"));
        assertEquals("l: entry kubernetes/server/bin/kubelet is not a regular file", e.getMessage());
    }

    @Test
    void notATarball() throws Exception {
        Path junk = Files.writeString(tmp.resolve("junk.tar.gz"), "<html>404</html>");
        UserError e = assertThrows(UserError.class, () -> ReleaseTarball.extract(junk, tmp.resolve("o"), "junk.tar.gz"));
        assertTrue(e.getMessage().startsWith("junk.tar.gz is not a gzip-compressed tarball"), e.getMessage());
    }

    @Test
    void aTruncatedTarballNamesTheProblemNotNull() throws Exception {
        // Cut in the middle, as an interrupted copy leaves it: the gzip reader fails with a message-less EOFException.
        Path whole = dev.kindbuild.sample.SampleRelease.write(tmp.resolve("whole"), "v1.31.2", "amd64").tarball();
        byte[] bytes = Files.readAllBytes(whole);
        Path cut = Files.write(tmp.resolve("cut.tar.gz"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
        UserError e = assertThrows(UserError.class, () -> ReleaseTarball.extract(cut, tmp.resolve("o"), "cut.tar.gz"));
        assertEquals("cut.tar.gz is not a readable tarball (EOFException)", e.getMessage());
    }

    @Test
    void nameNormalisation() {
        assertEquals("kubernetes/version", ReleaseTarball.normalizeName("./kubernetes//version"));
        assertEquals("kubernetes/server", ReleaseTarball.normalizeName("kubernetes/server/"));
        assertEquals(null, ReleaseTarball.normalizeName("a/../b"));
        assertEquals(null, ReleaseTarball.normalizeName("C:/x"));
        assertEquals(null, ReleaseTarball.normalizeName("a\\..\\b"));
    }

    private void assertUnsafe(E bad, String named) throws IOException {
        List<E> entries = release("v1.31.2", null);
        entries.add(1, bad);
        Path t = tarGz(Files.createTempFile(tmp, "bad", ".tar.gz"), entries);
        Path out = tmp.resolve("out-" + t.getFileName());
        UserError e = assertThrows(UserError.class, () -> ReleaseTarball.extract(t, out, "bad.tar.gz"));
        assertTrue(e.getMessage().startsWith("bad.tar.gz has an unsafe"), e.getMessage());
        assertTrue(e.getMessage().contains(named), e.getMessage());
        assertTrue(e.getMessage().contains("refusing to extract"), e.getMessage());
    }
}
