package dev.kindbuild.image.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kindbuild.UserError;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.image.store.StoredImage;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes an OCI image index over single-platform images into the store (the multi-arch tag): one entry per image,
 * its platform taken from the image's own config, so an index can never claim an arch its image is not. The bytes
 * depend only on the images, in the order given, so the same images give the same index digest.
 */
public final class OciIndex {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OciIndex() {}

    public static Descriptor write(ImageStore store, List<StoredImage> images) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("an index needs at least one image");
        }
        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", MediaTypes.OCI_INDEX);
        ArrayNode manifests = index.putArray("manifests");
        Set<String> seen = new HashSet<>();
        for (StoredImage image : images) {
            Platform p = Platform.of(image.configJson());
            if (p.os().isEmpty() || p.architecture().isEmpty()) {
                throw new UserError("image " + image.manifest().digest() + " has no os/architecture in its config; cannot index it");
            }
            if (!seen.add(p.toString())) {
                throw new UserError("two images for " + p + " in one index");
            }
            ObjectNode entry = manifests.addObject();
            entry.put("mediaType", image.manifest().mediaType());
            entry.put("digest", image.manifest().digest());
            entry.put("size", image.manifest().size());
            ObjectNode platform = entry.putObject("platform");
            platform.put("architecture", p.architecture());
            platform.put("os", p.os());
            if (!p.variant().isEmpty()) {
                platform.put("variant", p.variant());
            }
        }
        try {
            return store.put(JSON.writeValueAsBytes(index), MediaTypes.OCI_INDEX);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
