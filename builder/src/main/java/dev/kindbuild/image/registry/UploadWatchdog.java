package dev.kindbuild.image.registry;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Watches one blob upload: the HTTP client reads the body from the store only as fast as the connection takes it, so
 * a read is a sign that the registry accepted bytes. No read for {@code stallLimit} while bytes remain, or no answer
 * for {@code answerLimit} after the last byte, abandons the exchange ({@link Stalled}) instead of waiting for hours.
 */
final class UploadWatchdog {
    /** Thrown when the upload made no progress within the bound; says how far it got. */
    static final class Stalled extends IOException {
        final boolean bodySent;
        final long sent;
        final Duration idle;

        Stalled(boolean bodySent, long sent, Duration idle) {
            super(bodySent ? "no answer " + idle.toSeconds() + " s after the last byte" : "no bytes accepted for " + idle.toSeconds() + " s");
            this.bodySent = bodySent;
            this.sent = sent;
            this.idle = idle;
        }
    }

    private final long size;
    private final Duration stallLimit;
    private final Duration answerLimit;
    private volatile long lastProgressNanos = System.nanoTime();
    private volatile long sent;
    private volatile boolean bodySent;

    UploadWatchdog(long size, Duration stallLimit, Duration answerLimit) {
        this.size = size;
        this.stallLimit = stallLimit;
        this.answerLimit = answerLimit;
    }

    /** {@code in}, watched; each opening (a re-sent body) starts the count afresh. */
    InputStream watch(InputStream in) {
        sent = 0;
        bodySent = false;
        lastProgressNanos = System.nanoTime();
        return new ObservedInputStream(in, this::progressed);
    }

    private void progressed(int n) {
        if (n > 0) {
            sent += n;
        }
        if (n < 0 || sent >= size) {
            bodySent = true;
        }
        lastProgressNanos = System.nanoTime();
    }

    /** Sends {@code request} and waits for its answer's headers while bytes keep moving; cancels the exchange on a stall. */
    HttpResponse<InputStream> send(HttpClient http, HttpRequest request) throws IOException {
        lastProgressNanos = System.nanoTime();
        CompletableFuture<HttpResponse<InputStream>> exchange = http.sendAsync(request, BodyHandlers.ofInputStream());
        long pollMillis = Math.max(50, Math.min(1000, stallLimit.toMillis() / 4));
        try {
            while (true) {
                try {
                    return exchange.get(pollMillis, TimeUnit.MILLISECONDS);
                } catch (TimeoutException stillGoing) {
                    Duration idle = Duration.ofNanos(System.nanoTime() - lastProgressNanos);
                    Duration limit = bodySent ? answerLimit : stallLimit;
                    if (idle.compareTo(limit) >= 0) {
                        exchange.cancel(true); // aborts the exchange and closes its connection
                        throw new Stalled(bodySent, sent, limit);
                    }
                }
            }
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException(cause.getMessage(), cause);
        } catch (InterruptedException e) {
            exchange.cancel(true);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted during an upload");
        }
    }
}
