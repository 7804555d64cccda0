package dev.kindbuild.image.layer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParallelGzipOutputStreamTest {
    static final int B = ParallelGzipOutputStream.BLOCK;

    @TempDir
    Path tmp;

    /** Half text (compressible, with matches across block boundaries), half noise. */
    static byte[] data(int size) {
        byte[] d = new byte[size];
        Random r = new Random(size);
        byte[] words = "kubelet kubeadm containerd runc pause etcd coredns ".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < size; i++) {
            d[i] = (i / 4096) % 2 == 0 ? words[(i * 7 + i / 97) % words.length] : (byte) r.nextInt();
        }
        return d;
    }

    static byte[] gzip(byte[] input, int chunk) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ParallelGzipOutputStream gz = new ParallelGzipOutputStream(out, 6)) {
            for (int off = 0; off < input.length; off += chunk) {
                if (chunk == 1) {
                    gz.write(input[off]);
                } else {
                    gz.write(input, off, Math.min(chunk, input.length - off));
                }
            }
        }
        return out.toByteArray();
    }

    @Test
    void anyGzipReaderGetsTheBytesBackAndTheyDoNotDependOnHowTheyWereWritten() throws IOException {
        for (int size : new int[] {0, 1, 1000, B - 1, B, B + 1, 3 * B + 7, 5 * B}) {
            byte[] input = data(size);
            byte[] whole = gzip(input, Math.max(1, size));
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(whole))) {
                assertArrayEquals(input, in.readAllBytes(), "size " + size);
            }
            assertArrayEquals(whole, gzip(input, 8191), "size " + size + ": block boundaries depend on the bytes only");
            if (size <= B + 1) {
                assertArrayEquals(whole, gzip(input, 1), "size " + size);
            }
        }
    }

    @Test
    void gzipToolAcceptsItAndTheRatioIsThatOfOneStream() throws Exception {
        byte[] input = data(20 * B);
        byte[] ours = gzip(input, 65536);
        Path f = Files.write(tmp.resolve("x.gz"), ours);
        Process p = new ProcessBuilder("gzip", "-t", f.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        ByteArrayOutputStream single = new ByteArrayOutputStream();
        try (var gz = new java.util.zip.GZIPOutputStream(single)) {
            gz.write(input);
        }
        assertTrue(ours.length < single.size() * 1.01 + 1024, ours.length + " vs " + single.size());
    }
}
