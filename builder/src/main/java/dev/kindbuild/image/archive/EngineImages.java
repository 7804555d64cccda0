package dev.kindbuild.image.archive;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Moves images between the store and a Docker engine through its API ({@link DockerEngine#load},
 * {@link DockerEngine#save}), as docker-archive streams: nothing is written to a temp file or held in memory.
 */
public final class EngineImages {
    private static final int PIPE_BUFFER = 1 << 20;

    private EngineImages() {}

    /** Loads {@code image} into the engine tagged {@code repoTags}; the archive is written while the engine reads it. */
    public static void load(DockerEngine engine, ImageStore store, StoredImage image, List<String> repoTags) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (PipedInputStream in = new PipedInputStream(PIPE_BUFFER)) {
            PipedOutputStream out = new PipedOutputStream(in);
            Thread writer = new Thread(() -> {
                try (out) {
                    DockerArchiveOutput.write(store, image, repoTags, out);
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "kind-build-archive-writer");
            writer.setDaemon(true);
            writer.start();
            RuntimeException engineError = null;
            try {
                engine.load(in);
            } catch (RuntimeException e) {
                engineError = e;
            } finally {
                in.close(); // a writer still blocked on a full pipe (the engine gave up) fails instead of hanging
                writer.join();
            }
            // A writer that failed first (a missing blob) is the cause; the engine then only saw a cut-off tar.
            if (engineError != null && failure.get() == null) {
                throw engineError;
            }
        } catch (IOException e) {
            throw new UserError("cannot stream the image to the engine: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while loading the image into the engine", e);
        }
        Throwable t = failure.get();
        if (t != null) {
            throw t instanceof UserError u ? u : new UserError("cannot write the image for the engine: " + t.getMessage(), t);
        }
    }

    /** Saves {@code ref} from the engine straight into the store (its config, so its image ID, unchanged). */
    public static StoredImage save(DockerEngine engine, String ref, ImageStore store) {
        try (InputStream in = engine.save(ref)) {
            return ArchiveImport.dockerArchive(store, in, "the engine's image " + ref);
        } catch (IOException e) {
            throw new UserError("cannot read image " + ref + " from the engine: " + e.getMessage(), e);
        }
    }
}
