package dev.kindbuild.base;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.progress.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Step: build the recipe on the FROM image with the engine's builder, label the result with the containerd it got
 * and tag it.
 */
final class BuildBaseImage {
    private BuildBaseImage() {}

    static String run(DockerEngine engine, BaseRecipe recipe, FromImage from, String tag, String arch, boolean noCache, Progress progress) {
        Map<String, String> labels = Map.of(
                Labels.IMAGE_KIND, "base",
                Labels.RECIPE_HASH, recipe.hash(),
                "dev.kind-build.built", tag.substring(tag.lastIndexOf(':') + 1),
                "dev.kind-build.from", from.ref());
        long started = System.currentTimeMillis() / 1000 - 1;
        try (InputStream context = recipe.context()) {
            // Another architecture's build must say so, or the squashed FROM scratch stage is labelled as the engine's.
            java.util.Optional<String> platform = arch.equals(engine.facts().architecture()) ? java.util.Optional.empty()
                    : java.util.Optional.of("linux/" + arch);
            engine.build(context, Map.of("BASE_IMAGE", from.ref()), labels, tag, noCache, platform, progress::detail);
            return ContainerdLabel.apply(engine, tag, platform, progress);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            // The build stage's last image is left untagged by the legacy builder: ~350 MB per build otherwise.
            int removed = engine.removeDanglingSince(started);
            progress.detail("removed " + removed + " intermediate image(s) of the build stage");
        }
    }
}
