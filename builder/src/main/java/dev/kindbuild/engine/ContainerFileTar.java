package dev.kindbuild.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import dev.kindbuild.support.TarWriter;
import java.util.concurrent.atomic.AtomicReference;

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
        TarWriter tar = new TarWriter(out);
        // No directory entries: the engine creates missing parents (0755) and existing ones keep their metadata.
        for (ContainerFile f : files) {
            String name = f.path().substring(1);
            if (f.content() != null) {
                tar.file(name, f.mode(), f.content());
            } else {
                try (InputStream src = Files.newInputStream(f.source())) {
                    tar.file(name, f.mode(), 0, 0, Files.size(f.source()), src);
                }
            }
        }
        tar.finish();
    }
}
