package dev.kindbuild.cli;

/** Whether -v was given, for the error handler that prints stack traces only then. */
final class Verbosity {
    private static volatile boolean verbose;

    private Verbosity() {}

    static void set(boolean value) {
        verbose = value;
    }

    static boolean isVerbose() {
        return verbose;
    }
}
