package dev.kindbuild.image.layer;

import dev.kindbuild.UserError;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.support.TarWriter;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Builds one image layer (gzipped tar) into the {@link ImageStore}, reproducibly: the same entries and mtime give the
 * same bytes whatever the clock, temp dir, host user or umask. To that end entries are sorted by name, missing parent
 * directories are added as {@code 0755 root:root}, every entry gets the one given mtime (whole seconds, so no PAX
 * time records), user and group names are empty, no atime/ctime/xattrs are written, and gzip
 * ({@link ParallelGzipOutputStream}, on every core) has a fixed header (mtime 0, no file name, OS "unknown"), level
 * and block size. (The deflate bytes are those of the JDK's zlib: reproducible on one JDK build; the diffID does not
 * depend on it at all.)
 *
 * <p>The tar is streamed through two digests at once (uncompressed → diffID, compressed → blob digest) straight into
 * the store; file content is streamed from the host, never held in memory.
 */
public final class LayerBuilder {
    /** gzip's default level: what docker and containerd use, a fair speed/size trade on 2 cores. */
    public static final int GZIP_LEVEL = 6;

    /** By tar name, so a directory and its opaque marker are distinct entries and the order is the tar order. */
    private final Map<String, LayerEntry> entries = new TreeMap<>();

    public LayerBuilder add(LayerEntry entry) {
        LayerEntry old = entries.putIfAbsent(entry.tarName(), entry);
        if (old != null) {
            throw new IllegalArgumentException("the layer already has an entry for " + describe(entry));
        }
        return this;
    }

    public LayerBuilder addAll(Iterable<LayerEntry> all) {
        all.forEach(this::add);
        return this;
    }

