package dev.kindbuild.lifecycle;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Undo actions registered as resources are created (a container, a temp dir, a half-written image), run in reverse
 * order on close — and also when the JVM is interrupted (Ctrl-C), through a shutdown hook, so nothing leaks.
 */
public final class CleanupStack implements AutoCloseable {

    /** One undo action; failures are reported to stderr but never stop the others. */
    @FunctionalInterface
    public interface Undo {
        void run() throws Exception;
    }

    private record Entry(String what, Undo undo) {}

    private final Deque<Entry> entries = new ArrayDeque<>();
    private final Thread hook;
    private boolean closed;

    /** Stacks not yet closed, for the process-wide interruption hook ({@link Interruption}). */
    private static final java.util.Set<CleanupStack> OPEN = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public CleanupStack() {
        if (Interruption.installed()) {
            hook = null;
            OPEN.add(this);
        } else {
            hook = new Thread(this::runAll, "kind-build-cleanup");
            Runtime.getRuntime().addShutdownHook(hook);
        }
    }

    /** Runs every stack still open (the interruption hook, once the command's thread had its chance). */
    static void runAllOpen() {
        for (CleanupStack stack : OPEN) {
            stack.runAll();
            OPEN.remove(stack);
        }
    }

    /**
     * Registers {@code undo}; returns a handle that runs it early (and only once). After the stack has run (e.g. on
     * Ctrl-C while the build thread is still going), the undo runs at once and the caller is stopped.
     */
    public Handle push(String what, Undo undo) {
        Entry entry = new Entry(what, undo);
        synchronized (this) {
            if (!closed) {
                entries.push(entry);
                return new Handle(entry);
            }
        }
        runOne(entry);
        throw new dev.kindbuild.UserError("interrupted: cleaned up " + what, 130, null);
    }

    /** A registered undo that can be run now, or forgotten when the resource is kept (e.g. a finished image). */
    public final class Handle {
        private final Entry entry;

        private Handle(Entry entry) {
            this.entry = entry;
        }

        public void runNow() {
            boolean present;
            synchronized (CleanupStack.this) {
                present = entries.remove(entry);
            }
            if (present) {
                runOne(entry);
            }
        }

        public void keep() {
            synchronized (CleanupStack.this) {
                entries.remove(entry);
            }
        }
    }

    @Override
    public void close() {
        // Undo must work on an interrupted thread too (Ctrl-C interrupts the command's thread).
        boolean interrupted = Thread.interrupted();
        try {
            runAll();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (hook == null) {
            OPEN.remove(this);
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running or has run: nothing left to unregister.
        }
    }

    private void runAll() {
        while (true) {
            Entry next;
            synchronized (this) {
                if (closed && entries.isEmpty()) {
                    return;
                }
                next = entries.poll();
                if (next == null) {
                    closed = true;
                    return;
                }
            }
            runOne(next);
        }
    }

    private static void runOne(Entry entry) {
        try {
            entry.undo().run();
        } catch (Exception e) {
            System.err.println("WARN: cleanup of " + entry.what() + " failed: " + e.getMessage());
        }
    }
}
