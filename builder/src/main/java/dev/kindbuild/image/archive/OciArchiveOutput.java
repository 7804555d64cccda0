package dev.kindbuild.image.archive;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.image.store.StoredImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a stored image as an OCI image layout tarball ({@code oci-layout}, {@code index.json}, {@code blobs/sha256/…}),
 * which {@code skopeo inspect oci-archive:FILE}, {@code ctr import} and Docker ≥ 25's {@code docker load} read (Docker
 * 20.10's does not: use {@link DockerArchiveOutput} for it). Manifest, config and layers are the store's blobs byte for
 * byte, so the image digest is the same as in the store.
 */
public final class OciArchiveOutput {
    /** The full name, as containerd and Docker read it from an OCI layout (buildkit writes the same pair). */
    public static final String CONTAINERD_IMAGE_NAME = "io.containerd.image.name";

    private static final ObjectMapper JSON = new ObjectMapper();

    private OciArchiveOutput() {}

    /**
     * Writes {@code image} named {@code name} (e.g. {@code kindest/node:v1.31.2}): index.json carries the full name
     * in {@code io.containerd.image.name} and the tag in {@code org.opencontainers.image.ref.name}, as the OCI spec's
     * examples use it. {@code name} may be null for an unnamed image.
     */
    public static void write(ImageStore store, StoredImage image, String name, Path out) {
        ArchiveFiles.writeAtomically(out, "OCI archive", tar -> {
            ArchiveFiles.bytes(tar, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
            ArchiveFiles.bytes(tar, "index.json", JSON.writeValueAsBytes(index(image, name)));
            ArchiveFiles.directory(tar, "blobs");
            ArchiveFiles.directory(tar, "blobs/sha256");
            Set<Descriptor> blobs = new LinkedHashSet<>();
            blobs.add(image.manifest().withAnnotations(Map.of()));
            blobs.add(image.config().withAnnotations(Map.of()));
            image.layers().forEach(l -> blobs.add(l.withAnnotations(Map.of())));
            Set<String> written = new java.util.HashSet<>();
            for (Descriptor d : blobs) {
                if (written.add(d.digest())) {
                    ArchiveFiles.blob(tar, "blobs/sha256/" + d.hex(), store, d);
                }
            }
        });
    }

    /**
     * Writes a multi-arch image: index.json names {@code index} (an OCI index over {@code images}, in the store) with
     * the same name annotations; the blobs are the index, and every image's manifest, config and layers.
     */
    public static void writeIndex(ImageStore store, Descriptor index, List<StoredImage> images, String name, Path out) {
        ArchiveFiles.writeAtomically(out, "OCI archive", tar -> {
            ObjectNode top = JSON.createObjectNode();
            top.put("schemaVersion", 2);
            top.put("mediaType", MediaTypes.OCI_INDEX);
            ObjectNode d = top.putArray("manifests").addObject();
            d.put("mediaType", index.mediaType());
            d.put("digest", index.digest());
            d.put("size", index.size());
            d.set("annotations", JSON.valueToTree(nameAnnotations(name)));
            ArchiveFiles.bytes(tar, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
            ArchiveFiles.bytes(tar, "index.json", JSON.writeValueAsBytes(top));
            ArchiveFiles.directory(tar, "blobs");
            ArchiveFiles.directory(tar, "blobs/sha256");
            Set<String> written = new java.util.HashSet<>();
            List<Descriptor> blobs = new java.util.ArrayList<>(List.of(index));
            for (StoredImage image : images) {
                blobs.add(image.manifest());
                blobs.add(image.config());
                blobs.addAll(image.layers());
            }
            for (Descriptor b : blobs) {
                if (written.add(b.digest())) {
                    ArchiveFiles.blob(tar, "blobs/sha256/" + b.hex(), store, b.withAnnotations(Map.of()));
                }
            }
        });
    }

    /** containerd's full name and the OCI ref name (the tag) of {@code name}. */
    private static Map<String, String> nameAnnotations(String name) {
        String full = DockerArchiveOutput.fullTag(name);
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put(CONTAINERD_IMAGE_NAME, full);
        annotations.put(ImageStore.REF_NAME, full.substring(full.lastIndexOf(':') + 1));
        return annotations;
    }

    private static ObjectNode index(StoredImage image, String name) throws IOException {
        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", MediaTypes.OCI_INDEX);
        ArrayNode manifests = index.putArray("manifests");
        Descriptor m = image.manifest();
        Map<String, String> annotations = name == null ? Map.of() : nameAnnotations(name);
        ObjectNode d = manifests.addObject();
        d.put("mediaType", m.mediaType());
        d.put("digest", m.digest());
        d.put("size", m.size());
        if (!image.architecture().isEmpty()) {
            ObjectNode platform = d.putObject("platform");
            platform.put("architecture", image.architecture());
            platform.put("os", image.os().isEmpty() ? "linux" : image.os());
        }
        if (!annotations.isEmpty()) {
            d.set("annotations", JSON.valueToTree(annotations));
        }
        return index;
    }
}
