package dev.kindbuild.node.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.image.layer.ImageAssembly;
import dev.kindbuild.image.layer.Layer;
import dev.kindbuild.image.layer.LayerBuilder;
import dev.kindbuild.image.layer.LayerEntry;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.testing.FileDamage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The images layer copies layer blobs out of the store: each is checked on the way, so a changed one never lands in a node. */
class NodeFilesTest {
    private static final Instant T = Instant.parse("2024-01-01T00:00:00Z");

    @TempDir
    Path tmp;

    private static StoredImage image(ImageStore store) {
        byte[] big = new byte[2 << 20];
        new Random(7).nextBytes(big);
        Layer layer = new LayerBuilder().add(LayerEntry.file("/app/data", big, 0644)).write(store, T, LayerBuilder.Compression.NONE);
        return ImageAssembly.scratch("linux", "amd64").layer(layer, "app").created(T).write(store);
    }

    private static List<String> blobFiles(ImageStore store) throws IOException {
        try (Stream<Path> s = Files.list(store.root().resolve("blobs/sha256"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** The images' entries written as the oci builder writes them. */
    private static Layer imagesLayer(List<ImagesInStore.NodeImage> images, ImageStore store) {
        return new LayerBuilder().addAll(NodeFiles.images(images, store).entries()).write(store, T, LayerBuilder.Compression.NONE);
    }

    @Test
    void aLayerBlobChangedInTheStoreFailsTheLayerAndLeavesNothingHalfWritten() throws IOException {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        StoredImage app = image(store);
        List<ImagesInStore.NodeImage> images = List.of(new ImagesInStore.NodeImage("example.com/app:1", "", "release", app));
        Layer good = imagesLayer(images, store);
        assertTrue(store.has(good.blob().digest()));

        Descriptor layer = app.layers().get(0);
        Path blob = store.blobPath(layer.digest());
        FileDamage.flipByte(blob, layer.size() / 2);
        List<String> before = blobFiles(store);

        UserError e = assertThrows(UserError.class, () -> imagesLayer(images, store));
        assertTrue(e.getMessage().contains(blob.toString()) && e.getMessage().contains("kind-build cleanup --store"), e.getMessage());
        assertFalse(Files.exists(blob), "the bad blob is removed");
        List<String> after = blobFiles(store);
        assertEquals(before.stream().filter(n -> !n.equals(layer.hex())).toList(), after,
                "no layer written from the bad bytes, no partial file left");
    }
}
