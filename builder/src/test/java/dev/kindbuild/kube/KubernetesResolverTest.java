package dev.kindbuild.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.progress.BuildEvent;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.sample.SampleRelease;
import dev.kindbuild.sample.SampleServer;
import com.sun.net.httpserver.HttpServer;
import dev.kindbuild.support.Sha256;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads from {@link SampleServer} on 127.0.0.1: no Docker, no internet. */
class KubernetesResolverTest {
    static final String V = "v1.31.2";
    static final String TARBALL_PATH = "/" + V + "/kubernetes-server-linux-amd64.tar.gz";

    @TempDir
    Path tmp;
    Path cache;
    SampleServer server;
    SampleRelease.Written release;
    final List<BuildEvent> events = new CopyOnWriteArrayList<>();
    final Progress progress = events::add;

    @BeforeEach
    void setUp() throws IOException {
        release = SampleRelease.writeRelease(tmp.resolve("www"), V, "amd64");
        server = SampleServer.start(tmp.resolve("www"));
        cache = tmp.resolve("cache");
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    KubernetesResolver resolver(KubernetesResolver.Options o) {
        return new KubernetesResolver(o, progress);
    }

    KubernetesResolver.Options options() {
        return KubernetesResolver.Options.defaults("amd64").withCacheDir(cache);
    }

    KubernetesSource release() {
        return KubernetesSource.detect(V, Optional.empty(), server.baseUri());
    }

    @Test
    void releaseIsDownloadedVerifiedThenCached() throws Exception {
        KubernetesArtifacts a = resolver(options()).resolve(release(), tmp.resolve("work1"));
        assertEquals(V, a.version());
        assertEquals("amd64", a.arch());
        assertEquals(List.of("kubeadm", "kubelet", "kubectl"), List.copyOf(a.binaries().keySet()));
        assertEquals(4, a.imageTars().size());
        assertEquals(Optional.of(release.sha256()), a.tarballSha256());
        assertTrue(a.origin().contains("release " + V + " from " + server.baseUri()), a.origin());
        assertTrue(Files.isExecutable(a.binary("kubeadm")));
        // extracted once into the cache, whole, with the release's own file times (a daemonless build's image time)
        assertTrue(a.binary("kubeadm").startsWith(cache.resolve("releases").resolve(release.sha256())), a.binary("kubeadm").toString());
        assertTrue(Files.getLastModifiedTime(a.binary("kubeadm")).toMillis() < System.currentTimeMillis() - 60_000,
                "kubeadm has the tarball's mtime, not the extraction's");
        assertEquals(List.of(release.sha256()), cacheEntries());
        assertEquals(1, server.requests(TARBALL_PATH));
        assertEquals(1, server.requests(TARBALL_PATH + ".sha256"));
        assertTrue(events.stream().anyMatch(e -> e instanceof BuildEvent.Bytes), "bytes events during the download");
        assertTrue(succeeded("Downloading kubernetes-server-linux-amd64.tar.gz").note().contains("sha256 verified"));

        events.clear();
        KubernetesArtifacts again = resolver(options()).resolve(release(), tmp.resolve("work2"));
        assertEquals(V, again.version());
        assertEquals(1, server.requests(TARBALL_PATH), "the cached tarball is not transferred again");
        assertEquals(2, server.requests(TARBALL_PATH + ".sha256"));
        assertFalse(events.stream().anyMatch(e -> e instanceof BuildEvent.Bytes), "no bytes transferred");
        assertEquals("cached", succeeded("Downloading kubernetes-server-linux-amd64.tar.gz").note());
        assertTrue(events.stream().anyMatch(e -> e instanceof BuildEvent.StepSucceeded s
                && s.step().equals("Extracting Kubernetes binaries and images (cached)")), "not extracted again");
        assertEquals(a.binaries(), again.binaries());

        // noCache bypasses the read
        KubernetesArtifacts uncached = resolver(options().withNoCache(true)).resolve(release(), tmp.resolve("work3"));
        assertTrue(uncached.binary("kubeadm").startsWith(tmp.resolve("work3")));
        assertEquals(2, server.requests(TARBALL_PATH));
        assertEquals(List.of(release.sha256()), cacheEntries());
    }

    /** A CI build laid out as dl.k8s.io/ci has it: the build under ci/<version>/, markers beside it. */
    static final String CI_V = "v1.37.1-alpha.0.12+0123456789abcd";

    private SampleRelease.Written ciBuild(String... markers) throws IOException {
        SampleRelease.Written w = SampleRelease.writeRelease(tmp.resolve("www/ci"), CI_V, "amd64");
        for (String m : markers) {
            Files.writeString(tmp.resolve("www/ci/" + m + ".txt"), CI_V + "\n");
        }
        return w;
    }

    @Test
    void ciMarkerIsReadThenItsBuildDownloadedVerified() throws IOException {
        SampleRelease.Written w = ciBuild("latest", "latest-1.37");
        KubernetesResolver resolver = resolver(options());
        KubernetesSource pinned = resolver.pin(KubernetesSource.detect("ci/latest-1.37", Optional.empty(), server.baseUri()));
        assertEquals(new KubernetesSource.CiBuild("ci/latest-1.37", CI_V, server.baseUri()), pinned);
        assertEquals(1, server.requests("/ci/latest-1.37.txt"));
        assertEquals(0, server.requests("/ci/" + CI_V + "/kubernetes-server-linux-amd64.tar.gz"), "pinning downloads nothing big");

        KubernetesArtifacts a = resolver.resolve(pinned, tmp.resolve("w"));
        assertEquals(CI_V, a.version());
        assertEquals(Optional.of(w.sha256()), a.tarballSha256());
        assertTrue(a.origin().startsWith("CI build " + CI_V + " (ci/latest-1.37) from " + server.baseUri()), a.origin());
        assertEquals(1, server.requests("/ci/" + CI_V + "/kubernetes-server-linux-amd64.tar.gz"));
        assertEquals(1, server.requests("/ci/" + CI_V + "/kubernetes-server-linux-amd64.tar.gz.sha256"), "verified against the published digest");
        assertEquals(1, server.requests("/ci/latest-1.37.txt"), "the marker is read once");

        // An unpinned marker (`--type ci latest`) is read as part of resolving.
        KubernetesArtifacts again = resolver.resolve(KubernetesSource.detect("latest", Optional.of("ci"), server.baseUri()), tmp.resolve("w2"));
        assertEquals(CI_V, again.version());
        assertEquals(1, server.requests("/ci/latest.txt"));
    }

    @Test
    void aMissingOrWrongMarkerIsOneLine() throws IOException {
        ciBuild();
        KubernetesResolver resolver = resolver(options());
        UserError missing = assertThrows(UserError.class,
                () -> resolver.pin(KubernetesSource.detect("ci/latest-1.99", Optional.empty(), server.baseUri())));
        assertEquals("there is no latest-1.99.txt at " + server.baseUri() + "/ci/latest-1.99.txt (HTTP 404): "
                + "check the marker's name and --k8s-release-url", missing.getMessage());

        Files.writeString(tmp.resolve("www/ci/latest.txt"), "<html>not found</html>\n");
        UserError garbage = assertThrows(UserError.class,
                () -> resolver.pin(KubernetesSource.detect("ci/latest", Optional.empty(), server.baseUri())));
        assertEquals(server.baseUri() + "/ci/latest.txt holds \"<html>not found</html>\", not a Kubernetes version: "
                + "check the marker's name and --k8s-release-url", garbage.getMessage());
        assertEquals(Map.of("/ci/latest-1.99.txt", 1, "/ci/latest.txt", 1), server.requestCounts(), "nothing else was fetched");
    }

    @Test
    void aMarkerNamingAnotherBuildThanTheTarballHoldsIsRefused() throws IOException {
        ciBuild();
        // The marker says one build, the tarball under that name holds another: never an image named after the wrong one.
        String other = "v1.37.1-alpha.0.13+fedcba9876543210";
        Path dir = Files.createDirectories(tmp.resolve("www/ci/" + other));
        Files.copy(tmp.resolve("www/ci/" + CI_V + "/kubernetes-server-linux-amd64.tar.gz"), dir.resolve("kubernetes-server-linux-amd64.tar.gz"));
        Files.copy(tmp.resolve("www/ci/" + CI_V + "/kubernetes-server-linux-amd64.tar.gz.sha256"), dir.resolve("kubernetes-server-linux-amd64.tar.gz.sha256"));
        Files.writeString(tmp.resolve("www/ci/latest.txt"), other);
        UserError e = assertThrows(UserError.class, () -> resolver(options())
                .resolve(KubernetesSource.detect("ci/latest", Optional.empty(), server.baseUri()), tmp.resolve("w")));
        assertTrue(e.getMessage().startsWith("asked for Kubernetes " + other + " but the tarball from "), e.getMessage());
        assertTrue(e.getMessage().endsWith(" holds " + CI_V), e.getMessage());
    }

    @Test
    void pinnedDigestNeedsNoChecksumFileAndMakesACacheHitFree() {
        server.checksumMode(SampleServer.ChecksumMode.MISSING);
        var o = options().withExpectedSha256(Optional.of("sha256:" + release.sha256()));
        resolver(o).resolve(release(), tmp.resolve("w1"));
        resolver(o).resolve(release(), tmp.resolve("w2"));
        assertEquals(Map.of(TARBALL_PATH, 1), server.requestCounts());
    }

    @Test
    void checksumMismatchLeavesNothingBehind() throws Exception {
        server.serveWrongChecksums(true);
        URI url = URI.create("http://alice:s3cret@127.0.0.1:" + server.port() + TARBALL_PATH);
        KubernetesSource source = KubernetesSource.detect(url.toString(), Optional.empty(), null);
        UserError e = assertThrows(UserError.class, () -> resolver(options()).resolve(source, tmp.resolve("w")));
        String m = e.getMessage();
        assertTrue(m.startsWith("checksum mismatch for " + server.uri(TARBALL_PATH) + ": expected sha256 "), m);
        assertTrue(m.endsWith(", got " + release.sha256()), m);
        assertFalse(m.contains("s3cret") || m.contains("alice"), m);
        assertEquals(List.of(), cacheEntries(), "no cache entry and no temp file");
        assertFalse(Files.exists(tmp.resolve("w/kubernetes")), "nothing extracted");
        BuildEvent.StepFailed failed = (BuildEvent.StepFailed) events.stream()
                .filter(ev -> ev instanceof BuildEvent.StepFailed).findFirst().orElseThrow();
        assertFalse(failed.reason().contains("s3cret"));
    }

    @Test
    void pinnedDigestMismatch() {
        var o = options().withExpectedSha256(Optional.of("0".repeat(64)));
        UserError e = assertThrows(UserError.class, () -> resolver(o).resolve(release(), tmp.resolve("w")));
        assertTrue(e.getMessage().contains("expected sha256 " + "0".repeat(64) + ", got " + release.sha256()), e.getMessage());
        assertEquals(List.of(), cacheEntries());
    }

    @Test
    void missingChecksumFileIsAnErrorNamingTheFlag() {
        server.checksumMode(SampleServer.ChecksumMode.MISSING);
        UserError e = assertThrows(UserError.class, () -> resolver(options()).resolve(release(), tmp.resolve("w")));
        assertTrue(e.getMessage().startsWith("no checksum published at " + server.uri(TARBALL_PATH + ".sha256") + " (HTTP 404)"),
                e.getMessage());
        assertTrue(e.getMessage().contains("--k8s-sha256"), e.getMessage());
        assertEquals(List.of(), cacheEntries(), "nothing downloaded without a checksum");
    }

    @Test
    void aVersionTheServerDoesNotHaveIsSaidSoNotAMissingChecksum() {
        var src = KubernetesSource.detect("v1.99.0", Optional.empty(), server.baseUri());
        UserError e = assertThrows(UserError.class, () -> resolver(options()).resolve(src, tmp.resolve("w")));
        assertEquals("there is no kubernetes-server-linux-amd64.tar.gz at " + server.uri("/v1.99.0/kubernetes-server-linux-amd64.tar.gz")
                + " (HTTP 404): check that the version exists for this architecture on the release server (--k8s-release-url, --arch)",
                e.getMessage());
        // With a pinned digest the checksum file is not asked for; the missing tarball is still named as such.
        var pinned = options().withExpectedSha256(Optional.of("a".repeat(64)));
        UserError p = assertThrows(UserError.class, () -> resolver(pinned).resolve(src, tmp.resolve("w2")));
        assertTrue(p.getMessage().startsWith("there is no kubernetes-server-linux-amd64.tar.gz at "), p.getMessage());
        assertEquals(List.of(), cacheEntries());
    }

    @Test
    void aPinnedDigestOfAnotherVersionsCachedTarballIsRefused() {
        resolver(options()).resolve(release(), tmp.resolve("w1"));
        var src = KubernetesSource.detect("v1.99.0", Optional.empty(), server.baseUri());
        var o = options().withExpectedSha256(Optional.of(release.sha256()));
        UserError e = assertThrows(UserError.class, () -> resolver(o).resolve(src, tmp.resolve("w2")));
        assertTrue(e.getMessage().startsWith("asked for Kubernetes v1.99.0 but the tarball from "), e.getMessage());
        assertTrue(e.getMessage().contains(" holds " + V + " (check --k8s-sha256"), e.getMessage());
    }

    @Test
    void plainHttpToARemoteHostIsRefusedBeforeConnecting() {
        var src = KubernetesSource.detect("v1.31.2", Optional.empty(), URI.create("http://mirror.invalid"));
        UserError e = assertThrows(UserError.class, () -> resolver(options()).resolve(src, tmp.resolve("w")));
        assertTrue(e.getMessage().startsWith("refusing to download over plain http from mirror.invalid"), e.getMessage());
        assertTrue(events.isEmpty(), "refused before any step started: " + events);
    }

    @Test
    void connectionRefusedIsAUserErrorWithoutCredentials() throws Exception {
        int port = server.port();
        server.close();
        var src = KubernetesSource.detect("http://u:pw123@127.0.0.1:" + port + "/x.tar.gz", Optional.empty(), null);
        UserError e = assertThrows(UserError.class, () -> resolver(options()).resolve(src, tmp.resolve("w")));
        assertTrue(e.getMessage().startsWith("download of http://127.0.0.1:" + port + "/x.tar.gz.sha256 failed"), e.getMessage());
        assertFalse(e.getMessage().contains("pw123"));
        server = SampleServer.start(tmp.resolve("www"));
    }

    @Test
    void redirectsAreFollowedAndEveryHopIsChecked() throws Exception {
        HttpServer redirector = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        redirector.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            String target = path.startsWith("/good/") ? server.uri(path.substring(5)).toString()
                    : "http://mirror.invalid" + path.substring(4);
            ex.getResponseHeaders().set("Location", target);
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        redirector.start();
        try {
            String base = "http://127.0.0.1:" + redirector.getAddress().getPort();
            var good = KubernetesSource.detect(V, Optional.empty(), URI.create(base + "/good"));
            assertEquals(V, resolver(options()).resolve(good, tmp.resolve("w")).version());
            assertEquals(1, server.requests(TARBALL_PATH));

            var bad = KubernetesSource.detect(V, Optional.empty(), URI.create(base + "/bad"));
            UserError e = assertThrows(UserError.class, () -> resolver(options()).resolve(bad, tmp.resolve("w2")));
            assertTrue(e.getMessage().startsWith(base + "/bad/" + V + "/kubernetes-server-linux-amd64.tar.gz.sha256 redirected to "
                    + "http://mirror.invalid/" + V + "/kubernetes-server-linux-amd64.tar.gz.sha256; refusing to download over plain http"),
                    e.getMessage());
        } finally {
            redirector.stop(0);
        }
    }

    @Test
    void localTarball() {
        var src = KubernetesSource.detect(release.tarball().toString(), Optional.empty(), null);
        KubernetesArtifacts a = resolver(options()).resolve(src, tmp.resolve("w"));
        assertEquals(V, a.version());
        assertEquals(Optional.of(release.sha256()), a.tarballSha256());
        assertEquals(4, a.imageTars().size());
        assertEquals(List.of(), cacheEntries(), "local files are not copied into the cache");
        var pinnedWrong = options().withExpectedSha256(Optional.of("1".repeat(64)));
        assertThrows(UserError.class, () -> resolver(pinnedWrong).resolve(src, tmp.resolve("w2")));
    }

    @Test
    void binariesDirectory() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("bins"));
        for (String b : KubernetesSource.BINARIES) {
            Files.writeString(dir.resolve(b), "#!/bin/sh\n");
        }
        Files.writeString(dir.resolve("kube-proxy.tar"), "img");
        Files.writeString(dir.resolve("kube-apiserver.tar"), "img");
        var src = KubernetesSource.detect(dir.toString(), Optional.empty(), null);

