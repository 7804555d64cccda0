package dev.kindbuild.sample;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Deterministic tar writing: entries sorted by name, parent directories added, fixed mtime, root ownership, no PAX
 * headers for short names; gzip with mtime 0. Same entries → same bytes.
 */
final class Tars {
    private Tars() {}

    /** The mtime of every sample entry: 2024-01-01T00:00:00Z. */
    static final Instant MTIME = Instant.parse("2024-01-01T00:00:00Z");

    /** A tar member's bytes, written when the tar is: big ones (real-size fixtures) are never held in memory. */
    interface Body {
        long size();

        void writeTo(OutputStream out) throws IOException;

        static Body of(byte[] content) {
            return new Body() {
                @Override
                public long size() {
                    return content.length;
                }

                @Override
                public void writeTo(OutputStream out) throws IOException {
                    out.write(content);
                }
            };
        }

        /** The bytes of {@code file}, read when written (the file must not change in between). */
        static Body of(Path file) throws IOException {
            long size = Files.size(file);
            return new Body() {
                @Override
                public long size() {
                    return size;
                }

                @Override
                public void writeTo(OutputStream out) throws IOException {
                    Files.copy(file, out);
                }
            };
        }
    }

    /** One file in a tar: content and Unix mode (e.g. 0755). */
    record Entry(Body body, int mode) {
        Entry(byte[] content, int mode) {
            this(Body.of(content), mode);
        }

        static Entry text(String text, int mode) {
            return new Entry(text.getBytes(StandardCharsets.UTF_8), mode);
        }
    }

    /** A tar of {@code files} (path → entry; paths relative, '/'-separated) with their parent dirs, sorted. */
    static byte[] tar(Map<String, Entry> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        writeTar(files, bytes);
        return bytes.toByteArray();
    }

    static void writeTar(Map<String, Entry> files, OutputStream out) throws IOException {
        TreeMap<String, Entry> all = new TreeMap<>();
        for (Map.Entry<String, Entry> f : files.entrySet()) {
            String path = f.getKey();
            if (path.startsWith("/") || path.contains("..") || path.endsWith("/")) {
                throw new IllegalArgumentException("tar paths are relative file paths: " + path);
            }
            for (int i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
                all.putIfAbsent(path.substring(0, i + 1), null);
            }
            all.put(path, f.getValue());
        }
        TarArchiveOutputStream tar = new TarArchiveOutputStream(nonClosing(out));
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        for (Map.Entry<String, Entry> e : all.entrySet()) {
            boolean dir = e.getValue() == null;
            TarArchiveEntry te = new TarArchiveEntry(e.getKey(), dir ? TarArchiveEntry.LF_DIR : TarArchiveEntry.LF_NORMAL);
            te.setModTime(FileTime.from(MTIME));
            te.setUserId(0);
            te.setGroupId(0);
            te.setUserName("root");
            te.setGroupName("root");
            te.setMode((dir ? TarArchiveEntry.DEFAULT_DIR_MODE & ~0777 | 0755 : TarArchiveEntry.DEFAULT_FILE_MODE & ~0777 | e.getValue().mode()));
            if (!dir) {
                te.setSize(e.getValue().body().size());
            }
            tar.putArchiveEntry(te);
            if (!dir) {
                e.getValue().body().writeTo(tar);
            }
            tar.closeArchiveEntry();
        }
        tar.finish();
        tar.close();
    }

    /** Gzip with a zero mtime and no file name, so output depends only on the input bytes. */
    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes, 1 << 16)) {
            gz.write(data);
        }
        return bytes.toByteArray();
    }

    private static OutputStream nonClosing(OutputStream out) {
        return new java.io.FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }
}
