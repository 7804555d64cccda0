package dev.kindbuild.progress;

/** Carries a checked exception out of a step without losing it; unchecked ones pass through as they are. */
final class StepException {
    private StepException() {}

    static RuntimeException wrap(Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        if (t instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        return new java.io.UncheckedIOException(t.getMessage(), t instanceof java.io.IOException io ? io : new java.io.IOException(t));
    }
}
