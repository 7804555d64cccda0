package dev.kindbuild.kube;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.support.Sha256;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Release tarballs already extracted, in the cache under {@code releases/<sha256>/}: gunzipping a real server tarball
 * takes seconds, and a warm rebuild should not pay them again. A release directory appears whole (extracted under a
 * {@code .partial-<pid>-…} name, then renamed) and is only read afterwards; {@code contents.json}, written before the
 * rename, says what is inside and the SHA-256 of every file, hashed as it was extracted. Before a cached directory is
 * handed out each file is checked. A file hashed (at extraction, or found unchanged by a later check) is remembered
 * by its identity as it was before hashing (size, mtime, ctime, inode), if its ctime was already older than the
 * kernel clock's coarse tick can blur; while that identity holds, the file is the one that was hashed (any later write
 * sets a later ctime, which no user call can set back). Any other file is hashed again and compared (a real release's ~1 GB of binaries and image tars
 * costs ~2 s on this 2-core machine, a warm build's whole budget). A file changed since (a disk error, an edit that
 * kept the mtime) makes the directory count as absent, and it is extracted again.
 */
final class ExtractedReleases {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENTS = "contents.json";

    /** Extracts a tarball into a directory; the resolver's own extraction step. */
    interface Extraction {
        ReleaseTarball.Contents into(Path dest) throws IOException;
    }

    private final Path root;
    private final long settleMillis;

    ExtractedReleases(Path cacheRoot) {
        this(cacheRoot, SETTLE_MILLIS);
    }

    /** {@code settleMillis}: how old a file's ctime must be before its identity is remembered (tests shorten it). */
    ExtractedReleases(Path cacheRoot, long settleMillis) {
        this.root = cacheRoot.resolve("releases");
        this.settleMillis = settleMillis;
    }

    /** The extracted release of the tarball with digest {@code sha256}, if the cache has it whole and unchanged. */
    Optional<ReleaseTarball.Contents> find(String sha256) {
        return find(sha256, problem -> { });
    }

    /** As {@link #find(String)}; {@code changed} hears which file of a cached directory no longer matches its digest. */
    Optional<ReleaseTarball.Contents> find(String sha256, Consumer<String> changed) {
        Path dir = root.resolve(sha256);
        Path marker = dir.resolve(CONTENTS);
        if (!Files.isRegularFile(marker)) {
            return Optional.empty();
        }
        try {
            JsonNode n = JSON.readTree(marker.toFile());
            Map<String, Path> binaries = new LinkedHashMap<>();
            for (JsonNode b : n.path("binaries")) {
                binaries.put(b.asText(), dir.resolve("bin").resolve(b.asText()));
            }
            List<Path> images = new ArrayList<>();
            for (JsonNode i : n.path("images")) {
                images.add(dir.resolve("images").resolve(i.asText()));
            }
            Map<Path, String> recorded = new LinkedHashMap<>();
            List<Path> files = new ArrayList<>(binaries.values());
            files.addAll(images);
            for (Path f : files) {
                String hex = n.path("sha256").path(dir.relativize(f).toString()).asText("");
                if (!Sha256.isHex(hex) || !Files.isRegularFile(f)) {
                    return Optional.empty(); // incomplete, or made before digests were recorded: extracted again
                }
                recorded.put(f, hex);
            }
            JsonNode identities = n.path("identity");
            // Read before hashing: what is remembered is what the hash was taken of.
            Map<Path, String> before = new LinkedHashMap<>();
            files.forEach(f -> before.put(f, identity(f)));
            List<Path> unknown = files.stream().filter(f -> {
                String now = before.get(f);
                return now.isEmpty() || !now.equals(identities.path(dir.relativize(f).toString()).asText(""));
            }).toList();
            Optional<Path> bad = unknown.parallelStream().filter(f -> !matches(f, recorded.get(f))).findFirst();
            if (bad.isPresent()) {
                changed.accept(dir.relativize(bad.get()).toString());
                return Optional.empty();
            }
            if (!unknown.isEmpty()) {
                Map<Path, String> hashed = new LinkedHashMap<>();
                unknown.forEach(f -> hashed.put(f, before.get(f)));
                if (remember((com.fasterxml.jackson.databind.node.ObjectNode) n, dir, hashed, settleMillis)) {
                    writeAtomically(marker, n);
                }
            }
            Optional<String> version = n.hasNonNull("version") ? Optional.of(n.get("version").asText()) : Optional.empty();
            return Optional.of(new ReleaseTarball.Contents(binaries, images, version, recorded, sha256));
        } catch (IOException e) {
            return Optional.empty(); // unreadable: extracted again, replacing it
        }
    }

    /**
     * Adds to {@code contents} the identities (taken before hashing) of files just hashed and found as recorded, those
     * whose ctime was older than now minus {@code settleMillis}; true when any was added.
     */
    private static boolean remember(com.fasterxml.jackson.databind.node.ObjectNode contents, Path dir, Map<Path, String> hashed,
            long settleMillis) {
        long settled = System.currentTimeMillis() - settleMillis;
        com.fasterxml.jackson.databind.node.ObjectNode identities = contents.with("identity");
        boolean added = false;
        for (Map.Entry<Path, String> f : hashed.entrySet()) {
            if (!f.getValue().isEmpty() && ctimeMillis(f.getValue()) <= settled) {
                identities.put(dir.relativize(f.getKey()).toString(), f.getValue());
                added = true;
            }
        }
        return added;
    }

