package dev.kindbuild.image.store;

import static dev.kindbuild.testing.FileDamage.flipByte;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads from the store are checked against the blob's name as they stream; a blob that lies is removed. */
class ImageStoreTest {
    @TempDir
    Path tmp;

    private static byte[] random(int size) {
        byte[] b = new byte[size];
        new Random(42).nextBytes(b);
        return b;
    }

    @Test
    void anIntactBlobReadsAsStored() throws IOException {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        byte[] content = random(3 << 20);
        Descriptor d = store.put(content, MediaTypes.OCI_LAYER);
        try (InputStream in = store.open(d.digest())) {
            assertArrayEquals(content, in.readAllBytes());
        }
        assertTrue(store.has(d.digest()));
    }

    @Test
    void aFlippedByteFailsTheReadWithOneLineAndTheBlobIsRemoved() throws IOException {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        byte[] content = random(3 << 20);
        Descriptor d = store.put(content, MediaTypes.OCI_LAYER);
        Path blob = store.blobPath(d.digest());
        flipByte(blob, content.length / 2);

        UserError e = assertThrows(UserError.class, () -> {
            try (InputStream in = store.open(d.digest())) {
                in.transferTo(OutputStreamNull.INSTANCE);
            }
        });
        assertTrue(e.getMessage().contains(blob.toString()), "names the store path: " + e.getMessage());
        assertTrue(e.getMessage().contains("kind-build cleanup --store"), "names the fix: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertFalse(Files.exists(blob), "the bad blob is removed, so the next run fetches it again");
        assertFalse(store.has(d.digest()));
    }

    @Test
    void theLastChunkOfABadBlobIsNeverHandedOn() throws IOException {
        // A reader that forwards what it reads (a push, an archive) must not get the whole of a blob that lies.
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        byte[] content = random(1 << 20);
        Descriptor d = store.put(content, MediaTypes.OCI_LAYER);
        flipByte(store.blobPath(d.digest()), content.length - 1);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        assertThrows(UserError.class, () -> {
            try (InputStream in = store.open(d.digest())) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    got.write(buf, 0, n);
                }
            }
        });
        assertTrue(got.size() < content.length, "handed on " + got.size() + " of " + content.length + " bytes");
    }

    @Test
    void aTruncatedOrGrownBlobIsCaughtToo() throws IOException {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        Descriptor shorter = store.put(random(100_000), MediaTypes.OCI_LAYER);
        try (RandomAccessFile f = new RandomAccessFile(store.blobPath(shorter.digest()).toFile(), "rw")) {
            f.setLength(50_000);
        }
        assertThrows(UserError.class, () -> store.open(shorter.digest()).transferTo(OutputStreamNull.INSTANCE));
        assertFalse(store.has(shorter.digest()));

        Descriptor longer = store.put("short".getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_LAYER);
        Files.write(store.blobPath(longer.digest()), "short and more".getBytes(StandardCharsets.UTF_8));
        assertThrows(UserError.class, () -> store.open(longer.digest()).transferTo(OutputStreamNull.INSTANCE));
        assertFalse(store.has(longer.digest()));
    }

    @Test
    void aChangedManifestOrConfigIsCaughtWhenRead() throws IOException {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        Descriptor config = store.put("{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_CONFIG);
        Path blob = store.blobPath(config.digest());
        flipByte(blob, 3);
        UserError e = assertThrows(UserError.class, () -> store.readSmall(config.digest()));
        assertTrue(e.getMessage().contains(blob.toString()) && e.getMessage().contains("kind-build cleanup --store"), e.getMessage());
        assertFalse(Files.exists(blob));
    }

    @Test
    void aReadThatStopsEarlyJudgesNothing() throws IOException {
        // Reading a layer's first entries (a base image's files) is no verdict on its bytes: nothing is removed.
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        Descriptor d = store.put(random(200_000), MediaTypes.OCI_LAYER);
        try (InputStream in = store.open(d.digest())) {
            assertEquals(1000, in.readNBytes(1000).length);
        }
        assertTrue(store.has(d.digest()));
    }

    /** Discards what it is given. */
    private static final class OutputStreamNull extends java.io.OutputStream {
        static final OutputStreamNull INSTANCE = new OutputStreamNull();

        @Override
        public void write(int b) {}

        @Override
        public void write(byte[] b, int off, int len) {}
    }
}
