package dev.kindbuild.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kindbuild.engine.ContainerFile;
import dev.kindbuild.engine.DockerEngine;
import java.util.ArrayList;
import java.util.List;

/**
 * Step: the tarballs into /kind/images (streamed from disk, never held in memory) and the list of what is inside
 * into /kind/images.json, which the verify command reads back.
 */
final class SaveImages {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SaveImages() {}

    static void run(DockerEngine engine, BuilderContainer.Builder builder, List<ObtainImages.Obtained> images) throws Exception {
        List<ContainerFile> files = new ArrayList<>();
        List<ImageRecord> records = new ArrayList<>();
        for (ObtainImages.Obtained o : images) {
            files.add(ContainerFile.ofHostFile(NodeLayout.IMAGES_DIR + "/" + o.record().file(), 0644, o.tarball()));
            records.add(o.record());
        }
        files.add(ContainerFile.ofBytes(NodeLayout.IMAGES_LIST, 0644, JSON.writeValueAsBytes(records)));
        engine.copyFiles(builder.id(), files);
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
