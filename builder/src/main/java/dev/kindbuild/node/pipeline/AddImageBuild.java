package dev.kindbuild.node.pipeline;

import dev.kindbuild.image.delivery.DeliverImage;
import dev.kindbuild.image.delivery.Delivery;
import dev.kindbuild.node.BaseImageSource;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.node.ContentStoreLayout;
import dev.kindbuild.image.archive.DockerArchive;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.image.archive.ArchiveImport;
import dev.kindbuild.image.layer.ImageAssembly;
import dev.kindbuild.image.layer.ImageContents;
import dev.kindbuild.image.layer.ImageEntry;
import dev.kindbuild.image.registry.PushResult;
import dev.kindbuild.image.registry.RegistryClients;
import dev.kindbuild.image.registry.RegistryPull;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.node.ImageRecord;
import dev.kindbuild.node.NodeLayout;
import dev.kindbuild.image.layer.Layer;
import dev.kindbuild.image.layer.LayerBuilder;
import dev.kindbuild.progress.Progress;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * `kind-build add-image`: a new node image with more images baked in, as one layer on top of an existing node image —
 * no Kubernetes rebuild, no engine needed. The added images go where the node build puts images (a small archive in
 * /kind/images, their layers in /kind/images/blobs, a record in /kind/images.json), so the node's loader
 * loads them at boot like the others. Layers the node holds already are not added again.
 */
public final class AddImageBuild {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What to add.
     *
     * @param node     the node image: a reference, docker-archive:PATH or oci-archive:PATH
     * @param refs     images to pull and add
     * @param archives docker-archive files to add (named by their RepoTags)
     * @param image    the new node image's name; empty: the node image's own reference
     */
    public record Request(String node, List<String> refs, List<Path> archives, Optional<String> image, String arch,
            RegistryMirrors mirrors, RegistryAccess access) {
        public Request {
            refs = List.copyOf(refs);
            archives = List.copyOf(archives);
            refs.forEach(r -> ImageRef.parse(r).nameWithTag());
            if (refs.isEmpty() && archives.isEmpty()) {
                throw new UserError("say what to add: image references (e.g. registry.k8s.io/pause:3.10) or --from-archive FILE");
            }
            if (image.isEmpty() && BaseImageSource.isArchive(node)) {
                throw new UserError("name the new node image with --image NAME:TAG (" + node + " has no name to reuse)");
            }
        }
    }

    /** What came out: the new image's tag, manifest digest, records and where it went. */
    public record Result(String image, String manifest, String configDigest, List<ImageRecord> images, List<ImageRecord> added,
            Delivery delivery) {
        public Optional<PushResult> pushed() {
            return delivery.pushed();
        }
    }

    private final ImageStore store;
    private final Progress progress;

    public AddImageBuild(ImageStore store, Progress progress) {
        this.store = store;
        this.progress = progress;
    }

    public Result run(Request request, NodeBuild.Options options) {
        NodeBuild.checkOutputs(options);
        RegistryClients clients = new RegistryClients(request.access(), options.trust(), progress);
        String tag = request.image().orElse(request.node());
        ObtainBaseImage.Base node = progress.step("Reading node image " + request.node(), () -> ObtainBaseImage.obtain(
                BaseImageSource.parse(Optional.of(request.node())), store, options.engine(),
                new RegistryPull(clients, request.mirrors(), store, progress), request.arch(), progress),
                n -> n.image().manifest().digest().substring(0, 19));
        checkNode(node, request.node(), request.arch());
        ImagesInNode files = progress.step("Reading its image records", () -> imagesInNode(node.image(), request.node()), f -> f.records().size() + " images");

        List<ImagesInStore.NodeImage> added = new ArrayList<>(progress.step("Pulling images", () -> ImagesInStore.pull(request.refs(),
                List.of(), quiet -> new RegistryPull(clients, request.mirrors(), store, quiet), request.arch(), progress),
                p -> p.size() + " images"));
        for (Path archive : request.archives()) {
            added.add(progress.step("Reading " + archive.getFileName(), () -> fromArchive(archive, request.arch())));
        }
        Instant created = options.sourceDateEpoch().orElseGet(() -> Instant.parse(node.image().configJson().path("created").asText()));
        NodeFiles.Images entries = NodeFiles.images(added, files.records(), files.blobs(), store);
        Layer layer = progress.step("Writing layer: " + added.size() + " more images",
                () -> new LayerBuilder().addAll(entries.entries()).write(store, created, LayerBuilder.Compression.NONE), Layer::describe);
        StoredImage image = progress.step("Assembling " + tag, () -> ImageAssembly.on(node.image())
                .layer(layer, "kind-build add-image: " + String.join(", ", added.stream().map(ImagesInStore.NodeImage::name).toList()))
                .label(NodeLayout.LABEL_IMAGES, NodeFiles.labelValue(entries.records()))
                .created(created)
                .write(store), i -> i.manifest().digest().substring(0, 19));
        store.tag(tag, image.manifest());
        Delivery delivery = DeliverImage.run(store, image, tag, node.repository(), options.targets(), true, clients, progress);
        List<String> names = added.stream().map(ImagesInStore.NodeImage::name).toList();
        return new Result(tag, image.manifest().digest(), image.config().digest(), entries.records(),
                entries.records().stream().filter(r -> names.contains(r.name())).toList(), delivery);
    }

