package dev.kindbuild;

/**
 * A failure the user can fix: the message is one line saying what is wrong and how to fix it.
 * The CLI prints it without a stack trace and exits non-zero.
 */
public class UserError extends RuntimeException {
    private final int exitCode;

    public UserError(String message) {
        this(message, 1, null);
    }

    public UserError(String message, Throwable cause) {
        this(message, 1, cause);
    }

    public UserError(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
