package dev.kindbuild.cli;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.image.registry.EnginePush;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/** --push and the registry access flags shared by the image-building commands. */
final class RegistryOptions {

    @Option(names = "--push", description = "Push the image to its registry (TLS unless the registry is on loopback or named by --insecure-registry).")
    boolean push;

    @Option(names = "--insecure-registry", paramLabel = "HOST[:PORT]",
            description = "Allow plain HTTP to this registry (repeatable). Loopback registries are always allowed.")
    List<String> insecureRegistries = new ArrayList<>();

    /** Pushes {@code image} when --push was given; returns the pushed digest. */
    Optional<String> pushIfAsked(DockerEngine engine, String image, Progress progress) {
        if (!push) {
            return Optional.empty();
        }
        return Optional.of(EnginePush.push(engine, image, insecureRegistries, progress));
    }
}
