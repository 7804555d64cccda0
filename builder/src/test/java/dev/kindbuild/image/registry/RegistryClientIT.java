package dev.kindbuild.image.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.progress.BuildEvent;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.testing.RecordingProgress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * kind-build's own registry client against a real distribution registry on loopback, with skopeo as the independent
 * check: pushed digests are what skopeo reads back, images skopeo pushed are stored byte for byte, warm pulls transfer
 * nothing, platforms match strictly, tampered content is refused, and a push of an image whose base is there sends
 * only the new layers (counted by the client and by the registry's access log).
 */
class RegistryClientIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    static final Platform AMD64 = Platform.linux("amd64");
    static final Platform ARM64 = Platform.linux("arm64");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    final RecordingProgress progress = new RecordingProgress();

    RegistryClients clients() {
        return new RegistryClients(RegistryAccess.defaults(), RegistryTrust.jvmDefault(), progress, 50);
    }

    ImageStore store(String name) {
        return ImageStore.open(tmp.resolve(name));
    }

    ImageRef ref(String repoAndTag) {
        return ImageRef.parse(REGISTRY.host() + "/" + repoAndTag);
    }

    StoredImage base(ImageStore store, String label) {
        return TestImages.image(store, AMD64, label, List.of(
                TestImages.layer(store, "base-1", "first base layer " + label),
                TestImages.layer(store, "base-2", "second base layer " + label)));
    }

    @Test
    void pushedImageIsWhatSkopeoReadsBack() throws Exception {
        ImageStore store = store("s");
        StoredImage image = base(store, "skopeo-check");
        ImageRef target = ref("kb/pushed:1");

        PushResult r = new RegistryPush(clients(), store, progress).push(image, target, Optional.empty());

        assertEquals(image.manifest().digest(), r.digest());
        assertEquals(3, r.uploaded(), "config and two layers");
        assertEquals(0, r.skipped());
        assertEquals(target.toString() + "@" + r.digest(), r.pinned().toString());
        byte[] raw = skopeo("inspect", "--raw", "docker://" + target);
        assertArrayEquals(store.readSmall(image.manifest().digest()), raw, "manifest bytes unchanged");
        assertEquals(r.digest(), "sha256:" + Sha256.of(raw));
        byte[] config = skopeo("inspect", "--raw", "--config", "docker://" + target);
        assertEquals(image.config().digest(), "sha256:" + Sha256.of(config));

        // Pushing it again sends nothing.
        PushResult again = new RegistryPush(clients(), store, progress).push(image, target, Optional.empty());
        assertEquals(0, again.uploaded());
        assertEquals(3, again.skipped());
        assertEquals(r.digest(), again.digest());
    }

    @Test
    void aRegistryHoldingTheBaseReceivesOnlyTheNewLayers() throws Exception {
        ImageStore store = store("s");
        StoredImage base = base(store, "shared-base");
        List<TestImages.Layer> layers = new ArrayList<>();
        for (int i = 0; i < base.layers().size(); i++) {
            layers.add(new TestImages.Layer(base.layers().get(i), base.diffIds().get(i)));
        }
        layers.add(TestImages.layer(store, "node", "the node's own layer"));
        StoredImage node = TestImages.image(store, AMD64, "node", layers);
        RegistryPush push = new RegistryPush(clients(), store, progress);
        push.push(base, ref("kb/base:1"), Optional.empty());

        long uploadsBefore = uploadPuts("kb/node");
        PushResult same = push.push(node, ref("kb/base:node"), Optional.empty());
        assertEquals(2, same.uploaded(), "the new layer and the new config");
        assertEquals(2, same.skipped(), "both base layers were there");

        // Another repository on the same registry: the base layers are mounted, not sent.
        PushResult other = push.push(node, ref("kb/node:1"), Optional.of("kb/base"));
        assertEquals(0, other.uploaded());
        assertEquals(4, other.mounted(), "the repository had nothing; every blob exists in kb/base");
        assertEquals(0, other.bytesUploaded());
        assertEquals(uploadsBefore, uploadPuts("kb/node"), "the registry received no blob upload for kb/node");
        assertEquals(4, REGISTRY.logText().lines().filter(l -> l.contains("\"POST /v2/kb/node/blobs/uploads/?mount=")).count());

        // And skopeo sees the base's layers unchanged under the node image.
        JsonNode inspected = JSON.readTree(skopeo("inspect", "--tls-verify=false", "docker://" + ref("kb/node:1")));
        List<String> expected = new ArrayList<>();
        node.layers().forEach(l -> expected.add(l.digest()));
        List<String> got = new ArrayList<>();
        inspected.path("Layers").forEach(n -> got.add(n.asText()));
        assertEquals(expected, got);
        assertEquals(base.layers().get(0).digest(), got.get(0));
    }

    long uploadPuts(String repo) {
        return REGISTRY.logText().lines().filter(l -> l.contains("\"PUT /v2/" + repo + "/blobs/uploads/")).count();
    }

    @Test
    void pullStoresWhatSkopeoPushedByteForByteAndAWarmPullTransfersNothing() throws Exception {
        // skopeo pushes an OCI layout made here: the registry's content comes from another client.
        ImageStore layout = store("layout");
        StoredImage image = base(layout, "from-skopeo");
        layout.tag("src", image.manifest());
        ImageRef target = ref("kb/from-skopeo:1");
        skopeo("copy", "--dest-tls-verify=false", "oci:" + layout.root() + ":src", "docker://" + target);
        byte[] rawManifest = skopeo("inspect", "--raw", "docker://" + target);
        byte[] rawConfig = skopeo("inspect", "--raw", "--config", "docker://" + target);

        ImageStore store = store("pulled");
        long blobGets = REGISTRY.blobGets();
        PullResult r = new RegistryPull(clients(), RegistryMirrors.NONE, store, progress).pull(target, AMD64);

        assertEquals("sha256:" + Sha256.of(rawManifest), r.digest());
        assertEquals(r.digest(), r.platformDigest());
        assertEquals("sha256:" + Sha256.of(rawConfig), r.configDigest(), "config digest in the store = registry's");
        assertArrayEquals(rawManifest, store.readSmall(r.platformDigest()));
        assertArrayEquals(rawConfig, store.readSmall(r.configDigest()));
        assertEquals(2, r.layersTransferred());
        assertEquals(3, REGISTRY.blobGets() - blobGets, "config and two layers fetched");
        assertTrue(r.bytesTransferred() > 0);
        assertEquals(r.platformDigest(), store.resolve(target.toString()).orElseThrow().digest());
        assertEquals(target.toString(), r.storeName());
        assertEquals("amd64", r.image().architecture());
        for (var layer : r.image().layers()) {
            assertEquals(layer.digest(), "sha256:" + Sha256.of(store.blobPath(layer.digest())));
        }
        assertTrue(progress.events().stream().anyMatch(e -> e instanceof BuildEvent.Bytes b && b.done() == r.bytesTransferred()),
                "byte progress reported");

        long before = REGISTRY.blobGets();
        PullResult warm = new RegistryPull(clients(), RegistryMirrors.NONE, store, progress).pull(target, AMD64);
        assertEquals(0, warm.layersTransferred());
        assertEquals(0, warm.bytesTransferred());
        assertEquals(before, REGISTRY.blobGets(), "a warm pull fetches no blob");
        assertEquals(r.platformDigest(), warm.platformDigest());

        // Pinned by digest and in the store: the registry is not asked at all.
        long requests = REGISTRY.countGets("/v2/.*");
        PullResult pinned = new RegistryPull(clients(), RegistryMirrors.NONE, store, progress).pull(r.pinned(), AMD64);
        assertEquals(requests, REGISTRY.countGets("/v2/.*"));
        assertEquals(r.configDigest(), pinned.configDigest());
    }

    @Test
    void dockerSchema2ImagesAreStoredAsServedToo() throws Exception {
        ImageStore layout = store("layout");
        layout.tag("src", base(layout, "docker-v2s2").manifest());
        ImageRef target = ref("kb/v2s2:1");
        skopeo("copy", "--dest-tls-verify=false", "--format", "v2s2", "oci:" + layout.root() + ":src", "docker://" + target);
        byte[] rawManifest = skopeo("inspect", "--raw", "docker://" + target);
        byte[] rawConfig = skopeo("inspect", "--raw", "--config", "docker://" + target);
        assertEquals(dev.kindbuild.image.store.MediaTypes.DOCKER_MANIFEST, JSON.readTree(rawManifest).path("mediaType").asText());

        ImageStore store = store("pulled");
        PullResult r = new RegistryPull(clients(), RegistryMirrors.NONE, store, progress).pull(target, AMD64);
        assertEquals("sha256:" + Sha256.of(rawManifest), r.platformDigest());
        assertEquals("sha256:" + Sha256.of(rawConfig), r.configDigest());
        assertEquals(dev.kindbuild.image.store.MediaTypes.DOCKER_MANIFEST, r.image().manifest().mediaType());
        assertArrayEquals(rawConfig, store.readSmall(r.configDigest()));

        // And pushed back elsewhere from the store, it keeps its digest.
        PushResult back = new RegistryPush(clients(), store, progress).push(r.image(), ref("kb/v2s2-copy:1"), Optional.of("kb/v2s2"));
        assertEquals(r.platformDigest(), back.digest());
        assertEquals(r.platformDigest(), "sha256:" + Sha256.of(skopeo("inspect", "--raw", "docker://" + ref("kb/v2s2-copy:1"))));
    }

    @Test
    void indexPushedAndPulledPerPlatformWithAStrictMatch() throws Exception {
        ImageStore store = store("s");
        StoredImage amd = TestImages.image(store, AMD64, "multi", List.of(TestImages.layer(store, "bin", "amd64 binary")));
        StoredImage arm = TestImages.image(store, new Platform("linux", "arm64", "v8"), "multi",
                List.of(TestImages.layer(store, "bin", "arm64 binary")));
        ImageRef target = ref("kb/multi:1");
        PushResult pushed = new RegistryPush(clients(), store, progress).pushIndex(List.of(amd, arm), target, Optional.empty());
        assertEquals(4, pushed.uploaded());

        byte[] raw = skopeo("inspect", "--raw", "docker://" + target);
        assertEquals(pushed.digest(), "sha256:" + Sha256.of(raw));
        Set<String> platforms = new TreeSet<>();
        JSON.readTree(raw).path("manifests").forEach(m -> platforms.add(Platform.of(m.path("platform")).toString()));
        assertEquals(Set.of("linux/amd64", "linux/arm64/v8"), platforms);
        JsonNode armConfig = JSON.readTree(skopeo("inspect", "--raw", "--config", "--override-arch", "arm64", "docker://" + target));
        assertEquals("arm64", armConfig.path("architecture").asText());

        ImageStore pulledStore = store("pulled");
        RegistryPull pull = new RegistryPull(clients(), RegistryMirrors.NONE, pulledStore, progress);
        PullResult armPull = pull.pull(target, ARM64);
        assertEquals(pushed.digest(), armPull.digest(), "the tag resolves to the index");
        assertEquals(arm.manifest().digest(), armPull.platformDigest());
        assertEquals(arm.config().digest(), armPull.configDigest());
        assertEquals("arm64", armPull.image().architecture());
        assertTrue(pulledStore.has(pushed.digest()), "the index is kept too");
        assertFalse(pulledStore.has(amd.layers().get(0).digest()), "the other platform's layers are not fetched");

        UserError missing = assertThrows(UserError.class, () -> pull.pull(target, Platform.parse("linux/s390x")));
        assertEquals("image " + target + " has no linux/s390x variant (it has linux/amd64, linux/arm64/v8)", missing.getMessage());
        UserError variant = assertThrows(UserError.class, () -> pull.pull(target, Platform.parse("linux/arm64/v9")));
        assertTrue(variant.getMessage().contains("no linux/arm64/v9 variant"), variant.getMessage());
    }

    @Test
    void singlePlatformImageForAnotherArchIsRefused() {
        ImageStore store = store("s");
        StoredImage arm = TestImages.image(store, ARM64, "arm-only", List.of(TestImages.layer(store, "x", "arm")));
        new RegistryPush(clients(), store, progress).push(arm, ref("kb/arm-only:1"), Optional.empty());
        ImageStore fresh = store("fresh");
        UserError e = assertThrows(UserError.class, () -> new RegistryPull(clients(), RegistryMirrors.NONE, fresh, progress)
                .pull(ref("kb/arm-only:1"), AMD64));
        assertEquals("image " + ref("kb/arm-only:1") + " is a single-platform image for linux/arm64, not linux/amd64", e.getMessage());
        assertTrue(fresh.resolve(ref("kb/arm-only:1").toString()).isEmpty());
    }

    @Test
    void tamperedContentIsRefusedAndNothingIsNamed() throws Exception {
        ImageStore store = store("s");
        StoredImage image = TestImages.image(store, AMD64, "tamper", List.of(TestImages.layer(store, "f", "original content")));
        ImageRef target = ref("kb/tamper:1");
        new RegistryPush(clients(), store, progress).push(image, target, Optional.empty());
        String layer = image.layers().get(0).digest();
        Path file = REGISTRY.blobFile(layer);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x55;
        Files.write(file, bytes);

        ImageStore fresh = store("fresh");
        UserError e = assertThrows(UserError.class,
                () -> new RegistryPull(clients(), RegistryMirrors.NONE, fresh, progress).pull(target, AMD64));
        assertTrue(e.getMessage().contains("does not match its digest") && e.getMessage().contains(layer), e.getMessage());
        assertFalse(fresh.has(layer), "the wrong bytes are not kept");
        assertTrue(fresh.resolve(target.toString()).isEmpty(), "no name for a failed pull");
        try (var files = Files.list(fresh.root().resolve("blobs/sha256"))) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(".partial")), "no temp files left");
        }

        // A manifest whose bytes are not the pinned digest: refused before anything is stored.
        Path manifestFile = REGISTRY.blobFile(image.manifest().digest());
        Files.writeString(manifestFile, Files.readString(manifestFile) + " ");
        ImageStore third = store("third");
        UserError pinned = assertThrows(UserError.class, () -> new RegistryPull(clients(), RegistryMirrors.NONE, third, progress)
                .pull(target.withDigest(image.manifest().digest()), AMD64));
        assertTrue(pinned.getMessage().contains(image.manifest().digest()), pinned.getMessage());
        assertTrue(third.resolve(target.withDigest(image.manifest().digest()).toString()).isEmpty());
    }

    @Test
    void mirrorServesUnderTheOriginalNameAndMissingImagesNameBoth() {
        ImageStore store = store("s");
        StoredImage pause = TestImages.image(store, AMD64, "pause", List.of(TestImages.layer(store, "pause", "pause")));
        new RegistryPush(clients(), store, progress).push(pause, ref("pause:3.10"), Optional.empty());
        RegistryMirrors mirrors = RegistryMirrors.parse(List.of("registry.k8s.io=" + REGISTRY.host()));
        ImageStore fresh = store("fresh");
        RegistryPull pull = new RegistryPull(clients(), mirrors, fresh, progress);

        PullResult r = pull.pull(ImageRef.parse("registry.k8s.io/pause:3.10"), AMD64);
        assertEquals(REGISTRY.host(), r.source().registry());
        assertTrue(r.viaMirror());
        assertEquals("registry.k8s.io/pause:3.10", r.storeName());
        assertEquals(pause.manifest().digest(), fresh.resolve("registry.k8s.io/pause:3.10").orElseThrow().digest());

        // Not in the mirror: the source registry is tried (unreachable here), and the error names both.
        UserError e = assertThrows(UserError.class, () -> pull.pull(ImageRef.parse("registry.k8s.io/etcd:3.5.15-0"), AMD64));
        assertTrue(e.getMessage().contains("registry.k8s.io/etcd:3.5.15-0") && e.getMessage().contains(REGISTRY.host()),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    static byte[] skopeo(String... args) throws Exception {
        return dev.kindbuild.testing.Skopeo.run(args);
    }
}
