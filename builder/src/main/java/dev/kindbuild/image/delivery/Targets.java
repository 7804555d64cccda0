package dev.kindbuild.image.delivery;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.archive.ArchiveFormat;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a built image is to go besides kind-build's store: a file, the engine (when there is one and nothing else was
 * asked for), a registry.
 *
 * @param output the archive file to write, in {@code format}
 * @param format docker-archive or OCI archive
 * @param engine the engine that gets the image when no file is asked for and it is not pushed
 * @param push   push to the registry its tag names
 */
public record Targets(Optional<Path> output, ArchiveFormat format, Optional<DockerEngine> engine, boolean push) {}
