package dev.kindbuild.image.layer;

import dev.kindbuild.UserError;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Reads files of an image in the store without unpacking it or running it: the node pipeline needs the base
 * image's {@code /etc/containerd/config.toml} and {@code /etc/os-release}.
 *
 * <p>{@link #of} makes one streaming pass over every layer, bottom first, and keeps only the merged metadata (a few
 * MB for a Debian userland): whiteouts remove what is below them, an opaque marker hides the layers below in its
 * directory, a non-directory replacing a directory hides what was under it. Content is streamed from the one layer
 * that holds it when asked for. Symlinks are followed inside the image only: an absolute target starts again at the
 * image root and {@code ..} stops at the root, as in a chroot.
 */
public final class ImageContents {
    private static final int MAX_HOPS = 40;
    private static final int MAX_TEXT = 8 << 20;

    private final ImageStore store;
    private final List<Descriptor> layers;
    /** Keys are image paths without the leading slash. */
    private final NavigableMap<String, ImageEntry> merged;

    private ImageContents(ImageStore store, List<Descriptor> layers, NavigableMap<String, ImageEntry> merged) {
        this.store = store;
        this.layers = layers;
        this.merged = merged;
    }

    /** Indexes {@code image}'s layers (one pass over each; all must be in {@code store}). */
    public static ImageContents of(ImageStore store, StoredImage image) {
        TreeMap<String, ImageEntry> merged = new TreeMap<>();
        for (int i = 0; i < image.layers().size(); i++) {
            applyLayer(store, image.layers().get(i), i, merged);
        }
        return new ImageContents(store, image.layers(), merged);
    }