    /**
     * Adds the tree under host directory {@code hostDir} at {@code imageDir} (which is itself added as a directory
     * unless it is the root): directories, regular files (streamed when the layer is written) and symlinks (kept as
     * symlinks, targets verbatim), all with {@code attributes}' owner and modes. Anything else (sockets, devices,
     * fifos) is refused. Host hard links become separate files.
     */
    public LayerBuilder addTree(Path hostDir, String imageDir, TreeAttributes attributes) {
        String base = LayerEntry.normalize(imageDir);
        if (!Files.isDirectory(hostDir, LinkOption.NOFOLLOW_LINKS)) {
            throw new UserError(hostDir + " is not a directory");
        }
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(hostDir)) {
            paths = walk.sorted().toList();
        } catch (IOException e) {
            throw new UserError("cannot read " + hostDir + ": " + e.getMessage(), e);
        }
        for (Path p : paths) {
            String rel = relativeName(hostDir, p);
            String target = base.isEmpty() ? rel : rel.isEmpty() ? base : base + "/" + rel;
            if (target.isEmpty()) {
                continue;
            }
            try {
                if (Files.isSymbolicLink(p)) {
                    add(new LayerEntry(LayerEntry.Type.SYMLINK, target, 0777, attributes.uid(), attributes.gid(),
                            Files.readSymbolicLink(p).toString(), null, null));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    add(LayerEntry.directory(target, attributes.dirMode(), attributes.uid(), attributes.gid()));
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    boolean exec = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)
                            .contains(PosixFilePermission.OWNER_EXECUTE);
                    add(LayerEntry.file(target, p, exec ? attributes.executableMode() : attributes.fileMode(),
                            attributes.uid(), attributes.gid()));
                } else {
                    throw new UserError(p + " is neither a file, a directory nor a symlink: it cannot go into a layer");
                }
            } catch (IOException e) {
                throw new UserError("cannot read " + p + ": " + e.getMessage(), e);
            }
        }
        return this;
    }

    /** The entries as they will be written: sorted, implicit parents included. */
    public List<LayerEntry> entries() {
        Map<String, LayerEntry> all = new TreeMap<>(entries);
        for (LayerEntry e : entries.values()) {
            String dir = e.type() == LayerEntry.Type.OPAQUE_WHITEOUT ? e.path() : parent(e.path());
            for (; dir != null && !dir.isEmpty(); dir = parent(dir)) {
                LayerEntry there = all.get(dir);
                if (there == null) {
                    all.put(dir, LayerEntry.directory(dir, 0755, 0, 0));
                } else if (there.type() != LayerEntry.Type.DIRECTORY) {
                    throw new IllegalArgumentException(describe(e) + " needs " + dir + " to be a directory, but the layer has it as "
                            + there.type().name().toLowerCase(java.util.Locale.ROOT));
                }
            }
            if (e.type() == LayerEntry.Type.WHITEOUT && entries.containsKey(e.path())) {
                throw new IllegalArgumentException("the layer both adds and whites out " + e.path());
            }
            if (e.type() == LayerEntry.Type.HARD_LINK) {
                LayerEntry target = entries.get(e.linkTarget());
                if (target == null || target.type() != LayerEntry.Type.FILE) {
                    throw new IllegalArgumentException("hard link " + e.path() + " → " + e.linkTarget()
                            + ": the target must be a regular file of the same layer");
                }
            }
        }
        return List.copyOf(all.values());
    }

    /** How a layer blob is stored. */
    public enum Compression {
        /** {@link MediaTypes#OCI_LAYER_GZIP}: what registries and pushes want. */
        GZIP,
        /**
         * {@link MediaTypes#OCI_LAYER}: several times faster to write (deflate is the cost of a big layer on a small
         * machine), the blob digest equals the diffID; for local outputs (docker load, OCI archives) it is enough.
         */
        NONE
    }

    /** Writes the layer gzipped into {@code store}; every entry gets {@code mtime} (truncated to whole seconds). */
    public Layer write(ImageStore store, Instant mtime) {
        return write(store, mtime, Compression.GZIP);
    }

    /** Writes the layer into {@code store} as {@code compression} says; every entry gets {@code mtime} (whole seconds). */
    public Layer write(ImageStore store, Instant mtime, Compression compression) {
        MessageDigest diff = Sha256.newDigest();
        boolean gzipped = compression == Compression.GZIP;
        Descriptor blob = store.write(gzipped ? MediaTypes.OCI_LAYER_GZIP : MediaTypes.OCI_LAYER, out -> {
            // Uncompressed, the blob is the tar: its digest is the diffID, and hashing the bytes twice is waste.
            java.io.OutputStream body = gzipped ? new DigestOutputStream(new ParallelGzipOutputStream(out, GZIP_LEVEL), diff) : out;
            try (java.io.OutputStream buffered = new BufferedOutputStream(body, 1 << 16)) {
                writeTar(buffered, mtime);
            }
        });
        return new Layer(blob, gzipped ? "sha256:" + Sha256.hex(diff) : blob.digest());
    }

    /** The layer's tar, uncompressed, to {@code out} (left open); every entry gets {@code mtime} (whole seconds). */
    public void writeTar(java.io.OutputStream out, Instant mtime) throws IOException {
        TarWriter tar = new TarWriter(out, mtime);
        for (LayerEntry e : entries()) {
            writeEntry(tar, e);
        }
        tar.finish();
    }

    private void writeEntry(TarWriter tar, LayerEntry e) throws IOException {
        switch (e.type()) {
            case DIRECTORY -> tar.directory(e.path(), e.mode(), e.uid(), e.gid());
            case FILE -> {
                if (e.content() != null) {
                    tar.file(e.path(), e.mode(), e.uid(), e.gid(), e.content().length, new java.io.ByteArrayInputStream(e.content()));
                } else {
                    try (InputStream in = e.source().open()) {
                        tar.file(e.path(), e.mode(), e.uid(), e.gid(), e.source().size(), in);
                    }
                }
            }
            case SYMLINK -> tar.symlink(e.path(), e.linkTarget(), e.mode(), e.uid(), e.gid());
            case HARD_LINK -> {
                LayerEntry target = entries.get(e.linkTarget());
                tar.hardLink(e.path(), e.linkTarget(), target.mode(), target.uid(), target.gid());
            }
            // whiteouts: empty regular files by the OCI spec
            default -> tar.file(e.tarName(), 0, e.uid(), e.gid(), 0, InputStream.nullInputStream());
        }
    }

    private static String relativeName(Path root, Path p) {
        List<String> parts = new ArrayList<>();
        for (Path part : root.relativize(p)) {
            parts.add(part.toString());
        }
        return String.join("/", parts);
    }

    private static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? (path.isEmpty() ? null : "") : path.substring(0, slash);
    }

    private static String describe(LayerEntry e) {
        return e.type().name().toLowerCase(java.util.Locale.ROOT) + " " + (e.path().isEmpty() ? "/" : e.path());
    }
}
