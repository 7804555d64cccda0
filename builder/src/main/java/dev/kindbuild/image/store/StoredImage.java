package dev.kindbuild.image.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One single-platform image as a value: its manifest, config and layers by digest, all in an {@link ImageStore}.
 *
 * @param manifest   the descriptor of the manifest (its digest is the image's digest)
 * @param config     the config blob's descriptor (its digest is the image ID)
 * @param layers     the layer blobs, bottom first
 * @param configJson the parsed config (architecture, os, config, rootfs.diff_ids, history)
 */
public record StoredImage(Descriptor manifest, Descriptor config, List<Descriptor> layers, JsonNode configJson) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public StoredImage {
        layers = List.copyOf(layers);
    }

    static StoredImage parse(Descriptor manifest, byte[] manifestBytes, ImageStore store) {
        try {
            JsonNode m = JSON.readTree(manifestBytes);
            String mediaType = m.path("mediaType").asText(manifest.mediaType());
            if (MediaTypes.INDEXES.contains(mediaType)) {
                throw new UserError(manifest.digest() + " is an index of several platforms, not one image: pick a platform first");
            }
            Descriptor config = JSON.treeToValue(m.path("config"), Descriptor.class);
            List<Descriptor> layers = new ArrayList<>();
            for (JsonNode l : m.path("layers")) {
                layers.add(JSON.treeToValue(l, Descriptor.class));
            }
            return new StoredImage(manifest, config, layers, store.readJson(config.digest()));
        } catch (IOException e) {
            throw new UserError("manifest " + manifest.digest() + " in the image store is not valid: " + e.getMessage(), e);
        }
    }

    public String architecture() {
        return configJson.path("architecture").asText("");
    }

    public String os() {
        return configJson.path("os").asText("");
    }

    /** The uncompressed layer digests, bottom first, as the config records them. */
    public List<String> diffIds() {
        List<String> ids = new ArrayList<>();
        configJson.path("rootfs").path("diff_ids").forEach(n -> ids.add(n.asText()));
        return ids;
    }
}
