package dev.kindbuild.progress;

import dev.kindbuild.lifecycle.Interruption;
import java.io.PrintStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * kind-style step lines on a console: " • Step ..." while running, " ✓ Step (note) 1.2s" or " ✗ Step 1.2s: reason"
 * when done. On a terminal the running line is redrawn in place (with byte counts); elsewhere every line is plain
 * and appended, so logs of CI jobs stay readable.
 */
public final class ConsoleProgress implements Progress {
    private static final long PLAIN_BYTES_INTERVAL_NANOS = 10_000_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private final boolean verbose;
    private final Map<String, Long> lastPlainBytes = new HashMap<>();
    private String runningStep;
    private boolean lineOpen;

    public ConsoleProgress(PrintStream out, boolean terminal, boolean verbose) {
        this.out = out;
        this.terminal = terminal;
        this.verbose = verbose;
    }

    /** Progress on stderr; a terminal is assumed when the JVM has a console and TERM is not "dumb". */
    public static ConsoleProgress onStderr(boolean verbose) {
        boolean tty = System.console() != null && !"dumb".equals(System.getenv("TERM"));
        return new ConsoleProgress(System.err, tty, verbose);
    }

    @Override
    public synchronized void emit(BuildEvent event) {
        if (Interruption.requested()) {
            return; // the interruption hook prints the run's last line
        }
        if (event instanceof BuildEvent.StepStarted s) {
            runningStep = s.step();
            if (terminal) {
                redraw(" • " + s.step() + " ...");
            } else {
                println(" • " + s.step() + " ...");
            }
        } else if (event instanceof BuildEvent.StepSucceeded s) {
            String note = s.note() == null || s.note().isEmpty() ? "" : " (" + s.note() + ")";
            finish(" ✓ " + s.step() + note + " " + format(s.took()));
        } else if (event instanceof BuildEvent.StepFailed s) {
            finish(" ✗ " + s.step() + " " + format(s.took()) + ": " + s.reason());
        } else if (event instanceof BuildEvent.Notice n) {
            println(" ℹ " + n.line());
        } else if (event instanceof BuildEvent.Detail d) {
            if (verbose) {
                println("   " + d.line());
            }
        } else if (event instanceof BuildEvent.Bytes b) {
            bytes(b);
        }
    }

    private void bytes(BuildEvent.Bytes b) {
        String line = "   " + b.what() + ": " + humanBytes(b.done()) + (b.total() > 0 ? " / " + humanBytes(b.total()) : "");
        if (terminal) {
            redraw(line);
            return;
        }
        long now = System.nanoTime();
        Long last = lastPlainBytes.get(b.what());
        boolean done = b.total() > 0 && b.done() >= b.total();
        if (last == null || now - last >= PLAIN_BYTES_INTERVAL_NANOS || done) {
            lastPlainBytes.put(b.what(), now);
            if (verbose || (last != null && !done)) {
                println(line);
            }
        }
    }

    private void finish(String line) {
        runningStep = null;
        if (terminal) {
            redraw(line);
            out.println();
            lineOpen = false;
        } else {
            println(line);
        }
        out.flush();
    }

    private void redraw(String line) {
        out.print("\r\033[K" + line);
        lineOpen = true;
        out.flush();
    }

    private void println(String line) {
        if (lineOpen) {
            out.print("\r\033[K");
            lineOpen = false;
        }
        out.println(line);
        if (terminal && runningStep != null) {
            redraw(" • " + runningStep + " ...");
        }
        out.flush();
    }

    static String format(Duration d) {
        double seconds = d.toMillis() / 1000.0;
        if (seconds < 60) {
            return String.format(Locale.ROOT, "%.1fs", seconds);
        }
        long s = d.toSeconds();
        return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }

    public static String humanBytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
