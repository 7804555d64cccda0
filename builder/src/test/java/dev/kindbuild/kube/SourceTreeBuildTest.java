package dev.kindbuild.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.image.archive.DockerArchive;
import dev.kindbuild.progress.BuildEvent;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.testing.FakeKubernetesTree;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The source build against a miniature tree and a fake Go: the make call, the Go rules, the cache, the images. */
class SourceTreeBuildTest {
    static final String MIRROR = "http://mirror.invalid/debian";

    @TempDir
    Path tmp;
    Path cache;
    final List<BuildEvent> events = new CopyOnWriteArrayList<>();
    final Progress progress = events::add;

    @BeforeEach
    void seedDebianRoot() throws IOException {
        cache = tmp.resolve("cache");
        // kube-proxy's Debian root comes from mmdebstrap; here a one-file root stands in for it.
        Path root = dev.kindbuild.debian.DebianRoot.cachedPath(cache, ComponentImages.kubeProxyRoot("amd64"), MIRROR);
        Files.createDirectories(root.getParent());
        try (var out = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(Files.newOutputStream(root))) {
            TarArchiveEntry e = new TarArchiveEntry("usr/sbin/iptables");
            byte[] body = "#!/bin/sh\n".getBytes();
            e.setSize(body.length);
            e.setMode(0100755);
            out.putArchiveEntry(e);
            out.write(body);
            out.closeArchiveEntry();
        }
    }

    KubernetesResolver.Options options(Path goRoot) {
        return KubernetesResolver.Options.defaults("amd64").withCacheDir(cache).withGoRoot(Optional.of(goRoot))
                .withDebianMirror(MIRROR).withFallbackVersion(Optional.of("v1.20.2"));
    }

    KubernetesArtifacts build(Path tree, KubernetesResolver.Options o) {
        return new KubernetesResolver(o, progress).resolve(new KubernetesSource.SourceTree(tree), tmp.resolve("work"));
    }

    @Test
    void buildsWithMakeWhatAndPackagesTheComponentImages() throws Exception {
        Path tree = FakeKubernetesTree.write(tmp.resolve("k8s"), "v1.15.5-1", "v1.0.1", Map.of());
        Path go = FakeKubernetesTree.fakeGoRoot(tmp.resolve("go"), "1.15.15");

        KubernetesArtifacts a = build(tree, options(go));

        assertEquals("v1.20.2", a.version());
        List<String> calls = FakeKubernetesTree.makeCalls(tree);
        assertEquals(1, calls.size(), calls.toString());
        assertEquals(String.join(" ", SourceTreeBuild.TARGETS) + "|linux/amd64|0|" + go.toAbsolutePath() + "|KUBE_GIT_VERSION='v1.20.2'|kubelet",
                calls.get(0));
        assertEquals("#!/bin/sh\necho kubelet\n", Files.readString(a.binary("kubelet")));
        assertEquals(4, a.imageTars().size());
        for (Path tar : a.imageTars()) {
            String component = tar.getFileName().toString().replace(".tar", "");
            // The registry is the one the built kubeadm names; the arch suffix as a release has it.
            assertEquals(List.of("fake.registry/" + component + "-amd64:v1.20.2"), DockerArchive.repoTags(tar));
            assertEquals("amd64", dev.kindbuild.image.archive.ArchiveImport.dockerArchive(
                    dev.kindbuild.image.store.ImageStore.open(tmp.resolve("read-" + component)), tar).architecture());
        }
        Path proxy = a.imageTars().stream().filter(p -> p.endsWith("kube-proxy.tar")).findFirst().orElseThrow();
        List<String> proxyFiles = layerFiles(proxy);
        assertTrue(proxyFiles.contains("usr/sbin/iptables"), proxyFiles.toString());
        assertTrue(proxyFiles.contains("usr/local/bin/kube-proxy"), proxyFiles.toString());
        List<String> apiserverFiles = layerFiles(a.imageTars().get(0));
        assertTrue(apiserverFiles.contains("etc/passwd") && apiserverFiles.contains("usr/local/bin/kube-apiserver"), apiserverFiles.toString());
    }

    @Test
    void anUnchangedTreeIsBuiltOnceAndTheSameImagesComeBack() throws Exception {
        Path tree = FakeKubernetesTree.write(tmp.resolve("k8s"), "v1.15.5-1", "v1.0.1", Map.of());
        Path go = FakeKubernetesTree.fakeGoRoot(tmp.resolve("go"), "1.15.15");
        KubernetesArtifacts first = build(tree, options(go));
        String digest = Sha256.of(first.imageTars().get(0));

        KubernetesArtifacts second = build(tree, options(go));
        assertEquals(1, FakeKubernetesTree.makeCalls(tree).size(), "make ran again on an unchanged tree");
        assertEquals(digest, Sha256.of(second.imageTars().get(0)));
        assertTrue(events.stream().anyMatch(e -> e instanceof BuildEvent.Notice n && n.line().startsWith("reusing the build")), events.toString());

        Files.writeString(tree.resolve("go.mod"), "module k8s.io/kubernetes\n\ngo 1.15\n// changed\n");
        build(tree, options(go));
        assertEquals(2, FakeKubernetesTree.makeCalls(tree).size(), "a changed tree must be rebuilt");
    }

