package dev.kindbuild.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
        LoaderNode node = LoaderNode.lay(tmp.resolve("node"), IMAGES);
        try (Containerd containerd = Containerd.start(bin, tmp.resolve("containerd"))) {
            for (int round = 0; round < 2; round++) {
                containerd.wipeImages();
                Process storm = containerd.collectorStorm();
                LoaderNode.Run run;
                try {
                    run = load(node, containerd);
                } finally {
                    storm.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
                assertEquals(0, run.exit(), containerd.version + " round " + round + ": " + run.out());
                assertAllLoaded(node, containerd);
            }

            LoaderNode.Run again = load(node, containerd);
            assertEquals(0, again.exit(), again.out());
            assertTrue(again.out().contains("done: 0 imported, " + IMAGES + " skipped, 0 failed"), again.out());

            // containerd loses a layer after the images exist (an operator, a bug): the next boot puts it back.
            String layer = node.images.get(0).layers().get(1);
            assertEquals(0, containerd.ctr("content", "rm", layer).exit());
            assertFalse(containerd.content().contains(layer));
            LoaderNode.Run repair = load(node, containerd);
            assertEquals(0, repair.exit(), repair.out());
            assertTrue(repair.out().contains("repaired: 1 blob(s) were missing from containerd"), repair.out());
            assertAllLoaded(node, containerd);
        }
    }

    @ParameterizedTest
    @MethodSource("containerds")
    void aLayerCutShortFailsItsImageAloneByName(Path bin) throws Exception {
        assumeRoot();
        LoaderNode node = LoaderNode.lay(tmp.resolve("node"), 3);
        String damaged = node.images.get(1).layers().get(1); // a layer of image 1 only (layer 0 is shared)
        long size;
        try (RandomAccessFile f = new RandomAccessFile(node.blobs.resolve(damaged.substring(7)).toFile(), "rw")) {
            size = f.length();
            f.setLength(size / 2); // as an interrupted copy would leave it
        }
        try (Containerd containerd = Containerd.start(bin, tmp.resolve("containerd"))) {
            LoaderNode.Run run = load(node, containerd);
            assertEquals(1, run.exit(), run.out());
            assertTrue(run.out().contains("FAILED " + node.archive(1)), run.out());
            assertTrue(run.out().contains("layer " + damaged + " has " + size / 2 + " bytes, its manifest says " + size), run.out());
            assertTrue(run.out().contains("done: 2 imported, 0 skipped, 1 FAILED"), run.out());
            List<String> pinned = containerd.pinned();
            assertTrue(pinned.contains(node.images.get(0).name()) && pinned.contains(node.images.get(2).name()), pinned.toString());
            assertFalse(pinned.contains(node.images.get(1).name()), pinned.toString());
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

    private static LoaderNode.Run run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        return LoaderNode.run(command, env);
    }

    private static LoaderNode.Run load(LoaderNode node, Containerd containerd) throws IOException, InterruptedException {
        return node.load(containerd.bin.toString(), Map.of("CONTAINERD_ADDRESS", containerd.socket.toString(),
                "KIND_CONTAINERD_ROOT", containerd.root.toString()));
    }

    private static void assertAllLoaded(LoaderNode node, Containerd containerd) throws IOException, InterruptedException {
        List<String> pinned = containerd.pinned();
        List<String> content = containerd.content();
        for (LoaderNode.TestImage i : node.images) {
            assertTrue(pinned.contains(i.name()), containerd.version + ": " + i.name() + " pinned: " + pinned);
            for (String b : i.blobs()) {
                assertTrue(content.contains(b), containerd.version + ": " + i.name() + " blob " + b + " in containerd");
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
            String version = run(List.of(bin.resolve("containerd").toString(), "--version"), Map.of()).out().trim();
            Containerd c = new Containerd(bin, dir.resolve("root"), socket, p, version);
            for (int i = 0; i < 200 && c.ctr("version").exit() != 0; i++) {
                Thread.sleep(100);
            }
            assertEquals(0, c.ctr("version").exit(), version + " answers; log in " + dir.resolve("containerd.log"));
            return c;
        }

        LoaderNode.Run ctr(String... args) throws IOException, InterruptedException {
            List<String> cmd = new ArrayList<>(List.of(bin.resolve("ctr").toString(), "--address", socket.toString(), "--namespace", "k8s.io"));
            cmd.addAll(List.of(args));
            return run(cmd, Map.of());
        }

        List<String> pinned() throws IOException, InterruptedException {
            return ctr("images", "ls", "-q", "labels.\"io.cri-containerd.pinned\"==pinned").out().lines().toList();
        }

        List<String> content() throws IOException, InterruptedException {
            return ctr("content", "ls", "-q").out().lines().toList();
        }

        /** Removes every image (and so, at the next collection, their content): a first boot again. */
        void wipeImages() throws IOException, InterruptedException {
            List<String> names = ctr("images", "ls", "-q").out().lines().filter(l -> !l.isBlank()).toList();
            if (!names.isEmpty()) {
                List<String> rm = new ArrayList<>(List.of("images", "rm", "--sync"));
                rm.addAll(names);
                assertEquals(0, ctr(rm.toArray(String[]::new)).exit());
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
