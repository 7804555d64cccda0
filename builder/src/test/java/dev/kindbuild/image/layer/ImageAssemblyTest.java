package dev.kindbuild.image.layer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.image.store.StoredImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageAssemblyTest {
    static final Instant T = Instant.parse("2024-01-01T00:00:00Z");

    @TempDir
    Path tmp;

    /** A base as a registry would serve it: Docker media types, its own key order and build-only fields. */
    static StoredImage dockerBase(ImageStore store) throws Exception {
        Layer l = new LayerBuilder().add(LayerEntry.file("/etc/os-release", "ID=debian\n".getBytes(StandardCharsets.UTF_8), 0644))
                .write(store, T);
        String config = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + l.diffId() + "\"]},\"os\":\"linux\",\"architecture\":\"amd64\","
                + "\"container\":\"abc\",\"docker_version\":\"20.10\",\"config\":{\"Env\":[\"PATH=/usr/bin\",\"HTTP_PROXY=http://p\",\"container=docker\"],"
                + "\"Entrypoint\":[\"/usr/local/bin/entrypoint\",\"/sbin/init\"],\"StopSignal\":\"SIGRTMIN+3\",\"Labels\":{\"a\":\"1\"}},"
                + "\"history\":[{\"created\":\"2023-01-01T00:00:00Z\",\"created_by\":\"debootstrap\"}],\"created\":\"2023-01-01T00:00:00Z\"}";
        Descriptor c = store.put(config.getBytes(StandardCharsets.UTF_8), MediaTypes.DOCKER_CONFIG);
        Descriptor layer = new Descriptor(MediaTypes.DOCKER_LAYER_GZIP, l.blob().digest(), l.blob().size());
        String manifest = new ObjectMapper().writeValueAsString(java.util.Map.of("schemaVersion", 2, "mediaType", MediaTypes.DOCKER_MANIFEST,
                "config", c, "layers", List.of(layer)));
        return store.image(store.put(manifest.getBytes(StandardCharsets.UTF_8), MediaTypes.DOCKER_MANIFEST));
    }

    static StoredImage node(ImageStore store, StoredImage base, Instant created) {
        Layer k8s = new LayerBuilder().add(LayerEntry.file("/kind/version", "v1.31.2\n".getBytes(StandardCharsets.UTF_8), 0644))
                .write(store, created);
        return ImageAssembly.on(base).layer(k8s, "kubernetes binaries").history("config changes")
                .env("PATH", "/usr/local/bin:/usr/bin").unsetEnv("HTTP_PROXY").env("KIND", "1")
                .label("dev.kind-build.images", "[]").label("a", "2")
                .cmd(List.of()).workingDir("/").created(created).write(store);
    }

    @Test
    void writesConfigAndManifestOnTheBase() throws Exception {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        StoredImage base = dockerBase(store);
        StoredImage image = node(store, base, T);

        assertEquals(MediaTypes.OCI_MANIFEST, image.manifest().mediaType());
        assertEquals(MediaTypes.OCI_CONFIG, image.config().mediaType());
        assertEquals(2, image.layers().size());
        Descriptor baseLayer = image.layers().get(0);
        assertEquals(base.layers().get(0).digest(), baseLayer.digest(), "base layer referenced byte for byte");
        assertEquals(base.layers().get(0).size(), baseLayer.size());
        assertEquals(MediaTypes.OCI_LAYER_GZIP, baseLayer.mediaType(), "docker type renamed to its OCI twin");
        List<String> diffIds = image.diffIds();
        assertEquals(base.diffIds().get(0), diffIds.get(0));

        JsonNode c = image.configJson();
        assertEquals("2024-01-01T00:00:00Z", c.path("created").asText());
        assertTrue(c.path("container").isMissingNode());
        assertTrue(c.path("docker_version").isMissingNode());
        List<String> env = new ArrayList<>();
        c.path("config").path("Env").forEach(e -> env.add(e.asText()));
        assertEquals(List.of("PATH=/usr/local/bin:/usr/bin", "container=docker", "KIND=1"), env);
        assertEquals("/usr/local/bin/entrypoint", c.path("config").path("Entrypoint").get(0).asText(), "kept from the base");
        assertEquals("SIGRTMIN+3", c.path("config").path("StopSignal").asText(), "kept from the base");
        assertTrue(c.path("config").path("Cmd").isNull());
        assertEquals("2", c.path("config").path("Labels").path("a").asText());
        assertEquals("/", c.path("config").path("WorkingDir").asText());
        assertEquals(3, c.path("history").size());
        assertEquals("kubernetes binaries", c.path("history").get(1).path("created_by").asText());
        assertEquals("2024-01-01T00:00:00Z", c.path("history").get(1).path("created").asText());
        assertTrue(c.path("history").get(2).path("empty_layer").asBoolean());
        String raw = new String(store.readSmall(image.config().digest()), StandardCharsets.UTF_8);
        assertTrue(raw.startsWith("{\"architecture\":\"amd64\",\"config\":{\"Cmd\":null,\"Entrypoint\""), raw);
    }

    @Test
    void sameInputsSameDigestInAnotherStore() throws Exception {
        ImageStore one = ImageStore.open(tmp.resolve("one"));
        ImageStore two = ImageStore.open(tmp.resolve("elsewhere/two"));
        StoredImage a = node(one, dockerBase(one), T);
        StoredImage b = node(two, dockerBase(two), T);
        assertEquals(a.manifest().digest(), b.manifest().digest());
        assertEquals(a.config().digest(), b.config().digest());
        StoredImage later = node(two, dockerBase(two), T.plusSeconds(60));
        assertNotEquals(a.manifest().digest(), later.manifest().digest());
    }

    @Test
    void refusesMissingTimeAndMissingLayers() throws Exception {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        StoredImage base = dockerBase(store);
        assertThrows(IllegalStateException.class, () -> ImageAssembly.on(base).write(store));
        Layer ghost = new Layer(new Descriptor(MediaTypes.OCI_LAYER_GZIP, "sha256:" + "0".repeat(64), 1), "sha256:" + "1".repeat(64));
        assertThrows(dev.kindbuild.UserError.class, () -> ImageAssembly.on(base).layer(ghost, "x").created(T).write(store));
    }
}
