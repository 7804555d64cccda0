package dev.kindbuild.cri;

/** A CRI call the runtime did not answer as asked (unreachable socket, refused call); the message is one line. */
public final class CriCallFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CriCallFailed(String message, Throwable cause) {
        super(message, cause);
    }
}
