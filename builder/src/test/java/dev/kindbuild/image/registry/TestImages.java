package dev.kindbuild.image.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.support.Sha256;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** Small OCI images made straight into an {@link ImageStore}: gzip layers of one file each, a config, a manifest. */
final class TestImages {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TestImages() {}

    /** A layer holding {@code /name} with {@code content}; deterministic bytes. */
    static Layer layer(ImageStore store, String name, byte[] content) {
        try {
            ByteArrayOutputStream tar = new ByteArrayOutputStream();
            try (TarArchiveOutputStream out = new TarArchiveOutputStream(tar)) {
                TarArchiveEntry e = new TarArchiveEntry(name);
                e.setSize(content.length);
                e.setMode(0644);
                e.setModTime(0);
                out.putArchiveEntry(e);
                out.write(content);
                out.closeArchiveEntry();
            }
            ByteArrayOutputStream gz = new ByteArrayOutputStream();
            try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
                out.write(tar.toByteArray());
            }
            Descriptor d = store.put(gz.toByteArray(), MediaTypes.OCI_LAYER_GZIP);
            return new Layer(d, "sha256:" + Sha256.of(tar.toByteArray()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Layer layer(ImageStore store, String name, String content) {
        return layer(store, name, content.getBytes(StandardCharsets.UTF_8));
    }

    record Layer(Descriptor blob, String diffId) {}

    /** An image of {@code layers} for {@code platform}; {@code label} makes configs of equal layers differ. */
    static StoredImage image(ImageStore store, Platform platform, String label, List<Layer> layers) {
        ObjectNode config = JSON.createObjectNode();
        config.put("architecture", platform.architecture());
        config.put("os", platform.os());
        if (!platform.variant().isEmpty()) {
            config.put("variant", platform.variant());
        }
        config.putObject("config").putObject("Labels").put("test", label);
        ObjectNode rootfs = config.putObject("rootfs");
        rootfs.put("type", "layers");
        ArrayNode diffIds = rootfs.putArray("diff_ids");
        layers.forEach(l -> diffIds.add(l.diffId()));
        Descriptor configBlob = store.put(bytes(config), MediaTypes.OCI_CONFIG);

        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", MediaTypes.OCI_MANIFEST);
        manifest.set("config", JSON.valueToTree(configBlob));
        ArrayNode ls = manifest.putArray("layers");
        List<Descriptor> blobs = new ArrayList<>();
        for (Layer l : layers) {
            ls.add(JSON.valueToTree(l.blob()));
            blobs.add(l.blob());
        }
        Descriptor m = store.put(bytes(manifest), MediaTypes.OCI_MANIFEST);
        return store.image(m);
    }

    private static byte[] bytes(ObjectNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