    /** Written beside and renamed over: a reader sees the old or the new record, never half of one. */
    private static void writeAtomically(Path marker, JsonNode contents) {
        Path tmp = marker.resolveSibling(CONTENTS + ".partial-" + ProcessHandle.current().pid() + "-"
                + Integer.toHexString(ThreadLocalRandom.current().nextInt()));
        try {
            Files.write(tmp, JSON.writeValueAsBytes(contents));
            Files.move(tmp, marker, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            // not remembered: the next build hashes again
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    /** How old a file's ctime must be before its identity stands for its bytes: well past the kernel clock's coarse tick. */
    private static final long SETTLE_MILLIS = 200;

    /** The ctime an identity holds, in milliseconds. */
    private static long ctimeMillis(String identity) {
        return Long.parseLong(identity.split(" ")[2]) / 1_000_000;
    }

    /**
     * What changes whenever the file's bytes do: size, mtime, ctime (set by the kernel on every write, not settable by
     * {@code touch}) and inode. Empty when it cannot be read: then the file is hashed.
     */
    static String identity(Path file) {
        try {
            Map<String, Object> a = Files.readAttributes(file, "unix:size,lastModifiedTime,ctime,ino,dev");
            return a.get("size") + " " + ((java.nio.file.attribute.FileTime) a.get("lastModifiedTime")).toMillis() + " "
                    + ((java.nio.file.attribute.FileTime) a.get("ctime")).to(java.util.concurrent.TimeUnit.NANOSECONDS) + " "
                    + a.get("ino") + " " + a.get("dev");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "";
        }
    }

    private static boolean matches(Path file, String hex) {
        try {
            return Sha256.of(file).equals(hex);
        } catch (IOException e) {
            return false;
        }
    }

    /** Extracts into the cache (replacing an incomplete or changed entry) and returns the cached contents. */
    ReleaseTarball.Contents extract(String sha256, Extraction extraction) throws IOException {
        Files.createDirectories(root);
        Path partial = root.resolve(".partial-" + ProcessHandle.current().pid() + "-"
                + Integer.toHexString(ThreadLocalRandom.current().nextInt()));
        try {
            ReleaseTarball.Contents contents = extraction.into(partial);
            Map<String, Object> marker = new LinkedHashMap<>();
            marker.put("version", contents.version().orElse(null));
            marker.put("binaries", new ArrayList<>(contents.binaries().keySet()));
            marker.put("images", contents.imageTars().stream().map(p -> p.getFileName().toString()).toList());
            Map<String, String> digests = new TreeMap<>();
            contents.sha256().forEach((file, hex) -> digests.put(partial.relativize(file).toString(), hex));
            marker.put("sha256", digests);
            // Hashed as they were written: those whose ctime has settled are remembered now (a big release's files
            // all but the last), so the first warm build reads none of them again.
            com.fasterxml.jackson.databind.node.ObjectNode identities = JSON.createObjectNode();
            Map<Path, String> written = new LinkedHashMap<>();
            contents.sha256().keySet().forEach(f -> written.put(f, identity(f)));
            if (remember(identities, partial, written, settleMillis)) {
                marker.put("identity", identities.get("identity"));
            }
            Files.write(partial.resolve(CONTENTS), JSON.writeValueAsBytes(marker));
            Path dir = root.resolve(sha256);
            if (Files.exists(dir) && find(sha256).isEmpty()) {
                TempPaths.deleteTree(dir);
            }
            try {
                Files.move(partial, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException | AtomicMoveNotSupportedException e) {
                // another build extracted the same tarball meanwhile: same bytes, theirs is kept (once checked)
                return find(sha256).orElseThrow(() -> new IOException("extracted release " + dir + " is incomplete"));
            }
            return moved(contents, partial, dir);
        } finally {
            if (Files.exists(partial)) {
                TempPaths.deleteTree(partial);
            }
        }
    }

    /** {@code contents} as found under {@code to} after the rename from {@code from}: the files were just hashed. */
    private static ReleaseTarball.Contents moved(ReleaseTarball.Contents contents, Path from, Path to) {
        Map<String, Path> binaries = new LinkedHashMap<>();
        contents.binaries().forEach((name, p) -> binaries.put(name, to.resolve(from.relativize(p))));
        List<Path> images = contents.imageTars().stream().map(p -> to.resolve(from.relativize(p))).toList();
        Map<Path, String> sha256 = new LinkedHashMap<>();
        contents.sha256().forEach((p, hex) -> sha256.put(to.resolve(from.relativize(p)), hex));
        return new ReleaseTarball.Contents(binaries, images, contents.version(), sha256, contents.tarballSha256());
    }
}
