package dev.kindbuild.progress;

import java.time.Duration;

/** What a build reports while it runs; renderers decide how (and whether) to show each kind. */
public sealed interface BuildEvent {

    /** A named step began, e.g. "Building base image". */
    record StepStarted(String step) implements BuildEvent {}

    /** A step ended well; {@code note} is a short qualifier shown after the name (may be empty). */
    record StepSucceeded(String step, Duration took, String note) implements BuildEvent {}

    /** A step ended badly; {@code reason} is one line. */
    record StepFailed(String step, Duration took, String reason) implements BuildEvent {}

    /** A line worth telling everyone (e.g. which node mode was used). */
    record Notice(String line) implements BuildEvent {}

    /** Detail shown only with -v (engine build output, commands run). */
    record Detail(String line) implements BuildEvent {}

    /** Byte progress of a transfer; {@code total} is -1 when unknown. */
    record Bytes(String what, long done, long total) implements BuildEvent {}
}