        UserError e = assertThrows(UserError.class, () -> resolver(options()).resolve(src, tmp.resolve("w")));
        assertTrue(e.getMessage().startsWith("cannot tell the Kubernetes version of " + dir + ": add a file " + dir.resolve("version")),
                e.getMessage());
        assertTrue(e.getMessage().endsWith(", or give it with --k8s-version vX.Y.Z"), "name the flag that is accepted: " + e.getMessage());

        KubernetesArtifacts given = resolver(options().withFallbackVersion(Optional.of("1.30.1"))).resolve(src, tmp.resolve("w"));
        assertEquals("v1.30.1", given.version());

        Files.writeString(dir.resolve("kube-apiserver.docker_tag"), "v1.29.3");
        assertEquals("v1.29.3", resolver(options()).resolve(src, tmp.resolve("w")).version());

        Files.writeString(dir.resolve("version"), "v1.31.0\n");
        KubernetesArtifacts a = resolver(options()).resolve(src, tmp.resolve("w"));
        assertEquals("v1.31.0", a.version());
        assertEquals(dir.resolve("kubelet"), a.binary("kubelet"));
        assertEquals(List.of(dir.resolve("kube-apiserver.tar"), dir.resolve("kube-proxy.tar")), a.imageTars());
        assertEquals(Optional.empty(), a.tarballSha256());
    }

    @Test
    void aChangedFileInTheExtractedReleaseIsExtractedAgainNotUsed() throws Exception {
        KubernetesArtifacts a = resolver(options()).resolve(release(), tmp.resolve("work1"));
        String good = Sha256.of(a.binary("kubelet"));
        dev.kindbuild.testing.FileDamage.flipByte(a.binary("kubelet"), Files.size(a.binary("kubelet")) / 2);

        events.clear();
        KubernetesArtifacts again = resolver(options()).resolve(release(), tmp.resolve("work2"));
        assertEquals(good, Sha256.of(again.binary("kubelet")), "extracted again from the verified tarball");
        assertTrue(events.stream().anyMatch(e -> e instanceof BuildEvent.Notice n && n.line().contains("changed since it was made")
                && n.line().contains("bin/kubelet")), events.toString());
        assertTrue(events.stream().noneMatch(e -> e instanceof BuildEvent.StepSucceeded st
                && st.step().equals("Extracting Kubernetes binaries and images (cached)")), "not taken from the cache");
    }

    @Test
    void aDamagedCachedDownloadIsOneErrorAndIsRemovedSoTheNextRunDownloadsIt() throws Exception {
        resolver(options()).resolve(release(), tmp.resolve("work1"));
        dev.kindbuild.lifecycle.TempPaths.deleteTree(cache.resolve("releases")); // it must be extracted again
        Path cached = cache.resolve("downloads/sha256").resolve(release.sha256());
        dev.kindbuild.testing.FileDamage.flipByte(cached, Files.size(cached) / 2);

        UserError e = assertThrows(UserError.class, () -> resolver(options()).resolve(release(), tmp.resolve("work2")));
        assertTrue(e.getMessage().contains("the cached download " + cached) && e.getMessage().contains("is damaged")
                && e.getMessage().contains("removed it"), e.getMessage());
        assertFalse(Files.exists(cached));
        try (Stream<Path> s = Files.list(cache.resolve("releases"))) {
            assertEquals(List.of(), s.toList(), "nothing extracted from it is kept");
        }

        KubernetesArtifacts again = resolver(options()).resolve(release(), tmp.resolve("work3"));
        assertEquals(V, again.version());
        assertEquals(2, server.requests(TARBALL_PATH), "downloaded again");
    }

    private BuildEvent.StepSucceeded succeeded(String step) {
        return events.stream().filter(e -> e instanceof BuildEvent.StepSucceeded s && s.step().equals(step))
                .map(e -> (BuildEvent.StepSucceeded) e).reduce((a, b) -> b).orElseThrow(() -> new AssertionError(events.toString()));
    }

    private List<String> cacheEntries() {
        Path dir = cache.resolve("downloads/sha256");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