    /** Only node images: adding to a base image would make an image that looks like a node and is not one. */
    private static void checkNode(ObtainBaseImage.Base node, String given, String arch) {
        var labels = ObtainBaseImage.labels(node.image());
        if (!"node".equals(labels.get(Labels.IMAGE_KIND)) && labels.getOrDefault(NodeLayout.LABEL_K8S_VERSION, "").isEmpty()) {
            throw new UserError(given + " is not a node image (no " + NodeLayout.LABEL_K8S_VERSION + " label): add images to an "
                    + "image `kind-build node-image` or kind made");
        }
        String imageArch = DockerEngine.normalizeArch(node.image().architecture());
        if (!imageArch.equals(arch)) {
            throw new UserError(given + " is a linux/" + imageArch + " node image; the images to add were asked for linux/" + arch
                    + ": give --arch " + imageArch);
        }
    }

    /** The node's records and the layer blobs it already carries. */
    private record ImagesInNode(List<ImageRecord> records, Set<String> blobs) {}

    /** Where earlier node images put their preloaded layers, and where containerd's collector could delete them. */
    private static final String EARLIER_LAYER_BLOBS = "/var/lib/containerd/io.containerd.content.v1.content/blobs/sha256";

    private ImagesInNode imagesInNode(StoredImage node, String nodeName) throws IOException {
        ImageContents contents = ImageContents.of(store, node);
        List<ImageRecord> records = contents.exists(NodeLayout.IMAGES_LIST)
                ? JSON.readValue(contents.readText(NodeLayout.IMAGES_LIST), new TypeReference<List<ImageRecord>>() {})
                : List.of();
        if (contents.exists(EARLIER_LAYER_BLOBS)) {
            throw new UserError(nodeName + " keeps its preloaded layers in containerd's content directory, as earlier "
                    + "kind-build releases did; that node's loader can lose them at boot: rebuild the node image with `kind-build node-image`, then add images to it");
        }
        Set<String> blobs = new HashSet<>();
        if (contents.exists(ContentStoreLayout.LAYER_BLOBS)) {
            for (ImageEntry e : contents.list(ContentStoreLayout.LAYER_BLOBS)) {
                blobs.add("sha256:" + e.path().substring(e.path().lastIndexOf('/') + 1));
            }
        }
        return new ImagesInNode(records, blobs);
    }

    private ImagesInStore.NodeImage fromArchive(Path archive, String arch) {
        List<String> tags = DockerArchive.repoTags(archive);
        if (tags.isEmpty()) {
            throw new UserError(archive + " names no image (no RepoTags): save it with a name, e.g. `docker save NAME:TAG -o FILE`");
        }
        StoredImage image = ArchiveImport.dockerArchive(store, archive);
        String imageArch = DockerEngine.normalizeArch(image.architecture());
        if (!imageArch.equals(arch)) {
            throw new UserError(archive + " holds a linux/" + imageArch + " image; the node is linux/" + arch);
        }
        return new ImagesInStore.NodeImage(ImageRef.parse(tags.get(0)).nameWithTag(), "", "archive " + archive.getFileName(), image);
    }
}
