package dev.kindbuild.image.registry;

import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.store.StoredImage;

/**
 * One image pulled into the store for one platform.
 *
 * @param reference        what was asked for
 * @param digest           what the reference resolved to at the registry: the index's digest for a multi-platform
 *                         image, else the manifest's (the digest to pin the reference with)
 * @param platformDigest   the chosen platform's manifest digest (equals {@code digest} for a single-platform image)
 * @param configDigest     the config blob's digest as the registry has it (the image ID)
 * @param image            the image in the store
 * @param source           where it came from: the mirror's reference, or the reference itself
 * @param storeName        the name it has in the store's index.json
 * @param layersTransferred layers downloaded (0 when the store had them all)
 * @param bytesTransferred blob bytes downloaded, config and layers (manifests not counted)
 */
public record PullResult(ImageRef reference, String digest, String platformDigest, String configDigest, StoredImage image,
        ImageRef source, String storeName, int layersTransferred, long bytesTransferred) {

    /** {@code reference@digest}: the reference pinned to what it resolved to. */
    public ImageRef pinned() {
        return reference.withDigest(digest);
    }

    public boolean viaMirror() {
        return !source.registry().equals(reference.registry());
    }
}
