package dev.kindbuild.engine;

/** The outcome of a command run in a container. */
public record ExecResult(int exitCode, String stdout, String stderr) {
    public boolean ok() {
        return exitCode == 0;
    }

    /** The last non-empty line of stderr (or stdout), for one-line error messages. */
    public String lastErrorLine() {
        String text = stderr.isBlank() ? stdout : stderr;
        String[] lines = text.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1].strip();
    }
}
