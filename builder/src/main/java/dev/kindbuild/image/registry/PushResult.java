package dev.kindbuild.image.registry;

import dev.kindbuild.image.ImageRef;

/**
 * What a push did. The counts prove what the issue asks: a registry already holding the base receives only the new
 * layers ({@code uploaded} counts them, {@code skipped} the blobs it had).
 *
 * @param reference     where it was pushed ({@code registry/repo:tag})
 * @param digest        the pushed manifest's or index's digest
 * @param mediaType     its media type
 * @param uploaded      blobs (layers and configs) sent
 * @param mounted       blobs the registry mounted from another repository instead
 * @param skipped       blobs the repository already had
 * @param bytesUploaded bytes of the blobs sent
 */
public record PushResult(ImageRef reference, String digest, String mediaType, int uploaded, int mounted, int skipped,
        long bytesUploaded) {

    /** {@code registry/repo:tag@sha256:…}: the pinned line release notes carry. */
    public ImageRef pinned() {
        return reference.withDigest(digest);
    }
}
