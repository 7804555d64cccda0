package dev.kindbuild.image;

import java.nio.file.Path;

/**
 * A pulled image on disk.
 *
 * @param ref            the name asked for (never the mirror's); the archive is tagged {@code ref.nameWithTag()}
 * @param digest         the registry digest {@code ref}'s tag resolved to (a manifest list's digest for multi-arch
 *                       images): what to pin, {@code ref.withDigest(digest)}
 * @param platformDigest the digest of the linux/{@code arch} manifest inside it (equals {@code digest} for
 *                       single-platform images)
 * @param arch           e.g. amd64
 * @param tarball        the docker-archive written
 * @param size           its size in bytes
 * @param source         where it came from: the mirror's reference, or {@code ref} itself
 * @param fromCache      true when no layer had to be transferred
 * @param configDigest   the image ID (config digest) of the archive written
 */
public record PulledImage(ImageRef ref, String digest, String platformDigest, String arch, Path tarball, long size,
        ImageRef source, boolean fromCache, String configDigest) {

    /** {@code registry/repository:tag@digest}. */
    public ImageRef pinned() {
        return ref.withDigest(digest);
    }
}
