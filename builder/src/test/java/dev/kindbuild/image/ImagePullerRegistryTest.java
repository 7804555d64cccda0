package dev.kindbuild.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import dev.kindbuild.progress.BuildEvent;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.sample.SampleImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Pulls through a mirror from a scratch registry on loopback; checks names, digests, platform, cache, errors. */
class ImagePullerRegistryTest {

    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    static final ImageRef PAUSE = ImageRef.parse("registry.k8s.io/pause:3.10");
    static final ImageRef KINDNETD = ImageRef.parse("docker.io/kindest/kindnetd:v20250512-df8de77b");
    static String pauseDigest;
    static String kindnetdDigest;

    @TempDir
    Path tmp;

    @BeforeAll
    static void pushSamples() {
        SampleImages samples = new SampleImages(RegistryAccess.defaults(), Progress.SILENT);
        pauseDigest = samples.push(ImageRef.parse(REGISTRY.host() + "/pause:3.10"), "amd64").digest();
        kindnetdDigest = samples.push(ImageRef.parse(REGISTRY.host() + "/kindest/kindnetd:v20250512-df8de77b"), "amd64").digest();
        samples.push(ImageRef.parse(REGISTRY.host() + "/arm-only:1"), "arm64");
    }

    RegistryMirrors mirrors() {
        return RegistryMirrors.parse(List.of("registry.k8s.io=" + REGISTRY.host(), "docker.io=" + REGISTRY.host()));
    }

    ImagePuller puller(Path cache, boolean noCache, Progress progress) {
        return new ImagePuller(RegistryAccess.defaults(), mirrors(), ImageCache.at(cache), noCache, progress);
    }

    @Test
    void pullsThroughMirrorUnderOriginalName() throws Exception {
        List<BuildEvent> events = Collections.synchronizedList(new ArrayList<>());
        PulledImage p = puller(tmp.resolve("cache"), false, events::add).pull(PAUSE, "amd64", tmp.resolve("out"));

        assertEquals(tmp.resolve("out/registry.k8s.io_pause_3.10.tar"), p.tarball());
        assertEquals(pauseDigest, p.digest());
        assertEquals(pauseDigest, p.platformDigest());
        assertEquals(REGISTRY.host(), p.source().registry());
        assertFalse(p.fromCache());
        assertEquals(Files.size(p.tarball()), p.size());
        assertEquals(List.of("registry.k8s.io/pause:3.10"), DockerArchive.repoTags(p.tarball()));
        assertEquals("amd64", DockerArchive.architecture(p.tarball()));
        assertEquals("registry.k8s.io/pause:3.10@" + pauseDigest, p.pinned().toString());
        assertTrue(events.stream().anyMatch(e -> e instanceof BuildEvent.StepSucceeded), events::toString);
        try (var files = Files.list(tmp.resolve("out"))) {
            assertEquals(1, files.count(), "no temp files left behind");
        }

        // Independent checks with skopeo, when installed.
        JsonNode archive = skopeo("docker-archive:" + p.tarball());
        if (archive != null) {
            assertEquals("amd64", archive.path("Architecture").asText());
            assertEquals("linux", archive.path("Os").asText());
            JsonNode registry = skopeo("docker://" + REGISTRY.host() + "/pause:3.10");
            assertEquals(pauseDigest, registry.path("Digest").asText());
        }
    }

    @Test
    void dockerHubNamesKeepTheirFullName() {
        PulledImage p = puller(tmp.resolve("cache"), false, Progress.SILENT).pull(KINDNETD, "amd64", tmp);
        assertEquals(kindnetdDigest, p.digest());
        assertEquals("docker.io_kindest_kindnetd_v20250512-df8de77b.tar", p.tarball().getFileName().toString());
        assertEquals(List.of("docker.io/kindest/kindnetd:v20250512-df8de77b"), DockerArchive.repoTags(p.tarball()));
    }

