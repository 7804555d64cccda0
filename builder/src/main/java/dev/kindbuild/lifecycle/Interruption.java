package dev.kindbuild.lifecycle;

import dev.kindbuild.UserError;
import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C (SIGINT) and SIGTERM in a kind-build process. The JVM runs shutdown hooks while the command's thread goes
 * on; left alone, that thread would create containers after the cleanup ran and print step lines after it. Instead
 * one hook: marks the run interrupted (steps stop at their next boundary, step lines stop), interrupts the command's
 * thread and waits for it to unwind — its own try-with-resources remove what it made — then undoes whatever is still
 * registered, prints one line and exits 130.
 */
public final class Interruption {
    /** How long the command's thread gets to unwind and clean up before the remaining undo actions run anyway. */
    private static final long UNWIND_SECONDS = 30;

    private static volatile boolean installed;
    private static volatile boolean requested;
    private static final CountDownLatch FINISHED = new CountDownLatch(1);

    private Interruption() {}

    /** Installs the hook for a CLI process whose command runs on {@code worker}; progress lines go to {@code err}. */
    public static synchronized void install(Thread worker, PrintStream err) {
        if (installed) {
            return;
        }
        installed = true;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (FINISHED.getCount() == 0) {
                return; // a normal exit
            }
            requested = true;
            worker.interrupt();
            try {
                FINISHED.await(UNWIND_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                // go on and clean up
            }
            try {
                CleanupStack.runAllOpen();
            } finally {
                TempPaths.deleteLive();
                err.println(" ✗ interrupted: stopped, and removed what this run had made");
                err.flush();
                Runtime.getRuntime().halt(130);
            }
        }, "kind-build-interrupt"));
    }

    /** Whether the process-wide hook is in place (then cleanup stacks need no hooks of their own). */
    static boolean installed() {
        return installed;
    }

    /** The command's thread has returned (normally or not). */
    public static void finished() {
        FINISHED.countDown();
    }

    public static boolean requested() {
        return requested;
    }

    /** Stops the current work when the run was interrupted. */
    public static void check() {
        if (requested) {
            throw new UserError("interrupted", 130, null);
        }
    }
}
