package dev.kindbuild.image.archive;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kindbuild.UserError;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.image.store.StoredImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes a stored image as a docker-archive ({@code docker load} of Docker 20.10 takes it): {@code <config hex>.json}
 * (the config byte for byte, so the image ID is the config digest), each layer blob as is ({@code <hex>.tar.gz} when
 * gzipped, which {@code docker load} decompresses, else {@code <hex>.tar}), {@code manifest.json} and the legacy
 * {@code repositories}. Blobs are streamed from the store.
 */
public final class DockerArchiveOutput {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DockerArchiveOutput() {}

    /** Writes the archive to {@code out} (through a temp file renamed into place). */
    public static void write(ImageStore store, StoredImage image, List<String> repoTags, Path out) {
        ArchiveFiles.writeAtomically(out, "docker-archive", tar -> body(store, image, repoTags, tar));
    }

    /** Streams the archive to {@code out} (e.g. the engine's load API); {@code out} is flushed, not closed. */
    public static void write(ImageStore store, StoredImage image, List<String> repoTags, OutputStream out) throws IOException {
        ArchiveFiles.writeTar(out, tar -> body(store, image, repoTags, tar));
    }

    private static void body(ImageStore store, StoredImage image, List<String> repoTags,
            dev.kindbuild.support.TarWriter tar) throws IOException {
        List<String> tags = repoTags.stream().map(DockerArchiveOutput::fullTag).toList();
        String configName = image.config().hex() + ".json";
        ArchiveFiles.blob(tar, configName, store, image.config());
        ArrayNode layerNames = JSON.createArrayNode();
        Set<String> written = new HashSet<>();
        for (Descriptor layer : image.layers()) {
            String name = layer.hex() + (isGzip(layer) ? ".tar.gz" : ".tar");
            if (written.add(name)) { // an image may list the same layer twice; one copy serves both
                ArchiveFiles.blob(tar, name, store, layer);
            }
            layerNames.add(name);
        }
        ObjectNode entry = JSON.createObjectNode();
        entry.put("Config", configName);
        ArrayNode rt = entry.putArray("RepoTags");
        tags.forEach(rt::add);
        entry.set("Layers", layerNames);
        ArchiveFiles.bytes(tar, "manifest.json", JSON.writeValueAsBytes(JSON.createArrayNode().add(entry)));
        // Loaders read manifest.json; this legacy file only names repositories and tags for old readers. Its value
        // is meant to be the top layer's v1 ID, a notion stored images have no use for: the top diffID stands in.
        if (!tags.isEmpty() && !image.diffIds().isEmpty()) {
            String top = image.diffIds().get(image.diffIds().size() - 1).substring("sha256:".length());
            ObjectNode repos = JSON.createObjectNode();
            for (String t : tags) {
                int colon = t.lastIndexOf(':');
                ObjectNode r = repos.has(t.substring(0, colon)) ? (ObjectNode) repos.get(t.substring(0, colon))
                        : repos.putObject(t.substring(0, colon));
                r.put(t.substring(colon + 1), top);
            }
            ArchiveFiles.bytes(tar, "repositories", JSON.writeValueAsBytes(repos));
        }
    }

    /** Only names the file: docker load recognises gzip by its magic bytes, whatever the name says. */
    private static boolean isGzip(Descriptor layer) {
        return MediaTypes.isGzipLayer(layer.mediaType());
    }

    /** {@code name[:tag]} → {@code name:tag}; a digest reference cannot be a docker-archive tag. */
    static String fullTag(String ref) {
        if (ref.contains("@")) {
            throw new UserError("a docker-archive tags images by name:tag, not by digest: " + ref);
        }
        ImageRef.parse(ref); // refuses what is not a reference at all
        int slash = ref.lastIndexOf('/');
        int colon = ref.lastIndexOf(':');
        return colon > slash ? ref : ref + ":latest";
    }
}
