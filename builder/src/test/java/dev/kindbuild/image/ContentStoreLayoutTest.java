package dev.kindbuild.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.sample.SampleImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A docker-archive split into containerd's blobs and a small OCI archive that names the image. */
class ContentStoreLayoutTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void layersBecomeBlobsByDigestAndTheStubNamesTheImage() throws Exception {
        SampleImage image = SampleImage.of("amd64", "registry.k8s.io/pause:3.10").withFile("pause", "#!/bin/sh\n", 0755);
        Path archive = tmp.resolve("pause.tar");
        image.writeDockerArchive(archive);

        ContentStoreLayout.Split split = ContentStoreLayout.split(archive, "registry.k8s.io/pause:3.10",
                tmp.resolve("pause" + ContentStoreLayout.STUB_SUFFIX), tmp.resolve("layers"));

        assertEquals(image.configDigest(), split.configDigest(), "the config is kept byte for byte");
        assertEquals(1, split.layers().size());
        ContentStoreLayout.LayerBlob layer = split.layers().get(0);
        assertEquals("sha256:" + Sha256.of(layer.file()), layer.digest());
        assertEquals(layer.hex(), layer.file().getFileName().toString());
        assertEquals(Files.size(layer.file()), layer.size());

        Map<String, byte[]> stub = entries(split.stub());
        assertEquals(4, stub.size(), stub.keySet().toString());
        JsonNode index = JSON.readTree(stub.get("index.json"));
        JsonNode entry = index.path("manifests").get(0);
        assertEquals("registry.k8s.io/pause:3.10", entry.path("annotations").path(ContentStoreLayout.CONTAINERD_NAME).asText());
        assertEquals("3.10", entry.path("annotations").path("org.opencontainers.image.ref.name").asText());
        assertEquals(split.manifestDigest(), entry.path("digest").asText());
        byte[] manifest = stub.get("blobs/sha256/" + split.manifestDigest().substring(7));
        assertEquals(split.manifestDigest(), "sha256:" + Sha256.of(manifest));
        JsonNode m = JSON.readTree(manifest);
        assertEquals(MediaTypes.OCI_MANIFEST, m.path("mediaType").asText());
        assertEquals(split.configDigest(), m.path("config").path("digest").asText());
        assertEquals(layer.digest(), m.path("layers").get(0).path("digest").asText());
        assertEquals(layer.size(), m.path("layers").get(0).path("size").asLong());
        assertEquals(MediaTypes.OCI_LAYER, m.path("layers").get(0).path("mediaType").asText(), "an uncompressed layer, as docker save writes it");
        assertTrue(stub.containsKey("blobs/sha256/" + split.configDigest().substring(7)));
    }

    @Test
    void notADockerArchiveIsOneClearError() throws Exception {
        Path junk = tmp.resolve("junk.tar");
        try (var out = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(Files.newOutputStream(junk))) {
            TarArchiveEntry e = new TarArchiveEntry("hello.txt");
            e.setSize(2);
            out.putArchiveEntry(e);
            out.write("hi".getBytes());
            out.closeArchiveEntry();
        }
        UserError e = assertThrows(UserError.class, () -> ContentStoreLayout.split(junk, "x/y:1", tmp.resolve("s.oci.tar"), tmp.resolve("l")));
        assertEquals(junk + " is not a docker-archive image tarball: it has no manifest.json", e.getMessage());
    }

    private static Map<String, byte[]> entries(Path tar) throws Exception {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                out.put(e.getName(), in.readAllBytes());
            }
        }
        return out;
    }
}
