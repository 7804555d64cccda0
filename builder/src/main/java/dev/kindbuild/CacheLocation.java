package dev.kindbuild;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where kind-build keeps what it may reuse across runs (verified downloads, pulled images): the system property
 * {@code kindbuild.cache}, else {@code $KIND_BUILD_CACHE}, else {@code ${XDG_CACHE_HOME:-~/.cache}/kind-build}.
 */
public final class CacheLocation {
    public static final String PROPERTY = "kindbuild.cache";
    public static final String ENV = "KIND_BUILD_CACHE";

    private CacheLocation() {}

    public static Path root() {
        return root(System.getProperty(PROPERTY), System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** As {@link #root()} for given inputs (for tests). */
    public static Path root(String property, Map<String, String> env, Path home) {
        if (property != null && !property.isBlank()) {
            return Path.of(property).toAbsolutePath();
        }
        String explicit = env.get(ENV);
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit).toAbsolutePath();
        }
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute() ? Path.of(xdg) : home.resolve(".cache");
        return base.resolve("kind-build");
    }
}
