package dev.kindbuild.node.daemonless;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kindbuild.image.ContentStoreLayout;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.layer.Layer;
import dev.kindbuild.image.layer.LayerBuilder;
import dev.kindbuild.image.layer.LayerEntry;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.node.ImageRecord;
import dev.kindbuild.node.NodeLayout;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Step: the third node layer — the images laid out for the boot loader ({@link ContentStoreLayout}): every layer
 * once, straight from the store (checked against its digest on the way), under /kind/images/blobs/sha256; per
 * image a small archive under /kind/images for the boot loader; and /kind/images.json, the record the verify command
 * reads back. Written uncompressed: the image layers in it are compressed already, and deflating them again would cost seconds for
 * nothing.
 */
final class ImagesLayer {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ImagesLayer() {}

    record Written(Layer layer, List<ImageRecord> records) {}

    static Written write(List<ImagesInStore.NodeImage> images, ImageStore store, Instant mtime) {
        return write(images, List.of(), Set.of(), store, mtime);
    }

    /**
     * The layer for {@code images} on top of a node that has {@code existing} recorded and the layer blobs
     * {@code present} in its /kind/images/blobs: those are not written again, and the new images.json lists the existing
     * records first (an image of the same name is replaced by the new one).
     */
    static Written write(List<ImagesInStore.NodeImage> images, List<ImageRecord> existing, Set<String> present, ImageStore store,
            Instant mtime) {
        LayerBuilder layer = new LayerBuilder();
        List<ImageRecord> records = new ArrayList<>();
        Set<String> placed = new HashSet<>(present);
        for (ImagesInStore.NodeImage i : images) {
            String file = ImageRef.parse(i.name()).fileName().replaceFirst("\\.tar$", "") + ContentStoreLayout.STUB_SUFFIX;
            byte[] stub = stub(i, store);
            layer.add(LayerEntry.file(NodeLayout.IMAGES_DIR + "/" + file, stub, 0644));
            long bytes = stub.length;
            for (Descriptor l : i.image().layers()) {
                bytes += l.size();
                if (placed.add(l.digest())) {
                    layer.add(LayerEntry.file(ContentStoreLayout.LAYER_BLOBS + "/" + l.hex(), store, l, 0444, 0, 0));
                }
            }
            records.add(new ImageRecord(i.name(), i.digest(), i.image().config().digest(), file, i.source(), bytes));
        }
        List<String> added = images.stream().map(ImagesInStore.NodeImage::name).toList();
        List<ImageRecord> all = new ArrayList<>(existing.stream().filter(r -> !added.contains(r.name())).toList());
        all.addAll(records);
        records = all;
        try {
            layer.add(LayerEntry.file(NodeLayout.IMAGES_LIST, JSON.writeValueAsBytes(records), 0644));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Written(layer.write(store, mtime, LayerBuilder.Compression.NONE), List.copyOf(records));
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
}
