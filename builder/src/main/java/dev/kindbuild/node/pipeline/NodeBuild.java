package dev.kindbuild.node.pipeline;

import dev.kindbuild.node.BaseImageSource;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.archive.ArchiveFormat;
import dev.kindbuild.image.delivery.DeliverImage;
import dev.kindbuild.image.delivery.Delivery;
import dev.kindbuild.image.delivery.Targets;
import dev.kindbuild.image.layer.ImageAssembly;
import dev.kindbuild.image.layer.ImageContents;
import dev.kindbuild.image.layer.Layer;
import dev.kindbuild.image.registry.OciIndex;
import dev.kindbuild.image.registry.PushResult;
import dev.kindbuild.image.registry.RegistryClients;
import dev.kindbuild.image.registry.RegistryPull;
import dev.kindbuild.image.registry.RegistryTrust;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.kube.KubernetesArtifacts;
import dev.kindbuild.kube.KubernetesResolver;
import dev.kindbuild.kube.KubernetesSource;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.lifecycle.CleanupStack;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.node.AddonManifests;
import dev.kindbuild.node.ArchGuard;
import dev.kindbuild.node.BaseContainerd;
import dev.kindbuild.node.ImageRecord;
import dev.kindbuild.node.NodeImageConfig;
import dev.kindbuild.node.NodeImageRequest;
import dev.kindbuild.node.NodeImageResult;
import dev.kindbuild.node.RequiredImages;
import dev.kindbuild.node.EnsureBaseImage;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.progress.StepTimes;
import dev.kindbuild.recipe.RecipeTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * `kind-build node-image`: one pipeline for both builders. A build is planned once ({@link NodePlan}: Kubernetes
 * resolved, the base and every image in the store, the inputs named) and its files described once ({@link NodeFiles});
 * only the last step differs — {@link WriteLayers} puts three layers on the base in the store (`--builder oci`: no
 * engine, no privileges, reproducible), {@link CommitBuilder} streams the same files into a builder container and
 * commits it (`--builder docker`, kind's way). A build whose inputs were seen before writes nothing.
 */
public final class NodeBuild {
    /** Bumped whenever the layers this builder writes change for the same inputs. */
    static final String LAYOUT_REVISION = "3";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Which writer ends the pipeline. */
    public enum Builder {
        /** Layers on the base in the store: no engine, no privileges, reproducible. */
        OCI,
        /** A builder container from the base that receives the same files and is committed in the engine. */
        DOCKER
    }

    /**
     * How to build and deliver.
     *
     * @param builder         which writer ends the pipeline
     * @param engine          a Docker engine, when one answers: the base may come from it; the oci builder loads the
     *                        result into it unless {@code output} is given; the docker builder needs it
     * @param output          write the image to this file (oci)
     * @param format          the file's format
     * @param push            push the image to the registry its tag names (oci; the docker builder's push is the engine's)
     * @param trust           TLS trust for registries ({@code --ca-cert})
     * @param sourceDateEpoch the image time; empty: the release's (the binaries' mtimes)
     */
    public record Options(Builder builder, Optional<DockerEngine> engine, Optional<Path> output, ArchiveFormat format, boolean push,
            RegistryTrust trust, Optional<Instant> sourceDateEpoch) {
        /** The oci builder. */
        public Options(Optional<DockerEngine> engine, Optional<Path> output, ArchiveFormat format, boolean push, RegistryTrust trust,
                Optional<Instant> sourceDateEpoch) {
            this(Builder.OCI, engine, output, format, push, trust, sourceDateEpoch);
        }

        /** The docker builder: a builder container in {@code engine}, the result tagged there. */
        public static Options docker(DockerEngine engine) {
            return new Options(Builder.DOCKER, Optional.of(engine), Optional.empty(), ArchiveFormat.DOCKER, false, RegistryTrust.jvmDefault(),
                    Optional.empty());
        }

        /** Where the built image goes. */
        public Targets targets() {
            return new Targets(output, format, engine, push);
        }
    }

    /**
     * What the build produced.
     *
     * @param node     the summary (its image ID: the config digest, or the engine's ID for the docker builder)
     * @param manifest the image's manifest digest (oci: the same for the same inputs); empty for the docker builder
     * @param reused   true when the store (oci) or the engine (docker) already had the image for these inputs
     * @param delivery where it went
     * @param inputs   what it was made from (also the image's {@link NodeInputs#LABEL} label)
     */
    public record Result(NodeImageResult node, Optional<String> manifest, boolean reused, Delivery delivery, NodeInputs inputs) {
        public Optional<PushResult> pushed() {
            return delivery.pushed();
        }
    }

    private final ImageStore store;
    private final Progress progress;

    public NodeBuild(ImageStore store, Progress progress) {
        this.store = store;
        this.progress = progress;
    }

    /**
     * One architecture's node image in the store, not delivered anywhere yet.
     *
     * @param node           the summary (its image ID is the config digest)
     * @param image          the image
     * @param arch           its architecture
     * @param reused         true when the store already had the image for these inputs
     * @param inputs         what it was made from (also the image's {@link NodeInputs#LABEL} label)
     * @param baseRepository where its base was pulled from: a push to the same registry mounts the base layers
     */
    public record Built(NodeImageResult node, StoredImage image, String arch, boolean reused, NodeInputs inputs,
            Optional<dev.kindbuild.image.ImageRef> baseRepository) {}

    /**
     * What a multi-arch build produced.
     *
     * @param tag     the tag the index went under
     * @param index   the OCI index in the store, one entry per architecture
     * @param images  each architecture's image, in the order asked for
     * @param delivery where the index went
     */
    public record MultiArchResult(String tag, Descriptor index, List<Built> images, Delivery delivery) {
        public Optional<PushResult> pushed() {
            return delivery.pushed();
        }
    }

    /** Builds the node image of {@code request}'s architecture and delivers it as {@code options} say. */
    public Result run(NodeImageRequest request, Options options) {
        checkOutputs(options);
        StepTimes timed = new StepTimes(progress);
        RegistryClients clients = new RegistryClients(request.access(), options.trust(), timed);
        if (options.builder() == Builder.DOCKER) {
            DockerEngine engine = options.engine().orElseThrow();
            try (CleanupStack cleanup = new CleanupStack()) {
                NodePlan plan = plan(request, options, clients, cleanup, timed);
                Optional<CommitBuilder.Committed> same = request.noCache() ? Optional.empty() : CommitBuilder.reusable(engine, plan, store);
                same.ifPresent(c -> timed.notice("inputs unchanged: the engine has this node image already (" + shortId(c.id()) + ")"));
                CommitBuilder.Committed committed = same.orElseGet(() -> CommitBuilder.write(engine, store, plan, files(plan, timed), cleanup, timed));
                Records.keep(store, plan.inputs(), committed.records());
                NodeImageResult node = new NodeImageResult(plan.tag(), committed.id(), plan.k8s().version(), plan.base().name(),
                        committed.records(), timed.seconds());
                return new Result(node, Optional.empty(), same.isPresent(), Delivery.toEngine(plan.tag()), plan.inputs());
            }
        }
        Built built = build(request, options, clients, timed);
        String tag = built.node().image();
        Delivery delivery = DeliverImage.run(store, built.image(), tag, built.baseRepository(), options.targets(), !request.noCache(), clients, timed);
        NodeImageResult node = new NodeImageResult(tag, built.image().config().digest(), built.node().version(), built.node().baseImage(),
                built.node().images(), timed.seconds());
        return new Result(node, Optional.of(built.image().manifest().digest()), built.reused(), delivery, built.inputs());
    }

    /**
     * Builds one node image per architecture — each from that architecture's release, base and images, nothing
     * emulated — and delivers the OCI index over them under the tag.
     */
    public MultiArchResult runAll(NodeImageRequest request, List<String> arches, Options options) {
        checkOutputs(options);
        if (options.output().isPresent() && options.format() == ArchiveFormat.DOCKER) {
            throw new UserError("a docker-archive holds one image per tag, not " + arches.size() + " architectures: give "
                    + "--output-format oci (an OCI archive with the index) or --push");
        }
        RegistryClients clients = new RegistryClients(request.access(), options.trust(), progress);
        List<Built> images = new ArrayList<>();
        for (String arch : arches) {
            progress.notice("building for linux/" + arch);
            images.add(build(request.withArch(arch), options, clients, new StepTimes(progress)));
        }
        String tag = images.get(0).node().image();
        StepTimes timed = new StepTimes(progress);
        Descriptor index = timed.step("Writing the index of " + tag, () -> OciIndex.write(store, images.stream().map(Built::image).toList()),
                d -> d.digest().substring(0, 19) + ", " + String.join(" + ", arches));
        store.tag(tag, index);
        Delivery delivery = DeliverImage.runIndex(store, index, images.stream().map(Built::image).toList(), tag,
                images.get(0).baseRepository(), options.targets(), !request.noCache(), clients, timed);
        return new MultiArchResult(tag, index, images, delivery);
    }

    /** The node image of {@code request}'s architecture, in the store under its tag; nothing delivered. */
    public Built build(NodeImageRequest request, Options options, StepTimes timed) {
        return build(request, options, new RegistryClients(request.access(), options.trust(), timed), timed);
    }

    private Built build(NodeImageRequest request, Options options, RegistryClients clients, StepTimes timed) {
        try (CleanupStack cleanup = new CleanupStack()) {
            NodePlan plan = plan(request, options, clients, cleanup, timed);
            Optional<WriteLayers.Stored> cached = request.noCache() ? Optional.empty() : WriteLayers.cached(store, plan.inputs());
            cached.ifPresent(c -> timed.notice("inputs unchanged: the store has this node image already ("
                    + c.image().manifest().digest().substring(0, 19) + ")"));
            WriteLayers.Stored stored = cached.orElseGet(() -> WriteLayers.write(store, plan, files(plan, timed), timed));
            store.tag(plan.tag(), stored.image().manifest());
            NodeImageResult node = new NodeImageResult(plan.tag(), stored.image().config().digest(), plan.k8s().version(), plan.base().name(),
                    stored.records(), timed.seconds());
            return new Built(node, stored.image(), plan.arch(), cached.isPresent(), plan.inputs(), plan.base().repository());
        }
    }

    /**
     * The steps both builders share: Kubernetes resolved, the base read (and refused early when its containerd cannot
     * serve this Kubernetes), the required images listed and pulled into the store, the inputs named. {@code cleanup}
     * holds the work dir the release is unpacked in until the writer is done.
     */
    private NodePlan plan(NodeImageRequest request, Options options, RegistryClients clients, CleanupStack cleanup, StepTimes timed) {
        String arch = request.arch();
        BaseImageSource baseSource = BaseImageSource.parse(request.baseImage());
        Path work = TempPaths.createDirectory("kind-build-node-", cleanup);
        KubernetesResolver resolver = new KubernetesResolver(request.resolverOptions(), timed, cleanup);
        KubernetesSource source = resolver.pin(request.source());

        // --no-cache: nothing the store holds from earlier runs is taken, neither images nor a finished node.
        boolean reuse = !request.noCache();
        // The base comes first: a containerd that cannot serve this Kubernetes is refused before any download.
        // The bundled base depends on the version, so a source that does not name it (a tree, a tarball) is read first.
        Optional<KubernetesArtifacts> early = request.baseImage().isEmpty() && source.knownVersion().isEmpty()
                ? Optional.of(timed.step("Preparing Kubernetes", () -> resolver.resolve(source, work.resolve("k8s")),
                        a -> a.version() + " from " + a.origin()))
                : Optional.empty();
        Optional<dev.kindbuild.kube.KubeVersion> version = source.knownVersion().or(() -> early.map(KubernetesArtifacts::kubeVersion));
        ObtainBaseImage.Base base = timed.step("Reading base image", () -> ObtainBaseImage.run(baseSource, store, options.engine(),
                new RegistryPull(clients, request.mirrors(), store, timed, reuse), arch, version, reuse, timed),
                b -> b.name() + (b.name().equals(b.image().manifest().digest()) ? "" : " " + b.image().manifest().digest().substring(0, 19)));
        Optional<BaseContainerd> containerd = ObtainBaseImage.containerd(base, store);
        source.knownVersion().ifPresent(v -> BaseContainerd.checkStep(timed, v, containerd, base.name()));

        KubernetesArtifacts k8s = early.isPresent() ? early.get() : timed.step("Preparing Kubernetes",
                () -> resolver.resolve(source, work.resolve("k8s")), a -> a.version() + " from " + a.origin());
        k8s.binaries().forEach((name, file) -> ArchGuard.checkBinary(name + " of Kubernetes " + k8s.version(), file, arch));
        KubernetesVersions.check(k8s, arch);
        if (source.knownVersion().isEmpty()) {
            BaseContainerd.checkStep(timed, k8s.kubeVersion(), containerd, base.name());
        }
        String tag = request.image().orElse("kindest/node:" + k8s.kubeVersion().toString().replace('+', '_'));

        AddonManifests manifests = AddonManifests.bundled();
        RequiredImages.Required required = timed.step("Listing required images", () -> RequiredImages.listOnHost(
                k8s.binary("kubeadm"), arch, k8s.kubeVersion(), manifests, request.extraImages(), timed::notice),
                r -> r.all().size() + " images");
        List<String> releaseNames = ImagesInStore.releaseNames(k8s, required.all());
        List<ImagesInStore.NodeImage> pulled = timed.step("Pulling images", () -> ImagesInStore.pull(required.all(), releaseNames,
                quiet -> new RegistryPull(clients, request.mirrors(), store, quiet, reuse), arch, timed), p -> p.size() + " images");

        RecipeTree nodeFiles = RecipeTree.load("node-image").subtree("files/");
        NodeInputs inputs = inputs(options, arch, k8s, base, pulled, nodeFiles, manifests);
        return new NodePlan(tag, arch, k8s, base, required, releaseNames, pulled, manifests, nodeFiles, inputs);
    }

    /**
     * The cold path's shared steps: the release's images read into the store and checked against the target
     * architecture, and the node's files described.
     */
    private NodeFiles.All files(NodePlan plan, StepTimes timed) {
        List<ImagesInStore.NodeImage> images = new ArrayList<>(timed.step("Reading the release's images",
                () -> ImagesInStore.fromRelease(plan.k8s(), plan.releaseNames(), store), r -> r.size() + " images"));
        images.addAll(plan.pulled());
        for (ImagesInStore.NodeImage i : images) {
            ArchGuard.check("image " + i.name(), i.image().architecture(), plan.arch());
        }
        ImageContents baseFiles = timed.step("Reading base image files", () -> plan.base().contents().get());
        return new NodeFiles.All(NodeFiles.kubernetes(plan.k8s()),
                NodeFiles.configuration(baseFiles, plan.k8s().kubeVersion(), plan.required().pauseImage(), plan.manifests(), plan.nodeFiles()),
                NodeFiles.images(images, store));
    }

    /** Refused before any work: nowhere to put the result. */
    static void checkOutputs(Options options) {
        if (options.builder() == Builder.DOCKER && options.engine().isEmpty()) {
            throw new UserError("--builder docker needs a Docker engine: start one (scripts/start-engine) or use --builder oci");
        }
        if (options.output().isEmpty() && !options.push() && options.engine().isEmpty()) {
            throw new UserError("no Docker engine to load the node image into: give --output FILE (a docker-archive, or an OCI "
                    + "archive with --output-format oci) or --push");
        }
    }

    private NodeInputs inputs(Options options, String arch, KubernetesArtifacts k8s, ObtainBaseImage.Base base,
            List<ImagesInStore.NodeImage> pulled, RecipeTree nodeFiles, AddonManifests manifests) {
        Map<String, String> images = new LinkedHashMap<>();
        pulled.forEach(p -> images.put(p.name(), p.image().manifest().digest()));
        String release = k8s.tarballSha256().map(s -> "sha256:" + s).orElseGet(() -> releaseDigest(k8s));
        Instant created = options.sourceDateEpoch().orElseGet(() -> releaseTime(k8s));
        String version = java.util.Objects.requireNonNullElse(NodeBuild.class.getPackage().getImplementationVersion(), "dev");
        return new NodeInputs("kind-build " + version + ", layout " + LAYOUT_REVISION, arch, k8s.version(), release,
                base.image().manifest().digest(), images, "sha256:" + nodeFiles.sha256(List.of(manifests.tree().sha256(List.of()))), created);
    }

    /** Without a tarball (a directory, a source tree): the binaries' and image archives' contents stand for it. */
    private static String releaseDigest(KubernetesArtifacts k8s) {
        StringBuilder all = new StringBuilder();
        try {
            for (Map.Entry<String, Path> b : k8s.binaries().entrySet()) {
                all.append(b.getKey()).append('=').append(Sha256.of(b.getValue())).append('\n');
            }
            for (Path t : k8s.imageTars()) {
                all.append(t.getFileName()).append('=').append(Sha256.of(t)).append('\n');
            }
        } catch (IOException e) {
            throw new UserError("cannot read the Kubernetes binaries: " + e.getMessage(), e);
        }
        return "sha256:" + Sha256.of(all.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** The release's own time: the newest of its binaries (a release tarball's entry times, kept at extraction). */
    private static Instant releaseTime(KubernetesArtifacts k8s) {
        Instant newest = Instant.EPOCH;
        try {
            for (Path b : k8s.binaries().values()) {
                Instant t = Files.getLastModifiedTime(b).toInstant();
                newest = t.isAfter(newest) ? t : newest;
            }
        } catch (IOException e) {
            throw new UserError("cannot read the Kubernetes binaries: " + e.getMessage(), e);
        }
        return newest.truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    }


    private static String shortId(String id) {
        return id.substring(0, Math.min(id.length(), 19));
    }
}
