package dev.kindbuild.image.layer;

import dev.kindbuild.image.store.Descriptor;
import java.util.Objects;

/**
 * A layer in the image store: the blob a manifest lists, and the digest of its uncompressed tar that the image
 * config lists in {@code rootfs.diff_ids}. The two differ for a gzipped blob; for an uncompressed one they are equal.
 *
 * @param blob   the stored blob (e.g. {@link dev.kindbuild.image.store.MediaTypes#OCI_LAYER_GZIP})
 * @param diffId {@code sha256:} of the uncompressed tar
 */
public record Layer(Descriptor blob, String diffId) {
    public Layer {
        Objects.requireNonNull(blob, "blob");
        if (diffId == null || !diffId.matches("sha256:[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not a sha256 diffID: " + diffId);
        }
    }

    /** One line for progress: short digest and size. */
    public String describe() {
        return blob.digest().substring(0, 19) + ", " + String.format(java.util.Locale.ROOT, "%.1f MB", blob.size() / 1e6);
    }
}
