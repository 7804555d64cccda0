package dev.kindbuild.image.registry;

import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.MediaTypes;

/**
 * A manifest or index exactly as a registry served it: the bytes are what gets stored and pushed, so its digest (and
 * the config digest inside) stay the registry's.
 *
 * @param mediaType from Content-Type, or the document's own mediaType field
 * @param bytes     the body, unchanged
 * @param digest    {@code sha256:} of {@code bytes}
 */
public record RegistryManifest(String mediaType, byte[] bytes, String digest) {
    public boolean isIndex() {
        return MediaTypes.INDEXES.contains(mediaType);
    }

    public Descriptor descriptor() {
        return new Descriptor(mediaType, digest, bytes.length);
    }
}
