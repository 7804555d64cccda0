package dev.kindbuild.progress;

import dev.kindbuild.lifecycle.Interruption;
import java.time.Duration;
import java.util.concurrent.Callable;

/** Receives build events. Every long-running piece of kind-build reports through one of these. */
@FunctionalInterface
public interface Progress {

    void emit(BuildEvent event);

    /** A sink that drops everything; for tests and library use. */
    Progress SILENT = event -> {};

    /** This sink with every step name and line prefixed (e.g. "[v1.31.2 arm64] "): for builds that run side by side. */
    default Progress prefixed(String prefix) {
        Progress next = this;
        return event -> {
            BuildEvent out;
            if (event instanceof BuildEvent.StepStarted e) {
                out = new BuildEvent.StepStarted(prefix + e.step());
            } else if (event instanceof BuildEvent.StepSucceeded e) {
                out = new BuildEvent.StepSucceeded(prefix + e.step(), e.took(), e.note());
            } else if (event instanceof BuildEvent.StepFailed e) {
                out = new BuildEvent.StepFailed(prefix + e.step(), e.took(), e.reason());
            } else if (event instanceof BuildEvent.Notice e) {
                out = new BuildEvent.Notice(prefix + e.line());
            } else if (event instanceof BuildEvent.Detail e) {
                out = new BuildEvent.Detail(prefix + e.line());
            } else if (event instanceof BuildEvent.Bytes e) {
                out = new BuildEvent.Bytes(prefix + e.what(), e.done(), e.total());
            } else {
                out = event;
            }
            next.emit(out);
        };
    }

    default void notice(String line) {
        emit(new BuildEvent.Notice(line));
    }

    default void detail(String line) {
        emit(new BuildEvent.Detail(line));
    }

    default void bytes(String what, long done, long total) {
        emit(new BuildEvent.Bytes(what, done, total));
    }

    /** Runs one named step, reporting start, success (with duration) or failure. */
    default <T> T step(String name, Callable<T> work) {
        return step(name, work, result -> "");
    }

    /** As {@link #step(String, Callable)}, with a note derived from the result shown after the step name. */
    default <T> T step(String name, Callable<T> work, java.util.function.Function<T, String> note) {
        Interruption.check();
        emit(new BuildEvent.StepStarted(name));
        long start = System.nanoTime();
        try {
            T result = work.call();
            // Interrupted meanwhile: the run is being cleaned up, so this step's result is not used (and no ✓).
            Interruption.check();
            emit(new BuildEvent.StepSucceeded(name, Duration.ofNanos(System.nanoTime() - start), note.apply(result)));
            return result;
        } catch (Exception | Error e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            emit(new BuildEvent.StepFailed(name, Duration.ofNanos(System.nanoTime() - start), reason));
            throw StepException.wrap(e);
        }
    }

    /**
     * A step whose outcome is a check: its line shows ✗ with the note when {@code holds} is false for the result,
     * though the result is returned and the work goes on (e.g. verify's other checks). An exception fails it as usual.
     */
    default <T> T checkedStep(String name, Callable<T> work, java.util.function.Predicate<T> holds,
            java.util.function.Function<T, String> note) {
        Interruption.check();
        emit(new BuildEvent.StepStarted(name));
        long start = System.nanoTime();
        T result;
        try {
            result = work.call();
            Interruption.check();
        } catch (Exception | Error e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            emit(new BuildEvent.StepFailed(name, Duration.ofNanos(System.nanoTime() - start), reason));
            throw StepException.wrap(e);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        emit(holds.test(result) ? new BuildEvent.StepSucceeded(name, took, note.apply(result))
                : new BuildEvent.StepFailed(name, took, note.apply(result)));
        return result;
    }

    /** A step with no result. */
    default void run(String name, StepAction work) {
        step(name, () -> {
            work.run();
            return null;
        });
    }

    @FunctionalInterface
    interface StepAction {
        void run() throws Exception;
    }
}
