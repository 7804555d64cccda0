package dev.kindbuild.node.daemonless;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.archive.ArchiveFormat;
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
import dev.kindbuild.node.SaveImages;
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
 * `kind-build node-image --builder oci`: the node image assembled from the image store, with no container engine,
 * no privileges and nothing run at build time. The base image's layers are kept byte for byte and three layers go on
 * top — Kubernetes, configuration, images — written reproducibly: the same inputs ({@link NodeInputs}) give the same
 * digest, and a build whose inputs the store has seen before only writes its outputs.
 */
public final class DaemonlessNodeBuild {
    /** Bumped whenever the layers this builder writes change for the same inputs. */
    static final String LAYOUT_REVISION = "1";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * How to build and deliver.
     *
     * @param engine          a Docker engine, when one answers: the base may come from it, the result is loaded into it
     *                        unless {@code output} is given
     * @param output          write the image to this file
     * @param format          the file's format
     * @param push            push the image to the registry its tag names
     * @param trust           TLS trust for registries ({@code --ca-cert})
     * @param sourceDateEpoch the image time; empty: the release's (the binaries' mtimes)
     */
    public record Options(Optional<DockerEngine> engine, Optional<Path> output, ArchiveFormat format, boolean push,
            RegistryTrust trust, Optional<Instant> sourceDateEpoch) {}

    /**
     * What the build produced.
     *
     * @param node     the summary both builders give (its image ID is the config digest)
     * @param manifest the image's manifest digest: the same for the same inputs
     * @param reused   true when the store already had the image for these inputs
     * @param delivery where it went
     * @param inputs   what it was made from (also the image's {@link NodeInputs#LABEL} label)
     */
    public record Result(NodeImageResult node, String manifest, boolean reused, Delivery delivery, NodeInputs inputs) {
        public Optional<PushResult> pushed() {
            return delivery.pushed();
        }
    }

    private final ImageStore store;
    private final Progress progress;

    public DaemonlessNodeBuild(ImageStore store, Progress progress) {
        this.store = store;
        this.progress = progress;
    }

    /**
     * One architecture's node image in the store, not delivered anywhere yet.
     *
     * @param node           the summary both builders give (its image ID is the config digest)
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
        Built built = build(request, options, clients, timed);
        String tag = built.node().image();
        Delivery delivery = DeliverImage.run(store, built.image(), tag, built.baseRepository(), options, !request.noCache(), clients, timed);
        NodeImageResult node = new NodeImageResult(tag, built.image().config().digest(), built.node().version(), built.node().baseImage(),
                built.node().images(), timed.seconds());
        return new Result(node, built.image().manifest().digest(), built.reused(), delivery, built.inputs());
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
                images.get(0).baseRepository(), options, !request.noCache(), clients, timed);
        return new MultiArchResult(tag, index, images, delivery);
    }

    /** The node image of {@code request}'s architecture, in the store under its tag; nothing delivered. */
    public Built build(NodeImageRequest request, Options options, StepTimes timed) {
        return build(request, options, new RegistryClients(request.access(), options.trust(), timed), timed);
    }

    private Built build(NodeImageRequest request, Options options, RegistryClients clients, StepTimes timed) {
        String arch = request.arch();
        BaseImageSource baseSource = BaseImageSource.parse(request.baseImage());
        try (CleanupStack cleanup = new CleanupStack()) {
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
            Optional<Stored> cached = reuse ? cached(inputs) : Optional.empty();
            Stored stored;
            if (cached.isPresent()) {
                stored = cached.get();
                timed.notice("inputs unchanged: the store has this node image already (" + stored.image().manifest().digest().substring(0, 19) + ")");
            } else {
                stored = write(k8s, base, required, releaseNames, pulled, nodeFiles, manifests, inputs, tag, arch, timed);
            }
            store.tag(tag, stored.image().manifest());
            NodeImageResult node = new NodeImageResult(tag, stored.image().config().digest(), k8s.version(), base.name(), stored.records(),
                    timed.seconds());
            return new Built(node, stored.image(), arch, cached.isPresent(), inputs, base.repository());
        }
    }

    /** The cold path: the three layers written and assembled on the base. */
    private Stored write(KubernetesArtifacts k8s, ObtainBaseImage.Base base, RequiredImages.Required required, List<String> releaseNames,
            List<ImagesInStore.NodeImage> pulled, RecipeTree nodeFiles, AddonManifests manifests, NodeInputs inputs, String tag,
            String arch, StepTimes timed) {
        List<ImagesInStore.NodeImage> images = new ArrayList<>(timed.step("Reading the release's images",
                () -> ImagesInStore.fromRelease(k8s, releaseNames, store), r -> r.size() + " images"));
        images.addAll(pulled);
        for (ImagesInStore.NodeImage i : images) {
            ArchGuard.check("image " + i.name(), i.image().architecture(), arch);
        }
        ImageContents baseFiles = timed.step("Reading base image files", () -> {
            ImageContents c = ImageContents.of(store, base.image());
            ConfigurationLayer.checkBase(c, base.name());
            checkUserland(c, base.name(), arch);
            return c;
        });
        Instant time = inputs.created();
        Layer kubernetes = timed.step("Writing layer: Kubernetes " + k8s.version(), () -> KubernetesLayer.write(k8s, store, time), Layer::describe);
        Layer configuration = timed.step("Writing layer: configuration", () -> ConfigurationLayer.write(baseFiles, k8s.kubeVersion(),
                required.pauseImage(), manifests, nodeFiles, store, time), Layer::describe);
        ImagesLayer.Written imagesLayer = timed.step("Writing layer: " + images.size() + " images", () -> ImagesLayer.write(images, store, time),
                w -> w.layer().describe());
        StoredImage image = timed.step("Assembling " + tag + " (" + arch + ")", () -> assemble(base, k8s, kubernetes, configuration,
                imagesLayer, inputs), i -> i.manifest().digest().substring(0, 19));
        return keep(inputs, image, imagesLayer.records());
    }

    /** The base's programs must be the target's: its config may say one thing and its files another. */
    static void checkUserland(ImageContents base, String name, String arch) {
        for (String probe : ArchGuard.USERLAND_PROBES) {
            if (base.resolve(probe).filter(e -> e.isFile()).isPresent()) {
                try {
                    ArchGuard.elfArch(base.open(probe)).ifPresent(found -> ArchGuard.check("the userland of base image " + name
                            + " (" + probe + ")", found, arch));
                } catch (IOException e) {
                    throw new UserError("cannot read " + probe + " of base image " + name + ": " + e.getMessage(), e);
                }
                return;
            }
        }
    }

    /** A node image in the store and the records of its /kind/images.json. */
    private record Stored(StoredImage image, List<ImageRecord> records) {}

    /** Refused before any work: nowhere to put the result. */
    static void checkOutputs(Options options) {
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
        String version = java.util.Objects.requireNonNullElse(DaemonlessNodeBuild.class.getPackage().getImplementationVersion(), "dev");
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

    private StoredImage assemble(ObtainBaseImage.Base base, KubernetesArtifacts k8s, Layer kubernetes, Layer configuration,
            ImagesLayer.Written images, NodeInputs inputs) {
        ImageAssembly a = ImageAssembly.on(base.image())
                .layer(kubernetes, "kind-build: Kubernetes " + k8s.version() + " (kubeadm, kubelet, kubectl, /kind/version)")
                .layer(configuration, "kind-build: containerd config, image loader, manifests")
                .layer(images.layer(), "kind-build: " + images.records().size() + " images in /kind/images")
                .entrypoint(NodeImageConfig.ENTRYPOINT)
                .cmd(List.of())
                .created(inputs.created());
        NodeImageConfig.CLEARED_ENV.forEach(v -> a.env(v, ""));
        NodeImageConfig.labels(k8s.version(), base.name(), SaveImages.labelValue(images.records())).forEach(a::label);
        a.label(NodeInputs.LABEL, inputs.json());
        return a.write(store);
    }

    /** Names the image by its inputs, with its records beside it, so the next build of the same inputs finds both. */
    private Stored keep(NodeInputs inputs, StoredImage image, List<ImageRecord> records) {
        Descriptor recordsBlob;
        try {
            recordsBlob = store.put(JSON.writeValueAsBytes(records), "application/vnd.kind-build.image-records+json");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        store.tag(inputs.storeName() + "/records", recordsBlob);
        store.tag(inputs.storeName(), image.manifest());
        return new Stored(image, records);
    }

    private Optional<Stored> cached(NodeInputs inputs) {
        Optional<Descriptor> records = store.resolve(inputs.storeName() + "/records").filter(d -> store.has(d.digest()));
        // Part of it pruned, or removed as damaged: built again.
        Optional<StoredImage> image = store.resolve(inputs.storeName()).flatMap(store::whole);
        if (image.isEmpty() || records.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Stored(image.get(), JSON.readValue(store.readSmall(records.get().digest()), new TypeReference<List<ImageRecord>>() {})));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