    @Test
    void refusesAGoThatBreaksTheTree() throws Exception {
        Path tree = FakeKubernetesTree.write(tmp.resolve("k8s"), "v1.15.5-1", "v1.0.1", Map.of());
        Path go = FakeKubernetesTree.fakeGoRoot(tmp.resolve("go"), "1.19.8");
        UserError e = assertThrows(UserError.class, () -> build(tree, options(go)));
        assertEquals("Go 1.19.8 cannot build this tree: it vendors github.com/modern-go/reflect2 v1.0.1, which breaks on"
                + " Go >= 1.18 (kubeadm init panics); use Go 1.15 as upstream does with --go-root DIR", e.getMessage());
        assertEquals(List.of(), FakeKubernetesTree.makeCalls(tree));
    }

    @Test
    void aNewGoIsFineWhenTheTreeVendorsAFixedReflect2() throws Exception {
        Path tree = FakeKubernetesTree.write(tmp.resolve("k8s"), "v1.15.5-1", "v1.0.2", Map.of());
        Path go = FakeKubernetesTree.fakeGoRoot(tmp.resolve("go"), "1.19.8");
        assertEquals("v1.20.2", build(tree, options(go)).version());
    }

    @Test
    void refusesAGoOlderThanTheTreeWants() throws Exception {
        Path tree = FakeKubernetesTree.write(tmp.resolve("k8s"), "v1.22.1-1", null, Map.of());
        Path go = FakeKubernetesTree.fakeGoRoot(tmp.resolve("go"), "1.15.15");
        UserError e = assertThrows(UserError.class, () -> build(tree, options(go)));
        assertEquals("Go 1.15.15 is older than the Go 1.22 this tree is built with; use Go 1.22 with --go-root DIR", e.getMessage());
    }

    @Test
    void aTreeWithoutVersionNeedsK8sVersion() throws Exception {
        Path tree = FakeKubernetesTree.write(tmp.resolve("k8s"), "v1.15.5-1", "v1.0.1", Map.of());
        Path go = FakeKubernetesTree.fakeGoRoot(tmp.resolve("go"), "1.15.15");
        UserError e = assertThrows(UserError.class, () -> build(tree, options(go).withFallbackVersion(Optional.empty())));
        assertEquals(tree + " records no version (no git checkout, no KUBE_GIT_VERSION_FILE): pass --k8s-version vX.Y.Z with the tree",
                e.getMessage());
    }

    @Test
    void aFailingMakeIsOneLineWithItsReason() throws Exception {
        Path tree = FakeKubernetesTree.writeFailing(tmp.resolve("k8s"));
        Path go = FakeKubernetesTree.fakeGoRoot(tmp.resolve("go"), "1.15.15");
        UserError e = assertThrows(UserError.class, () -> build(tree, options(go)));
        assertTrue(e.getMessage().startsWith("building Kubernetes from " + tree + " failed (make exited 2): compiler exploded"), e.getMessage());
        assertTrue(!Files.exists(cache.resolve("source-builds")) || Files.list(cache.resolve("source-builds")).findAny().isEmpty(),
                "nothing half-written in the cache");
    }

    @Test
    void aMissingGoRootSaysHowToGiveOne() {
        UserError e = assertThrows(UserError.class, () -> GoToolchain.find(Optional.of(tmp.resolve("nope"))));
        assertEquals("--go-root " + tmp.resolve("nope") + " has no executable bin/go: give the directory Go is installed in (its GOROOT)",
                e.getMessage());
    }

    @Test
    void goVersionsParse() {
        assertEquals(Optional.of(new GoToolchain.GoVersion(1, 15, 15)), GoToolchain.parseVersionOutput("go version go1.15.15 linux/amd64"));
        assertEquals(Optional.of(new GoToolchain.GoVersion(1, 21, 0)), GoToolchain.parseVersionOutput("go version go1.21 linux/arm64"));
        assertEquals(Optional.of(new GoToolchain.GoVersion(1, 15, 5)), GoToolchain.GoVersion.tryParse("v1.15.5-1"));
        assertEquals(Optional.empty(), GoToolchain.parseVersionOutput("bash: go: not found"));
    }

    /** Every path in every layer of a docker-archive. */
    static List<String> layerFiles(Path archive) throws IOException {
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream outer = new TarArchiveInputStream(Files.newInputStream(archive))) {
            for (TarArchiveEntry e; (e = outer.getNextEntry()) != null; ) {
                if (e.getName().endsWith("/layer.tar")) {
                    TarArchiveInputStream inner = new TarArchiveInputStream(new NonClosing(outer));
                    for (TarArchiveEntry f; (f = inner.getNextEntry()) != null; ) {
                        names.add(f.getName().replaceFirst("^\\./", ""));
                    }
                }
            }
        }
        return names;
    }

    private static final class NonClosing extends java.io.FilterInputStream {
        NonClosing(InputStream in) {
            super(in);
        }

        @Override
        public void close() {
            // the outer archive stays open
        }
    }
}
