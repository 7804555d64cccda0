package dev.kindbuild.base;

import dev.kindbuild.components.ComponentChoice;
import dev.kindbuild.components.ComponentFiles;
import dev.kindbuild.components.InstalledComponent;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.progress.Progress;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Step: build the recipe on the FROM image with the engine's builder, with the chosen runtime components (downloads
 * in the context, Debian stand-ins as packages), label the result with the components it got and tag it.
 *
 * @param id         the tagged image
 * @param components what it has
 */
record BuildBaseImage(String id, List<InstalledComponent> components) {

    static BuildBaseImage run(DockerEngine engine, BaseRecipe recipe, FromImage from, String tag, String arch, boolean noCache,
            List<ComponentChoice> choices, String baseSuite, String debianMirror, Progress progress) {
        Map<String, String> labels = Map.of(
                Labels.IMAGE_KIND, "base",
                Labels.RECIPE_HASH, recipe.hash(),
                "dev.kind-build.built", tag.substring(tag.lastIndexOf(':') + 1),
                "dev.kind-build.from", from.ref());
        Map<String, String> args = new LinkedHashMap<>();
        args.put("BASE_IMAGE", from.ref());
        args.put("RUNTIME_PACKAGES", String.join(" ", ComponentFiles.aptPackages(choices, baseSuite)));
        args.put("EXTRA_SUITES", String.join(" ", ComponentFiles.extraSuites(choices, baseSuite)));
        args.put("DEBIAN_MIRROR", debianMirror);
        progress.detail("build args: " + args);
        long started = System.currentTimeMillis() / 1000 - 1;
        boolean tagged = false;
        boolean done = false;
        try (InputStream context = recipe.context(ComponentFiles.contextFiles(choices))) {
            // Another architecture's build must say so, or the squashed FROM scratch stage is labelled as the engine's.
            Optional<String> platform = arch.equals(engine.facts().architecture()) ? Optional.empty() : Optional.of("linux/" + arch);
            engine.build(context, args, labels, tag, noCache, platform, progress::detail);
            tagged = true;
            List<InstalledComponent> installed = ComponentLabels.read(engine, tag, choices);
            // The versions are only known once installed: added as labels on top (a config-only image, same layers).
            String dockerfile = "FROM " + engine.inspectImage(tag).orElseThrow().id() + "\n";
            String id = engine.build(new ByteArrayInputStream(ContainerdLabel.context(dockerfile)), Map.of(),
                    ComponentLabels.labels(installed), tag, false, platform, progress::detail);
            done = true;
            return new BuildBaseImage(id, installed);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (tagged && !done) {
                // Nothing half-made stays: a base whose components are not what was asked loses its tag.
                engine.removeImage(tag);
            }
            // The build stage's last image is left untagged by the legacy builder: ~350 MB per build otherwise.
            int removed = engine.removeDanglingSince(started);
            progress.detail("removed " + removed + " intermediate image(s) of the build stage");
        }
    }
}
