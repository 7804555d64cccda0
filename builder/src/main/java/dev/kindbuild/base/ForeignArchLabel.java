package dev.kindbuild.base;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.archive.EngineImages;
import dev.kindbuild.image.layer.ImageAssembly;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import java.time.Instant;
import java.util.List;

/**
 * The engine labels an imported root filesystem with its own architecture (Docker 20.10's import ignores
 * {@code platform}), so an arm64 Debian root imported on amd64 claims amd64 and the build that uses it as FROM would
 * run and label as amd64. This re-labels such an image: same layers, config naming the right architecture.
 */
final class ForeignArchLabel {
    private ForeignArchLabel() {}

    /** Re-tags {@code ref} as an image of {@code arch}; returns the new image ID. Nothing to do when it already says so. */
    static String apply(DockerEngine engine, String ref, String arch, ImageStore store) {
        String current = engine.inspectImage(ref).map(i -> DockerEngine.normalizeArch(i.architecture())).orElse("");
        if (current.equals(arch)) {
            return engine.inspectImage(ref).orElseThrow().id();
        }
        String oldId = engine.inspectImage(ref).orElseThrow().id();
        StoredImage saved = EngineImages.save(engine, ref, store);
        Instant created = Instant.parse(saved.configJson().path("created").asText(Instant.EPOCH.toString()));
        StoredImage relabelled = ImageAssembly.on(saved).architecture(arch).created(created).write(store);
        EngineImages.load(engine, store, relabelled, List.of(ref));
        if (engine.inspectImage(oldId).filter(i -> i.repoTags().isEmpty()).isPresent()) {
            engine.removeImage(oldId); // the load took its only tag
        }
        return relabelled.config().digest();
    }
}
