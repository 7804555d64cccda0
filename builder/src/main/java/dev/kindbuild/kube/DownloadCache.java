package dev.kindbuild.kube;

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

    /** {@code $KIND_BUILD_CACHE}, else {@code ${XDG_CACHE_HOME:-~/.cache}/kind-build}. */
    public static Path defaultRoot() {
        return defaultRoot(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** As {@link #defaultRoot()} for a given environment and home directory (for tests). */
    public static Path defaultRoot(Map<String, String> env, Path home) {
        String explicit = env.get("KIND_BUILD_CACHE");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute() ? Path.of(xdg) : home.resolve(".cache");
        return base.resolve("kind-build");
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
