package dev.kindbuild.node;

import dev.kindbuild.testing.DockerBuilds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.kube.KubernetesSource;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.sample.SampleEnvironment;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.StallingServer;
import dev.kindbuild.testing.StallingEngineProxy;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestEngine;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults and interruptions of a real kind-build process (a child JVM running the CLI) against the real engine, the
 * sample release and a scratch registry. Per case: the exit code, the one line that says what happened, and that
 * nothing is left — no container of that process, no temp dir in its TMPDIR, no partial file in its cache, no tag.
 * Each case has its own TMPDIR and cache, so what is left can only be the case's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultMatrixIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    private static final String V = "v1.31.2";
    private static final String TAG = "kind-build-test/fault-matrix:" + Leaks.PID;
    private static final String NODE = "kind-build-test/fault-matrix-node:" + Leaks.PID;
    private static final String USER_CONTAINER = "kind-build-test-fault-user-" + Leaks.PID;

    private DockerEngine engine;
    private String base;
    private SampleEnvironment env;
    private Path root;
    private StallingServer stall;
    private HttpServer slowRelease;
    private final List<Path> mounts = new ArrayList<>();

    @BeforeAll
    void setUp() throws IOException {
        engine = TestEngine.connect();
        String arch = engine.facts().architecture();
        base = TestBaseImage.get(engine, false, new RecordingProgress()).image();
        env = SampleEnvironment.start(V, arch, 0, REGISTRY.host(), new RecordingProgress());
        root = Files.createTempDirectory("kind-build-it-faults-");
        // A "registry" that accepts connections and never answers: a build is reliably caught while pulling.
        stall = new StallingServer();
        // A release server that publishes a checksum, sends part of the tarball and then stalls.
        slowRelease = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        slowRelease.setExecutor(java.util.concurrent.Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "slow-release");
            t.setDaemon(true);
            return t;
        }));
        slowRelease.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            if (path.endsWith(".sha256")) {
                byte[] body = ("a".repeat(64) + "\n").getBytes(StandardCharsets.US_ASCII);
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
                exchange.close();
                return;
            }
            exchange.sendResponseHeaders(200, 50_000_000);
            OutputStream out = exchange.getResponseBody();
            out.write(new byte[256 * 1024]);
            out.flush();
            try {
                Thread.sleep(120_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        slowRelease.start();
        // A node image, as node-image builds it, and a user's container started from it.
        DockerBuilds.run(engine, new RecordingProgress(), new NodeImageRequest(
                KubernetesSource.detect(V, Optional.empty(), env.releaseUrl()), Optional.of(NODE), Optional.of(base), arch,
                RegistryMirrors.parse(mirrors(REGISTRY.host())), RegistryAccess.defaults(), List.of(), false, false,
                Optional.empty()));
    }

    @AfterAll
    void tearDown() throws IOException {
        if (stall != null) {
            stall.close();
        }
        if (slowRelease != null) {
            slowRelease.stop(0);
        }
        for (Path m : mounts) {
            new ProcessBuilder("umount", "-l", m.toString()).start();
        }
        if (engine != null) {
            engine.remove(USER_CONTAINER);
            engine.removeImage(TAG);
            engine.removeImage(NODE);
            engine.close();
        }
        if (env != null) {
            env.close();
        }
        if (root != null) {
            TempPaths.deleteTree(root);
        }
    }

    private static List<String> mirrors(String to) {
        return List.of("registry.k8s.io=" + to, "docker.io=" + to);
    }

    private String stallHost() {
        return stall.host();
    }

    // ---- the cases ------------------------------------------------------------------------------------------------

    @Test
    void sigtermDuringTheDownload() throws Exception {
        Case c = newCase("term-download");
        Tool t = c.start(build(urlOf(slowRelease), REGISTRY.host()));
        t.awaitLine(l -> l.contains("Downloading kubernetes-server"), 60);
        awaitFile(c.cache, n -> n.startsWith(".partial-"), 30);
        t.terminate();
        assertInterrupted(t);
        assertNothingLeft(c, t);
    }

    @Test
    void sigtermDuringThePulls() throws Exception {
        Case c = newCase("term-pull");
        Tool t = c.start(build(env.releaseUrl().toString(), stallHost()));
        t.awaitLine(l -> l.contains("• Pulling registry.k8s.io/"), 60);
        t.terminate();
        assertInterrupted(t);
        assertNothingLeft(c, t);
    }

    @Test
    void sigtermWhileFilesGoIntoTheBuilder() throws Exception {
        Case c = newCase("term-builder");
        try (StallingEngineProxy proxy = copyStallingEngine()) {
            Tool t = c.start(build(env.releaseUrl().toString(), REGISTRY.host()), Map.of("DOCKER_HOST", proxy.dockerHost()));
            awaitBuilder(t, proxy);
            t.terminate();
            assertInterrupted(t);
            assertNothingLeft(c, t);
        }
    }

    /** An engine endpoint that holds the first copy of files into a container: the build waits inside its builder. */
    private static StallingEngineProxy copyStallingEngine() throws IOException {
        return new StallingEngineProxy(Path.of(java.net.URI.create(DockerEngine.configuredHost()).getPath()), "PUT", "/archive");
    }

    /** Until {@code t}'s builder container exists and its first copy is held. */
    private void awaitBuilder(Tool t, StallingEngineProxy proxy) throws Exception {
        t.awaitLine(l -> l.contains("• Installing Kubernetes"), 120);
        for (int i = 0; i < 300 && !proxy.stalled(); i++) {
            Thread.sleep(100);
        }
        assertTrue(proxy.stalled(), "the copy into the builder was not held:\n" + t.output());
        assertEquals(1, engine.containersWithLabel(Labels.PID, t.pid()).size(), "a builder should exist while copying\n" + t.output());
    }

    @Test
    void sigtermDuringVerify() throws Exception {
        Case c = newCase("term-verify");
        Tool t = c.start(List.of("verify", NODE, "--offline"));
        t.awaitLine(l -> l.contains("• Booting") || l.contains("• Waiting"), 60);
        t.terminate();
        assertInterrupted(t);
        assertNothingLeft(c, t);
    }

    @Test
    void killDashNineThenCleanupRemovesEverythingItLeftAndNoUserContainer() throws Exception {
        Case c = newCase("kill9");
        Tool downloading = c.start(build(urlOf(slowRelease), REGISTRY.host()));
        awaitFile(c.cache, n -> n.startsWith(".partial-"), 60);
        StallingEngineProxy proxy = copyStallingEngine();
        Tool pulling = c.start(build(env.releaseUrl().toString(), REGISTRY.host()), Map.of("DOCKER_HOST", proxy.dockerHost()));
        awaitBuilder(pulling, proxy);
        downloading.kill();
        pulling.kill();
        proxy.close();
        assertEquals(1, engine.containersWithLabel(Labels.PID, pulling.pid()).size(), "kill -9 leaves its builder");
        assertFalse(entries(c.tmp).isEmpty(), "kill -9 leaves its temp dirs");
        assertFalse(partialFiles(c.cache).isEmpty(), "kill -9 leaves its partial download");
        dockerRun(USER_CONTAINER, NODE);

        Tool cleanup = c.start(List.of("cleanup"));
        assertTrue(cleanup.process.waitFor(60, TimeUnit.SECONDS), "cleanup did not finish");
        cleanup.drain();
        assertEquals(0, cleanup.process.exitValue(), cleanup.output());

        assertTrue(engine.isRunning(USER_CONTAINER), "a container started from a kind-build node image must survive cleanup");
        assertEquals(List.of(), engine.containersWithLabel(Labels.PID, pulling.pid()), cleanup.output());
        assertEquals(List.of(), entries(c.tmp), "cleanup must remove the dead runs' temp dirs: " + cleanup.output());
        assertEquals(List.of(), partialFiles(c.cache), "cleanup must remove partial cache files: " + cleanup.output());
        assertTrue(cleanup.output().contains("temp dir(s)"), cleanup.output());
    }

    @Test
    void aFullCacheDirectory() throws Exception {
        Case c = newCase("full-cache");
        assertFullDirectoryIsOneErrorAndLeavesNothing(c, c.cache, "24k", "KIND_BUILD_CACHE");
    }

    @Test
    void aBuildNeedsNoTempSpace() throws Exception {
        // Images go from the store into the builder as streams, and the release is unpacked in the cache: a build
        // succeeds with a temp dir that holds nothing.
        Case c = newCase("full-tmp");
        mountTmpfs(c.tmp, "16k");
        Tool t = c.start(build(env.releaseUrl().toString(), REGISTRY.host()));
        t.awaitExit(180);
        try {
            assertEquals(0, t.process.exitValue(), t.output());
            assertEquals(List.of(), entries(c.tmp), "temp files left:\n" + t.output());
        } finally {
            engine.removeImage(TAG);
        }
    }

    /** A build with {@code full} on a tiny tmpfs: one error naming that directory and the variable to move it. */
    private void assertFullDirectoryIsOneErrorAndLeavesNothing(Case c, Path full, String size, String variable) throws Exception {
        mountTmpfs(full, size);
        Tool t = c.start(build(env.releaseUrl().toString(), REGISTRY.host()));
        t.awaitExit(120);
        assertOneError(t, 1, "no space left on device");
        assertTrue(t.errorLine().contains(full + " is full") && t.errorLine().contains(variable), t.errorLine());
        assertNothingLeft(c, t);
    }

    // ---- assertions ------------------------------------------------------------------------------------------------

    private static void assertInterrupted(Tool t) throws Exception {
        t.awaitExit(60);
        assertEquals(130, t.process.exitValue(), t.output());
        List<String> lines = t.lines();
        assertEquals(1, lines.stream().filter(l -> l.contains("✗ interrupted")).count(), t.output());
        assertTrue(lines.get(lines.size() - 1).contains("✗ interrupted"), "the interruption must be the last line:\n" + t.output());
        assertEquals(0, lines.stream().filter(l -> l.startsWith("ERROR")).count(), t.output());
    }

    private static void assertOneError(Tool t, int exit, String contains) {
        assertEquals(exit, t.process.exitValue(), t.output());
        List<String> errors = t.lines().stream().filter(l -> l.startsWith("ERROR")).toList();
        assertEquals(1, errors.size(), t.output());
        assertTrue(errors.get(0).contains(contains), t.output());
        assertFalse(errors.get(0).contains("kind-build bug"), t.output());
    }

    private void assertNothingLeft(Case c, Tool t) throws IOException {
        assertEquals(List.of(), engine.containersWithLabel(Labels.PID, t.pid()), "containers left:\n" + t.output());
        assertTrue(engine.inspectImage(TAG).isEmpty(), "a failed build must not tag " + TAG);
        assertEquals(List.of(), entries(c.tmp), "temp files left:\n" + t.output());
        assertEquals(List.of(), partialFiles(c.cache), "partial cache files left:\n" + t.output());
    }

    // ---- plumbing --------------------------------------------------------------------------------------------------

    private static String urlOf(HttpServer server) {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private List<String> build(String releaseUrl, String mirror) {
        List<String> args = new ArrayList<>(List.of("node-image", V, "--k8s-release-url", releaseUrl, "--base-image", base,
                "--image", TAG));
        for (String m : mirrors(mirror)) {
            args.add("--registry-mirror");
            args.add(m);
        }
        return args;
    }

    private Case newCase(String name) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        return new Case(Files.createDirectories(dir.resolve("tmp")), Files.createDirectories(dir.resolve("cache")));
    }

    private void mountTmpfs(Path dir, String size) throws Exception {
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError("CI=true and no tmpfs can be mounted (needs root): " + out);
            }
            org.junit.jupiter.api.Assumptions.abort("cannot mount a tmpfs here: " + out);
        }
        mounts.add(dir);
    }

    private static List<String> entries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals("lost+found")).sorted().toList();
        }
    }

    /** Half-written files anywhere in a cache: downloads in flight, temp files of the image cache and its index. */
    private static List<Path> partialFiles(Path cache) throws IOException {
        try (Stream<Path> s = Files.walk(cache)) {
            return s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(".partial-") || n.startsWith(".tmp-") || n.contains(".tmp-");
            }).toList();
        }
    }

    private static void awaitFile(Path dir, Predicate<String> name, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            try (Stream<Path> s = Files.walk(dir)) {
                if (s.anyMatch(p -> name.test(p.getFileName().toString()))) {
                    return;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no such file appeared under " + dir);
    }

    private static void dockerRun(String name, String image) throws Exception {
        Process p = new ProcessBuilder("docker", "run", "-d", "--name", name, "--network", "none", "--entrypoint", "sleep",
                image, "infinity").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
    }

    /** One case's private TMPDIR and cache. */
    private record Case(Path tmp, Path cache) {
        Tool start(List<String> args) throws IOException {
            return start(args, Map.of());
        }

        Tool start(List<String> args, Map<String, String> env) throws IOException {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "-Dkindbuild.cache=" + cache, "dev.kindbuild.cli.Main"));
            command.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().put("TMPDIR", tmp.toString());
            pb.environment().putAll(env);
            return new Tool(pb.start());
        }
    }

    /** A running kind-build process and its output. */
    private static final class Tool {
        final Process process;
        private final List<String> lines = new CopyOnWriteArrayList<>();
        private final Thread reader;

        Tool(Process process) {
            this.process = process;
            reader = new Thread(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = out.readLine(); line != null; line = out.readLine()) {
                        lines.add(line.strip());
                    }
                } catch (IOException closed) {
                    // gone
                }
            });
            reader.setDaemon(true);
            reader.start();
        }

        String pid() {
            return Long.toString(process.pid());
        }

        void awaitLine(Predicate<String> line, int seconds) throws InterruptedException {
            long deadline = System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < deadline) {
                if (lines.stream().anyMatch(line)) {
                    return;
                }
                if (!process.isAlive()) {
                    drain();
                    throw new AssertionError("kind-build ended (" + process.exitValue() + ") before the expected line:\n" + output());
                }
                Thread.sleep(20);
            }
            throw new AssertionError("the expected line did not come:\n" + output());
        }

        /** SIGTERM, as Ctrl-C is for a process in the background (Process.destroy would also close its output). */
        void terminate() throws Exception {
            assertEquals(0, new ProcessBuilder("kill", "-TERM", pid()).start().waitFor());
        }

        void kill() throws Exception {
            assertEquals(0, new ProcessBuilder("kill", "-KILL", pid()).start().waitFor());
            process.waitFor(30, TimeUnit.SECONDS);
            drain();
        }

        void awaitExit(int seconds) throws InterruptedException {
            assertTrue(process.waitFor(seconds, TimeUnit.SECONDS), "kind-build did not end:\n" + output());
            drain();
        }

        void drain() throws InterruptedException {
            reader.join(10_000);
        }

        List<String> lines() {
            return List.copyOf(lines);
        }

        String errorLine() {
            return lines.stream().filter(l -> l.startsWith("ERROR")).findFirst().orElse("");
        }

        String output() {
            return String.join("\n", lines);
        }
    }
}
