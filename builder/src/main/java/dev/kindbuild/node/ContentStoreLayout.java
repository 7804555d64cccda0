package dev.kindbuild.node;

import dev.kindbuild.image.ImageRef;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.support.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import dev.kindbuild.support.TarWriter;

/**
 * Lays an image out for the node's boot loader: its layers once each under {@link #LAYER_BLOBS} (an OCI blob
 * directory, shared by every image, outside containerd's root), and a small OCI archive ({@code oci-layout},
 * {@code index.json} naming the image, its manifest and config) in {@code /kind/images}. At boot the loader streams
 * both into one {@code ctr images import}. Never into containerd's own content directory: containerd's garbage
 * collector deletes any file there that its metadata does not know, whenever it runs (node-image/README.md).
 */
public final class ContentStoreLayout {
    /** Where a node image keeps the layers of its preloaded images, each once; the loader reads them from here. */
    public static final String LAYER_BLOBS = "/kind/images/blobs/sha256";
    /** How the small per-image archives end. */
    public static final String STUB_SUFFIX = ".oci.tar";
    /** containerd's annotation for an image's full name in an OCI index. */
    public static final String CONTAINERD_NAME = "io.containerd.image.name";

    private static final ObjectMapper JSON = new ObjectMapper();

    private ContentStoreLayout() {}

    /**
     * Writes the small archive for image {@code name} to {@code out}: oci-layout, an index.json naming the image, and
     * its manifest (of {@code manifestMediaType}, OCI or Docker schema 2, kept byte for byte so containerd records
     * the registry's digest) and config. Its layers are expected in {@link #LAYER_BLOBS}.
     */
    public static void writeStub(OutputStream out, String name, String manifestMediaType, byte[] manifest, byte[] config)
            throws IOException {
        String manifestDigest = "sha256:" + Sha256.of(manifest);
        String configDigest = "sha256:" + Sha256.of(config);
        Map<String, Object> annotations = new LinkedHashMap<>();
        annotations.put(CONTAINERD_NAME, name);
        annotations.put("org.opencontainers.image.ref.name", ImageRef.parse(name).tag());
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("mediaType", manifestMediaType);
        entry.put("digest", manifestDigest);
        entry.put("size", manifest.length);
        entry.put("annotations", annotations);
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", MediaTypes.OCI_INDEX);
        index.put("manifests", List.of(entry));
        TarWriter tar = new TarWriter(out);
        put(tar, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
        put(tar, "index.json", JSON.writeValueAsBytes(index));
        put(tar, "blobs/sha256/" + manifestDigest.substring(7), manifest);
        if (!configDigest.equals(manifestDigest)) {
            put(tar, "blobs/sha256/" + configDigest.substring(7), config);
        }
        tar.finish();
    }

    private static void put(TarWriter tar, String name, byte[] content) throws IOException {
        tar.file(name, 0644, content);
    }

        }
