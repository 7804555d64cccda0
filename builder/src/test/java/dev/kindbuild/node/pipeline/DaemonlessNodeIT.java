package dev.kindbuild.node.pipeline;

import dev.kindbuild.image.archive.DockerArchive;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.image.archive.ArchiveFormat;
import dev.kindbuild.image.archive.EngineImages;
import dev.kindbuild.image.layer.ImageContents;
import dev.kindbuild.image.layer.ImageEntry;
import dev.kindbuild.image.registry.PushResult;
import dev.kindbuild.image.registry.RegistryClients;
import dev.kindbuild.image.registry.RegistryPush;
import dev.kindbuild.image.registry.RegistryTrust;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.kube.KubernetesSource;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.testing.DockerBuilds;
import dev.kindbuild.node.NodeImageRequest;
import dev.kindbuild.node.NodeImageResult;
import dev.kindbuild.node.NodeLayout;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.sample.SampleEnvironment;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.ItTeardown;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.Skopeo;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestCache;
import dev.kindbuild.testing.TestEngine;
import dev.kindbuild.verify.NodeVerifier;
import dev.kindbuild.verify.VerifyReport;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * `node-image --builder oci` end to end: built with no engine at all from a `docker save` of the base, loaded and booted
 * offline; the same inputs give the same digest in another cache, temp dir and second; a warm rebuild writes nothing;
 * a push sends only the new layers (skopeo checks); the file tree equals the docker builder's but for a short list.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DaemonlessNodeIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    private static final String V = "v1.31.2";
    private static final String TAG = "kind-build-test/oci-node:" + Leaks.PID;
    private static final ObjectMapper JSON = new ObjectMapper();
    private DockerEngine engine;
    private String arch;
    private TestCache cache;
    private SampleEnvironment env;
    private Path tmp;
    private Path baseArchive;
    private final Set<String> engineTags = new LinkedHashSet<>();
    private String firstDigest;

    @BeforeAll
    void setUp() throws Exception {
        engine = TestEngine.connect();
        arch = engine.facts().architecture();
        cache = TestCache.create();
        tmp = Files.createTempDirectory("kind-build-it-oci-");
        RecordingProgress progress = new RecordingProgress();
        TestBaseImage.get(engine, false, progress);
        env = SampleEnvironment.start(V, arch, 0, REGISTRY.host(), progress);
        baseArchive = tmp.resolve("base.tar");
        try (InputStream in = engine.save(TestBaseImage.TAG)) {
            Files.copy(in, baseArchive);
        }
    }

    @AfterAll
    void tearDown() {
        ItTeardown.run(engine, engineTags, env, cache, tmp);
    }

    @Test
    @Order(1)
    void buildsWithNoEngineAndTheArchiveBootsOffline() throws Exception {
        Path out = tmp.resolve("node.tar");
        String previousHost = System.setProperty("DOCKER_HOST", "unix:///nonexistent/docker.sock");
        CliRun r;
        try {
            r = CliRun.of("node-image", V, "--k8s-release-url", env.releaseUrl().toString(), "--image", TAG, "--json",
                    "--record", tmp.resolve("record.json").toString(),
                    "--base-image", "docker-archive:" + baseArchive, "--output", out.toString(),
                    "--registry-mirror", "registry.k8s.io=" + REGISTRY.host(), "--registry-mirror", "docker.io=" + REGISTRY.host());
        } finally {
            restore("DOCKER_HOST", previousHost);
        }
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("no Docker engine answers at unix:///nonexistent/docker.sock: building with --builder oci"), r.err());
        assertTrue(r.err().contains("asked the release's kubeadm"), "says where the image list came from: " + r.err());
        JsonNode result = JSON.readTree(r.out());
        assertEquals("oci", result.path("builder").asText());
        assertFalse(result.path("reused").asBoolean());
        firstDigest = result.path("manifestDigest").asText();
        assertEquals(result, JSON.readTree(tmp.resolve("record.json").toFile()), "--record writes what --json prints");
        assertTrue(result.path("inputs").path("release").asText().startsWith("sha256:"), r.out());
        assertTrue(Files.isRegularFile(out));

        // The base's layers come first, unchanged, and three layers follow.
        ImageStore store = ImageStore.open(cache.dir().resolve("store"));
        StoredImage node = store.image(store.resolve(TAG).orElseThrow());
        assertEquals(firstDigest, node.manifest().digest());
        StoredImage base = store.image(store.resolve(archiveKey(store)).orElseThrow());
        List<String> baseLayers = base.layers().stream().map(Descriptor::digest).toList();
        List<String> nodeLayers = node.layers().stream().map(Descriptor::digest).toList();
        assertEquals(baseLayers, nodeLayers.subList(0, baseLayers.size()), "the base's layers, byte for byte");
        assertEquals(baseLayers.size() + 3, nodeLayers.size(), nodeLayers.toString());
        JsonNode inputs = JSON.readTree(node.configJson().path("config").path("Labels").path(NodeInputs.LABEL).asText());
        assertEquals(base.manifest().digest(), inputs.path("base").asText(), inputs.toString());
        assertTrue(inputs.path("release").asText().startsWith("sha256:"), inputs.toString());
        assertEquals(6, inputs.path("images").size(), "each pulled image's digest is recorded: " + inputs);

        engine.load(Files.newInputStream(out));
        engineTags.add(TAG);
        ImageInfo info = engine.inspectImage(TAG).orElseThrow();
        assertEquals(node.config().digest(), info.id(), "docker load keeps the config, so the image ID");
        assertEquals(List.of("/usr/local/bin/entrypoint", "/sbin/init"), info.entrypoint());
        assertEquals("SIGRTMIN+3", info.stopSignal());
        assertEquals("node", info.labels().get(Labels.IMAGE_KIND));
        assertEquals("", info.labels().getOrDefault(Labels.RECIPE_HASH, ""));
        assertTrue(info.env().containsAll(List.of("HTTP_PROXY=", "https_proxy=", "NO_PROXY=")), info.env().toString());

        VerifyReport report = new NodeVerifier(engine, new RecordingProgress()).run(TAG, true);
        assertTrue(report.passed(), report.toString());
        Leaks.assertNoContainers(engine);
    }

    /** The base archive as the store named it on import (the build found it again by path, size and mtime). */
    private static String archiveKey(ImageStore store) throws Exception {
        JsonNode index = JSON.readTree(store.root().resolve("index.json").toFile());
        for (JsonNode m : index.path("manifests")) {
            String name = m.path("annotations").path(ImageStore.REF_NAME).asText();
            if (name.startsWith("kind-build.archive/")) {
                return name;
            }
        }
        throw new AssertionError("no imported base archive in " + index);
    }

    @Test
    @Order(2)
    void aWarmRebuildWritesNothing() {
        RecordingProgress progress = new RecordingProgress();
        NodeBuild.Result again = build(ImageStore.defaultLocation(), progress, Optional.empty(), Optional.of(tmp.resolve("again.tar")));
        assertTrue(again.reused(), progress.succeeded().toString());
        assertEquals(firstDigest, again.manifest().orElseThrow());
        assertTrue(progress.succeeded().stream().noneMatch(s -> s.startsWith("Writing layer") || s.startsWith("Extracting Kubernetes binaries and images (")
                && !s.contains("(cached)")), progress.succeeded().toString());
        assertTrue(progress.notices().stream().anyMatch(n -> n.startsWith("inputs unchanged")), progress.notices().toString());
    }

    @Test
    @Order(3)
    void sameInputsGiveTheSameDigestInAnotherCacheTempDirAndSecond() throws Exception {
        Thread.sleep(1100); // another second on the clock
        String previousTmp = System.getProperty("java.io.tmpdir");
        Path otherTmp = Files.createDirectories(tmp.resolve("other-tmp"));
        try (TestCache other = TestCache.create()) {
            System.setProperty("java.io.tmpdir", otherTmp.toString());
            NodeBuild.Result cold = build(ImageStore.open(other.dir().resolve("store")), new RecordingProgress(),
                    Optional.empty(), Optional.of(tmp.resolve("cold.tar")));
            assertFalse(cold.reused(), "a fresh cache builds everything");
            assertEquals(firstDigest, cold.manifest().orElseThrow(), "same inputs, same image");
            assertEquals(Sha256.of(tmp.resolve("cold.tar")), Sha256.of(tmp.resolve("again.tar")), "and the same archive bytes");

            Instant epoch = Instant.parse("2025-06-01T00:00:00Z");
            ImageStore store = ImageStore.open(other.dir().resolve("store"));
            NodeBuild.Result dated = build(store, new RecordingProgress(), Optional.of(epoch), Optional.of(tmp.resolve("dated.tar")));
            assertNotEquals(firstDigest, dated.manifest().orElseThrow(), "SOURCE_DATE_EPOCH is an input");
            StoredImage image = store.image(store.resolve(TAG).orElseThrow());
            assertEquals("2025-06-01T00:00:00Z", image.configJson().path("created").asText());
        } finally {
            System.setProperty("java.io.tmpdir", previousTmp);
        }
    }

    @Test
    @Order(4)
    void aPushSendsOnlyTheNewLayersAndSkopeoSeesTheBaseUnchanged() throws Exception {
        ImageStore store = ImageStore.defaultLocation();
        StoredImage base = store.image(store.resolve(archiveKey(store)).orElseThrow());
        RegistryClients clients = new RegistryClients(RegistryAccess.defaults(), RegistryTrust.jvmDefault(), new RecordingProgress());
        ImageRef baseRef = ImageRef.parse(REGISTRY.host() + "/kind-build-test/base:" + Leaks.PID);
        new RegistryPush(clients, store, new RecordingProgress()).push(base, baseRef, Optional.empty());

        String target = REGISTRY.host() + "/kind-build-test/node:" + Leaks.PID;
        RecordingProgress progress = new RecordingProgress();
        NodeBuild.Result pushed = new NodeBuild(store, progress).run(request(Optional.of(baseRef.toString()), target),
                new NodeBuild.Options(Optional.empty(), Optional.empty(), ArchiveFormat.DOCKER, true,
                        RegistryTrust.jvmDefault(), Optional.empty()));
        PushResult push = pushed.pushed().orElseThrow();
        assertEquals(4, push.uploaded(), "three new layers and the config: " + push);
        assertEquals(base.layers().size(), push.mounted() + push.skipped(), push.toString());
        assertEquals(ImageRef.parse(target).withDigest(pushed.manifest().orElseThrow()), push.pinned());

        JsonNode raw = JSON.readTree(Skopeo.run("inspect", "--raw", "docker://" + target));
        List<String> layers = new ArrayList<>();
        raw.path("layers").forEach(l -> layers.add(l.path("digest").asText()));
        assertEquals(base.layers().stream().map(Descriptor::digest).toList(), layers.subList(0, base.layers().size()));
        JsonNode config = JSON.readTree(Skopeo.run("inspect", "--config", "docker://" + target));
        assertEquals(arch, config.path("architecture").asText());

        // The OCI archive output reads the same image: skopeo finds its manifest digest.
        Path oci = tmp.resolve("node.oci.tar");
        new NodeBuild(store, new RecordingProgress()).run(request(Optional.of(baseRef.toString()), target),
                new NodeBuild.Options(Optional.empty(), Optional.of(oci), ArchiveFormat.OCI, false,
                        RegistryTrust.jvmDefault(), Optional.empty()));
        JsonNode inspected = JSON.readTree(Skopeo.run("inspect", "oci-archive:" + oci));
        assertEquals(pushed.manifest().orElseThrow(), inspected.path("Digest").asText());
    }

    @Test
    @Order(5)
    void theFileTreeAndLabelsEqualTheDockerBuilders() throws Exception {
        String dockerTag = TAG + "-docker";
        engineTags.add(dockerTag);
        NodeImageRequest request = new NodeImageRequest(new KubernetesSource.Release(V, env.releaseUrl()), Optional.of(dockerTag),
                Optional.of(TestBaseImage.TAG), arch, mirrors(), RegistryAccess.defaults(), List.of(), false, false, Optional.empty());
        DockerBuilds.run(engine, new RecordingProgress(), request);
        ImageStore compare = ImageStore.open(tmp.resolve("compare-store"));
        StoredImage dockerImage = EngineImages.save(engine, dockerTag, compare);
        Map<String, String> docker = tree(compare, dockerImage);
        ImageStore store = ImageStore.defaultLocation();
        StoredImage ociImage = store.image(store.resolve(TAG).orElseThrow());
        Map<String, String> oci = tree(store, ociImage);

        assertTrue(oci.size() > 1000, "the whole tree, base included: " + oci.size());
        for (String p : List.of("/usr/bin/kubeadm", "/kind/version", "/etc/containerd/config.toml", "/kind/bin/load-images.sh",
                "/etc/systemd/system/multi-user.target.wants/kind-load-images.service")) {
            assertTrue(oci.containsKey(p) && oci.get(p).equals(docker.get(p)), p + ": " + oci.get(p) + " / " + docker.get(p));
        }
        Set<String> paths = new TreeSet<>(docker.keySet());
        paths.addAll(oci.keySet());
        List<String> differ = new ArrayList<>();
        for (String p : paths) {
            String d = docker.get(p);
            String o = oci.get(p);
            if (!java.util.Objects.equals(d, o)) {
                differ.add(p + "\n    docker: " + d + "\n    oci:    " + o);
            }
        }
        // One plan, one description of the files: no path may differ, the per-image archives and images.json included.
        assertEquals(List.of(), differ, differ.size() + " paths differ");
        // Labels too, inputs included; the base label names the base as each build was given it (an archive, a tag).
        com.fasterxml.jackson.databind.node.ObjectNode ociLabels = ociImage.configJson().path("config").path("Labels").deepCopy();
        com.fasterxml.jackson.databind.node.ObjectNode dockerLabels = dockerImage.configJson().path("config").path("Labels").deepCopy();
        ociLabels.remove(NodeLayout.LABEL_BASE_IMAGE);
        dockerLabels.remove(NodeLayout.LABEL_BASE_IMAGE);
        assertEquals(ociLabels, dockerLabels, "the same labels");
    }

    /**
     * path → kind, mode, owner, link target and content digest: everything but times. Each layer is read once,
     * hashing its files on the way; a file's digest comes from the layer the merged view takes it from.
     */
    private static Map<String, String> tree(ImageStore store, StoredImage image) throws Exception {
        List<Map<String, String>> hashes = new ArrayList<>();
        for (Descriptor layer : image.layers()) {
            Map<String, String> inLayer = new java.util.HashMap<>();
            try (InputStream raw = new java.io.BufferedInputStream(store.open(layer.digest()), 1 << 16)) {
                raw.mark(2);
                boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
                raw.reset();
                InputStream body = gzip ? new java.util.zip.GZIPInputStream(raw, 1 << 16) : raw;
                var tar = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(body);
                byte[] buf = new byte[1 << 16];
                for (var e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                    if (e.isFile()) {
                        java.security.MessageDigest md = Sha256.newDigest();
                        for (int n; (n = tar.read(buf)) > 0; ) {
                            md.update(buf, 0, n);
                        }
                        inLayer.put("/" + dev.kindbuild.image.archive.DockerArchive.entryName(e.getName()), Sha256.hex(md));
                    }
                }
            }
            hashes.add(inLayer);
        }
        ImageContents contents = ImageContents.of(store, image);
        Map<String, String> out = new TreeMap<>();
        for (ImageEntry e : contents.all()) {
            String content = e.kind() == ImageEntry.Kind.FILE ? " sha256:" + hashes.get(e.layer()).get(e.path()) : "";
            out.put(e.path(), e.kind() + " " + Integer.toOctalString(e.mode()) + " " + e.uid() + ":" + e.gid()
                    + (e.linkTarget() != null ? " -> " + e.linkTarget() : "") + content);
        }
        return out;
    }

    private NodeBuild.Result build(ImageStore store, RecordingProgress progress, Optional<Instant> epoch, Optional<Path> output) {
        return new NodeBuild(store, progress).run(request(Optional.of("docker-archive:" + baseArchive), TAG),
                new NodeBuild.Options(Optional.empty(), output, ArchiveFormat.DOCKER, false,
                        RegistryTrust.jvmDefault(), epoch));
    }

    private NodeImageRequest request(Optional<String> base, String tag) {
        return new NodeImageRequest(new KubernetesSource.Release(V, env.releaseUrl()), Optional.of(tag), base, arch, mirrors(),
                RegistryAccess.defaults(), List.of(), false, false, Optional.empty());
    }

    private static RegistryMirrors mirrors() {
        return RegistryMirrors.parse(List.of("registry.k8s.io=" + REGISTRY.host(), "docker.io=" + REGISTRY.host()));
    }

    private static void restore(String key, String previous) {
        if (previous == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, previous);
        }
    }
}
