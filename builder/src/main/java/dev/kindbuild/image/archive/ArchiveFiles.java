package dev.kindbuild.image.archive;

import dev.kindbuild.UserError;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import dev.kindbuild.support.TarWriter;

/**
 * What both archive writers share: one tar writer whose entries are fixed (root-owned, mtime 0, no user names) so an
 * archive of the same image is the same bytes, and writing to a temp name renamed into place, so a reader never sees
 * half an archive under the real name.
 */
final class ArchiveFiles {
    private ArchiveFiles() {}

    interface TarBody {
        void write(TarWriter tar) throws IOException;
    }

    /** Writes a tar to {@code out} through a temp file beside it. */
    static void writeAtomically(Path out, String what, TarBody body) {
        Path dir = out.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + out.getFileName() + ".partial-", "");
            try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                writeTar(file, body);
            }
            try {
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new UserError("cannot write " + what + " " + out + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the failure above is what matters
                }
            }
        }
    }

    /** Writes a tar to a stream; finishes the tar but leaves {@code out} open (flushed) for the caller to close. */
    static void writeTar(OutputStream out, TarBody body) throws IOException {
        TarWriter tar = new TarWriter(out);
        body.write(tar);
        tar.finish();
    }

    static void bytes(TarWriter tar, String name, byte[] content) throws IOException {
        tar.file(name, 0644, content);
    }

    static void blob(TarWriter tar, String name, ImageStore store, Descriptor d) throws IOException {
        Path file = store.blobPath(d.digest());
        long size = Files.size(file);
        if (size != d.size()) {
            throw new UserError("blob " + d.digest() + " in the image store is " + size + " bytes, its descriptor says " + d.size());
        }
        // Checked as it streams: a blob changed in the store fails here, and the temp file goes with it.
        try (InputStream in = store.open(d.digest())) {
            tar.file(name, 0644, 0, 0, size, in);
        }
    }

    static void directory(TarWriter tar, String name) throws IOException {
        tar.directory(name, 0755);
    }

}
