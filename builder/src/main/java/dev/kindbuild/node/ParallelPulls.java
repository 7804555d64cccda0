package dev.kindbuild.node;

import dev.kindbuild.UserError;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.lifecycle.Interruption;
import dev.kindbuild.progress.BuildEvent;
import dev.kindbuild.progress.Progress;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Pulls a few images at a time, for both builders. The first failure ends the whole step at once, whichever image
 * it was: queued pulls do not start, running ones are stopped, and only the first failure's line is shown (the
 * others' "✗ … interrupted" lines would bury it). Nothing of a pull runs on after this returns or throws.
 */
public final class ParallelPulls {
    private static final int PARALLEL = 3;

    /** One pull; {@code progress} is the filtered progress the pull must report through. */
    public interface Pull<T> {
        T pull(ImageRef ref, Progress progress) throws Exception;
    }

    private ParallelPulls() {}

    /** Pulls every ref; the results in the order the refs were given. {@code cached} says which needed no transfer. */
    public static <T> Map<ImageRef, T> run(List<ImageRef> refs, Progress progress, Pull<T> pull, Predicate<T> cached)
            throws Exception {
        AtomicInteger done = new AtomicInteger();
        AtomicBoolean failed = new AtomicBoolean();
        AtomicBoolean reported = new AtomicBoolean();
        Progress quiet = event -> {
            if (event instanceof BuildEvent.StepFailed && !reported.compareAndSet(false, true)) {
                return;
            }
            if (!(event instanceof BuildEvent.StepFailed) && reported.get()) {
                return;
            }
            progress.emit(event);
        };
        ExecutorService pool = Executors.newFixedThreadPool(PARALLEL, r -> {
            Thread t = new Thread(r, "image-pull");
            t.setDaemon(true);
            return t;
        });
        CompletionService<Map.Entry<ImageRef, T>> completed = new ExecutorCompletionService<>(pool);
        try {
            for (ImageRef ref : refs) {
                completed.submit(() -> {
                    if (failed.get()) {
                        throw new CancellationException("an earlier pull failed");
                    }
                    try {
                        T result = pull.pull(ref, quiet);
                        synchronized (done) {
                            progress.notice("pulled " + done.incrementAndGet() + "/" + refs.size() + ": " + ref.nameWithTag()
                                    + (cached.test(result) ? " (cached)" : ""));
                        }
                        return Map.entry(ref, result);
                    } catch (Exception | Error e) {
                        failed.set(true);
                        throw e;
                    }
                });
            }
            Map<ImageRef, T> byRef = new HashMap<>();
            for (int i = 0; i < refs.size(); i++) {
                Map.Entry<ImageRef, T> e = await(completed.take());
                byRef.put(e.getKey(), e.getValue());
            }
            Map<ImageRef, T> ordered = new LinkedHashMap<>();
            refs.forEach(ref -> ordered.put(ref, byRef.get(ref)));
            return ordered;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while pulling images", 130, e);
        } finally {
            failed.set(true);
            pool.shutdownNow();
            stop(pool, progress);
        }
    }

    /**
     * Waits for running pulls to stop (interrupted) and remove their temp files, so no line and no file of theirs
     * comes after the build's cleanup. After Ctrl-C pulls blocked on a silent registry need not be waited for long:
     * the interruption hook removes their temp dirs.
     */
    private static void stop(ExecutorService pool, Progress progress) {
        boolean interrupted = Thread.interrupted();
        try {
            int seconds = Interruption.requested() ? 3 : 30;
            if (!pool.awaitTermination(seconds, TimeUnit.SECONDS)) {
                progress.detail("some pulls did not stop within " + seconds + " s");
            }
        } catch (InterruptedException again) {
            interrupted = true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static <T> T await(Future<T> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CancellationException) {
                throw new UserError("image pulls were cancelled");
            }
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }
}
