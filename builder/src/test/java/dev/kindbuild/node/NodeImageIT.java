package dev.kindbuild.node;

import dev.kindbuild.testing.DockerBuilds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.node.ContentStoreLayout;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.kube.KubernetesResolver;
import dev.kindbuild.kube.KubernetesSource;
import dev.kindbuild.kube.ReleaseTarball;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.sample.SampleEnvironment;
import dev.kindbuild.sample.SampleImages;
import dev.kindbuild.sample.SampleRelease;
import dev.kindbuild.sample.SampleServer;
import dev.kindbuild.testing.ImageFiles;
import dev.kindbuild.testing.FakeKubernetesTree;
import dev.kindbuild.testing.ItTeardown;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestCache;
import dev.kindbuild.testing.TestEngine;
import dev.kindbuild.verify.Check;
import dev.kindbuild.verify.NodeVerifier;
import dev.kindbuild.verify.VerifyReport;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * `kind-build node-image` against the real engine: a sample Kubernetes release served on loopback, every image
 * pulled through mirrors from a scratch registry, the result booted offline by the verifier. Also every kind of
 * source, the cache, and failures that must leave nothing behind. The cache is private to this class
 * (KIND_BUILD_CACHE points at a temp dir); every image it tags is under kind-build-test/ and removed at the end.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeImageIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    private static final String V = "v1.31.2";
    private static final String TAG_PREFIX = "kind-build-test/node-it:" + Leaks.PID + "-";
    private static final String WORK_DIR_PREFIX = "kind-build-node-";
    private static final ObjectMapper JSON = new ObjectMapper();

    private DockerEngine engine;
    private String arch;
    private TestCache cache;
    private SampleEnvironment env;
    private Path tmp;
    private final Set<String> tags = new LinkedHashSet<>();
    private NodeImageResult first;

    @BeforeAll
    void setUp() throws IOException {
        engine = TestEngine.connect();
        arch = engine.facts().architecture();
        cache = TestCache.create();
        tmp = Files.createTempDirectory("kind-build-it-node-");
        RecordingProgress progress = new RecordingProgress();
        TestBaseImage.get(engine, false, progress);
        env = SampleEnvironment.start(V, arch, 0, REGISTRY.host(), progress);
    }

    /** Each test's images go when it ends (the e2e result is kept as a record, not as an image). */
    @AfterEach
    void removeImages() {
        if (engine != null) {
            tags.forEach(engine::removeImage);
            tags.clear();
        }
    }

    @AfterAll
    void tearDown() throws IOException {
        ItTeardown.run(engine, tags, env, cache, tmp);
    }

    // ---- 1. end to end ---------------------------------------------------------------------------------------------

    @Test
    @Order(1)
    void buildsFromAReleaseThroughMirrorsAndBootsOffline() throws Exception {
        RecordingProgress progress = new RecordingProgress();
        String tag = TAG_PREFIX + "e2e";
        first = DockerBuilds.run(engine, progress, request(release(), "e2e", List.of()));
        assertEquals(tag, first.image());
        assertEquals(V, first.version());
        assertEquals(TestBaseImage.TAG, first.baseImage());

        ImageInfo info = engine.inspectImage(tag).orElseThrow(() -> new AssertionError(tag + " was not tagged"));
        assertEquals(first.imageId(), info.id());
        assertEquals(List.of("/usr/local/bin/entrypoint", "/sbin/init"), info.entrypoint());
        assertEquals("SIGRTMIN+3", info.stopSignal(), "systemd in the node stops cleanly only on SIGRTMIN+3");
        Map<String, String> labels = info.labels();
        assertEquals(V, labels.get(NodeLayout.LABEL_K8S_VERSION), labels.toString());
        assertEquals(TestBaseImage.TAG, labels.get(NodeLayout.LABEL_BASE_IMAGE));
        assertEquals("node", labels.get(Labels.IMAGE_KIND));
        for (String containerOnly : List.of(Labels.CONTAINER, Labels.PID, Labels.PURPOSE, Labels.LEGACY_OWNER)) {
            assertEquals("", labels.getOrDefault(containerOnly, ""), containerOnly + " must not reach the image: " + labels);
        }
        assertEquals("", labels.getOrDefault(Labels.RECIPE_HASH, ""), "a node image must not look like a base image");
        for (String proxy : List.of("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")) {
            assertTrue(info.env().contains(proxy + "="), proxy + " not cleared: " + info.env());
        }
        assertTrue(info.env().stream().filter(e -> e.toLowerCase().contains("proxy=")).allMatch(e -> e.endsWith("=")), info.env().toString());

        // The names kubeadm and the manifests ask for — never the mirror's.
        Set<String> expected = new TreeSet<>(SampleRelease.kubeadmImages(V));
        expected.addAll(AddonManifests.bundled().images());
        List<ImageRecord> records;
        Map<String, Long> files;
        try (ImageFiles image = new ImageFiles(engine, tag)) {
            records = JSON.readValue(image.read(NodeLayout.IMAGES_LIST), new TypeReference<List<ImageRecord>>() {});
            files = image.list(NodeLayout.IMAGES_DIR);
            files.keySet().removeIf(entry -> entry.startsWith("blobs/")); // the layers, each once, beside the archives
            assertEquals(V, image.read(NodeLayout.VERSION_FILE), "kind reads /kind/version raw");
        }
        assertEquals(expected, names(records));
        assertEquals(first.images(), records, "the result lists what /kind/images.json lists");
        assertEquals(records.size(), files.size(), "one archive per image, no others: " + files);
        assertContentBlobs(first.image(), records);
        Map<String, String> pushed = env.pushed().stream()
                .collect(Collectors.toMap(p -> p.ref().withoutDigest().nameWithTag(), SampleImages.Pushed::digest));
        for (ImageRecord r : records) {
            assertFalse(r.name().contains(REGISTRY.host()), r.name());
            assertTrue(files.containsKey(r.file()) && r.bytes() > files.get(r.file()), r.file() + " in " + NodeLayout.IMAGES_DIR);
            assertTrue(labels.get(NodeLayout.LABEL_IMAGES).contains(r.name()), r.name() + " not in the images label");
            String kubeName = kubeImageName(r.name());
            if (kubeName != null) {
                assertEquals("release", r.source(), r.toString());
                assertEquals("", r.digest(), r.toString());
                assertEquals(SampleRelease.controlPlaneImage(kubeName, V, arch).configDigest(), r.configDigest(), r.toString());
            } else {
                assertEquals(REGISTRY.host(), r.source(), r.toString());
                String mirrorName = ImageRef.parse(r.name()).onRegistry(REGISTRY.host(), null).nameWithTag();
                assertEquals(pushed.get(mirrorName), r.digest(), "pinned at the digest the mirror holds: " + r);
            }
        }
        Leaks.assertNoContainers(engine);

        // Booted with no network: the loader imported and pinned every image, and one runs.
        RecordingProgress verifyProgress = new RecordingProgress();
        VerifyReport report = new NodeVerifier(engine, verifyProgress).run(tag, true);
        assertTrue(report.offline());
        assertTrue(report.passed(), describe(report));
        Map<String, Check> checks = byName(report);
        assertTrue(checks.get("image loader").ok());
        assertTrue(checks.get("versions").detail().contains("kubeadm=" + V), checks.get("versions").detail());
        for (String image : expected) {
            Check c = checks.get("image " + image);
            assertNotNull(c, "no check of " + image + " in " + checks.keySet());
            assertTrue(c.ok() && c.detail().startsWith("pinned"), c.toString());
        }
        assertTrue(checks.keySet().stream().anyMatch(n -> n.startsWith("run registry.k8s.io/pause:")), checks.keySet().toString());
        Leaks.assertNoContainers(engine);
    }

    // ---- 6. the cache ---------------------------------------------------------------------------------------------

    @Test
    @Order(2)
    void aSecondIdenticalBuildTransfersNothing() {
        assertNotNull(first, "needs the end-to-end build");
        String tarball = "/" + V + "/" + KubernetesResolver.serverTarballName(arch);
        int tarballGets = env.server().requests(tarball);
        long blobGets = REGISTRY.blobGets();
        assertEquals(1, tarballGets, env.server().requestCounts().toString());
        assertTrue(blobGets > 0, "the first build pulled layers from the registry");
        String sha = Sha256.parseDigest(httpGet(env.releaseUrl() + tarball + ".sha256"), "published sha256");
        assertTrue(cache.files().contains("downloads/sha256/" + sha), "the build used the test's cache: " + cache.files());

        RecordingProgress progress = new RecordingProgress();
        NodeImageResult again = DockerBuilds.run(engine, progress, request(release(), "e2e-again", List.of()));

        assertEquals(tarballGets, env.server().requests(tarball), "the release tarball was downloaded again");
        assertEquals(blobGets, REGISTRY.blobGets(), "layers were downloaded again");
        assertEquals(first.images(), again.images());
        List<String> steps = progress.succeeded();
        assertTrue(steps.contains("Downloading " + KubernetesResolver.serverTarballName(arch) + " (cached)"), steps.toString());
        List<String> pulls = steps.stream().filter(s -> s.startsWith("Pulling ") && !s.startsWith("Pulling images")).toList();
        long pulled = first.images().stream().filter(r -> !r.source().equals("release")).count();
        assertEquals(pulled, pulls.size(), steps.toString());
        assertTrue(pulls.stream().allMatch(s -> s.contains("(cached, sha256:")), pulls.toString());
    }

    // ---- 2. every source type -------------------------------------------------------------------------------------

    @Test
    @Order(3)
    void buildsFromATarballUrl() throws Exception {
        String version = "v1.31.5";
        Path root = Files.createDirectories(tmp.resolve("url-server"));
        SampleRelease.writeRelease(root, version, arch);
        try (SampleServer server = SampleServer.start(root)) {
            String path = "/" + version + "/" + KubernetesResolver.serverTarballName(arch);
            buildFrom(server.uri(path).toString(), "url", version, "url");
            assertEquals(1, server.requests(path));
            assertEquals(1, server.requests(path + ".sha256"));
        }
    }

    @Test
    @Order(4)
    void buildsFromALocalTarball() throws Exception {
        String version = "v1.31.1";
        SampleRelease.Written written = SampleRelease.write(tmp.resolve("file"), version, arch);
        List<String> cacheBefore = cache.files();
        buildFrom(written.tarball().toString(), "file", version, "file");
        // The image store (under the same cache dir) receives the release's images; the tarball itself is not kept.
        assertEquals(List.of(), added(cacheBefore, cache.files()).stream().filter(f -> !f.startsWith("store/")).toList(),
                "a local tarball is not copied into the cache");
    }

    @Test
    @Order(5)
    void buildsFromABinariesDirectory() throws Exception {
        String version = "v1.31.3";
        Path dir = Files.createDirectories(tmp.resolve("bins"));
        ReleaseTarball.Contents contents = unpackedRelease(version, "dir-release");
        for (Path p : contents.binaries().values()) {
            Files.copy(p, dir.resolve(p.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
        }
        for (Path p : contents.imageTars()) {
            Files.copy(p, dir.resolve(p.getFileName()));
        }
        Files.writeString(dir.resolve("version"), version + "\n");
        buildFrom(dir.toString(), "dir", version, "dir");
    }

    @Test
    @Order(6)
    void buildsFromASourceTreeWithMake() throws Exception {
        // A version with build metadata, as a source build has: image tags carry '_' where the version has '+'.
        String version = "v1.31.4-alpha.0.7+0123456789abcd";
        ReleaseTarball.Contents built = unpackedRelease(version, "source-artifacts");
        Path root = FakeKubernetesTree.write(tmp.resolve("kubernetes"), "v1.23.0-go1.17-bullseye.0", "v1.0.2",
                built.binaries());
        Path go = FakeKubernetesTree.fakeGoRoot(tmp.resolve("go"), "1.23.4");

        KubernetesSource source = KubernetesSource.detect(root.toString(), Optional.empty(), null);
        assertEquals("source", source.type());
        NodeImageRequest plain = request(source, "source", List.of());
        NodeImageRequest request = new NodeImageRequest(plain.source(), plain.image(), plain.baseImage(), plain.arch(), plain.mirrors(),
                plain.access(), plain.extraImages(), false, false, Optional.empty(), Optional.of(version), Optional.of(go));
        NodeImageResult result = DockerBuilds.run(engine, new RecordingProgress(), request);
        assertEquals(version, result.version());
        assertEquals(1, FakeKubernetesTree.makeCalls(root).size());
        assertTrue(FakeKubernetesTree.makeCalls(root).get(0).contains("|linux/" + arch + "|0|"), FakeKubernetesTree.makeCalls(root).toString());
        // The control-plane images kind-build packaged from the built binaries are in the node under kubeadm's names.
        assertTrue(result.images().stream().anyMatch(r -> r.name().endsWith("/kube-proxy:" + version.replace('+', '_'))
                && r.source().equals("release")), result.images().toString());

        // kubeadm, kubelet and /kind/version agree on the '+' version, and every image loads with no network.
        VerifyReport report = new NodeVerifier(engine, new RecordingProgress()).run(result.image(), true);
        assertTrue(report.passed(), describe(report));
        assertTrue(byName(report).get("versions").detail().contains("kubeadm=" + version), describe(report));
        Leaks.assertNoContainers(engine);
    }

    // ---- 3., 4. failures leave nothing behind ---------------------------------------------------------------------

    @Test
    @Order(7)
    void checksumMismatchIsOneClearErrorAndLeavesNothing() {
        String url = env.releaseUrl() + "/" + V + "/" + KubernetesResolver.serverTarballName(arch);
        String published = Sha256.parseDigest(httpGet(url + ".sha256"), "published sha256");
        String wrong = Sha256.of(("not " + published).getBytes(StandardCharsets.UTF_8));
        List<String> cacheBefore = cache.files();
        Set<String> tmpBefore = Leaks.tempEntries(WORK_DIR_PREFIX);
        String tag = TAG_PREFIX + "bad-checksum";

        env.server().checksumMode(SampleServer.ChecksumMode.WRONG);
        UserError e;
        try {
            e = assertThrows(UserError.class,
                    () -> DockerBuilds.run(engine, new RecordingProgress(), request(release(), "bad-checksum", List.of())));
        } finally {
            env.server().checksumMode(SampleServer.ChecksumMode.CORRECT);
        }
        String message = e.getMessage();
        assertFalse(message.contains("\n"), message);
        assertTrue(message.startsWith("checksum mismatch for " + url + ": "), message);
        assertTrue(message.contains("expected sha256 " + wrong), message);
        assertTrue(message.contains("got " + published), message);

        assertTrue(engine.inspectImage(tag).isEmpty(), tag + " was tagged");
        Leaks.assertNoContainers(engine);
        Leaks.assertNoNewTempEntries(WORK_DIR_PREFIX, tmpBefore, 30);
        assertEquals(List.of(), added(cacheBefore, cache.files()), "the mismatching download reached the cache");
    }

    @Test
    @Order(8)
    void anImageMissingFromTheMirrorIsNamedAndLeavesNothing() {
        String missing = "registry.k8s.io/kind-build-test/not-there:v0.0.1";
        Set<String> tmpBefore = Leaks.tempEntries(WORK_DIR_PREFIX);
        String tag = TAG_PREFIX + "missing-image";

        RecordingProgress progress = new RecordingProgress();
        UserError e = assertThrows(UserError.class,
                () -> DockerBuilds.run(engine, progress, request(release(), "missing-image", List.of(missing))));
        String message = e.getMessage();
        assertFalse(message.contains("\n"), message);
        assertTrue(message.contains(missing), message);
        assertTrue(message.contains("mirror " + REGISTRY.host()), message);

        assertTrue(engine.inspectImage(tag).isEmpty(), tag + " was tagged");
        Leaks.assertNoContainers(engine);
        Leaks.assertNoNewTempEntries(WORK_DIR_PREFIX, tmpBefore, 30);
    }

    @Test
    @Order(9)
    void rebuildingATagReusesItForTheSameInputsAndRemovesTheImageItReplaces() {
        NodeImageResult before = DockerBuilds.run(engine, new RecordingProgress(), request(release(), "rebuilt", List.of()));
        RecordingProgress warm = new RecordingProgress();
        NodeImageResult same = DockerBuilds.run(engine, warm, request(release(), "rebuilt", List.of()));
        assertEquals(before.imageId(), same.imageId(), "same inputs: the engine's image is kept");
        assertTrue(warm.notices().stream().anyMatch(n -> n.startsWith("inputs unchanged")), warm.notices().toString());
        assertEquals(before.images(), same.images(), "the records of the kept image");
        NodeImageRequest again = request(release(), "rebuilt", List.of());
        NodeImageResult after = DockerBuilds.run(engine, new RecordingProgress(), new NodeImageRequest(again.source(), again.image(),
                again.baseImage(), again.arch(), again.mirrors(), again.access(), again.extraImages(), true, false, Optional.empty()));
        assertNotEquals(before.imageId(), after.imageId(), "--no-cache commits a new image");
        assertTrue(engine.inspectImage(before.imageId()).isEmpty(), "the replaced node image was left untagged in the engine");
        assertEquals(after.imageId(), engine.inspectImage(after.image()).orElseThrow().id());
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    private NodeImageRequest request(KubernetesSource source, String name, List<String> extraImages) {
        String tag = TAG_PREFIX + name;
        tags.add(tag);
        RegistryMirrors mirrors = RegistryMirrors.parse(List.of("registry.k8s.io=" + REGISTRY.host(), "docker.io=" + REGISTRY.host()));
        return new NodeImageRequest(source, Optional.of(tag), Optional.of(TestBaseImage.TAG), arch, mirrors,
                RegistryAccess.defaults(), extraImages, false, false, Optional.empty());
    }

    private KubernetesSource release() {
        return new KubernetesSource.Release(V, env.releaseUrl());
    }

    /** Builds from {@code arg} as the CLI would detect it; checks /kind/version and the images built with Kubernetes. */
    private NodeImageResult buildFrom(String arg, String type, String version, String name) throws IOException {
        KubernetesSource source = KubernetesSource.detect(arg, Optional.empty(), null);
        assertEquals(type, source.type(), source.toString());
        NodeImageResult result = DockerBuilds.run(engine, new RecordingProgress(), request(source, name, List.of()));
        assertEquals(version, result.version());
        assertEquals(version, engine.inspectImage(result.image()).orElseThrow().labels().get(NodeLayout.LABEL_K8S_VERSION));
        List<ImageRecord> records;
        Map<String, Long> files;
        try (ImageFiles image = new ImageFiles(engine, result.image())) {
            assertEquals(version, image.read(NodeLayout.VERSION_FILE));
            records = JSON.readValue(image.read(NodeLayout.IMAGES_LIST), new TypeReference<List<ImageRecord>>() {});
            files = image.list(NodeLayout.IMAGES_DIR);
            files.keySet().removeIf(entry -> entry.startsWith("blobs/")); // the layers, each once, beside the archives
        }
        Set<String> expected = new TreeSet<>(SampleRelease.kubeadmImages(version));
        expected.addAll(AddonManifests.bundled().images());
        assertEquals(expected, names(records));
        String imageTag = version.replace('+', '_');
        for (String kube : ReleaseTarball.IMAGE_NAMES) {
            String image = "registry.k8s.io/" + kube + ":" + imageTag;
            ImageRecord r = records.stream().filter(x -> x.name().equals(image)).findFirst()
                    .orElseThrow(() -> new AssertionError(image + " not in " + NodeLayout.IMAGES_LIST + ": " + names(records)));
            assertEquals("release", r.source(), r.toString());
            assertEquals(SampleRelease.controlPlaneImage(kube, version, arch).configDigest(), r.configDigest(),
                    "the image of this source, not another: " + r);
            assertTrue(files.containsKey(r.file()) && r.bytes() > files.get(r.file()), r.file() + " in " + NodeLayout.IMAGES_DIR);
        }
        assertContentBlobs(result.image(), records);
        Leaks.assertNoContainers(engine);
        return result;
    }

    /**
     * The layers are under /kind/images/blobs/sha256, each once, named by the digest of its bytes (never in
     * containerd's own content directory, where its collector would delete them): what the images' archives in
     * /kind/images leave to the loader to find.
     */
    private void assertContentBlobs(String image, List<ImageRecord> records) {
        Map<String, Long> blobs;
        Map<String, Long> stubs;
        try (ImageFiles files = new ImageFiles(engine, image)) {
            blobs = files.list(ContentStoreLayout.LAYER_BLOBS);
            stubs = files.list(NodeLayout.IMAGES_DIR);
            assertFalse(files.exists("/var/lib/containerd/io.containerd.content.v1.content"), "nothing in containerd's own root");
        }
        stubs.keySet().removeIf(name -> name.startsWith("blobs/"));
        assertFalse(blobs.isEmpty(), "no layers in " + ContentStoreLayout.LAYER_BLOBS);
        long stubBytes = stubs.values().stream().mapToLong(Long::longValue).sum();
        long blobBytes = blobs.values().stream().mapToLong(Long::longValue).sum();
        long recorded = records.stream().mapToLong(ImageRecord::bytes).sum();
        assertTrue(recorded >= stubBytes + blobBytes, "records count " + recorded + " bytes, the node holds "
                + (stubBytes + blobBytes) + " (shared layers once)");
        blobs.keySet().forEach(name -> assertTrue(name.matches("[0-9a-f]{64}"), name));
    }

    /** A sample release of {@code version} unpacked as a release tarball would be: bin/ and images/. */
    private ReleaseTarball.Contents unpackedRelease(String version, String name) throws IOException {
        SampleRelease.Written w = SampleRelease.write(tmp.resolve(name + "-tarball"), version, arch);
        return ReleaseTarball.extract(w.tarball(), tmp.resolve(name), w.tarball().toString());
    }

    /** {@code kube-apiserver} for {@code registry.k8s.io/kube-apiserver:TAG}; null for other images. */
    private static String kubeImageName(String image) {
        for (String kube : ReleaseTarball.IMAGE_NAMES) {
            if (image.startsWith("registry.k8s.io/" + kube + ":")) {
                return kube;
            }
        }
        return null;
    }

    private static List<String> added(List<String> before, List<String> after) {
        return after.stream().filter(f -> !before.contains(f)).toList();
    }

    private static Set<String> names(List<ImageRecord> records) {
        return records.stream().map(ImageRecord::name).collect(Collectors.toCollection(TreeSet::new));
    }

    private static Map<String, Check> byName(VerifyReport report) {
        Map<String, Check> map = new LinkedHashMap<>();
        report.checks().forEach(c -> map.put(c.name(), c));
        return map;
    }

    private static String describe(VerifyReport report) {
        return report.checks().stream().map(c -> (c.ok() ? "ok   " : "FAIL ") + c.name() + ": " + c.detail())
                .collect(Collectors.joining("\n", "verify report:\n", ""));
    }

    private static String httpGet(String url) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), url);
            return r.body();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
