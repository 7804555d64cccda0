package dev.kindbuild.testing;

import dev.kindbuild.CacheLocation;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.kube.DownloadCache;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A private kind-build cache for one test class: points the {@code kindbuild.cache} property at a fresh temp dir, so
 * builds never read or fill the user's cache; {@link #close} restores the property and deletes the dir.
 */
public final class TestCache implements AutoCloseable {
    private final Path dir;
    private final String previous;

    private TestCache(Path dir, String previous) {
        this.dir = dir;
        this.previous = previous;
    }

    public static TestCache create() {
        try {
            Path dir = Files.createTempDirectory("kind-build-test-cache-").toAbsolutePath();
            String previous = System.setProperty(CacheLocation.PROPERTY, dir.toString());
            if (!DownloadCache.defaultRoot().equals(dir) || !ImageStore.defaultLocation().root().startsWith(dir)) {
                restore(previous);
                throw new IllegalStateException(CacheLocation.PROPERTY + "=" + dir + " is not what the caches use");
            }
            return new TestCache(dir, previous);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path dir() {
        return dir;
    }

    /** Every regular file in the cache, relative to it, sorted. */
    public List<String> files() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void restore(String previous) {
        if (previous == null) {
            System.clearProperty(CacheLocation.PROPERTY);
        } else {
            System.setProperty(CacheLocation.PROPERTY, previous);
        }
    }

    @Override
    public void close() {
        restore(previous);
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove test cache " + dir, e);
        }
    }
}
