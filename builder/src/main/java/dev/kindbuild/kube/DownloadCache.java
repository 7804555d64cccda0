package dev.kindbuild.kube;

import dev.kindbuild.support.Sha256;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * kind-build's cache directory and its content-addressed download store, {@code <cache>/downloads/sha256/<hex>}.
 * Entries are only ever created by an atomic rename of a fully verified temp file in the same directory.
 */
public final class DownloadCache {
    private final Path root;

    public DownloadCache(Path root) {
        this.root = root;
    }

    /** The cache root of {@link dev.kindbuild.CacheLocation}. */
    public static Path defaultRoot() {
        return dev.kindbuild.CacheLocation.root();
    }

    public Path root() {
        return root;
    }

    /** The directory holding downloads by digest (and their temp files while in flight). */
    public Path downloadsDir() {
        return root.resolve("downloads").resolve("sha256");
    }

    /** Where the blob with this digest lives (whether or not it exists). */
    public Path pathFor(String sha256Hex) {
        return downloadsDir().resolve(Sha256.parseDigest(sha256Hex, "cache key"));
    }

    /** The cached blob with this digest, if present. */
    public Optional<Path> lookup(String sha256Hex) {
        Path p = pathFor(sha256Hex);
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }
}
