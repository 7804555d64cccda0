package dev.kindbuild.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

/** Damage to a cached file as a disk error or a stray edit would do it: same size, same mtime, other bytes. */
public final class FileDamage {
    private FileDamage() {}

    /** Flips one bit of the byte at {@code offset}, keeping the file's size and mtime. */
    public static void flipByte(Path file, long offset) throws IOException {
        FileTime mtime = Files.getLastModifiedTime(file);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0x01);
        }
        Files.setLastModifiedTime(file, mtime);
    }
}
