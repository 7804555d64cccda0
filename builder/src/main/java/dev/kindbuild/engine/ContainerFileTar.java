package dev.kindbuild.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Streams {@link ContainerFile}s as a tar rooted at "/", owned by root — written on a
 * background thread into a pipe so large host files go to the engine without being held in memory.
 */
final class ContainerFileTar {
    private ContainerFileTar() {}

    /** The tar stream; a write failure is rethrown by {@code failure} once the engine has consumed the stream. */
    static InputStream stream(List<ContainerFile> files, AtomicReference<IOException> failure) {
        try {
            PipedInputStream in = new PipedInputStream(1 << 20);
            PipedOutputStream pipe = new PipedOutputStream(in);
            Thread writer = new Thread(() -> {
                try (pipe) {
                    write(files, pipe);
                } catch (IOException e) {
                    failure.set(e);
                }
            }, "container-file-tar");
            writer.setDaemon(true);
            writer.start();
            return in;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(List<ContainerFile> files, OutputStream out) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out, "UTF-8");
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        FileTime epoch = FileTime.fromMillis(0);
        // No directory entries: the engine creates missing parents (0755) and existing ones keep their metadata.
        for (ContainerFile f : files) {
            String name = f.path().substring(1);
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setMode(0100000 | f.mode());
            e.setModTime(epoch);
            e.setUserId(0);
            e.setGroupId(0);
            if (f.content() != null) {
                e.setSize(f.content().length);
                tar.putArchiveEntry(e);
                tar.write(f.content());
            } else {
                e.setSize(Files.size(f.source()));
                tar.putArchiveEntry(e);
                try (InputStream src = Files.newInputStream(f.source())) {
                    src.transferTo(tar);
                }
            }
            tar.closeArchiveEntry();
        }
        tar.finish();
    }
}