    @Test
    void secondPullTransfersNoLayers() {
        Path cache = tmp.resolve("cache");
        ImagePuller puller = puller(cache, false, Progress.SILENT);
        PulledImage first = puller.pull(KINDNETD, "amd64", tmp.resolve("one"));
        long blobsAfterFirst = REGISTRY.blobGets();
        long manifestsAfterFirst = REGISTRY.countGets("/v2/kindest/kindnetd/manifests/[^ ]+");

        PulledImage second = puller(cache, false, Progress.SILENT).pull(KINDNETD, "amd64", tmp.resolve("two"));

        assertTrue(second.fromCache());
        assertEquals(first.digest(), second.digest());
        assertEquals(blobsAfterFirst, REGISTRY.blobGets(), "no blob was fetched on the cached pull");
        assertEquals(manifestsAfterFirst + 1, REGISTRY.countGets("/v2/kindest/kindnetd/manifests/[^ ]+"),
                "one manifest request resolves the tag");
        assertEquals(DockerArchive.imageDigestOrId(first.tarball()), DockerArchive.imageDigestOrId(second.tarball()));

        // Pinned by digest and cached: the registry is not asked at all.
        long requests = REGISTRY.countGets("/v2/.*");
        PulledImage pinned = puller(cache, false, Progress.SILENT).pull(second.pinned(), "amd64", tmp.resolve("three"));
        assertTrue(pinned.fromCache());
        assertEquals(requests, REGISTRY.countGets("/v2/.*"));
        assertEquals(List.of("docker.io/kindest/kindnetd:v20250512-df8de77b"), DockerArchive.repoTags(pinned.tarball()));
    }

    @Test
    void noCacheBypassesTheCache() {
        Path cache = tmp.resolve("cache");
        puller(cache, false, Progress.SILENT).pull(PAUSE, "amd64", tmp.resolve("one"));
        long blobs = REGISTRY.blobGets();
        PulledImage again = puller(cache, true, Progress.SILENT).pull(PAUSE, "amd64", tmp.resolve("two"));
        assertFalse(again.fromCache());
        assertTrue(REGISTRY.blobGets() > blobs, "noCache downloads the layers again");
        assertEquals(List.of("registry.k8s.io/pause:3.10"), DockerArchive.repoTags(again.tarball()));
    }

