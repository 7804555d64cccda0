package dev.kindbuild.image;

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
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

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
    /** How the small per-image archives end; the loader tells them from docker-archives by it. */
    public static final String STUB_SUFFIX = ".oci.tar";
    /** containerd's annotation for an image's full name in an OCI index. */
    public static final String CONTAINERD_NAME = "io.containerd.image.name";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_JSON = 8 << 20;

    private ContentStoreLayout() {}

    /** A layer blob extracted on the host, to be placed at {@link #LAYER_BLOBS}/{@code hex}. */
    public record LayerBlob(String digest, long size, String mediaType, Path file) {
        public String hex() {
            return digest.substring("sha256:".length());
        }
    }

    /** One image split: its small archive (for /kind/images), its layers, and its config digest. */
    public record Split(Path stub, List<LayerBlob> layers, String configDigest, String manifestDigest) {}

    /**
     * Splits the single-image docker-archive {@code archive} (named {@code name}) into a stub at {@code stub} and layer
     * files under {@code layerDir}, in one streaming pass; nothing is held in memory but the JSON documents.
     */
    public static Split split(Path archive, String name, Path stub, Path layerDir) {
        Map<String, byte[]> json = new HashMap<>();
        Map<String, LayerBlob> files = new HashMap<>();
        try {
            Files.createDirectories(layerDir);
            try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(archive))) {
                for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                    if (!e.isFile()) {
                        continue;
                    }
                    String entry = DockerArchive.entryName(e.getName());
                    if (entry.endsWith(".json") || entry.equals("repositories")) {
                        if (e.getSize() > MAX_JSON) {
                            throw new UserError(archive + ": " + entry + " is too large to be an image document");
                        }
                        json.put(entry, in.readAllBytes());
                    } else {
                        files.put(entry, extract(in, layerDir));
                    }
                }
            }
            JsonNode manifest = JSON.readTree(require(json, "manifest.json", archive));
            if (!manifest.isArray() || manifest.size() != 1) {
                throw new UserError(archive + " holds " + manifest.size() + " images; expected exactly one");
            }
            JsonNode image = manifest.get(0);
            byte[] config = require(json, DockerArchive.entryName(image.path("Config").asText()), archive);
            List<LayerBlob> layers = new ArrayList<>();
            for (JsonNode l : image.path("Layers")) {
                LayerBlob blob = files.get(DockerArchive.entryName(l.asText()));
                if (blob == null) {
                    throw new UserError(archive + " names layer " + l.asText() + " but does not contain it");
                }
                layers.add(blob);
            }
            String configDigest = "sha256:" + Sha256.of(config);
            byte[] ociManifest = ociManifest(configDigest, config.length, layers);
            String manifestDigest = "sha256:" + Sha256.of(ociManifest);
            writeStub(stub, name, config, ociManifest);
            // Entries the manifest does not use (none, normally) are not wanted in the node.
            files.values().stream().filter(b -> !layers.contains(b)).forEach(b -> deleteQuietly(b.file()));
            return new Split(stub, List.copyOf(layers), configDigest, manifestDigest);
        } catch (IOException e) {
            throw new UserError("cannot split image archive " + archive + ": " + e.getMessage(), e);
        }
    }

    private static LayerBlob extract(InputStream in, Path dir) throws IOException {
        Path tmp = Files.createTempFile(dir, ".layer-", "");
        MessageDigest digest = Sha256.newDigest();
        byte[] head = new byte[2];
        long size;
        try (OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), digest)) {
            int n = in.readNBytes(head, 0, 2);
            out.write(head, 0, n);
            size = n + in.transferTo(out);
        }
        String d = "sha256:" + Sha256.hex(digest);
        Path file = dir.resolve(d.substring(7));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        boolean gzip = size >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
        return new LayerBlob(d, size, gzip ? MediaTypes.OCI_LAYER_GZIP : MediaTypes.OCI_LAYER, file);
    }

    private static byte[] ociManifest(String configDigest, long configSize, List<LayerBlob> layers) throws IOException {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("mediaType", MediaTypes.OCI_CONFIG);
        config.put("digest", configDigest);
        config.put("size", configSize);
        List<Map<String, Object>> ls = new ArrayList<>();
        for (LayerBlob l : layers) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("mediaType", l.mediaType());
            d.put("digest", l.digest());
            d.put("size", l.size());
            ls.add(d);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schemaVersion", 2);
        m.put("mediaType", MediaTypes.OCI_MANIFEST);
        m.put("config", config);
        m.put("layers", ls);
        return JSON.writeValueAsBytes(m);
    }

    private static void writeStub(Path stub, String name, byte[] config, byte[] manifest) throws IOException {
        Path tmp = stub.resolveSibling("." + stub.getFileName() + ".partial");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            writeStub(out, name, MediaTypes.OCI_MANIFEST, manifest, config);
        }
        Files.move(tmp, stub, StandardCopyOption.REPLACE_EXISTING);
    }

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
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out, "UTF-8");
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        put(tar, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
        put(tar, "index.json", JSON.writeValueAsBytes(index));
        put(tar, "blobs/sha256/" + manifestDigest.substring(7), manifest);
        if (!configDigest.equals(manifestDigest)) {
            put(tar, "blobs/sha256/" + configDigest.substring(7), config);
        }
        tar.finish();
    }

    private static void put(TarArchiveOutputStream tar, String name, byte[] content) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(content.length);
        e.setMode(0100644);
        e.setModTime(FileTime.fromMillis(0));
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    private static byte[] require(Map<String, byte[]> json, String name, Path archive) {
        byte[] b = json.get(name);
        if (b == null) {
            throw new UserError(archive + " is not a docker-archive image tarball: it has no " + name);
        }
        return b;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a temp file under the build's work dir, which goes as a whole
        }
    }
}
