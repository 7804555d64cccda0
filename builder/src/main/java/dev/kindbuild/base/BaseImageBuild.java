package dev.kindbuild.base;

import dev.kindbuild.components.ComponentChoice;
import dev.kindbuild.components.ComponentPlan;
import dev.kindbuild.components.ComponentsFile;
import dev.kindbuild.components.FetchComponents;
import dev.kindbuild.components.InstalledComponent;
import dev.kindbuild.components.PlanComponents;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.kube.DownloadCache;
import dev.kindbuild.kube.Downloader;
import dev.kindbuild.engine.EmulationCheck;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.engine.NodeMode;
import dev.kindbuild.progress.Progress;
import java.util.List;
import java.util.Optional;

/**
 * `kind-build base-image`: a short, linear list of steps. The recipe's hash names the image, so an unchanged recipe
 * is found again by its label and reused instead of rebuilt.
 */
public final class BaseImageBuild {
    private final DockerEngine engine;
    private final Progress progress;

    public BaseImageBuild(DockerEngine engine, Progress progress) {
        this.engine = engine;
        this.progress = progress;
    }

    public BaseImageResult run(BaseImageRequest request) {
        checkArchitecture(request.arch());
        BaseRecipe recipe = BaseRecipe.bundled(request.fromImage(), request.arch(), request.componentsKey());
        // Planned before anything else: an explicit version nothing can satisfy is refused before any work.
        List<ComponentPlan> plans = PlanComponents.plan(ComponentsFile.bundled(), request.components(), request.arch());

        Optional<BaseImageResult> reused = request.force() ? Optional.empty() : reuse(recipe, request);
        if (reused.isPresent()) {
            return withBootCheck(reused.get(), request);
        }
        String tag = request.image().orElseGet(() -> recipe.defaultTag(BaseRecipe.today()));
        Downloader downloader = new Downloader(new DownloadCache(DownloadCache.defaultRoot()), false, false, progress, null);
        List<ComponentChoice> choices = progress.step("Fetching runtime components", () -> FetchComponents.run(plans, downloader, progress),
                c -> c.stream().map(x -> x.name() + " " + (x.source() == ComponentChoice.Source.ABSENT ? "left out"
                        : x.version() + " (" + x.source().name().toLowerCase() + ")")).collect(java.util.stream.Collectors.joining(", ")));
        FromImage from = progress.step("Ensuring FROM image", () -> ResolveFromImage.run(engine, request, progress), FromImage::note);
        String suite = DebianBootstrap.suiteOf(request.fromImage()).orElse("");
        BuildBaseImage built = progress.step("Building base image " + tag, () -> BuildBaseImage.run(engine, recipe, from, tag, request.arch(),
                request.force(), choices, suite, request.debianMirror(), progress), b -> shortId(b.id()));
        return withBootCheck(new BaseImageResult(tag, built.id(), recipe.hash(), false, Optional.of(from), Optional.empty(), built.components()), request);
    }

    /** Node images carry the base's labels too (a Dockerfile build or a commit keeps them), and these as well. */
    static boolean isNodeImage(java.util.Map<String, String> labels) {
        return "node".equals(labels.get(Labels.IMAGE_KIND)) || !labels.getOrDefault("io.x-k8s.kind.kubernetes-version", "").isEmpty()
                || !labels.getOrDefault("dev.kind-build.images", "").isEmpty();
    }

    private Optional<BaseImageResult> reuse(BaseRecipe recipe, BaseImageRequest request) {
        // Images built FROM the base inherit its labels: a node image, or any image a user derived from it. Only one
        // that is no node image may be reused (and tagged as the base); the newest first, as the engine lists them.
        List<ImageInfo> candidates = engine.imagesWithLabel(Labels.RECIPE_HASH, recipe.hash()).stream()
                .map(i -> engine.inspectImage(i).orElse(null))
                .filter(i -> i != null && !isNodeImage(i.labels()))
                // (an earlier build may have labelled a foreign-arch base with the engine's architecture: built again)
                .filter(i -> DockerEngine.normalizeArch(i.architecture()).equals(request.arch()))
                .toList();
        if (candidates.isEmpty()) {
            return Optional.empty();
        }
        ImageInfo info = candidates.get(0);
        String id = info.id();
        // Keep the tag of the original build (its date), so the same recipe keeps the same default name.
        String built = info.labels().getOrDefault("dev.kind-build.built", "");
        String tag = request.image().orElseGet(() -> built.isEmpty()
                ? recipe.defaultTag(BaseRecipe.today())
                : BaseRecipe.DEFAULT_REPOSITORY + ":" + built);
        progress.run("Reusing base image " + tag + " (recipe unchanged; --force rebuilds)", () -> {
            if (!info.repoTags().contains(tag)) {
                engine.tag(id, tag);
            }
        });
        return Optional.of(new BaseImageResult(tag, id, recipe.hash(), true, Optional.empty(), Optional.empty(),
                InstalledComponent.fromLabel(info.labels().get(InstalledComponent.LABEL))));
    }

    private BaseImageResult withBootCheck(BaseImageResult result, BaseImageRequest request) {
        if (!request.check()) {
            return result;
        }
        NodeMode mode = BootCheck.run(engine, result.image(), progress);
        return new BaseImageResult(result.image(), result.imageId(), result.recipeHash(), result.reused(), result.from(), Optional.of(mode),
                result.components());
    }

    /** Building for another architecture would need emulation; say so instead of producing a mislabeled image. */
    private void checkArchitecture(String arch) {
        String engineArch = engine.facts().architecture();
        if (engineArch.equals(arch)) {
            return;
        }
        if (EmulationCheck.canRun(arch)) {
            progress.notice("building the " + arch + " base on this " + engineArch + " engine: its RUN steps run under binfmt emulation (qemu)");
        } else {
            throw new dev.kindbuild.UserError("cannot build a " + arch + " base image on this " + engineArch
                    + " engine: its RUN steps need a " + arch + " machine or binfmt emulation (none is registered); run on a "
                    + arch + " host, or register qemu-user-static");
        }
    }

    static String shortId(String id) {
        String hex = id.startsWith("sha256:") ? id.substring(7) : id;
        return hex.substring(0, Math.min(12, hex.length()));
    }
}
