package dev.kindbuild.lifecycle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Temporary directories kind-build makes for one run, and their removal. */
public final class TempPaths {
    private TempPaths() {}

    /** A new temp directory that {@code cleanup} removes (on close, failure or Ctrl-C). */
    public static Path createDirectory(String prefix, CleanupStack cleanup) {
        try {
            Path dir = Files.createTempDirectory(prefix);
            cleanup.push("temp dir " + dir, () -> deleteTree(dir));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes {@code root} and everything below it; a missing root is fine. */
    public static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            List<Path> deepestFirst = walk.sorted(Comparator.reverseOrder()).toList();
            for (Path p : deepestFirst) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + root, e);
        }
    }
}
