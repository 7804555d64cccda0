package dev.kindbuild.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * kind-build's cache of pulled images, content-addressed:
 * <ul>
 *   <li>{@code images/<sha256 of the platform manifest>-<arch>.tar}: a docker-archive as the puller wrote it;</li>
 *   <li>{@code index/<sha256 of "ref arch mirror">}: the digests a reference resolved to (lets a digest-pinned rebuild
 *       run without asking the registry at all);</li>
 *   <li>{@code jib-layers/}: jib's base-image layer cache, so images sharing layers download them once.</li>
 * </ul>
 * Location: {@code $KIND_BUILD_CACHE}, else {@code ${XDG_CACHE_HOME:-~/.cache}/kind-build}. Every write is a rename of
 * a finished temp file, so concurrent builds and interrupted ones never leave a half-written entry.
 */
public final class ImageCache {

    /** What a reference resolved to: the digest its tag pointed at, and the linux/arch manifest's digest. */
    public record IndexEntry(String digest, String platformDigest) {}

    private final Path root;

    private ImageCache(Path root) {
        this.root = root;
    }

    public static ImageCache at(Path root) {
        return new ImageCache(root.toAbsolutePath());
    }

    /** At the cache root of {@link dev.kindbuild.CacheLocation}. */
    public static ImageCache defaultLocation() {
        return at(dev.kindbuild.CacheLocation.root());
    }

    public Path root() {
        return root;
    }

    /** jib's base-image layer cache directory. */
    public Path layersDir() {
        return root.resolve("jib-layers");
    }

    Path imagePath(String platformDigest, String arch) {
        return root.resolve("images").resolve(hex(platformDigest) + "-" + arch + ".tar");
    }

    /** The cached archive of the linux/{@code arch} image with manifest digest {@code platformDigest}, if present. */
    public Optional<Path> image(String platformDigest, String arch) {
        Path p = imagePath(platformDigest, arch);
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    /** A fresh temp file name next to the cached images (same file system, so {@link #store} is a rename). */
    public Path newTempFile() {
        try {
            Path dir = Files.createDirectories(root.resolve("images"));
            return dir.resolve(".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".tar");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create cache directory under " + root, e);
        }
    }

    /** Moves a finished archive into the cache; returns its cached path. */
    public Path store(Path finished, String platformDigest, String arch) {
        Path target = imagePath(platformDigest, arch);
        try {
            Files.createDirectories(target.getParent());
            move(finished, target);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store " + finished + " in the image cache", e);
        }
    }

    public Optional<IndexEntry> lookup(String key) {
        Path p = root.resolve("index").resolve(DockerArchive.sha256(key.getBytes(StandardCharsets.UTF_8)));
        try {
            if (!Files.isRegularFile(p)) {
                return Optional.empty();
            }
            List<String> lines = Files.readAllLines(p, StandardCharsets.UTF_8);
            if (lines.size() < 3 || !lines.get(0).equals(key)) {
                return Optional.empty();
            }
            return Optional.of(new IndexEntry(lines.get(1), lines.get(2)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public void record(String key, IndexEntry entry) {
        Path dir = root.resolve("index");
        Path p = dir.resolve(DockerArchive.sha256(key.getBytes(StandardCharsets.UTF_8)));
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve(".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
            try {
                Files.writeString(tmp, key + "\n" + entry.digest() + "\n" + entry.platformDigest() + "\n", StandardCharsets.UTF_8);
                move(tmp, p);
            } finally {
                // A full disk leaves an empty temp file behind otherwise, which no later build would remove.
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            // The index is an optimisation; failing to write it must not fail a build.
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static String hex(String digest) {
        int colon = digest.indexOf(':');
        return colon < 0 ? digest : digest.substring(colon + 1);
    }
}
