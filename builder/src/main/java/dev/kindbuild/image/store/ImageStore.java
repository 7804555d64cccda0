package dev.kindbuild.image.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kindbuild.UserError;
import dev.kindbuild.support.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * kind-build's one place for images: an OCI image layout in the cache ({@code oci-layout}, {@code blobs/sha256/…},
 * {@code index.json} naming images by {@code org.opencontainers.image.ref.name}). Pulls fill it with the registry's
 * manifests and configs byte for byte, builds append layers to it, and every output (archive, layout, registry,
 * engine) reads from it. Blobs are written to a temp file in the store and renamed once their digest is known, so an
 * interrupted write never leaves a blob whose name lies; and every read is checked against the name as the bytes
 * stream ({@link #open}, {@link #readSmall}), so a blob changed on disk since (a disk error, a stray edit) never leaves
 * the store: it is removed, and the read fails with one line naming it.
 */
public final class ImageStore {
    public static final String REF_NAME = "org.opencontainers.image.ref.name";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** In-flight files name their writer, so `kind-build cleanup` can remove those of a process that was killed. */
    private static final String PARTIAL_PREFIX = ".partial-" + ProcessHandle.current().pid() + "-";

    private final Path root;

    private ImageStore(Path root) {
        this.root = root;
    }

    /** The store at {@code root}, created when missing. */
    public static ImageStore open(Path root) {
        try {
            Files.createDirectories(root.resolve("blobs/sha256"));
            Path layout = root.resolve("oci-layout");
            if (!Files.exists(layout)) {
                writeAtomically(layout, "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
            }
            return new ImageStore(root);
        } catch (IOException e) {
            throw new UserError("cannot create the image store at " + root + ": " + e.getMessage(), e);
        }
    }

    /** The store in kind-build's cache ({@link dev.kindbuild.CacheLocation}). */
    public static ImageStore defaultLocation() {
        return open(dev.kindbuild.CacheLocation.root().resolve("store"));
    }

    public Path root() {
        return root;
    }

    /** Where the blob with {@code digest} lives (it may not exist). */
    public Path blobPath(String digest) {
        if (!digest.matches("sha256:[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not a sha256 digest: " + digest);
        }
        return root.resolve("blobs/sha256").resolve(digest.substring(7));
    }

    public boolean has(String digest) {
        return Files.isRegularFile(blobPath(digest));
    }

    /** Stores {@code content}, streamed; the digest is computed on the way. */
    public Descriptor put(InputStream content, String mediaType) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile(root.resolve("blobs/sha256"), PARTIAL_PREFIX, "");
            MessageDigest digest = Sha256.newDigest();
            long size;
            try (OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), digest)) {
                size = content.transferTo(out);
            }
            String d = "sha256:" + Sha256.hex(digest);
            moveInto(tmp, blobPath(d));
            tmp = null;
            return new Descriptor(mediaType, d, size);
        } catch (IOException e) {
            throw writeFailed(e);
        } finally {
            deleteQuietly(tmp);
        }
    }

    /** A full disk named as the cache (or wherever the store is) being full; anything else as it came. */
    private UserError writeFailed(IOException e) {
        return dev.kindbuild.lifecycle.DiskFull.is(e) ? dev.kindbuild.lifecycle.DiskFull.error("writing to the image store", e, root)
                : new UserError("cannot write to the image store " + root + ": " + e.getMessage(), e);
    }

    /** Writes a blob's bytes to the stream it is given; see {@link #write}. */
    @FunctionalInterface
    public interface BlobWriter {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Stores the bytes {@code writer} produces, streamed, for content made on the fly (a layer being tarred and
     * gzipped): no second pass over a temp file to hash it. The digest is computed on the way.
     */
    public Descriptor write(String mediaType, BlobWriter writer) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile(root.resolve("blobs/sha256"), PARTIAL_PREFIX, "");
            MessageDigest digest = Sha256.newDigest();
            CountingOutputStream counted;
            try (OutputStream out = new java.io.BufferedOutputStream(new DigestOutputStream(Files.newOutputStream(tmp), digest), 1 << 16)) {
                counted = new CountingOutputStream(out);
                writer.writeTo(counted);
                counted.flush();
            }
            String d = "sha256:" + Sha256.hex(digest);
            moveInto(tmp, blobPath(d));
            tmp = null;
            return new Descriptor(mediaType, d, counted.count);
        } catch (IOException e) {
            throw writeFailed(e);
        } finally {
            deleteQuietly(tmp);
        }
    }

    /** Counts what passes; does not close the stream below (the caller's try-with-resources does). */
    private static final class CountingOutputStream extends java.io.FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }

    public Descriptor put(byte[] content, String mediaType) {
        return put(new java.io.ByteArrayInputStream(content), mediaType);
    }

    /**
     * Stores content whose digest the caller claims (e.g. a registry blob): fails, storing nothing, when the bytes do
     * not match it. Skips the work when the blob is already there.
     */
    public Descriptor putVerified(InputStream content, Descriptor expected) {
        return has(expected.digest()) ? expected : replaceVerified(content, expected);
    }

    /** As {@link #putVerified}, but stores the bytes even when the blob is there, replacing it (nothing reused: --no-cache). */
    public Descriptor replaceVerified(InputStream content, Descriptor expected) {
        Descriptor got = put(content, expected.mediaType());
        if (!got.digest().equals(expected.digest()) || (expected.size() > 0 && got.size() != expected.size())) {
            if (!got.digest().equals(expected.digest())) {
                deleteQuietly(blobPath(got.digest()));
            }
            throw new UserError("content does not match its digest: expected " + expected.digest() + " (" + expected.size()
                    + " bytes), got " + got.digest() + " (" + got.size() + " bytes)");
        }
        return expected;
    }

    /**
     * The blob's bytes, checked against its digest as they stream: no extra pass. The read that reaches the end of a
     * blob whose bytes do not hash to its name fails (its bytes are not handed on), the blob is removed and the
     * {@link UserError} names it. A reader that stops early has checked nothing.
     */
    public InputStream open(String digest) {
        Path p = blobPath(digest);
        try {
            InputStream in = Files.newInputStream(p);
            try {
                return new CheckedBlobStream(in, this, digest, Files.size(p));
            } catch (IOException | RuntimeException e) {
                in.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UserError("blob " + digest + " is not in the image store " + root + ": " + e.getMessage(), e);
        }
    }

    /** A small blob (manifest, config, index) in memory, checked against its digest; refuses anything over 8 MiB. */
    public byte[] readSmall(String digest) {
        Path p = blobPath(digest);
        byte[] bytes;
        try {
            if (Files.size(p) > (8 << 20)) {
                throw new UserError("blob " + digest + " is too large to be a manifest or config");
            }
            bytes = Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UserError("blob " + digest + " is not in the image store " + root + ": " + e.getMessage(), e);
        }
        String got = "sha256:" + Sha256.of(bytes);
        if (!got.equals(digest)) {
            throw damaged(digest, "its bytes hash to " + got.substring(0, 19) + "…, not to its name");
        }
        return bytes;
    }

    public JsonNode readJson(String digest) {
        try {
            return JSON.readTree(readSmall(digest));
        } catch (IOException e) {
            throw new UserError("blob " + digest + " in the image store is not JSON: " + e.getMessage(), e);
        }
    }

    /** The image a manifest descriptor names (its manifest and config must be in the store). */
    public StoredImage image(Descriptor manifest) {
        return StoredImage.parse(manifest, readSmall(manifest.digest()), this);
    }

    /**
     * The image {@code manifest} names when the store holds all of it (manifest, config and every layer), else empty:
     * what a lookup of an earlier pull or build takes, so one removed blob means fetching or building it again.
     */
    public Optional<StoredImage> whole(Descriptor manifest) {
        if (!has(manifest.digest())) {
            return Optional.empty();
        }
        JsonNode m;
        try {
            m = JSON.readTree(readSmall(manifest.digest()));
        } catch (IOException e) {
            throw new UserError("manifest " + manifest.digest() + " in the image store is not JSON: " + e.getMessage(), e);
        }
        if (!present(m.path("config").path("digest").asText(""))) {
            return Optional.empty();
        }
        for (JsonNode l : m.path("layers")) {
            if (!present(l.path("digest").asText(""))) {
                return Optional.empty();
            }
        }
        return Optional.of(image(manifest));
    }

    /** {@link #has} for a digest read from a manifest, which may be anything. */
    private boolean present(String digest) {
        return digest.matches("sha256:[0-9a-f]{64}") && has(digest);
    }

    /**
     * The error for a blob whose bytes no longer match its name ({@code why}): it is removed first, so the next run
     * fetches or builds it again, and the one line says so — or, when it cannot be removed, how to remove it.
     */
    UserError damaged(String digest, String why) {
        Path p = blobPath(digest);
        String prefix = "the image store's blob " + p + " is damaged (" + why + "): ";
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            return new UserError(prefix + "delete it (rm " + p + ") or run `kind-build cleanup --store`, then run the command again");
        }
        return new UserError(prefix + "removed it, so running the command again fetches or rebuilds it "
                + "(`kind-build cleanup --store` empties the whole store)");
    }

    // ---- names ----

    /** Names {@code manifest} (an image manifest or an index) as {@code name} in index.json, replacing an older entry. */
    public void tag(String name, Descriptor manifest) {
        updateIndex(index -> {
            ArrayNode manifests = index.withArray("manifests");
            for (int i = manifests.size() - 1; i >= 0; i--) {
                if (name.equals(manifests.get(i).path("annotations").path(REF_NAME).asText(null))) {
                    manifests.remove(i);
                }
            }
            Map<String, String> annotations = new LinkedHashMap<>(manifest.annotations());
            annotations.put(REF_NAME, name);
            manifests.add(JSON.valueToTree(manifest.withAnnotations(annotations)));
        });
    }

    /** The descriptor named {@code name}, if any. */
    public Optional<Descriptor> resolve(String name) {
        JsonNode index = readIndex();
        for (JsonNode m : index.path("manifests")) {
            if (name.equals(m.path("annotations").path(REF_NAME).asText(null))) {
                try {
                    return Optional.of(JSON.treeToValue(m, Descriptor.class));
                } catch (IOException e) {
                    throw new UserError("index.json of the image store " + root + " has a bad entry for " + name);
                }
            }
        }
        return Optional.empty();
    }

    private JsonNode readIndex() {
        Path index = root.resolve("index.json");
        try {
            return Files.exists(index) ? JSON.readTree(index.toFile()) : emptyIndex();
        } catch (IOException e) {
            throw new UserError("cannot read " + index + ": " + e.getMessage() + " (remove it to start the image store afresh)", e);
        }
    }

    private static ObjectNode emptyIndex() {
        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", MediaTypes.OCI_INDEX);
        index.putArray("manifests");
        return index;
    }

    private void updateIndex(java.util.function.Consumer<ObjectNode> change) {
        // The file lock keeps other processes out; it cannot be taken twice in one JVM (OverlappingFileLockException),
        // so this process's threads (parallel pulls) take turns first.
        synchronized (INDEX_UPDATES) {
            updateIndexLocked(change);
        }
    }

    private static final Object INDEX_UPDATES = new Object();

    private void updateIndexLocked(java.util.function.Consumer<ObjectNode> change) {
        Path lockFile = root.resolve(".index.lock");
        try (FileChannel lock = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock held = lock.lock()) {
            JsonNode current = readIndex();
            ObjectNode index = current instanceof ObjectNode o ? o : emptyIndex();
            change.accept(index);
            writeAtomically(root.resolve("index.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(index));
        } catch (IOException e) {
            throw new UserError("cannot update the image store's index.json under " + root + ": " + e.getMessage(), e);
        }
    }

    // ---- files ----

    private static void writeAtomically(Path target, byte[] content) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), PARTIAL_PREFIX, "");
        try {
            Files.write(tmp, content);
            moveInto(tmp, target);
            tmp = null;
        } finally {
            deleteQuietly(tmp);
        }
    }

    private static void moveInto(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
