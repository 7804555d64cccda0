package dev.kindbuild.image.archive;

import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import java.nio.file.Path;
import java.util.List;

/** The two image tarball formats kind-build writes: docker-archive (`docker load`) and an OCI image layout. */
public enum ArchiveFormat {
    DOCKER, OCI;

    /** Writes one image from the store to {@code file} under {@code tag} (a temp name renamed into place). */
    public void write(ImageStore store, StoredImage image, String tag, Path file) {
        if (this == OCI) {
            OciArchiveOutput.write(store, image, tag, file);
        } else {
            DockerArchiveOutput.write(store, image, List.of(tag), file);
        }
    }

    /** "docker-archive FILE" or "OCI archive FILE", as progress lines and results name an output. */
    public String describe(Path file) {
        return (this == OCI ? "OCI archive " : "docker-archive ") + file;
    }
}
