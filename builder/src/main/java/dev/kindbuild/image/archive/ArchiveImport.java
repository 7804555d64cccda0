package dev.kindbuild.image.archive;

import dev.kindbuild.image.archive.DockerArchive;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kindbuild.UserError;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.image.store.StoredImage;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Brings an image archive into the {@link ImageStore} in one streaming pass, for {@code --base-image
 * docker-archive:PATH} / {@code oci-archive:PATH} and images saved by the engine.
 *
 * <p>docker-archive: the config is kept byte for byte (the image ID stays the same), and each layer is stored as the
 * archive has it, gzipped or not (recognised by its bytes): recompressing would cost minutes on a big base for no
 * gain, and an uncompressed blob's digest is its diffID, which is checked against the config. A new OCI manifest is
 * written for them (a docker-archive has none). OCI archive: every blob is stored under its name after checking that
 * its bytes match it, and the manifest is the archive's own.
 */
public final class ArchiveImport {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Entries up to this size are kept in memory until manifest.json says what they are; bigger ones go to the store. */
    private static final long IN_MEMORY = 1 << 20;
    private static final long IN_MEMORY_TOTAL = 64 << 20;

    private ArchiveImport() {}

    /** Imports the docker-archive file {@code tar} ({@code docker save}, jib's TarImage, kind-build's own). */
    public static StoredImage dockerArchive(ImageStore store, Path tar) {
        try (InputStream in = Files.newInputStream(tar)) {
            return dockerArchive(store, in, tar.toString());
        } catch (IOException e) {
            throw new UserError("cannot read image archive " + tar + ": " + e.getMessage(), e);
        }
    }

