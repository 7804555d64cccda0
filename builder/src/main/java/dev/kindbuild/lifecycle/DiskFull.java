package dev.kindbuild.lifecycle;

import dev.kindbuild.CacheLocation;
import dev.kindbuild.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/** "No space left on device" as one line naming the directory that is full, whatever wrote to it. */
public final class DiskFull {
    private DiskFull() {}

    /** Whether {@code t} or one of its causes says a device is full. */
    public static boolean is(Throwable t) {
        for (Throwable cur = t; cur != null; cur = cur.getCause() == cur ? null : cur.getCause()) {
            String m = cur.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The user error for a full device while writing into one of {@code dirs}: names the one with the least free
     * space (the full one), and what to do.
     */
    public static UserError error(String doing, Throwable cause, Path... dirs) {
        Path full = List.of(dirs).stream().filter(Objects::nonNull).min(Comparator.comparingLong(DiskFull::usable)).orElse(null);
        if (full == null) {
            return new UserError("no space left on device " + doing + "; free some space", cause);
        }
        Path cache = CacheLocation.root().toAbsolutePath();
        Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
        Path abs = full.toAbsolutePath();
        // Name the directory the user chose (the cache, TMPDIR), not a work dir inside it that is gone by now.
        if (abs.startsWith(cache)) {
            return new UserError("no space left on device " + doing + ": the cache " + cache + " is full; free space "
                    + "there, or set KIND_BUILD_CACHE to a directory with room", cause);
        }
        if (abs.startsWith(tmp)) {
            return new UserError("no space left on device " + doing + ": the temp dir " + tmp + " is full; free space "
                    + "there, or set TMPDIR to a directory with room", cause);
        }
        return new UserError("no space left on device " + doing + ": " + full + " is full; free space there", cause);
    }

    private static long usable(Path dir) {
        try {
            Path existing = dir;
            while (existing != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            return existing == null ? Long.MAX_VALUE : Files.getFileStore(existing).getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Rethrows {@code e} as the full-disk user error when it is one, else as is (unchecked). */
    public static RuntimeException orElse(IOException e, String doing, RuntimeException otherwise, Path... dirs) {
        return is(e) ? error(doing, e, dirs) : otherwise;
    }
}
