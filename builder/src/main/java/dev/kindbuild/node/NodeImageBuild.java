package dev.kindbuild.node;

import dev.kindbuild.UserError;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.ImagePuller;
import dev.kindbuild.kube.KubernetesArtifacts;
import dev.kindbuild.kube.KubernetesResolver;
import dev.kindbuild.kube.KubernetesSource;
import dev.kindbuild.lifecycle.CleanupStack;
import dev.kindbuild.progress.StepTimes;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.recipe.RecipeTree;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * `kind-build node-image`, as kind's builder does it, in a short linear list of steps: Kubernetes in, config tweaked,
 * images pre-pulled into /kind/images, container committed. The builder container and the work dir are removed on
 * success, failure and Ctrl-C; the tag exists only once the commit succeeded.
 */
public final class NodeImageBuild {
    private final DockerEngine engine;
    private final Progress progress;

    public NodeImageBuild(DockerEngine engine, Progress progress) {
        this.engine = engine;
        this.progress = progress;
    }

    public NodeImageResult run(NodeImageRequest request) {
        request.baseImage().filter(dev.kindbuild.node.daemonless.BaseImageSource::isArchive).ifPresent(a -> {
            throw new UserError("--base-image " + a + ": the docker builder takes base images from the engine; "
                    + "build with --builder oci to use an archive, or `docker load` it first");
        });
        StepTimes timed = new StepTimes(progress);
        try (CleanupStack cleanup = new CleanupStack()) {
            Path work = TempPaths.createDirectory("kind-build-node-", cleanup);
            KubernetesResolver resolver = new KubernetesResolver(request.resolverOptions(), timed, cleanup);
            KubernetesSource source = resolver.pin(request.source());

            // The base comes first: a containerd that cannot serve this Kubernetes is refused before any download. The
            // bundled base depends on the version, so a source that does not name it (a tree, a tarball) is read first.
            Optional<KubernetesArtifacts> early = request.baseImage().isEmpty() && source.knownVersion().isEmpty()
                    ? Optional.of(timed.step("Preparing Kubernetes", () -> resolver.resolve(source, work.resolve("k8s")),
                            a -> a.version() + " from " + a.origin()))
                    : Optional.empty();
            Optional<dev.kindbuild.kube.KubeVersion> version = source.knownVersion().or(() -> early.map(KubernetesArtifacts::kubeVersion));
            String base = timed.step("Ensuring base image", () -> EnsureBaseImage.run(engine, request.baseImage(), request.arch(), version, timed),
                    b -> b);
            BuilderContainer.Builder builder = timed.step("Starting builder container", () -> {
                BuilderContainer.Builder started = BuilderContainer.start(engine, base, cleanup);
                if (request.baseImage().isPresent()) {
                    EnsureBaseImage.checkContents(engine, started, base);
                }
                return started;
            }, BuilderContainer.Builder::name);
            Optional<BaseContainerd> containerd = engine.inspectImage(base).flatMap(i -> BaseContainerd.fromLabels(i.labels()))
                    .or(() -> BaseContainerd.fromBuilder(engine, builder));
            source.knownVersion().ifPresent(v -> BaseContainerd.checkStep(timed, v, containerd, base));

            KubernetesArtifacts k8s = early.isPresent() ? early.get() : timed.step("Preparing Kubernetes",
                    () -> resolver.resolve(source, work.resolve("k8s")), a -> a.version() + " from " + a.origin());
            if (source.knownVersion().isEmpty()) {
                BaseContainerd.checkStep(timed, k8s.kubeVersion(), containerd, base);
            }
            String tag = request.image().orElse("kindest/node:" + k8s.kubeVersion().toString().replace('+', '_'));
            timed.run("Installing Kubernetes " + k8s.version(), () -> InstallKubernetes.run(engine, builder, k8s));

            AddonManifests manifests = AddonManifests.bundled();
            RequiredImages.Required required = timed.step("Listing required images",
                    () -> RequiredImages.list(engine, builder, k8s.version(), manifests, request.extraImages()),
                    r -> r.all().size() + " images");
            timed.run("Configuring node", () -> ConfigureNode.run(engine, builder, k8s.kubeVersion(), required.pauseImage(),
                    manifests, RecipeTree.load("node-image").subtree("files/")));

            ImagePuller puller = ImagePuller.create(request.access(), request.mirrors(), request.noCache(), timed);
            List<ObtainImages.Obtained> images = timed.step("Pulling images",
                    () -> ObtainImages.run(required.all(), k8s, puller, request.arch(), work, timed), i -> i.size() + " images");
            List<ImageRecord> records = timed.step("Saving images to " + NodeLayout.IMAGES_DIR,
                    () -> SaveImages.run(engine, builder, images, work), r -> r.size() + " images");
            String id = timed.step("Committing " + tag,
                    () -> CommitNodeImage.run(engine, builder, tag, k8s.version(), base, SaveImages.labelValue(records)),
                    i -> i.substring(7, 19));
            return new NodeImageResult(tag, id, k8s.version(), base, records, timed.seconds());
        }
    }
}
