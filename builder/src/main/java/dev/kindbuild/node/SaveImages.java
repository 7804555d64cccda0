package dev.kindbuild.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kindbuild.engine.ContainerFile;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.ContentStoreLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Step: the images into the node as the boot loader reads them ({@link ContentStoreLayout}): each layer once, under
 * /kind/images/blobs/sha256, and per image a small OCI archive under /kind/images; plus the list of what is inside in
 * /kind/images.json, which the verify command reads back. The image holds each layer's bytes once. Streamed from disk
 * throughout.
 */
public final class SaveImages {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SaveImages() {}

    /** What goes into the node: files, and the records of /kind/images.json. */
    record Saved(List<ContainerFile> files, List<ImageRecord> records) {}

    static List<ImageRecord> run(DockerEngine engine, BuilderContainer.Builder builder, List<ObtainImages.Obtained> images,
            Path workDir) throws Exception {
        Saved saved = layout(images, workDir);
        engine.copyFiles(builder.id(), saved.files());
        return saved.records();
    }

    /** Splits every image tarball and lists the node's files; layers shared by several images are placed once. */
    static Saved layout(List<ObtainImages.Obtained> images, Path workDir) throws Exception {
        Path stubs = Files.createDirectories(workDir.resolve("stubs"));
        Path layers = Files.createDirectories(workDir.resolve("layers"));
        List<ContainerFile> files = new ArrayList<>();
        List<ImageRecord> records = new ArrayList<>();
        Set<String> placed = new HashSet<>();
        for (ObtainImages.Obtained o : images) {
            String stubName = o.record().file().replaceFirst("\\.tar$", "") + ContentStoreLayout.STUB_SUFFIX;
            ContentStoreLayout.Split split = ContentStoreLayout.split(o.tarball(), o.record().name(), stubs.resolve(stubName), layers);
            files.add(ContainerFile.ofHostFile(NodeLayout.IMAGES_DIR + "/" + stubName, 0644, split.stub()));
            long bytes = Files.size(split.stub());
            for (ContentStoreLayout.LayerBlob l : split.layers()) {
                bytes += l.size();
                if (placed.add(l.digest())) {
                    files.add(ContainerFile.ofHostFile(ContentStoreLayout.LAYER_BLOBS + "/" + l.hex(), 0444, l.file()));
                }
            }
            ImageRecord r = o.record();
            records.add(new ImageRecord(r.name(), r.digest(), split.configDigest(), stubName, r.source(), bytes));
        }
        files.add(ContainerFile.ofBytes(NodeLayout.IMAGES_LIST, 0644, JSON.writeValueAsBytes(records)));
        return new Saved(files, records);
    }

    /** A compact form for an image label: name@digest (or name=config digest for release images), comma-separated. */
    public static String labelValue(List<ImageRecord> records) {
        List<String> parts = new ArrayList<>();
        for (ImageRecord r : records) {
            parts.add(r.digest().isEmpty() ? r.name() + "=" + r.configDigest() : r.name() + "@" + r.digest());
        }
        return String.join(",", parts);
    }
}
