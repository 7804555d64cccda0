package dev.kindbuild.image.registry;

import dev.kindbuild.progress.Progress;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the bytes of one transfer (a pull's or a push's blobs) as they stream, reporting them as
 * {@link Progress#bytes} events at most every 1 MiB so a terminal redraw never dominates the copy.
 */
final class ByteCounter {
    private static final long REPORT_EVERY = 1 << 20;

    private final String what;
    private final long total;
    private final Progress progress;
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong reported = new AtomicLong();

    ByteCounter(String what, long total, Progress progress) {
        this.what = what;
        this.total = total;
        this.progress = progress;
    }

    long done() {
        return done.get();
    }

    /** {@code in}, counted. */
    InputStream wrap(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    add(1);
                }
                return b;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                int n = super.read(buf, off, len);
                if (n > 0) {
                    add(n);
                }
                return n;
            }
        };
    }

    private void add(long n) {
        long now = done.addAndGet(n);
        long last = reported.get();
        if (now - last >= REPORT_EVERY && reported.compareAndSet(last, now)) {
            progress.bytes(what, now, total);
        }
    }

    /** The final count, reported once. */
    void finish() {
        progress.bytes(what, done.get(), total);
    }
}
