package dev.kindbuild.image.layer;

import dev.kindbuild.UserError;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One entry of a layer as the caller describes it: what goes at {@code path} in the image. Paths are image paths
 * ({@code /etc/x} or {@code etc/x}, same thing), normalised to {@code etc/x}; {@code ..} is refused so no entry can
 * land outside the image root when the layer is applied.
 *
 * @param type       what the entry is
 * @param path       normalised image path, no leading or trailing slash
 * @param mode       permission bits including setuid/setgid/sticky ({@code 04755}, {@code 01777}); no file-type bits
 * @param uid        owner
 * @param gid        group
 * @param linkTarget symlink target (kept verbatim, may be relative) or the hard link's target image path
 * @param source     where a {@link Type#FILE}'s content is streamed from (a host file, a store blob), or null
 * @param content    in-memory content of a small {@link Type#FILE}, or null (use {@link #source} for big files)
 */
public record LayerEntry(Type type, String path, int mode, long uid, long gid, String linkTarget, FileSource source, byte[] content) {
    public enum Type { FILE, DIRECTORY, SYMLINK, HARD_LINK, WHITEOUT, OPAQUE_WHITEOUT }

    /** Where a big file's bytes come from; opened only when the layer is written, and read once. */
    public interface FileSource {
        long size() throws IOException;

        InputStream open() throws IOException;
    }

    /** A file on the host, named by its path in messages. */
    public record HostFile(Path path) implements FileSource {
        @Override
        public long size() throws IOException {
            return Files.size(path);
        }

        @Override
        public InputStream open() throws IOException {
            return Files.newInputStream(path);
        }

        @Override
        public String toString() {
            return path.toString();
        }
    }

    /**
     * A blob of the image store, checked against its digest as it streams ({@link ImageStore#open}): a blob changed
     * in the store fails the layer instead of going into it.
     */
    public record StoreBlob(ImageStore store, Descriptor blob) implements FileSource {
        @Override
        public long size() {
            try {
                return Files.size(store.blobPath(blob.digest()));
            } catch (IOException e) {
                throw new UserError("blob " + blob.digest() + " is not in the image store " + store.root() + ": " + e.getMessage(), e);
            }
        }

        @Override
        public InputStream open() {
            return store.open(blob.digest());
        }

        @Override
        public String toString() {
            return store.blobPath(blob.digest()).toString();
        }
    }

    /** The whiteout prefix of the OCI layer spec: {@code .wh.NAME} removes NAME of the layers below. */
    public static final String WHITEOUT_PREFIX = ".wh.";
    /** Marks a directory whose contents in the layers below are hidden. */
    public static final String OPAQUE_MARKER = ".wh..wh..opq";

    public LayerEntry {
        Objects.requireNonNull(type, "type");
        path = normalize(path);
        if (path.isEmpty() && type != Type.OPAQUE_WHITEOUT) {
            throw new IllegalArgumentException("an entry needs a path below the image root (the root itself is implicit)");
        }
        if ((mode & ~07777) != 0) {
            throw new IllegalArgumentException("mode " + Integer.toOctalString(mode) + " of " + path
                    + " has bits beyond 07777 (give permission bits only; the type comes from the entry type)");
        }
        if (uid < 0 || gid < 0) {
            throw new IllegalArgumentException("negative owner " + uid + ":" + gid + " for " + path);
        }
        for (String part : path.split("/")) {
            if (part.startsWith(WHITEOUT_PREFIX)) {
                throw new IllegalArgumentException(path + ": names starting with .wh. are whiteouts; use whiteout()/opaque()");
            }
        }
        switch (type) {
            case FILE -> {
                if ((source == null) == (content == null)) {
                    throw new IllegalArgumentException("file " + path + " needs exactly one of a host source or content");
                }
            }
            case SYMLINK -> {
                if (linkTarget == null || linkTarget.isEmpty() || linkTarget.indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("symlink " + path + " needs a target");
                }
            }
            case HARD_LINK -> linkTarget = normalize(Objects.requireNonNull(linkTarget, "hard link target of " + path));
            default -> { }
        }
        content = content == null ? null : content.clone();
    }

    public static LayerEntry file(String path, Path source, int mode, long uid, long gid) {
        return new LayerEntry(Type.FILE, path, mode, uid, gid, null, new HostFile(source), null);
    }

    /** A file whose content is the store's blob {@code blob}, checked as it is written into the layer. */
    public static LayerEntry file(String path, ImageStore store, Descriptor blob, int mode, long uid, long gid) {
        return new LayerEntry(Type.FILE, path, mode, uid, gid, null, new StoreBlob(store, blob), null);
    }

    public static LayerEntry file(String path, byte[] content, int mode, long uid, long gid) {
        return new LayerEntry(Type.FILE, path, mode, uid, gid, null, null, content);
    }

    /** A root-owned file. */
    public static LayerEntry file(String path, byte[] content, int mode) {
        return file(path, content, mode, 0, 0);
    }

    public static LayerEntry directory(String path, int mode, long uid, long gid) {
        return new LayerEntry(Type.DIRECTORY, path, mode, uid, gid, null, null, null);
    }

    /** A symlink kept as a symlink (jib would copy its target instead), root-owned, mode 0777 as Linux reports them. */
    public static LayerEntry symlink(String path, String target) {
        return new LayerEntry(Type.SYMLINK, path, 0777, 0, 0, target, null, null);
    }

    /**
     * A hard link to {@code target}, which must be a regular file of the same layer: that is the only case every
     * layer applier (Docker, containerd) and {@link ImageContents} resolve alike. Mode and owner are the target's.
     */
    public static LayerEntry hardLink(String path, String target) {
        return new LayerEntry(Type.HARD_LINK, path, 0, 0, 0, target, null, null);
    }

    /** Removes {@code path} (and anything under it) of the layers below. */
    public static LayerEntry whiteout(String path) {
        return new LayerEntry(Type.WHITEOUT, path, 0, 0, 0, null, null, null);
    }

    /** Hides everything the layers below have under directory {@code dir}; this layer's own entries there stay. */
    public static LayerEntry opaque(String dir) {
        return new LayerEntry(Type.OPAQUE_WHITEOUT, dir, 0, 0, 0, null, null, null);
    }

    /** The tar entry name this entry is written under (whiteouts become their marker files). */
    String tarName() {
        return switch (type) {
            case WHITEOUT -> {
                int slash = path.lastIndexOf('/');
                yield path.substring(0, slash + 1) + WHITEOUT_PREFIX + path.substring(slash + 1);
            }
            case OPAQUE_WHITEOUT -> path.isEmpty() ? OPAQUE_MARKER : path + "/" + OPAQUE_MARKER;
            default -> path;
        };
    }

    /**
     * {@code /a/./b/} → {@code a/b}. Refuses {@code ..} anywhere (even when it would stay inside: a layer path has one
     * spelling) and NUL.
     */
    public static String normalize(String path) {
        Objects.requireNonNull(path, "path");
        if (path.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("NUL in path " + path.replace('\0', '?'));
        }
        List<String> parts = new ArrayList<>();
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                throw new IllegalArgumentException("path " + path + " contains '..': it could escape the image root");
            }
            parts.add(part);
        }
        return String.join("/", parts);
    }
}
