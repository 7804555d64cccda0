package dev.kindbuild.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * The one way kind-build writes a tar: the same entries give the same bytes. Every entry gets the writer's time (whole
 * seconds), numeric owners and no owner names (the JVM's user and the clock would otherwise leak in); long names,
 * big numbers and non-ASCII names use POSIX/PAX headers. {@link #finish} ends the archive and leaves the stream open.
 */
public final class TarWriter {
    private final TarArchiveOutputStream tar;
    private final FileTime time;

    public TarWriter(OutputStream out, Instant mtime) {
        tar = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name());
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.setAddPaxHeadersForNonAsciiNames(true);
        time = FileTime.from(mtime.getEpochSecond(), TimeUnit.SECONDS);
    }

    /** Entries at the Unix epoch. */
    public TarWriter(OutputStream out) {
        this(out, Instant.EPOCH);
    }

    /** A regular file owned by root; {@code mode} is the permission bits. */
    public void file(String name, int mode, byte[] content) throws IOException {
        put(entry(name, TarConstants.LF_NORMAL, 0100000 | mode, 0, 0, content.length));
        tar.write(content);
        tar.closeArchiveEntry();
    }

    /**
     * A regular file of {@code size} bytes read from {@code content}; a source that holds more or fewer bytes (it changed
     * while being written) fails here rather than inside the tar.
     */
    public void file(String name, int mode, long uid, long gid, long size, InputStream content) throws IOException {
        put(entry(name, TarConstants.LF_NORMAL, 0100000 | mode, uid, gid, size));
        byte[] buf = new byte[1 << 16];
        long copied = 0;
        for (int n; copied < size && (n = content.read(buf, 0, (int) Math.min(buf.length, size - copied))) > 0; ) {
            tar.write(buf, 0, n);
            copied += n;
        }
        if (copied != size || content.read() >= 0) {
            throw new IOException(name + " changed size while it was being written into a tar (" + size + " bytes expected)");
        }
        tar.closeArchiveEntry();
    }

    public void directory(String name, int mode, long uid, long gid) throws IOException {
        put(entry(name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR, 040000 | mode, uid, gid, 0));
        tar.closeArchiveEntry();
    }

    public void directory(String name, int mode) throws IOException {
        directory(name, mode, 0, 0);
    }

    public void symlink(String name, String target, int mode, long uid, long gid) throws IOException {
        TarArchiveEntry e = entry(name, TarConstants.LF_SYMLINK, 0120000 | mode, uid, gid, 0);
        e.setLinkName(target);
        put(e);
        tar.closeArchiveEntry();
    }

    /** A hard link to {@code target}, an entry written before it; {@code mode} and owners are the target's. */
    public void hardLink(String name, String target, int mode, long uid, long gid) throws IOException {
        TarArchiveEntry e = entry(name, TarConstants.LF_LINK, 0100000 | mode, uid, gid, 0);
        e.setLinkName(target);
        put(e);
        tar.closeArchiveEntry();
    }

    /** Writes the end-of-archive blocks and flushes; the stream stays open. */
    public void finish() throws IOException {
        tar.finish();
        tar.flush();
    }

    private TarArchiveEntry entry(String name, byte type, int mode, long uid, long gid, long size) {
        TarArchiveEntry e = new TarArchiveEntry(name, type);
        e.setMode(mode);
        e.setUserId(uid);
        e.setGroupId(gid);
        e.setUserName("");
        e.setGroupName("");
        e.setModTime(time);
        e.setSize(size);
        return e;
    }

    private void put(TarArchiveEntry e) throws IOException {
        tar.putArchiveEntry(e);
    }
}