    @Test
    void missingImageNamesImageAndMirror() {
        ImageRef missing = ImageRef.parse("registry.k8s.io/etcd:3.5.15-0");
        UserError e = assertThrows(UserError.class,
                () -> puller(tmp.resolve("cache"), false, Progress.SILENT).pull(missing, "amd64", tmp));
        assertTrue(e.getMessage().contains("registry.k8s.io/etcd:3.5.15-0"), e.getMessage());
        assertTrue(e.getMessage().contains(REGISTRY.host()), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void wrongArchitectureIsRefused() {
        ImageRef armOnly = ImageRef.parse(REGISTRY.host() + "/arm-only:1");
        UserError e = assertThrows(UserError.class,
                () -> puller(tmp.resolve("cache"), false, Progress.SILENT).pull(armOnly, "amd64", tmp));
        assertTrue(e.getMessage().contains("arm64") && e.getMessage().contains(armOnly.toString()), e.getMessage());
    }

    @Test
    void unreachableMirrorIsOneClearError() {
        RegistryMirrors dead = RegistryMirrors.parse(List.of("registry.k8s.io=127.0.0.1:9"));
        ImagePuller p = new ImagePuller(RegistryAccess.defaults(), dead, ImageCache.at(tmp.resolve("c")), false, Progress.SILENT);
        UserError e = assertThrows(UserError.class, () -> p.pull(PAUSE, "amd64", tmp));
        assertTrue(e.getMessage().contains("registry.k8s.io/pause:3.10") && e.getMessage().contains("127.0.0.1:9"), e.getMessage());
    }

    @Test
    void pullsAreDeterministic() throws Exception {
        PulledImage a = puller(tmp.resolve("c1"), true, Progress.SILENT).pull(PAUSE, "amd64", tmp.resolve("a"));
        PulledImage b = puller(tmp.resolve("c2"), true, Progress.SILENT).pull(PAUSE, "amd64", tmp.resolve("b"));
        assertEquals(DockerArchive.imageDigestOrId(a.tarball()), DockerArchive.imageDigestOrId(b.tarball()));
        assertEquals(DockerArchive.sha256(Files.readAllBytes(a.tarball())), DockerArchive.sha256(Files.readAllBytes(b.tarball())));
        assertNotEquals(0, a.size());
    }

    @Test
    void manifestListPicksTheArchAndPinsTheListDigest() throws Exception {
        String list = pushList("multi", "1", List.of("amd64", "arm64"));
        ImagePuller puller = puller(tmp.resolve("cache"), false, Progress.SILENT);
        ImageRef ref = ImageRef.parse("registry.k8s.io/multi:1");
        PulledImage amd = puller.pull(ref, "amd64", tmp.resolve("amd"));
        PulledImage arm = puller.pull(ref, "arm64", tmp.resolve("arm"));
        assertEquals(list, amd.digest());
        assertEquals(list, arm.digest());
        assertNotEquals(amd.platformDigest(), arm.platformDigest());
        assertEquals("amd64", DockerArchive.architecture(amd.tarball()));
        assertEquals("arm64", DockerArchive.architecture(arm.tarball()));
        assertEquals(List.of("registry.k8s.io/multi:1"), DockerArchive.repoTags(arm.tarball()));
        PulledImage pinned = puller.pull(amd.pinned(), "amd64", tmp.resolve("pinned"));
        assertEquals(amd.platformDigest(), pinned.platformDigest());
    }

    @Test
    void manifestListWithoutTheArchNamesWhatItHas() throws Exception {
        pushList("amdonly", "1", List.of("amd64"));
        UserError e = assertThrows(UserError.class, () -> puller(tmp.resolve("cache"), false, Progress.SILENT)
                .pull(ImageRef.parse("registry.k8s.io/amdonly:1"), "arm64", tmp));
        assertTrue(e.getMessage().contains("amdonly:1") && e.getMessage().contains("linux/arm64")
                && e.getMessage().contains("linux/amd64"), e.getMessage());
    }

    /** Pushes one sample image per arch to REPO:TAG-ARCH, then a Docker manifest list over them as REPO:TAG. */
    static String pushList(String repo, String tag, List<String> arches) throws Exception {
        SampleImages samples = new SampleImages(RegistryAccess.defaults(), Progress.SILENT);
        StringBuilder manifests = new StringBuilder();
        for (String arch : arches) {
            String digest = samples.push(ImageRef.parse(REGISTRY.host() + "/" + repo + ":" + tag + "-" + arch), arch).digest();
            java.net.HttpURLConnection head = (java.net.HttpURLConnection) java.net.URI.create(
                    "http://" + REGISTRY.host() + "/v2/" + repo + "/manifests/" + digest).toURL().openConnection();
            head.setRequestMethod("HEAD");
            head.setRequestProperty("Accept", "application/vnd.docker.distribution.manifest.v2+json");
            long size = head.getContentLengthLong();
            assertEquals(200, head.getResponseCode());
            manifests.append(manifests.length() == 0 ? "" : ",").append("{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",")
                    .append("\"size\":").append(size).append(",\"digest\":\"").append(digest)
                    .append("\",\"platform\":{\"architecture\":\"").append(arch).append("\",\"os\":\"linux\"}}");
        }
        byte[] body = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
                + "\"manifests\":[" + manifests + "]}").getBytes(StandardCharsets.UTF_8);
        java.net.HttpURLConnection put = (java.net.HttpURLConnection) java.net.URI.create(
                "http://" + REGISTRY.host() + "/v2/" + repo + "/manifests/" + tag).toURL().openConnection();
        put.setRequestMethod("PUT");
        put.setDoOutput(true);
        put.setRequestProperty("Content-Type", "application/vnd.docker.distribution.manifest.list.v2+json");
        put.getOutputStream().write(body);
        assertEquals(201, put.getResponseCode());
        return put.getHeaderField("Docker-Content-Digest");
    }

    /** skopeo inspect as JSON, or null when skopeo is not installed. */
    static JsonNode skopeo(String transportRef) throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/skopeo"))) {
            return null;
        }
        Process p = new ProcessBuilder("skopeo", "inspect", "--tls-verify=false", transportRef).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return new ObjectMapper().readTree(out);
    }
}