    private static void applyLayer(ImageStore store, Descriptor layer, int index, TreeMap<String, ImageEntry> merged) {
        List<ImageEntry> added = new ArrayList<>();
        List<String> whiteouts = new ArrayList<>();
        List<String> opaque = new ArrayList<>();
        InputStream raw = new BufferedInputStream(store.open(layer.digest()), 1 << 16);
        try (TarArchiveInputStream tar = openLayer(raw, layer)) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                String name = tarPath(e.getName());
                if (name.isEmpty()) {
                    continue; // the root: its metadata is the container runtime's business
                }
                int slash = name.lastIndexOf('/');
                String dir = slash < 0 ? "" : name.substring(0, slash);
                String base = name.substring(slash + 1);
                if (base.equals(LayerEntry.OPAQUE_MARKER)) {
                    opaque.add(dir);
                } else if (base.startsWith(LayerEntry.WHITEOUT_PREFIX)) {
                    String gone = base.substring(LayerEntry.WHITEOUT_PREFIX.length());
                    whiteouts.add(dir.isEmpty() ? gone : dir + "/" + gone);
                } else {
                    added.add(toEntry(name, e, index));
                }
            }
            // The tar ends before the blob does (padding, the gzip trailer): the rest is read too, so the store checks
            // the whole blob against its digest and nothing is built on a layer that changed on disk.
            raw.transferTo(java.io.OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw new UserError("cannot read layer " + layer.digest() + ": " + e.getMessage(), e);
        }
        // Whiteouts and opaque markers act on the layers below only, wherever they sit in this layer's tar.
        for (String w : whiteouts) {
            merged.remove(w);
            removeBelow(merged, w);
        }
        for (String o : opaque) {
            removeBelow(merged, o);
        }
        for (ImageEntry e : added) {
            String key = e.path().substring(1);
            if (e.kind() != ImageEntry.Kind.DIRECTORY) {
                removeBelow(merged, key);
            }
            merged.put(key, e);
        }
        // A hard link's size is its target's (same layer): fill it in now that the whole layer is known.
        Map<String, ImageEntry> files = new java.util.HashMap<>();
        for (ImageEntry e : added) {
            if (e.kind() == ImageEntry.Kind.FILE) {
                files.put(e.path(), e);
            }
        }
        for (ImageEntry e : added) {
            ImageEntry target = e.kind() == ImageEntry.Kind.HARD_LINK ? files.get(e.linkTarget()) : null;
            if (target != null && merged.get(e.path().substring(1)) == e) {
                merged.put(e.path().substring(1), new ImageEntry(e.path(), e.kind(), e.mode(), e.uid(), e.gid(),
                        target.size(), e.linkTarget(), e.layer()));
            }
        }
    }

    private static void removeBelow(TreeMap<String, ImageEntry> merged, String dir) {
        if (dir.isEmpty()) {
            merged.clear();
        } else {
            merged.subMap(dir + "/", true, dir + "0", false).clear(); // '0' follows '/': every "dir/…" key
        }
    }

    private static ImageEntry toEntry(String name, TarArchiveEntry e, int layer) {
        ImageEntry.Kind kind;
        String link = null;
        if (e.isDirectory()) {
            kind = ImageEntry.Kind.DIRECTORY;
        } else if (e.isSymbolicLink()) {
            kind = ImageEntry.Kind.SYMLINK;
            link = e.getLinkName();
        } else if (e.isLink()) {
            kind = ImageEntry.Kind.HARD_LINK;
            link = "/" + tarPath(e.getLinkName());
        } else if (e.isFile()) {
            kind = ImageEntry.Kind.FILE;
        } else {
            kind = ImageEntry.Kind.OTHER;
        }
        long size = kind == ImageEntry.Kind.FILE ? e.getSize() : 0;
        return new ImageEntry("/" + name, kind, e.getMode() & 07777, e.getLongUserId(), e.getLongGroupId(), size, link, layer);
    }

    /** Every path in the image as its top layer sees it, sorted by path (the root excluded). */
    public java.util.Collection<ImageEntry> all() {
        return java.util.Collections.unmodifiableCollection(merged.values());
    }

    /** {@code path} without following a symlink in its last component (intermediate ones are followed). */
    public Optional<ImageEntry> entry(String path) {
        return lookup(path, false);
    }

    /** {@code path} with every symlink followed (inside the image). Empty when missing or a link dangles. */
    public Optional<ImageEntry> resolve(String path) {
        return lookup(path, true);
    }

    public boolean exists(String path) {
        return resolve(path).isPresent();
    }

    /** The entries directly in directory {@code dir} (symlinks to it followed), sorted by name. */
    public List<ImageEntry> list(String dir) {
        ImageEntry d = resolve(dir).orElseThrow(() -> new UserError("no directory " + dir + " in the image"));
        if (!d.isDirectory()) {
            throw new UserError(dir + " in the image is not a directory but a " + d.kind().name().toLowerCase(java.util.Locale.ROOT));
        }
        String key = d.path().substring(1);
        Map<String, ImageEntry> below = key.isEmpty() ? merged : merged.subMap(key + "/", true, key + "0", false);
        int skip = key.isEmpty() ? 0 : key.length() + 1;
        List<ImageEntry> children = new ArrayList<>();
        for (Map.Entry<String, ImageEntry> e : below.entrySet()) {
            if (e.getKey().indexOf('/', skip) < 0) {
                children.add(e.getValue());
            }
        }
        return children;
    }

    /**
     * Streams the content of regular file {@code path} (symlinks followed) from the layer holding it. The caller
     * closes the stream; only that layer is read, and only up to the file.
     */
    public InputStream open(String path) {
        ImageEntry e = resolve(path).orElseThrow(() -> new UserError("no file " + path + " in the image"));
        if (!e.isFile()) {
            throw new UserError(path + " in the image is not a regular file but a " + e.kind().name().toLowerCase(java.util.Locale.ROOT));
        }
        // A hard link's bytes are stored under its target's name in the same layer.
        String wanted = (e.kind() == ImageEntry.Kind.HARD_LINK ? e.linkTarget() : e.path()).substring(1);
        Descriptor layer = layers.get(e.layer());
        TarArchiveInputStream tar = null;
        try {
            tar = openLayer(store, layer);
            for (TarArchiveEntry t; (t = tar.getNextEntry()) != null; ) {
                if (t.isFile() && tarPath(t.getName()).equals(wanted)) {
                    return new FilterInputStream(tar) { };
                }
            }
            throw new UserError("layer " + layer.digest() + " lost " + wanted + " between two reads");
        } catch (IOException ex) {
            closeQuietly(tar);
            throw new UserError("cannot read layer " + layer.digest() + ": " + ex.getMessage(), ex);
        } catch (RuntimeException ex) {
            closeQuietly(tar);
            throw ex;
        }
    }

    /** A small text file (UTF-8, at most 8 MiB), e.g. {@code /etc/containerd/config.toml}. */
    public String readText(String path) {
        try (InputStream in = open(path)) {
            byte[] bytes = in.readNBytes(MAX_TEXT + 1);
            if (bytes.length > MAX_TEXT) {
                throw new UserError(path + " in the image is larger than " + MAX_TEXT + " bytes");
            }
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UserError("cannot read " + path + " from the image: " + e.getMessage(), e);
        }
    }

    // ---- lookup ----

    private Optional<ImageEntry> lookup(String path, boolean followLast) {
        Deque<String> todo = new ArrayDeque<>(components(path));
        String cur = "";
        int hops = 0;
        while (!todo.isEmpty()) {
            String part = todo.pop();
            if (part.equals("..")) {
                cur = parentOf(cur); // the root's parent is the root: nothing outside the image is reachable
                continue;
            }
            String next = cur.isEmpty() ? part : cur + "/" + part;
            ImageEntry e = merged.get(next);
            if (e == null) {
                return Optional.empty();
            }
            if (e.isSymlink() && (followLast || !todo.isEmpty())) {
                if (++hops > MAX_HOPS) {
                    throw new UserError("too many levels of symbolic links resolving " + path + " in the image");
                }
                String target = e.linkTarget();
                if (target.startsWith("/")) {
                    cur = "";
                }
                List<String> parts = components(target);
                for (int i = parts.size() - 1; i >= 0; i--) {
                    todo.push(parts.get(i));
                }
                continue;
            }
            if (!todo.isEmpty() && !e.isDirectory()) {
                return Optional.empty(); // a file in the middle of a path
            }
            cur = next;
        }
        return Optional.of(cur.isEmpty() ? new ImageEntry("/", ImageEntry.Kind.DIRECTORY, 0755, 0, 0, 0, null, -1) : merged.get(cur));
    }

    private static List<String> components(String path) {
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/")) {
            if (!p.isEmpty() && !p.equals(".")) {
                parts.add(p);
            }
        }
        return parts;
    }

    private static String parentOf(String key) {
        int slash = key.lastIndexOf('/');
        return slash < 0 ? "" : key.substring(0, slash);
    }

    // ---- layers ----

    /**
     * Opens a layer blob as a tar stream, gzipped or not: recognised by its magic bytes rather than its media type,
     * since docker-archives and registries label uncompressed layers in several ways. zstd is refused by name.
     */
    static TarArchiveInputStream openLayer(ImageStore store, Descriptor layer) throws IOException {
        return openLayer(new BufferedInputStream(store.open(layer.digest()), 1 << 16), layer);
    }

    /** As {@link #openLayer(ImageStore, Descriptor)}, on the blob's bytes {@code raw} (which must support mark). */
    private static TarArchiveInputStream openLayer(InputStream raw, Descriptor layer) throws IOException {
        try {
            raw.mark(4);
            byte[] magic = raw.readNBytes(4);
            raw.reset();
            InputStream in = raw;
            if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
                in = new GzipCompressorInputStream(raw, true);
            } else if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
                    && (magic[3] & 0xff) == 0xfd) {
                throw new UserError("layer " + layer.digest() + " is zstd-compressed: kind-build reads gzip and plain tar layers only");
            }
            return new TarArchiveInputStream(in, StandardCharsets.UTF_8.name());
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    /** A tar entry name as an image path key: no {@code ./}, no leading or trailing slash. */
    static String tarPath(String name) {
        String n = name;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        while (n.startsWith("/")) {
            n = n.substring(1);
        }
        while (n.endsWith("/")) {
            n = n.substring(0, n.length() - 1);
        }
        return n.equals(".") ? "" : n;
    }

    private static void closeQuietly(InputStream in) {
        if (in != null) {
            try {
                in.close();
            } catch (IOException ignored) {
                // already failing
            }
        }
    }
}
