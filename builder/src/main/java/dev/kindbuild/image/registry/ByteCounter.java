package dev.kindbuild.image.registry;

import dev.kindbuild.progress.Progress;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

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
        return counted(in, n -> {});
    }

    /**
     * {@code source}, counted, for a transfer that may be retried: each new opening first takes back what the one
     * before it counted, so a blob sent twice counts once.
     */
    Supplier<InputStream> countingOnce(Supplier<InputStream> source) {
        AtomicLong previous = new AtomicLong();
        return () -> {
            long earlier = previous.getAndSet(0);
            if (earlier > 0) {
                reported.set(Math.min(reported.get(), done.addAndGet(-earlier)));
            }
            return counted(source.get(), previous::addAndGet);
        };
    }

    private InputStream counted(InputStream in, LongConsumer alsoCount) {
        return new ObservedInputStream(in, n -> {
            if (n > 0) {
                alsoCount.accept(n);
                add(n);
            }
        });
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
