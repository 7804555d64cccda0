package dev.kindbuild.cli;

import dev.kindbuild.UserError;
import dev.kindbuild.image.archive.ArchiveFormat;
import dev.kindbuild.image.registry.RegistryTrust;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** --output, --output-format and --ca-cert: the file an image is written to, and whom kind-build trusts for registry TLS. */
final class ArchiveOutputOptions {

    @Option(names = "--output", paramLabel = "FILE", description = "Write the image to FILE: a docker-archive `docker load` takes, or see --output-format (node-image: --builder oci).")
    Path outputFile;

    @Option(names = "--output-format", paramLabel = "docker|oci", description = "Format of --output: docker (docker-archive, default) or oci (OCI image layout tarball; holds all arches of --arch).")
    String outputFormat;

    @Option(names = "--ca-cert", paramLabel = "PEM", description = "Also trust this CA for registry TLS (kind-build's own pulls and pushes: node-image --builder oci, multi-arch pushes).")
    Path caCert;

    Optional<Path> output() {
        return Optional.ofNullable(outputFile);
    }

    /** The archive format; one line for an unknown one or a format without a file. */
    ArchiveFormat format() {
        if (outputFormat != null && outputFile == null) {
            throw new UserError("--output-format needs --output FILE");
        }
        if (outputFormat == null || outputFormat.equals("docker") || outputFormat.equals("docker-archive")) {
            return ArchiveFormat.DOCKER;
        }
        if (outputFormat.equals("oci") || outputFormat.equals("oci-archive")) {
            return ArchiveFormat.OCI;
        }
        throw new UserError("--output-format " + outputFormat + ": choose docker (docker-archive) or oci (OCI image layout tarball)");
    }

    RegistryTrust trust() {
        return caCert == null ? RegistryTrust.jvmDefault() : RegistryTrust.withCaCert(caCert);
    }

    /** Reproducible builds' convention: SOURCE_DATE_EPOCH (seconds) fixes the image time. */
    static Optional<java.time.Instant> sourceDateEpoch() {
        String v = System.getenv("SOURCE_DATE_EPOCH");
        if (v == null || v.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(java.time.Instant.ofEpochSecond(Long.parseLong(v.strip())));
        } catch (NumberFormatException e) {
            throw new UserError("SOURCE_DATE_EPOCH=" + v + " is not a number of seconds since 1970");
        }
    }
}
