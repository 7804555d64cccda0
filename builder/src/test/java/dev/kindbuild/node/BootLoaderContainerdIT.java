package dev.kindbuild.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.image.ContentStoreLayout;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.recipe.RecipeTree;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The node's image loader (node-image/files/kind/bin/load-images.sh, the bytes the jar ships) against a real
 * containerd of each line a node can run — 1.6 (this machine's), 1.7 and 2.x (Debian's, from scripts/fetch-containerd)
 * — as a private daemon with its own root and socket, while a second process makes containerd collect garbage over and
 * over (an unreferenced blob, then a lease deleted synchronously: each round sweeps the content directory). With
 * layers placed in containerd's content directory at build time, as node images were made before, this loses every
 * layer; the loader must lose none, repair what containerd lost since, and fail a damaged layer's image alone, by
 * name.
 */
class BootLoaderContainerdIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int IMAGES = 8;

    @TempDir
    Path tmp;

    static Stream<Path> containerds() {
        List<Path> bins = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/containerd"))) {
            bins.add(Path.of("/usr/bin"));
        }
        Path cache = Path.of(System.getenv().getOrDefault("KIND_BUILD_CACHE", System.getProperty("user.home") + "/.cache/kind-build"));
        for (String suite : List.of("trixie", "sid")) {
            Path bin = cache.resolve("containerd").resolve(suite).resolve("usr/bin");
            if (Files.isExecutable(bin.resolve("containerd"))) {
                bins.add(bin);
            }
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            assertEquals(3, bins.size(), "CI=true needs containerd 1.6, 1.7 and 2.x: run scripts/install-deps and scripts/fetch-containerd; found " + bins);
        }
        return bins.stream();
    }

    @ParameterizedTest
    @MethodSource("containerds")
    void everyImageLoadsWhileTheCollectorSweepsAndRestartsSkipOrRepair(Path bin) throws Exception {
        assumeRoot();
        Node node = Node.lay(tmp.resolve("node"), IMAGES);
        try (Containerd containerd = Containerd.start(bin, tmp.resolve("containerd"))) {
            for (int round = 0; round < 2; round++) {
                containerd.wipeImages();
                Process storm = containerd.collectorStorm();
                Run run;
                try {
                    run = node.load(containerd);
                } finally {
                    storm.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
                assertEquals(0, run.exit, containerd.version + " round " + round + ": " + run.out);
                node.assertAllLoaded(containerd);
            }

            Run again = node.load(containerd);
            assertEquals(0, again.exit, again.out);
            assertTrue(again.out.contains("done: 0 imported, " + IMAGES + " skipped, 0 failed"), again.out);

            // containerd loses a layer after the images exist (an operator, a bug): the next boot puts it back.
            String layer = node.images.get(0).layers.get(1);
            assertEquals(0, containerd.ctr("content", "rm", layer).exit);
            assertFalse(containerd.content().contains(layer));
            Run repair = node.load(containerd);
            assertEquals(0, repair.exit, repair.out);
            assertTrue(repair.out.contains("repaired: 1 blob(s) were missing from containerd"), repair.out);
            node.assertAllLoaded(containerd);
        }
    }

    @ParameterizedTest
    @MethodSource("containerds")
    void aLayerCutShortFailsItsImageAloneByName(Path bin) throws Exception {
        assumeRoot();
        Node node = Node.lay(tmp.resolve("node"), 3);
        String damaged = node.images.get(1).layers.get(1); // a layer of image 1 only (layer 0 is shared)
        long size;
        try (RandomAccessFile f = new RandomAccessFile(node.blobs.resolve(damaged.substring(7)).toFile(), "rw")) {
            size = f.length();
            f.setLength(size / 2); // as an interrupted copy would leave it
        }
        try (Containerd containerd = Containerd.start(bin, tmp.resolve("containerd"))) {
            Run run = node.load(containerd);
            assertEquals(1, run.exit, run.out);
            assertTrue(run.out.contains("FAILED " + node.archive(1)), run.out);
            assertTrue(run.out.contains("layer " + damaged + " has " + size / 2 + " bytes, its manifest says " + size), run.out);
            assertTrue(run.out.contains("done: 2 imported, 0 skipped, 1 FAILED"), run.out);
            List<String> pinned = containerd.pinned();
            assertTrue(pinned.contains(node.images.get(0).name) && pinned.contains(node.images.get(2).name), pinned.toString());
            assertFalse(pinned.contains(node.images.get(1).name), pinned.toString());
            String summary = Files.readString(node.state.resolve("images-loaded.json"));
            assertEquals("failed", JSON.readTree(summary).path("status").asText(), summary);
        }
    }

    private static void assumeRoot() {
        boolean root = "root".equals(System.getProperty("user.name"));
        if (!root && "true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail("CI=true: the loader tests run containerd and need root");
        }
        Assumptions.assumeTrue(root, "needs root to run containerd");
    }

    record Run(int exit, String out) {}

    private static Run run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
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

    /** A node's /kind (the loader and its images) in a directory. */
    static final class Node {
        final Path dir;
        final Path imagesDir;
        final Path blobs;
        final Path state;
        final Path loader;
        final List<TestImage> images = new ArrayList<>();

        private final Map<String, String> diffIds = new LinkedHashMap<>();

        private Node(Path dir) {
            this.dir = dir;
            this.imagesDir = dir.resolve("kind/images");
            this.blobs = dir.resolve(ContentStoreLayout.LAYER_BLOBS.substring(1));
            this.state = dir.resolve("run/kind");
            this.loader = dir.resolve("kind/bin/load-images.sh");
        }

        static Node lay(Path dir, int count) throws IOException {
            Node node = new Node(dir);
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

        Run load(Containerd containerd) throws IOException, InterruptedException {
            return run(List.of("bash", loader.toString()), Map.of("PATH", containerd.bin + ":" + System.getenv("PATH"),
                    "CONTAINERD_ADDRESS", containerd.socket.toString(), "KIND_IMAGES_DIR", imagesDir.toString(),
                    "KIND_IMAGES_STATE_DIR", state.toString(), "KIND_CONTAINERD_ROOT", containerd.root.toString(),
                    "KIND_CONTAINERD_WAIT_SECONDS", "20"));
        }

        void assertAllLoaded(Containerd containerd) throws IOException, InterruptedException {
            List<String> pinned = containerd.pinned();
            List<String> content = containerd.content();
            for (TestImage i : images) {
                assertTrue(pinned.contains(i.name), containerd.version + ": " + i.name + " pinned: " + pinned);
                for (String b : i.blobs()) {
                    assertTrue(content.contains(b), containerd.version + ": " + i.name + " blob " + b + " in containerd");
                }
            }
        }
    }

    /** A private containerd: its own root, state and socket; stopped and removed on close. */
    static final class Containerd implements AutoCloseable {
        final Path bin;
        final Path root;
        final Path socket;
        final String version;
        private final Process process;

        private Containerd(Path bin, Path root, Path socket, Process process, String version) {
            this.bin = bin;
            this.root = root;
            this.socket = socket;
            this.process = process;
            this.version = version;
        }

        static Containerd start(Path bin, Path dir) throws Exception {
            // The socket path must stay short (108 bytes): under /tmp, not the test's temp dir.
            Path base = Files.createTempDirectory(Path.of("/tmp"), "kbctd");
            Files.createDirectories(dir);
            Path socket = base.resolve("c.sock");
            Files.writeString(dir.resolve("config.toml"), "version = 2\nroot = \"" + dir.resolve("root") + "\"\nstate = \""
                    + base.resolve("state") + "\"\n[grpc]\n  address = \"" + socket + "\"\n");
            Process p = new ProcessBuilder(bin.resolve("containerd").toString(), "--config", dir.resolve("config.toml").toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("containerd.log").toFile()).start();
            String version = run(List.of(bin.resolve("containerd").toString(), "--version"), Map.of()).out.trim();
            Containerd c = new Containerd(bin, dir.resolve("root"), socket, p, version);
            for (int i = 0; i < 200 && c.ctr("version").exit != 0; i++) {
                Thread.sleep(100);
            }
            assertEquals(0, c.ctr("version").exit, version + " answers; log in " + dir.resolve("containerd.log"));
            return c;
        }

        Run ctr(String... args) throws IOException, InterruptedException {
            List<String> cmd = new ArrayList<>(List.of(bin.resolve("ctr").toString(), "--address", socket.toString(), "--namespace", "k8s.io"));
            cmd.addAll(List.of(args));
            return run(cmd, Map.of());
        }

        List<String> pinned() throws IOException, InterruptedException {
            return ctr("images", "ls", "-q", "labels.\"io.cri-containerd.pinned\"==pinned").out.lines().toList();
        }

        List<String> content() throws IOException, InterruptedException {
            return ctr("content", "ls", "-q").out.lines().toList();
        }

        /** Removes every image (and so, at the next collection, their content): a first boot again. */
        void wipeImages() throws IOException, InterruptedException {
            List<String> names = ctr("images", "ls", "-q").out.lines().filter(l -> !l.isBlank()).toList();
            if (!names.isEmpty()) {
                List<String> rm = new ArrayList<>(List.of("images", "rm", "--sync"));
                rm.addAll(names);
                assertEquals(0, ctr(rm.toArray(String[]::new)).exit);
            }
        }

        /** A process that makes containerd sweep its content directory over and over, until destroyed. */
        Process collectorStorm() throws IOException {
            String ctr = bin.resolve("ctr") + " --address " + socket + " --namespace k8s.io";
            String script = "i=0; while :; do i=$((i+1)); printf 'unreferenced-%s' $i | " + ctr + " content ingest storm-$i >/dev/null 2>&1;"
                    + " id=$(" + ctr + " leases create 2>/dev/null | cut -d' ' -f1); [ -n \"$id\" ] && " + ctr
                    + " leases rm --sync \"$id\" >/dev/null 2>&1; done";
            return new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            try (Stream<Path> s = Files.walk(socket.getParent())) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
