package dev.kindbuild.lifecycle;

import dev.kindbuild.UserError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Temporary directories kind-build makes for one run, and their removal. They live in java.io.tmpdir (TMPDIR, see
 * the CLI), are named {@code kind-build-<what>-<pid>-<random>} and hold an owner file with the creating process's PID
 * and start time, so `kind-build cleanup` can remove those of a process that died (kill -9) and nothing else.
 */
public final class TempPaths {
    private TempPaths() {}

    /** The file in each temp dir naming the process that made it. */
    public static final String OWNER_FILE = ".kind-build-owner";
    /** Owned dirs of this process not yet removed, for the interruption hook (a stopped pull may not get to it). */
    private static final java.util.Set<Path> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static final Pattern NAME = Pattern.compile("kind-build-[a-z-]+?-(\\d+)-.+");

    /** A new temp directory that {@code cleanup} removes (on close, failure or Ctrl-C). */
    public static Path createDirectory(String prefix, CleanupStack cleanup) {
        Path dir = createOwnedDirectory(prefix);
        try {
            cleanup.push("temp dir " + dir, () -> deleteTree(dir));
        } catch (RuntimeException interrupted) {
            deleteTree(dir);
            throw interrupted;
        }
        return dir;
    }

    /**
     * A new temp directory {@code <tmpdir>/<prefix><pid>-<random>} with its owner file; the caller removes it. A
     * prefix is like "kind-build-node-".
     */
    public static Path createOwnedDirectory(String prefix) {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Path dir;
        try {
            dir = Files.createTempDirectory(tmp, prefix + ProcessHandle.current().pid() + "-");
        } catch (IOException e) {
            if (DiskFull.is(e)) {
                throw DiskFull.error("creating a temp dir", e, tmp);
            }
            throw new UserError("cannot create a temp dir in " + tmp + " (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + "): set TMPDIR to a writable directory", e);
        }
        try {
            Files.writeString(dir.resolve(OWNER_FILE), ownerLine(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            deleteTree(dir);
            throw DiskFull.is(e) ? DiskFull.error("creating a temp dir", e, tmp)
                    : new UncheckedIOException("cannot write in " + dir, e);
        }
        LIVE.add(dir);
        return dir;
    }

    private static String ownerLine() {
        ProcessHandle self = ProcessHandle.current();
        return self.pid() + " " + self.info().startInstant().map(i -> Long.toString(i.toEpochMilli())).orElse("0") + "\n";
    }

    /**
     * kind-build temp dirs in {@code tmp} whose creating process is gone: named like ours, with an owner file naming
     * a process that no longer runs. Anything else (another tool's, a live run's) is never listed.
     */
    public static List<Path> abandoned(Path tmp) {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(tmp)) {
            for (Path p : s.toList()) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (!m.matches() || !Files.isDirectory(p) || Files.isSymbolicLink(p)) {
                    continue;
                }
                Optional<long[]> owner = owner(p.resolve(OWNER_FILE));
                if (owner.isPresent() && owner.get()[0] == Long.parseLong(m.group(1)) && !alive(owner.get()[0], owner.get()[1])) {
                    out.add(p);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return out;
        }
        return out;
    }

    private static Optional<long[]> owner(Path file) {
        try {
            String[] parts = Files.readString(file, StandardCharsets.UTF_8).strip().split("\\s+");
            return Optional.of(new long[] {Long.parseLong(parts[0]), parts.length > 1 ? Long.parseLong(parts[1]) : 0});
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Whether the process {@code pid} that started at {@code startMillis} (0: unknown) still runs. */
    public static boolean alive(long pid, long startMillis) {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .filter(p -> startMillis == 0 || p.info().startInstant()
                        .map(i -> Math.abs(i.toEpochMilli() - startMillis) < 2000).orElse(true))
                .isPresent();
    }

    /**
     * Removes {@code root} and everything below it; a missing root is fine. A writer that is still stopping (a pull
     * thread after a failure) may add a file meanwhile: the removal is tried again for up to two seconds.
     */
    public static void deleteTree(Path root) {
        for (int attempt = 0; ; attempt++) {
            try {
                deleteOnce(root);
                if (root != null) {
                    LIVE.remove(root);
                }
                return;
            } catch (IOException | UncheckedIOException e) {
                if (attempt >= 20) {
                    throw new UncheckedIOException("cannot remove " + root,
                            e instanceof IOException io ? io : ((UncheckedIOException) e).getCause());
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** Removes every owned temp dir this process still has (best effort; at interruption). */
    static void deleteLive() {
        for (Path dir : LIVE) {
            try {
                deleteTree(dir);
            } catch (UncheckedIOException e) {
                System.err.println("WARN: cannot remove " + dir + ": " + e.getMessage());
            }
        }
    }

    private static void deleteOnce(Path root) throws IOException {
        if (root == null || !Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            List<Path> deepestFirst = walk.sorted(Comparator.reverseOrder()).toList();
            for (Path p : deepestFirst) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static final Pattern PARTIAL = Pattern.compile("\\.(?:partial|tmp)-(\\d+)-.*");

    /** A running process (not this one) writing a {@code .partial-<pid>-…} file in {@code dir}, if any: its PID. */
    public static java.util.Optional<Long> liveWriter(Path dir) {
        if (!Files.isDirectory(dir)) {
            return java.util.Optional.empty();
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Matcher m = PARTIAL.matcher(p.getFileName().toString());
                if (m.matches()) {
                    long pid = Long.parseLong(m.group(1));
                    if (pid != ProcessHandle.current().pid() && alive(pid, 0)) {
                        return java.util.Optional.of(pid);
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            // unreadable: no writer known
        }
        return java.util.Optional.empty();
    }

    /**
     * Half-written cache files ({@code .partial-<pid>-…}, {@code .tmp-<pid>-…}) in the cache's download, image,
     * index and run-record directories whose writing process no longer runs, half-extracted releases
     * ({@code releases/.partial-…} directories) and image stores a `cleanup --store` was removing ({@code .partial-…}
     * directories in the cache root); remove directories with {@link #deleteTree}.
     */
    public static List<Path> abandonedPartialFiles(Path cacheRoot) {
        List<Path> out = new ArrayList<>();
        for (Path dir : List.of(cacheRoot, cacheRoot.resolve("downloads").resolve("sha256"), cacheRoot.resolve("images"),
                cacheRoot.resolve("index"), cacheRoot.resolve("store"), cacheRoot.resolve("store").resolve("blobs").resolve("sha256"), cacheRoot.resolve("releases"),
                cacheRoot.resolve("runs"))) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Matcher m = PARTIAL.matcher(p.getFileName().toString());
                    boolean extraction = (dir.endsWith("releases") || dir.equals(cacheRoot))
                            && Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    if (m.matches() && (extraction || Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                            && !alive(Long.parseLong(m.group(1)), 0)) {
                        out.add(p);
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // unreadable: nothing of ours to remove there
            }
        }
        return out;
    }
}
