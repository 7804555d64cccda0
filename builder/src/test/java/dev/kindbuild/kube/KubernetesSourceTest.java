package dev.kindbuild.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KubernetesSourceTest {
    static final URI BASE = URI.create("https://mirror.example/k8s/");

    @TempDir
    Path tmp;
    Path tarball;
    Path binDir;
    Path sourceTree;
    Path plainDir;

    @BeforeEach
    void setUp() throws Exception {
        tarball = Files.writeString(tmp.resolve("kubernetes-server-linux-amd64.tar.gz"), "x");
        binDir = Files.createDirectories(tmp.resolve("bins"));
        for (String b : KubernetesSource.BINARIES) {
            Files.writeString(binDir.resolve(b), "#!/bin/sh\n");
        }
        sourceTree = Files.createDirectories(tmp.resolve("kubernetes"));
        Files.writeString(sourceTree.resolve("go.mod"), "// This is a generated file.\n\nmodule k8s.io/kubernetes\n\ngo 1.23.0\n");
        plainDir = Files.createDirectories(tmp.resolve("plain"));
        Files.writeString(plainDir.resolve("kubeadm"), "");
    }

    static KubernetesSource detect(String arg) {
        return KubernetesSource.detect(arg, Optional.empty(), BASE);
    }

    @Test
    void detectionTable() {
        assertEquals(new KubernetesSource.Url(URI.create("https://h/k.tar.gz")), detect("https://h/k.tar.gz"));
        assertEquals(new KubernetesSource.Url(URI.create("HTTP://127.0.0.1:8/k.tar.gz")), detect("HTTP://127.0.0.1:8/k.tar.gz"));
        assertEquals(new KubernetesSource.File(tarball), detect(tarball.toString()));
        assertEquals(new KubernetesSource.Directory(binDir), detect(binDir.toString()));
        assertEquals(new KubernetesSource.SourceTree(sourceTree), detect(sourceTree.toString()));
        assertEquals(new KubernetesSource.Release("v1.31.2", BASE), detect("1.31.2"));
        assertEquals(new KubernetesSource.Release("v1.31.2", BASE), detect("v1.31.2"));
        assertEquals(new KubernetesSource.Release("v1.33.0-rc.1", BASE), detect("v1.33.0-rc.1"));
        assertEquals(KubernetesSource.DEFAULT_RELEASE_BASE,
                ((KubernetesSource.Release) KubernetesSource.detect("v1.31.2", Optional.empty(), null)).releaseBase());
    }

    @Test
    void aFileNamedLikeAVersionIsAFile() throws Exception {
        Path cwdLike = Files.writeString(tmp.resolve("v1.31.2"), "tar");
        assertInstanceOf(KubernetesSource.File.class, detect(cwdLike.toString()));
    }

    @Test
    void binariesWinOverGoModWhenBothPresent() throws Exception {
        for (String b : KubernetesSource.BINARIES) {
            Files.writeString(sourceTree.resolve(b), "");
        }
        assertInstanceOf(KubernetesSource.Directory.class, detect(sourceTree.toString()));
    }

    @Test
    void goModOfAnotherModuleIsNotASourceTree() throws Exception {
        Files.writeString(plainDir.resolve("go.mod"), "module k8s.io/kubernetes-fork\n");
        UserError e = assertThrows(UserError.class, () -> detect(plainDir.toString()));
        assertTrue(e.getMessage().contains("lacks kubelet, kubectl"), e.getMessage());
        assertTrue(e.getMessage().contains("module k8s.io/kubernetes"), e.getMessage());
    }

    @Test
    void unknownArgumentsSayWhatIsAccepted() {
        for (String arg : new String[] {"latest", "1.31", "./missing.tar.gz", "ftp://h/k.tar.gz"}) {
            UserError e = assertThrows(UserError.class, () -> detect(arg));
            String m = e.getMessage();
            assertTrue(m.startsWith("\"" + arg + "\" is not a Kubernetes source"), m);
            assertTrue(m.contains("release version") && m.contains("URL") && m.contains("source tree"), m);
            assertFalse(m.contains("\n"), m);
        }
        assertTrue(assertThrows(UserError.class, () -> detect("1.31")).getMessage().contains("all three parts"));
        assertTrue(assertThrows(UserError.class, () -> detect("./missing.tar.gz")).getMessage().contains("no such file"));
        assertThrows(UserError.class, () -> detect(" "));
    }

    @Test
    void credentialsNeverShownByDetectionOrToString() {
        UserError e = assertThrows(UserError.class, () -> detect("ftp://bob:hunter2@h/k.tar.gz"));
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        KubernetesSource s = detect("https://bob:hunter2@h/k.tar.gz");
        assertFalse(s.toString().contains("hunter2"), s.toString());
        assertFalse(s.describe().contains("hunter2"), s.describe());
        assertEquals("hunter2", ((KubernetesSource.Url) s).tarball().getUserInfo().split(":")[1]);
    }

    @Test
    void forcedTypes() {
        assertEquals(new KubernetesSource.Release("v1.30.0", BASE), force("release", "1.30.0"));
        assertEquals(new KubernetesSource.Url(URI.create("https://h/x")), force("url", "https://h/x"));
        assertEquals(new KubernetesSource.File(tarball), force("FILE", tarball.toString()));
        assertEquals(new KubernetesSource.Directory(binDir), force("dir", binDir.toString()));
        assertEquals(new KubernetesSource.SourceTree(sourceTree), force("source", sourceTree.toString()));
        // --type source on a tree that also has binaries: the user's choice wins
        assertEquals(new KubernetesSource.SourceTree(sourceTree), force("source", sourceTree.toString()));
    }

    @Test
    void forcedTypesAreValidated() {
        assertError("--type file: " + tmp.resolve("nope") + " does not exist", "file", tmp.resolve("nope").toString());
        assertError("--type file: " + binDir + " is not a regular file", "file", binDir.toString());
        assertError("--type release: \"latest\" is not a Kubernetes version", "release", "latest");
        assertError("--type url: \"/tmp/x\" is not an http(s) URL", "url", "/tmp/x");
        assertError("--type dir: " + plainDir + " lacks kubelet, kubectl", "dir", plainDir.toString());
        assertError("--type dir: " + tarball + " is not a directory", "dir", tarball.toString());
        assertError("--type source: " + binDir + " is not a Kubernetes source tree", "source", binDir.toString());
        assertError("unknown --type \"nightly\": expected one of release, ci, url, file, dir, source", "nightly", "latest");
        assertError("--type ci: \"ci/../v1.31.2\" is not a CI version marker (expected e.g. ci/latest or ci/latest-1.36)", "ci", "ci/../v1.31.2");
        assertError("--type ci: \"ci//latest\" is not a CI version marker (expected e.g. ci/latest or ci/latest-1.36)", "ci", "ci//latest");
    }

    @Test
    void ciMarkersAsKindNormalisesThem() {
        // kind v0.32: a ci/ prefix is detected as --type ci; the marker gets ci/ prepended and .txt appended.
        assertEquals(new KubernetesSource.Ci("ci/latest", BASE), detect("ci/latest"));
        assertEquals(new KubernetesSource.Ci("ci/latest-1.36", BASE), detect("ci/latest-1.36.txt"));
        assertEquals(new KubernetesSource.Ci("ci/latest", BASE), force("ci", "latest"));
        assertEquals(new KubernetesSource.Ci("ci/fast/latest-fast", BASE), force("ci", "fast/latest-fast"));
        var ci = new KubernetesSource.Ci("latest-1.37", URI.create("http://127.0.0.1:9/mirror/"));
        assertEquals(URI.create("http://127.0.0.1:9/mirror/ci/latest-1.37.txt"), ci.markerUrl());
        assertEquals(java.util.Optional.empty(), ci.knownVersion());
        var build = new KubernetesSource.CiBuild("ci/latest-1.37", "v1.37.1-alpha.0.12+0123456789abcd", URI.create("http://127.0.0.1:9/mirror"));
        assertEquals(URI.create("http://127.0.0.1:9/mirror/ci/v1.37.1-alpha.0.12+0123456789abcd/kubernetes-server-linux-arm64.tar.gz"),
                build.tarballUrl("arm64"));
        assertEquals("v1.37.1-alpha.0.12+0123456789abcd", build.knownVersion().orElseThrow().toString());
        assertEquals("ci", build.type());
    }

    @Test
    void releaseUrlLayout() {
        var r = new KubernetesSource.Release("1.31.2", URI.create("https://dl.k8s.io/"));
        assertEquals(URI.create("https://dl.k8s.io/v1.31.2/kubernetes-server-linux-arm64.tar.gz"), r.tarballUrl("arm64"));
        var r2 = new KubernetesSource.Release("v1.31.2", URI.create("http://127.0.0.1:9/mirror"));
        assertEquals(URI.create("http://127.0.0.1:9/mirror/v1.31.2/kubernetes-server-linux-amd64.tar.gz"), r2.tarballUrl("amd64"));
    }

    private KubernetesSource force(String type, String arg) {
        return KubernetesSource.detect(arg, Optional.of(type), BASE);
    }

    private void assertError(String prefix, String type, String arg) {
        UserError e = assertThrows(UserError.class, () -> force(type, arg));
        assertTrue(e.getMessage().startsWith(prefix), "expected prefix <" + prefix + "> but was <" + e.getMessage() + ">");
    }
}