    /** Imports a docker-archive read from {@code in} (e.g. the engine's save stream); {@code source} names it in errors. */
    public static StoredImage dockerArchive(ImageStore store, InputStream in, String source) {
        Map<String, byte[]> small = new HashMap<>();
        Map<String, Descriptor> stored = new HashMap<>();
        Map<String, String> links = new HashMap<>();
        long held = 0;
        try {
            TarArchiveInputStream tar = new TarArchiveInputStream(new BufferedInputStream(in, 1 << 16), StandardCharsets.UTF_8.name());
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                String name = DockerArchive.entryName(e.getName());
                if (e.isSymbolicLink() || e.isLink()) {
                    // docker save links a layer.tar it already wrote instead of writing it twice
                    links.put(name, e.isLink() ? DockerArchive.entryName(e.getLinkName()) : resolveSibling(name, e.getLinkName()));
                } else if (e.isFile()) {
                    if (e.getSize() <= IN_MEMORY && held + e.getSize() <= IN_MEMORY_TOTAL) {
                        byte[] bytes = tar.readAllBytes();
                        held += bytes.length;
                        small.put(name, bytes);
                    } else {
                        stored.put(name, putLayer(store, tar));
                    }
                }
            }
        } catch (IOException e) {
            throw new UserError("cannot read image archive " + source + ": " + e.getMessage(), e);
        }
        byte[] manifestBytes = small.get("manifest.json");
        if (manifestBytes == null) {
            throw new UserError(source + " is not a docker-archive with a manifest.json (pre-1.10 docker save archives are not supported)");
        }
        JsonNode entry;
        try {
            JsonNode manifest = JSON.readTree(manifestBytes);
            if (!manifest.isArray() || manifest.size() != 1) {
                throw new UserError("image archive " + source + " holds " + manifest.size() + " images; expected exactly one");
            }
            entry = manifest.get(0);
        } catch (IOException e) {
            throw new UserError("manifest.json of " + source + " is not JSON: " + e.getMessage(), e);
        }
        String configName = follow(links, DockerArchive.entryName(entry.path("Config").asText()));
        byte[] config = small.containsKey(configName) ? small.get(configName)
                : stored.containsKey(configName) ? store.readSmall(stored.get(configName).digest()) : null;
        if (config == null) {
            throw new UserError("image archive " + source + " names config " + configName + " but does not contain it");
        }
        Descriptor configBlob = store.put(config, MediaTypes.OCI_CONFIG);
        List<String> diffIds = new ArrayList<>();
        store.readJson(configBlob.digest()).path("rootfs").path("diff_ids").forEach(n -> diffIds.add(n.asText()));
        List<Descriptor> layers = new ArrayList<>();
        for (JsonNode l : entry.path("Layers")) {
            String name = follow(links, DockerArchive.entryName(l.asText()));
            Descriptor d = stored.get(name);
            if (d == null && small.containsKey(name)) {
                d = putLayer(store, new ByteArrayInputStream(small.get(name)));
            }
            if (d == null) {
                throw new UserError("image archive " + source + " names layer " + name + " but does not contain it");
            }
            int i = layers.size();
            if (d.mediaType().equals(MediaTypes.OCI_LAYER) && i < diffIds.size() && !diffIds.get(i).equals(d.digest())) {
                throw new UserError("layer " + name + " of " + source + " is " + d.digest() + " but the config says " + diffIds.get(i));
            }
            layers.add(d);
        }
        if (layers.size() != diffIds.size()) {
            throw new UserError("image archive " + source + " has " + layers.size() + " layers but its config lists " + diffIds.size());
        }
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", MediaTypes.OCI_MANIFEST);
        manifest.set("config", JSON.valueToTree(configBlob));
        ArrayNode ls = manifest.putArray("layers");
        layers.forEach(d -> ls.add(JSON.valueToTree(d)));
        try {
            return store.image(store.put(JSON.writeValueAsBytes(manifest), MediaTypes.OCI_MANIFEST));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Imports the OCI archive file {@code tar}. With several images in its index.json, {@code name} picks one by
     * {@code io.containerd.image.name} or {@code org.opencontainers.image.ref.name} (null: there must be one); an
     * index of platforms is resolved to {@code linux/<arch>}.
     */
    public static StoredImage ociArchive(ImageStore store, Path tar, String name, String arch) {
        return ociArchive(store, tar, name, arch, true);
    }

    /** As {@link #ociArchive(ImageStore, Path, String, String)}; {@code reuse} false stores every blob again (--no-cache). */
    public static StoredImage ociArchive(ImageStore store, Path tar, String name, String arch, boolean reuse) {
        byte[] indexBytes = null;
        try (TarArchiveInputStream in = new TarArchiveInputStream(new BufferedInputStream(Files.newInputStream(tar), 1 << 16),
                StandardCharsets.UTF_8.name())) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                String n = DockerArchive.entryName(e.getName());
                if (!e.isFile()) {
                    continue;
                }
                if (n.equals("index.json")) {
                    indexBytes = in.readNBytes((int) Math.min(e.getSize(), 8 << 20));
                } else if (n.startsWith("blobs/sha256/") && n.substring(13).matches("[0-9a-f]{64}")) {
                    Descriptor blob = new Descriptor("application/octet-stream", "sha256:" + n.substring(13), e.getSize());
                    if (reuse) {
                        store.putVerified(in, blob);
                    } else {
                        store.replaceVerified(in, blob);
                    }
                }
            }
        } catch (IOException e) {
            throw new UserError("cannot read OCI archive " + tar + ": " + e.getMessage(), e);
        }
        if (indexBytes == null) {
            throw new UserError(tar + " is not an OCI archive (no index.json)");
        }
        try {
            Descriptor d = pick(JSON.readTree(indexBytes).path("manifests"), name, tar.toString());
            while (MediaTypes.INDEXES.contains(d.mediaType()) && store.has(d.digest())) {
                d = platform(store.readJson(d.digest()).path("manifests"), arch, tar.toString());
            }
            if (!store.has(d.digest())) {
                throw new UserError("OCI archive " + tar + " names " + d.digest() + " but does not contain it");
            }
            StoredImage image = store.image(new Descriptor(d.mediaType(), d.digest(), d.size()));
            for (Descriptor l : image.layers()) {
                if (!store.has(l.digest())) {
                    throw new UserError("OCI archive " + tar + " lacks layer " + l.digest() + " of its image");
                }
            }
            return image;
        } catch (IOException e) {
            throw new UserError("index.json of " + tar + " is not valid: " + e.getMessage(), e);
        }
    }

    private static Descriptor pick(JsonNode manifests, String name, String source) throws IOException {
        List<JsonNode> candidates = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (JsonNode m : manifests) {
            String full = m.path("annotations").path(OciArchiveOutput.CONTAINERD_IMAGE_NAME).asText("");
            String ref = m.path("annotations").path(ImageStore.REF_NAME).asText("");
            names.add(full.isEmpty() ? ref : full);
            if (name == null || name.equals(full) || name.equals(ref)) {
                candidates.add(m);
            }
        }
        if (candidates.size() != 1) {
            throw new UserError("OCI archive " + source + (candidates.isEmpty() ? " has no image" : " has " + candidates.size() + " images")
                    + (name == null ? "" : " named " + name) + " (it holds: " + String.join(", ", names) + ")");
        }
        JsonNode m = candidates.get(0);
        return new Descriptor(m.path("mediaType").asText(MediaTypes.OCI_MANIFEST), m.path("digest").asText(), m.path("size").asLong());
    }

    private static Descriptor platform(JsonNode manifests, String arch, String source) {
        for (JsonNode m : manifests) {
            JsonNode p = m.path("platform");
            if (p.path("os").asText("linux").equals("linux") && p.path("architecture").asText().equals(arch)) {
                return new Descriptor(m.path("mediaType").asText(MediaTypes.OCI_MANIFEST), m.path("digest").asText(), m.path("size").asLong());
            }
        }
        throw new UserError("OCI archive " + source + " has no image for linux/" + arch);
    }

    /** Stores a layer as it is; its media type from its first bytes (gzip or plain tar). */
    private static Descriptor putLayer(ImageStore store, InputStream entry) {
        BufferedInputStream in = new BufferedInputStream(entry, 1 << 16);
        boolean gzip;
        try {
            in.mark(2);
            int b0 = in.read();
            int b1 = in.read();
            in.reset();
            gzip = b0 == 0x1f && b1 == 0x8b;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        // not closed: the tar stream below goes on to the next entry
        return store.put(in, gzip ? MediaTypes.OCI_LAYER_GZIP : MediaTypes.OCI_LAYER);
    }

    private static String follow(Map<String, String> links, String name) {
        String n = name;
        for (int i = 0; i < 16 && links.containsKey(n); i++) {
            n = links.get(n);
        }
        return n;
    }

    private static String resolveSibling(String name, String target) {
        if (target.startsWith("/")) {
            return DockerArchive.entryName(target);
        }
        int slash = name.lastIndexOf('/');
        List<String> parts = new ArrayList<>(slash < 0 ? List.of() : List.of(name.substring(0, slash).split("/")));
        for (String p : target.split("/")) {
            if (p.equals("..")) {
                if (!parts.isEmpty()) {
                    parts.remove(parts.size() - 1);
                }
            } else if (!p.isEmpty() && !p.equals(".")) {
                parts.add(p);
            }
        }
        return String.join("/", parts);
    }
}
