package dev.kindbuild.image.layer;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * gzip on every core, pigz's way: the input is cut into fixed 128 KiB blocks, each deflated on its own with the
 * previous block's last 32 KiB as dictionary (so the ratio is that of one stream) and ended with a sync flush, and the
 * pieces are concatenated into one deflate stream. Deflate is what a big layer costs (about 30 MB/s per core); this
 * divides it by the number of cores.
 *
 * <p>Reproducible: block boundaries depend on the bytes only (not on how they were written or on the thread count),
 * the header is fixed (mtime 0, no name, OS "unknown"), the level is fixed. The result is a standard gzip member any
 * reader accepts; it is not byte-identical to single-threaded gzip's, and need not be.
 */
public final class ParallelGzipOutputStream extends OutputStream {
    static final int BLOCK = 128 << 10;
    private static final int DICTIONARY = 32 << 10;
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 255};

    private final OutputStream out;
    private final int level;
    private final ExecutorService pool;
    private final int maxInFlight;
    private final Deque<Future<byte[]>> inFlight = new ArrayDeque<>();
    private final CRC32 crc = new CRC32();
    private byte[] block = new byte[BLOCK];
    private int filled;
    private byte[] dictionary; // tail of the previous block, null for the first
    private long total;
    private boolean closed;

    public ParallelGzipOutputStream(OutputStream out, int level) throws IOException {
        this.out = out;
        this.level = level;
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        this.maxInFlight = threads * 2; // enough to keep every core busy while the oldest is written out
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "kind-build-gzip");
            t.setDaemon(true);
            return t;
        });
        out.write(HEADER);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        crc.update(b, off, len);
        total += len;
        while (len > 0) {
            int n = Math.min(len, BLOCK - filled);
            System.arraycopy(b, off, block, filled, n);
            filled += n;
            off += n;
            len -= n;
            if (filled == BLOCK) {
                submitFull();
            }
        }
    }

    private void submitFull() throws IOException {
        byte[] input = block;
        int length = filled;
        byte[] dict = dictionary;
        dictionary = Arrays.copyOfRange(input, length - DICTIONARY, length); // only full blocks get here
        inFlight.add(pool.submit(() -> deflate(input, length, dict, false)));
        block = new byte[BLOCK];
        filled = 0;
        while (inFlight.size() >= maxInFlight) {
            writeOldest();
        }
    }

    private byte[] deflate(byte[] input, int length, byte[] dict, boolean last) {
        Deflater deflater = new Deflater(level, true);
        try {
            if (dict != null) {
                deflater.setDictionary(dict);
            }
            deflater.setInput(input, 0, length);
            java.io.ByteArrayOutputStream result = new java.io.ByteArrayOutputStream(length / 2 + 64);
            byte[] buf = new byte[64 << 10];
            if (last) {
                deflater.finish();
                while (!deflater.finished()) {
                    result.write(buf, 0, deflater.deflate(buf));
                }
            } else {
                // SYNC_FLUSH ends on a byte boundary, so the next block's output can simply follow
                for (int n; (n = deflater.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH)) > 0; ) {
                    result.write(buf, 0, n);
                    if (n < buf.length) {
                        break;
                    }
                }
            }
            return result.toByteArray();
        } finally {
            deflater.end();
        }
    }

    private void writeOldest() throws IOException {
        Future<byte[]> f = inFlight.poll();
        try {
            out.write(f.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while compressing");
        } catch (ExecutionException e) {
            throw new IOException("compression failed: " + e.getCause(), e.getCause());
        }
    }

    @Override
    public void flush() throws IOException {
        out.flush(); // blocks in progress cannot be flushed early without changing the bytes
    }

    /** Finishes the gzip member (last block, CRC, size) and closes the stream below. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            submitLast();
            while (!inFlight.isEmpty()) {
                writeOldest();
            }
            byte[] trailer = new byte[8];
            long c = crc.getValue();
            for (int i = 0; i < 4; i++) {
                trailer[i] = (byte) (c >>> (8 * i));
                trailer[4 + i] = (byte) (total >>> (8 * i));
            }
            out.write(trailer);
        } finally {
            pool.shutdownNow();
            out.close();
        }
    }

    private void submitLast() throws IOException {
        byte[] input = block;
        int length = filled;
        byte[] dict = dictionary;
        inFlight.add(pool.submit(() -> deflate(input, length, dict, true)));
    }
}
