package dev.kindbuild.sample;

import dev.kindbuild.support.Sha256;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code docker save}-style archive of several layers that are tar files on disk: what {@link SampleImage} writes,
 * for images too big to hold in memory (real-size fixtures). Deterministic like it.
 */
final class LayeredImageArchive {
    private LayeredImageArchive() {}

    /** One layer tar on disk and its diff ID ({@code sha256:<hex>} of the tar). */
    record Layer(Path tar, String diffId) {}

    /** Writes the layer tar of {@code files} to {@code tarFile}, hashing it on the way. */
    static Layer writeLayer(Path tarFile, Map<String, Tars.Entry> files) throws IOException {
        MessageDigest digest = Sha256.newDigest();
        try (OutputStream o = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(tarFile), 1 << 16), digest)) {
            Tars.writeTar(files, o);
        }
        return new Layer(tarFile, "sha256:" + Sha256.hex(digest));
    }

    /** Writes the archive of {@code layers} (base first) to {@code out}. */
    static void write(Path out, String arch, String repoTag, List<Layer> layers, String entrypoint) throws IOException {
        List<String> diffIds = new ArrayList<>();
        for (Layer l : layers) {
            diffIds.add(l.diffId());
        }
        StringBuilder history = new StringBuilder();
        for (int i = 0; i < layers.size(); i++) {
            history.append(i == 0 ? "" : ",").append("{\"created\":\"").append(SampleImage.CREATED)
                    .append("\",\"created_by\":\"kind-build real-size sample layer ").append(i).append("\"}");
        }
        byte[] config = ("{\"architecture\":" + SampleImage.Json.str(arch)
                + ",\"config\":{\"Entrypoint\":" + SampleImage.Json.array(List.of(entrypoint))
                + ",\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]"
                + ",\"Labels\":{\"dev.kindbuild.sample\":\"true\"}}"
                + ",\"created\":" + SampleImage.Json.str(SampleImage.CREATED)
                + ",\"history\":[" + history + "],\"os\":\"linux\""
                + ",\"rootfs\":{\"diff_ids\":" + SampleImage.Json.array(diffIds) + ",\"type\":\"layers\"}}")
                .getBytes(StandardCharsets.UTF_8);
        String configHex = Sha256.of(config);
        Map<String, Tars.Entry> e = new LinkedHashMap<>();
        e.put(configHex + ".json", new Tars.Entry(config, 0644));
        List<String> layerPaths = new ArrayList<>();
        for (Layer l : layers) {
            String hex = l.diffId().substring(7);
            e.put(hex + "/layer.tar", new Tars.Entry(Tars.Body.of(l.tar()), 0644));
            e.put(hex + "/VERSION", Tars.Entry.text("1.0", 0644));
            layerPaths.add(hex + "/layer.tar");
        }
        e.put("manifest.json", Tars.Entry.text("[{\"Config\":" + SampleImage.Json.str(configHex + ".json")
                + ",\"RepoTags\":" + SampleImage.Json.array(List.of(repoTag))
                + ",\"Layers\":" + SampleImage.Json.array(layerPaths) + "}]", 0644));
        int colon = repoTag.lastIndexOf(':');
        e.put("repositories", Tars.Entry.text("{" + SampleImage.Json.str(repoTag.substring(0, colon)) + ":{"
                + SampleImage.Json.str(repoTag.substring(colon + 1)) + ":"
                + SampleImage.Json.str(diffIds.get(diffIds.size() - 1).substring(7)) + "}}", 0644));
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(out), 1 << 16)) {
            Tars.writeTar(e, o);
        }
    }
}
