package dev.kindbuild.image.archive;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import dev.kindbuild.image.layer.LayerBuilder;
import dev.kindbuild.image.layer.LayerEntry;
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
        streamTo(out -> DockerArchiveOutput.write(store, image, repoTags, out), engine::load, "the image");
    }

    /**
     * Places {@code entries} in the running container {@code containerId} as a layer of them would (the same tar, so the
     * same files, modes, owners and times): what the docker builder does with the node's files.
     */
    public static void copyInto(DockerEngine engine, String containerId, List<LayerEntry> entries, Instant mtime) {
        LayerBuilder tar = new LayerBuilder().addAll(entries);
        streamTo(out -> tar.writeTar(out, mtime), in -> engine.copyIn(containerId, in, "/"), "the files");
    }

    private interface Body {
        void write(OutputStream out) throws Exception;
    }

    /** Writes {@code body} on a thread into a pipe the engine reads: nothing on disk, nothing held in memory. */
    private static void streamTo(Body body, Consumer<InputStream> engineReads, String what) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (PipedInputStream in = new PipedInputStream(PIPE_BUFFER)) {
            PipedOutputStream out = new PipedOutputStream(in);
            Thread writer = new Thread(() -> {
                try (out) {
                    body.write(out);
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "kind-build-engine-stream");
            writer.setDaemon(true);
            writer.start();
            RuntimeException engineError = null;
            try {
                engineReads.accept(in);
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
            throw new UserError("cannot stream " + what + " to the engine: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while sending " + what + " to the engine", e);
        }
        Throwable t = failure.get();
        if (t != null) {
            throw t instanceof UserError u ? u : new UserError("cannot write " + what + " for the engine: " + t.getMessage(), t);
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
