package dev.kindbuild.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.node.ContentStoreLayout;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.recipe.RecipeTree;
import dev.kindbuild.support.Sha256;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * A node's /kind in a directory, for the image loader's tests: the loader and its helpers (the bytes the jar ships)
 * and images laid out as node images carry them (per-image stubs, every layer once under blobs/), run against a
 * containerd — a real one, or a stand-in ctr — with the node's paths.
 */
final class LoaderNode {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Run(int exit, String out) {}

    static Run run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "ended: " + command);
        return new Run(p.exitValue(), out);
    }

    /** One image as the node image lays it out: its archive and the digests of its blobs. */
    record TestImage(String name, String manifest, String config, List<String> layers) {
        List<String> blobs() {
            List<String> all = new ArrayList<>(List.of(manifest, config));
            all.addAll(layers);
            return all;
        }
    }

    final Path dir;
    final Path imagesDir;
    final Path blobs;
    final Path state;
    final Path loader;
    final List<TestImage> images = new ArrayList<>();

    private final Map<String, String> diffIds = new LinkedHashMap<>();

    private LoaderNode(Path dir) {
        this.dir = dir;
        this.imagesDir = dir.resolve("kind/images");
        this.blobs = dir.resolve(ContentStoreLayout.LAYER_BLOBS.substring(1));
        this.state = dir.resolve("run/kind");
        this.loader = dir.resolve("kind/bin/load-images.sh");
    }

    static LoaderNode lay(Path dir, int count) throws IOException {
        LoaderNode node = new LoaderNode(dir);
        Files.createDirectories(node.blobs);
        for (RecipeTree.RecipeFile f : RecipeTree.load("node-image").subtree("files/kind/bin/").files()) {
            Path p = dir.resolve("kind/bin").resolve(f.path());
            Files.createDirectories(p.getParent());
            Files.write(p, f.content());
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        String shared = node.layer(new Random(7), 64 << 10);
        for (int i = 0; i < count; i++) {
            Random random = new Random(1000 + i);
            List<String> layers = new ArrayList<>(List.of(shared));
            for (int l = 0; l < 4; l++) {
                layers.add(node.layer(random, (256 + random.nextInt(256)) << 10));
            }
            node.images.add(node.image("registry.k8s.io/test/loader-" + i + ":v1", layers));
        }
        return node;
    }

    /** A gzip layer of incompressible bytes, written once into the node's blob directory. */
    private String layer(Random random, int size) throws IOException {
        byte[] data = new byte[size];
        random.nextBytes(data);
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(tar)) {
            TarArchiveEntry e = new TarArchiveEntry("data-" + size);
            e.setSize(size);
            t.putArchiveEntry(e);
            t.write(data);
            t.closeArchiveEntry();
        }
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(gz)) {
            out.write(tar.toByteArray());
        }
        String digest = "sha256:" + Sha256.of(gz.toByteArray());
        Files.write(blobs.resolve(digest.substring(7)), gz.toByteArray());
        diffIds.put(digest, "sha256:" + Sha256.of(tar.toByteArray()));
        return digest;
    }

    private TestImage image(String name, List<String> layers) throws IOException {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architecture", "amd64");
        config.put("os", "linux");
        config.put("rootfs", Map.of("type", "layers", "diff_ids", layers.stream().map(diffIds::get).toList()));
        byte[] configBytes = JSON.writeValueAsBytes(config);
        List<Map<String, Object>> ls = new ArrayList<>();
        for (String l : layers) {
            ls.add(Map.of("mediaType", MediaTypes.OCI_LAYER_GZIP, "digest", l, "size", Files.size(blobs.resolve(l.substring(7)))));
        }
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", MediaTypes.OCI_MANIFEST);
        manifest.put("config", Map.of("mediaType", MediaTypes.OCI_CONFIG, "digest", "sha256:" + Sha256.of(configBytes), "size",
                configBytes.length));
        manifest.put("layers", ls);
        byte[] manifestBytes = JSON.writeValueAsBytes(manifest);
        try (OutputStream out = Files.newOutputStream(archive(images.size()))) {
            ContentStoreLayout.writeStub(out, name, MediaTypes.OCI_MANIFEST, manifestBytes, configBytes);
        }
        return new TestImage(name, "sha256:" + Sha256.of(manifestBytes), "sha256:" + Sha256.of(configBytes), List.copyOf(layers));
    }

    Path archive(int i) {
        return imagesDir.resolve("registry.k8s.io_test_loader-" + i + "_v1" + ContentStoreLayout.STUB_SUFFIX);
    }

    /**
     * Runs the loader with {@code binDir} first on PATH (its ctr is the one the loader calls) and the node's paths;
     * {@code env} adds CONTAINERD_ADDRESS, KIND_CONTAINERD_ROOT and the like.
     */
    Run load(String binDir, Map<String, String> env) throws IOException, InterruptedException {
        Map<String, String> all = new HashMap<>(Map.of("PATH", binDir + ":" + System.getenv("PATH"), "KIND_IMAGES_DIR",
                imagesDir.toString(), "KIND_IMAGES_STATE_DIR", state.toString(), "KIND_CONTAINERD_WAIT_SECONDS", "20"));
        all.putAll(env);
        return run(List.of("bash", loader.toString()), all);
    }
}
