package dev.kindbuild.image.registry;

import dev.kindbuild.UserError;

/**
 * A registry said no, or could not be reached: one line naming the registry and what was asked, never a credential.
 * {@link #notFound()} lets a pull through a mirror fall back to the source registry on "not there" and only then.
 *
 * @see RegistryClient
 */
public final class RegistryException extends UserError {
    /** The HTTP status, or 0 when no answer came (unreachable, TLS refused). */
    private final int status;
    /** The distribution error code (MANIFEST_UNKNOWN, NAME_UNKNOWN, DENIED, …), or "" when none was sent. */
    private final String code;

    RegistryException(String message, int status, String code, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.code = code == null ? "" : code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** The repository or manifest does not exist there. */
    public boolean notFound() {
        return status == 404 || code.equals("MANIFEST_UNKNOWN") || code.equals("NAME_UNKNOWN") || code.equals("BLOB_UNKNOWN");
    }

    /** No HTTP answer at all. */
    public boolean unreachable() {
        return status == 0;
    }
}
