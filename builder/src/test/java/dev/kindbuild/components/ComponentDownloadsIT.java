package dev.kindbuild.components;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ExecResult;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.kube.DownloadCache;
import dev.kindbuild.kube.Downloader;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.recipe.RecipeTree.RecipeFile;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.TestCache;
import dev.kindbuild.testing.TestEngine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The runtime component downloads against a loopback server laid out like the upstream release pages
 * ({@code /containerd/containerd/releases/download/v2.1.9/containerd-2.1.9-linux-amd64.tar.gz} with its
 * {@code .sha256sum} beside it, runc's binary and {@code runc.sha256sum}), serving tarballs made from Debian's
 * containerd 2.1.9 (scripts/fetch-containerd) and this machine's runc. Proves: a verified download is cached by
 * digest and not fetched again; a wrong checksum is refused, with nothing cached and no fallback; an unreachable
 * server falls back to Debian with one notice; an explicit version nothing has fails; and, through the engine, a
 * base built with {@code --containerd URL} has that containerd at kind's path and says so in its labels.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ComponentDownloadsIT {
    private static final String ARCH = "amd64";
    private HttpServer server;
    private String base;
    private String closed;
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private Path tmp;
    private byte[] containerdTarball;

    @BeforeAll
    void serve() throws Exception {
        Path sid = Path.of(System.getenv().getOrDefault("KIND_BUILD_CACHE", System.getProperty("user.home") + "/.cache/kind-build"))
                .resolve("containerd/sid/usr/bin");
        if (!Files.isExecutable(sid.resolve("containerd"))) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail("CI=true needs Debian's containerd 2.x: run scripts/fetch-containerd (missing " + sid + ")");
            }
            org.junit.jupiter.api.Assumptions.abort("no Debian containerd 2.x: run scripts/fetch-containerd");
        }
        tmp = Files.createTempDirectory("kind-build-it-components-");
        containerdTarball = tarball(Map.of("bin/containerd", Files.readAllBytes(sid.resolve("containerd")),
                "bin/ctr", Files.readAllBytes(sid.resolve("ctr")),
                "bin/containerd-shim-runc-v2", Files.readAllBytes(sid.resolve("containerd-shim-runc-v2")),
                "bin/containerd-stress", "not installed\n".getBytes()));
        String c = "/containerd/containerd/releases/download/v2.1.9/containerd-2.1.9-linux-" + ARCH + ".tar.gz";
        files.put(c, containerdTarball);
        files.put(c + ".sha256sum", (Sha256.of(containerdTarball) + "  containerd-2.1.9-linux-" + ARCH + ".tar.gz\n").getBytes());
        files.put(c + ".sha256", (Sha256.of(containerdTarball) + "\n").getBytes());
        // A release whose published checksum does not match its tarball.
        String bad = "/containerd/containerd/releases/download/v2.1.8/containerd-2.1.8-linux-" + ARCH + ".tar.gz";
        files.put(bad, containerdTarball);
        files.put(bad + ".sha256sum", ("0".repeat(64) + "  containerd-2.1.8-linux-" + ARCH + ".tar.gz\n").getBytes());
        byte[] runc = Files.readAllBytes(Path.of("/usr/sbin/runc"));
        files.put("/opencontainers/runc/releases/download/v1.1.5/runc." + ARCH, runc);
        files.put("/opencontainers/runc/releases/download/v1.1.5/runc.sha256sum",
                (Sha256.of(runc) + "  runc." + ARCH + "\n" + "1".repeat(64) + "  runc.arm64\n").getBytes());

        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            requests.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            byte[] body = files.get(path);
            exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            if (body != null) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
            exchange.close();
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = "http://127.0.0.1:" + s.getLocalPort(); // nobody listens there once closed
        }
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.stop(0);
        }
        TempPaths.deleteTree(tmp);
    }

    private static byte[] tarball(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(bytes))) {
            for (Map.Entry<String, byte[]> e : new java.util.TreeMap<>(entries).entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(e.getKey());
                entry.setSize(e.getValue().length);
                entry.setMode(0755);
                tar.putArchiveEntry(entry);
                tar.write(e.getValue());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** The bundled file's entries with their upstream hosts replaced by {@code host}. */
    private ComponentsFile file(String host) {
        return file(host, host);
    }

    /** containerd's and runc's releases on {@code host}, crictl's and the CNI plugins' on {@code others}. */
    private ComponentsFile file(String host, String others) {
        return ComponentsFile.parse(bundledText().replace("https://github.com/kubernetes-sigs", others + "/kubernetes-sigs")
                .replace("https://github.com/containernetworking", others + "/containernetworking")
                .replace("https://github.com", host), "test components");
    }

    private static String bundledText() {
        return dev.kindbuild.recipe.RecipeTree.load("base-image").file("components.yaml").text();
    }

    private Downloader downloader(Path cache, RecordingProgress progress) {
        return new Downloader(new DownloadCache(cache), false, false, progress, null);
    }

    private int requests(String path) {
        return requests.getOrDefault(path, new AtomicInteger()).get();
    }

    @Test
    void aVerifiedDownloadIsCachedByDigestAndNotFetchedAgain() throws IOException {
        Path cache = Files.createTempDirectory(tmp, "cache-");
        Map<String, ComponentRequest> asked = Map.of("containerd", ComponentRequest.parse("containerd", "2.1.9"),
                "runc", ComponentRequest.parse("runc", "1.1.5"));
        String tar = "/containerd/containerd/releases/download/v2.1.9/containerd-2.1.9-linux-" + ARCH + ".tar.gz";
        int before = requests(tar);
        RecordingProgress first = new RecordingProgress();
        List<ComponentChoice> choices = FetchComponents.run(PlanComponents.plan(file(base, closed), asked, ARCH), downloader(cache, first), first);
        ComponentChoice containerd = choices.get(0);
        assertEquals(ComponentChoice.Source.UPSTREAM, containerd.source());
        assertEquals("2.1.9", containerd.version());
        assertEquals(Optional.of(Sha256.of(containerdTarball)), containerd.sha256());
        assertEquals(before + 1, requests(tar));
        assertEquals(ComponentChoice.Source.UPSTREAM, choices.get(1).source(), "runc's digest is read from runc.sha256sum");

        // What goes into the build context: kind's paths, only the binaries kind installs.
        List<String> paths = ComponentFiles.contextFiles(choices).stream().map(RecipeFile::path).toList();
        assertEquals(List.of("components/usr/local/bin/containerd", "components/usr/local/bin/containerd-shim-runc-v2",
                "components/usr/local/bin/ctr", "components/usr/local/sbin/runc"), paths.stream().sorted().toList());

        RecordingProgress second = new RecordingProgress();
        FetchComponents.run(PlanComponents.plan(file(base, closed), asked, ARCH), downloader(cache, second), second);
        assertEquals(before + 1, requests(tar), "the cached tarball was fetched again");
        assertTrue(second.succeeded().stream().anyMatch(s -> s.startsWith("Downloading containerd-2.1.9-linux-" + ARCH + ".tar.gz (cached")),
                second.succeeded().toString());
    }

    @Test
    void aWrongChecksumIsRefusedNothingIsCachedAndDebianDoesNotStandIn() throws IOException {
        Path cache = Files.createTempDirectory(tmp, "cache-");
        RecordingProgress progress = new RecordingProgress();
        UserError e = assertThrows(UserError.class, () -> FetchComponents.run(PlanComponents.plan(file(base),
                Map.of("containerd", ComponentRequest.parse("containerd", "2.1.8")), ARCH), downloader(cache, progress), progress));
        assertTrue(e.getMessage().startsWith("checksum mismatch for " + base + "/containerd/containerd/releases/download/v2.1.8/"), e.getMessage());
        try (var s = Files.walk(cache)) {
            assertEquals(List.of(), s.filter(Files::isRegularFile).toList(), "a refused download stays out of the cache");
        }
        assertTrue(progress.notices().stream().noneMatch(n -> n.contains("Debian")), progress.notices().toString());
    }

    @Test
    void anUnreachableServerFallsBackToDebianWithOneNotice() throws IOException {
        Path cache = Files.createTempDirectory(tmp, "cache-");
        RecordingProgress progress = new RecordingProgress();
        List<ComponentChoice> choices = FetchComponents.run(PlanComponents.plan(file(closed), Map.of(), ARCH), downloader(cache, progress), progress);
        assertEquals(List.of("debian sid", "debian sid", "absent", "debian sid"), choices.stream().map(ComponentChoice::sourceText).toList());
        assertEquals(List.of("2.1.9", "1.3.6", "", "1.9.1"), choices.stream().map(ComponentChoice::version).toList());
        List<String> debian = progress.notices().stream().filter(n -> n.contains("using Debian's packages")).toList();
        assertEquals(1, debian.size(), progress.notices().toString());
        assertTrue(debian.get(0).startsWith("upstream not reachable (cannot reach " + closed.substring(7) + ": "), debian.get(0));
        assertTrue(debian.get(0).endsWith("containerd 2.1.9 (sid), runc 1.3.6 (sid), cni-plugins 1.9.1 (sid)"), debian.get(0));
        assertTrue(progress.notices().stream().anyMatch(n -> n.startsWith("no crictl in this base") && n.contains("`kind load docker-image` re-imports")
                && n.contains("`kind export logs` fails")), progress.notices().toString());

        RecordingProgress legacy = new RecordingProgress();
        List<ComponentChoice> old = FetchComponents.run(PlanComponents.plan(file(closed),
                Map.of("containerd", ComponentRequest.parse("containerd", "1.7")), ARCH), downloader(cache, legacy), legacy);
        assertEquals(List.of("1.7.24", "1.1.15", "", "1.1.1"), old.stream().map(ComponentChoice::version).toList());
        assertEquals(List.of("containerd", "runc", "containernetworking-plugins"), ComponentFiles.aptPackages(old, "trixie"));
        assertEquals(List.of(), ComponentFiles.extraSuites(old, "trixie"));
    }

    @Test
    void anExplicitVersionNothingHasFailsInsteadOfAnother() throws IOException {
        Path cache = Files.createTempDirectory(tmp, "cache-");
        RecordingProgress progress = new RecordingProgress();
        UserError e = assertThrows(UserError.class, () -> FetchComponents.run(PlanComponents.plan(file(closed),
                Map.of("containerd", ComponentRequest.parse("containerd", "2.3.4")), ARCH), downloader(cache, progress), progress));
        assertTrue(e.getMessage().startsWith("containerd 2.3.4 cannot be had: upstream not reachable (cannot reach "), e.getMessage());
        assertTrue(e.getMessage().contains("Debian has 2.1.9 (sid), 1.7.24 (trixie)"), e.getMessage());
        // A version the server does not have is no fallback case either: it answered.
        UserError missing = assertThrows(UserError.class, () -> FetchComponents.run(PlanComponents.plan(file(base),
                Map.of("containerd", ComponentRequest.parse("containerd", "2.2.0")), ARCH), downloader(cache, progress), progress));
        assertTrue(missing.getMessage().startsWith("containerd: no checksum published at " + base), missing.getMessage());
        // Through the CLI: one ERROR line, exit 1, before any work.
        CliRun run = CliRun.of("base-image", "--containerd", "2.2");
        assertEquals(1, run.exit(), run.err());
        assertTrue(run.err().lines().anyMatch(l -> l.startsWith("ERROR: containerd 2.2 cannot be had")), run.err());
    }

    /** {@code command} in a throwaway container of {@code image} (no network), removed afterwards. */
    private static ExecResult exec(DockerEngine engine, String image, List<String> command) {
        String name = "kind-build-it-probe-" + Integer.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextInt(1 << 24));
        String id = engine.create(dev.kindbuild.engine.ContainerSpec.builder(name, image).entrypoint("sleep").cmd("infinity")
                .labels(dev.kindbuild.engine.Labels.forContainer("it-probe")).networkMode("none").build());
        try {
            engine.start(id);
            return engine.exec(id, command);
        } finally {
            engine.remove(id);
        }
    }

    /** Through the engine: the downloaded containerd is what the base has, at kind's path, said so in the labels. */
    @Test
    void aBaseBuiltWithADownloadedContainerdHasItAtKindsPath() {
        DockerEngine engine = TestEngine.connect();
        String tag = "kind-build-test/components-base:" + ProcessHandle.current().pid();
        String url = base + "/containerd/containerd/releases/download/v2.1.9/containerd-2.1.9-linux-" + ARCH + ".tar.gz";
        try (TestCache cache = TestCache.create()) {
            Assertions.assertEquals(ARCH, engine.facts().architecture(), "the loopback release serves " + ARCH + " only");
            CliRun run = CliRun.of("base-image", "--image", tag, "--containerd", url, "--json");
            assertEquals(0, run.exit(), run.err());
            ImageInfo info = engine.inspectImage(tag).orElseThrow();
            List<InstalledComponent> components = InstalledComponent.fromLabel(info.labels().get(InstalledComponent.LABEL));
            assertEquals(new InstalledComponent("containerd", "2.1.9", "upstream " + url), components.get(0));
            assertEquals("2.1.9", info.labels().get("dev.kind-build.containerd-version"));
            assertTrue(run.out().contains("\"upstream " + url + "\""), run.out());
            ExecResult stat = exec(engine, tag, List.of("stat", "-c", "%F", "/usr/local/bin/containerd", "/usr/local/bin/ctr"));
            assertEquals("regular file\nregular file", stat.stdout().strip(), stat.stderr());
            assertFalse(exec(engine, tag, List.of("test", "-e", "/usr/bin/containerd")).ok(), "Debian's containerd was installed too");
        } finally {
            engine.removeImage(tag);
            engine.close();
        }
    }
}
