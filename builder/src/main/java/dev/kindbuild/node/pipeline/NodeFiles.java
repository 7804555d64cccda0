package dev.kindbuild.node.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kindbuild.node.ContentStoreLayout;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.layer.ImageContents;
import dev.kindbuild.image.layer.LayerEntry;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.kube.KubeVersion;
import dev.kindbuild.kube.KubernetesArtifacts;
import dev.kindbuild.node.AddonManifests;
import dev.kindbuild.node.ContainerdConfig;
import dev.kindbuild.node.ImageRecord;
import dev.kindbuild.node.NodeLayout;
import dev.kindbuild.recipe.RecipeTree;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a node image adds to its base, described once as three entry lists — Kubernetes, configuration, images — that
 * either writer takes: {@link WriteLayers} makes each a layer in the store, {@link CommitBuilder} streams each into a
 * builder container. So both builders' images hold the same files by construction.
 */
final class NodeFiles {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private NodeFiles() {}

    /** The three lists, in the order they go onto the base. */
    record All(List<LayerEntry> kubernetes, List<LayerEntry> configuration, Images images) {}

    /** kubeadm, kubelet and kubectl in /usr/bin (0755, root) and /kind/version. */
    static List<LayerEntry> kubernetes(KubernetesArtifacts k8s) {
        List<LayerEntry> entries = new ArrayList<>();
        for (String name : NodeLayout.KUBERNETES_BINARIES) {
            entries.add(LayerEntry.file("/usr/bin/" + name, k8s.binary(name), 0755, 0, 0));
        }
        // kind reads /kind/version raw: no trailing newline.
        entries.add(LayerEntry.file(NodeLayout.VERSION_FILE, k8s.version().getBytes(StandardCharsets.UTF_8), 0644));
        return entries;
    }

    /**
     * containerd's config patched from the base image's own file, the image-loading runtime (node-image/files) enabled as
     * `systemctl enable` would, kind's addon manifests, and the empty /kind/images the images fill.
     */
    static List<LayerEntry> configuration(ImageContents base, KubeVersion version, String pauseImage, AddonManifests manifests,
            RecipeTree nodeFiles) {
        String toml = ContainerdConfig.forNode(base.readText(NodeLayout.CONTAINERD_CONFIG), version, pauseImage);
        List<LayerEntry> entries = new ArrayList<>();
        entries.add(LayerEntry.file(NodeLayout.CONTAINERD_CONFIG, toml.getBytes(StandardCharsets.UTF_8), 0644));
        for (RecipeTree.RecipeFile f : nodeFiles.files()) {
            entries.add(LayerEntry.file("/" + f.path(), f.content(), f.mode()));
        }
        entries.add(LayerEntry.symlink(NodeLayout.LOADER_UNIT_LINK, NodeLayout.LOADER_UNIT_FILE));
        for (Map.Entry<String, String> m : AddonManifests.NODE_PATHS.entrySet()) {
            entries.add(LayerEntry.file(m.getValue(), manifests.tree().file(m.getKey()).content(), 0644));
        }
        entries.add(LayerEntry.directory(NodeLayout.IMAGES_DIR, 0755, 0, 0));
        return entries;
    }

    /** The images' entries and the records /kind/images.json lists. */
    record Images(List<LayerEntry> entries, List<ImageRecord> records) {}

    /**
     * The images laid out for the boot loader ({@link ContentStoreLayout}): every layer once, straight from the store
     * (checked against its digest as it is read), under /kind/images/blobs/sha256; per image a small archive under
     * /kind/images; and /kind/images.json, the record the verify command reads back.
     */
    static Images images(List<ImagesInStore.NodeImage> images, ImageStore store) {
        return images(images, List.of(), Set.of(), store);
    }

    /**
     * As {@link #images(List, ImageStore)}, on top of a node that has {@code existing} recorded and the layer blobs
     * {@code present} in its /kind/images/blobs: those are not written again, and the new images.json lists the existing
     * records first (an image of the same name is replaced by the new one).
     */
    static Images images(List<ImagesInStore.NodeImage> images, List<ImageRecord> existing, Set<String> present, ImageStore store) {
        List<LayerEntry> entries = new ArrayList<>();
        List<ImageRecord> added = new ArrayList<>();
        Set<String> placed = new HashSet<>(present);
        for (ImagesInStore.NodeImage i : images) {
            String file = ImageRef.parse(i.name()).fileName().replaceFirst("\\.tar$", "") + ContentStoreLayout.STUB_SUFFIX;
            byte[] stub = stub(i, store);
            entries.add(LayerEntry.file(NodeLayout.IMAGES_DIR + "/" + file, stub, 0644));
            long bytes = stub.length;
            for (Descriptor l : i.image().layers()) {
                bytes += l.size();
                if (placed.add(l.digest())) {
                    entries.add(LayerEntry.file(ContentStoreLayout.LAYER_BLOBS + "/" + l.hex(), store, l, 0444, 0, 0));
                }
            }
            added.add(new ImageRecord(i.name(), i.digest(), i.image().config().digest(), file, i.source(), bytes));
        }
        List<String> names = added.stream().map(ImageRecord::name).toList();
        List<ImageRecord> records = new ArrayList<>(existing.stream().filter(r -> !names.contains(r.name())).toList());
        records.addAll(added);
        try {
            entries.add(LayerEntry.file(NodeLayout.IMAGES_LIST, JSON.writeValueAsBytes(records), 0644));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Images(List.copyOf(entries), List.copyOf(records));
    }

    /** The image's small archive: its own manifest and config bytes as the store holds them. */
    private static byte[] stub(ImagesInStore.NodeImage i, ImageStore store) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ContentStoreLayout.writeStub(out, i.name(), i.image().manifest().mediaType(), store.readSmall(i.image().manifest().digest()),
                    store.readSmall(i.image().config().digest()));
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A compact form for an image label: name@digest (or name=config digest for release images), comma-separated. */
    static String labelValue(List<ImageRecord> records) {
        List<String> parts = new ArrayList<>();
        for (ImageRecord r : records) {
            parts.add(r.digest().isEmpty() ? r.name() + "=" + r.configDigest() : r.name() + "@" + r.digest());
        }
        return String.join(",", parts);
    }
}
