package dev.kindbuild.node;

import dev.kindbuild.UserError;
import dev.kindbuild.image.ImageRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Where a node build takes the base image from ({@code --base-image}). */
public sealed interface BaseImageSource {
    String DOCKER_ARCHIVE = "docker-archive:";
    String OCI_ARCHIVE = "oci-archive:";

    /**
     * A reference: kind-build's own copy in its store when it has it (and the engine has no other image under that
     * name), else the engine's image when an engine has it, else pulled from its registry. {@code given} is how the
     * user wrote it, which is also how builds name their results in the store.
     */
    record Named(ImageRef ref, String given) implements BaseImageSource {}

    /** A {@code docker save} tarball. */
    record DockerArchiveFile(Path file) implements BaseImageSource {}

    /** An OCI image layout tarball. */
    record OciArchiveFile(Path file) implements BaseImageSource {}

    /** No --base-image: the bundled recipe's base, built or reused in the engine (so an engine is needed). */
    record Bundled() implements BaseImageSource {}

    /** The archive file this source reads, when it is one (an output must not overwrite it). */
    default Optional<Path> archive() {
        if (this instanceof DockerArchiveFile d) {
            return Optional.of(d.file());
        }
        return this instanceof OciArchiveFile o ? Optional.of(o.file()) : Optional.empty();
    }

    /** Parses {@code --base-image}; a missing archive is one line naming it. */
    public static BaseImageSource parse(Optional<String> arg) {
        if (arg.isEmpty()) {
            return new Bundled();
        }
        String a = arg.get();
        if (a.startsWith(DOCKER_ARCHIVE)) {
            return new DockerArchiveFile(existing(a.substring(DOCKER_ARCHIVE.length()), a));
        }
        if (a.startsWith(OCI_ARCHIVE)) {
            return new OciArchiveFile(existing(a.substring(OCI_ARCHIVE.length()), a));
        }
        return new Named(ImageRef.parse(a), a);
    }

    /** Whether {@code arg} names an archive rather than an image reference (the reference check must not see it). */
    public static boolean isArchive(String arg) {
        return arg.startsWith(DOCKER_ARCHIVE) || arg.startsWith(OCI_ARCHIVE);
    }

    private static Path existing(String path, String arg) {
        Path p = Path.of(path).toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            throw new UserError("--base-image " + arg + ": no such file; give a `docker save` tarball (docker-archive:PATH) "
                    + "or an OCI archive (oci-archive:PATH)");
        }
        return p;
    }
}
