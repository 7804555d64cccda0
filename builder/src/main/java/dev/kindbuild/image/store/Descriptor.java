package dev.kindbuild.image.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;
import java.util.Objects;

/**
 * An OCI content descriptor: what a blob is, its digest and size. The unit every manifest, index and store entry
 * refers to content by.
 *
 * @param mediaType   e.g. {@link MediaTypes#OCI_MANIFEST}, {@link MediaTypes#OCI_LAYER_GZIP}
 * @param digest      {@code sha256:<64 hex>}
 * @param size        bytes
 * @param annotations OCI annotations (e.g. {@code org.opencontainers.image.ref.name} in an index); may be empty
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Descriptor(String mediaType, String digest, long size, Map<String, String> annotations) {
    public Descriptor {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
        if (!digest.matches("sha256:[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not a sha256 digest: " + digest);
        }
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size + " for " + digest);
        }
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    public Descriptor(String mediaType, String digest, long size) {
        this(mediaType, digest, size, Map.of());
    }

    /** The 64 hex digits of the digest. */
    public String hex() {
        return digest.substring("sha256:".length());
    }

    public Descriptor withAnnotations(Map<String, String> value) {
        return new Descriptor(mediaType, digest, size, value);
    }
}
