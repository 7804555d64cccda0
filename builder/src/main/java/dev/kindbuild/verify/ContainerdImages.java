package dev.kindbuild.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** Parses what `ctr -n k8s.io images ls` and `ctr content get` print about images in a node's containerd. */
final class ContainerdImages {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ContainerdImages() {}

    /** One image as containerd lists it: its manifest (target) digest and labels. */
    record Listed(String name, String targetDigest, String labels) {
        boolean pinned() {
            return labels.contains("io.cri-containerd.pinned=pinned");
        }
    }

    /** `ctr images ls` columns: REF TYPE DIGEST SIZE PLATFORMS LABELS (size is "12.3 MiB": two words). */
    static Map<String, Listed> parseList(String output) {
        Map<String, Listed> images = new HashMap<>();
        for (String line : output.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 3 || f[0].equals("REF")) {
                continue;
            }
            String labels = f[f.length - 1];
            images.put(f[0], new Listed(f[0], f[2], labels));
        }
        return images;
    }

    /** The config digest named by a manifest (or by the first manifest of an index, which needs another fetch). */
    static Optional<String> configDigest(String manifestJson) {
        try {
            JsonNode node = JSON.readTree(manifestJson);
            JsonNode config = node.path("config").path("digest");
            return config.isTextual() ? Optional.of(config.asText()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** For an index: the digest of the manifest for linux/{@code arch}. */
    static Optional<String> platformManifest(String indexJson, String arch) {
        try {
            for (JsonNode m : JSON.readTree(indexJson).path("manifests")) {
                if (arch.equals(m.path("platform").path("architecture").asText())) {
                    return Optional.of(m.path("digest").asText());
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
