package dev.kindbuild.sample;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kindbuild.support.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Serves a directory over plain HTTP on 127.0.0.1 — a stand-in for dl.k8s.io in tests and the offline demo. With
 * {@link SampleRelease#writeRelease} the layout matches: {@code /<version>/kubernetes-server-linux-<arch>.tar.gz} and
 * {@code .sha256}. GET and HEAD only; paths cannot leave the directory. Counts requests per path, and can be told to
 * serve wrong or no checksum files.
 *
 * <pre>{@code
 * SampleRelease.writeRelease(root, "v1.31.2", "amd64");
 * try (SampleServer server = SampleServer.start(root)) {
 *     URI base = server.baseUri();   // http://127.0.0.1:<port>, a release base for KubernetesSource.detect
 * }
 * }</pre>
 *
 * Run standalone: {@code java -cp kind-build-all.jar dev.kindbuild.sample.SampleServer DIR [VERSION [ARCH [PORT]]]}
 * writes a sample release into DIR and serves it until killed.
 */
public final class SampleServer implements AutoCloseable {
    private final Path root;
    private final HttpServer server;
    private final ExecutorService executor;
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private volatile ChecksumMode checksumMode = ChecksumMode.CORRECT;

    /** How {@code *.sha256} requests are answered. */
    public enum ChecksumMode {
        /** The file as it is on disk. */
        CORRECT,
        /** A well-formed digest of different content (for mismatch tests). */
        WRONG,
        /** 404, as if none were published. */
        MISSING
    }

    private SampleServer(Path root, int port) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port), 0);
        this.executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "sample-server");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /** Serves {@code root} on a free port of 127.0.0.1. */
    public static SampleServer start(Path root) throws IOException {
        return new SampleServer(root, 0);
    }

    /** Serves {@code root} on {@code port} of 127.0.0.1 (0 = any free port). */
    public static SampleServer start(Path root, int port) throws IOException {
        return new SampleServer(root, port);
    }

    /** {@code http://127.0.0.1:<port>} (no trailing slash). */
    public URI baseUri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** {@code baseUri() + path}; {@code path} starts with '/'. */
    public URI uri(String path) {
        return URI.create(baseUri() + (path.startsWith("/") ? path : "/" + path));
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** How many requests (any method, any outcome) were made for {@code path} (e.g. {@code /v1.31.2/x.tar.gz}). */
    public int requests(String path) {
        AtomicInteger c = counts.get(path);
        return c == null ? 0 : c.get();
    }

    /** All request counts by path, sorted. */
    public Map<String, Integer> requestCounts() {
        Map<String, Integer> out = new TreeMap<>();
        counts.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    public void resetCounts() {
        counts.clear();
    }

    public void checksumMode(ChecksumMode mode) {
        this.checksumMode = mode;
    }

    /** Shorthand: {@code true} → {@link ChecksumMode#WRONG}, {@code false} → {@link ChecksumMode#CORRECT}. */
    public void serveWrongChecksums(boolean wrong) {
        checksumMode(wrong ? ChecksumMode.WRONG : ChecksumMode.CORRECT);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            counts.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            String method = ex.getRequestMethod();
            boolean head = method.equals("HEAD");
            if (!head && !method.equals("GET")) {
                send(ex, 405, "method not allowed\n", false);
                return;
            }
            Path file = resolve(path);
            if (file == null || !Files.isRegularFile(file)) {
                send(ex, 404, "not found\n", head);
                return;
            }
            if (path.endsWith(".sha256") && checksumMode != ChecksumMode.CORRECT) {
                if (checksumMode == ChecksumMode.MISSING) {
                    send(ex, 404, "not found\n", head);
                } else {
                    String onDisk = Files.readString(file, StandardCharsets.UTF_8).trim();
                    send(ex, 200, Sha256.of(("not " + onDisk).getBytes(StandardCharsets.UTF_8)), head);
                }
                return;
            }
            long size = Files.size(file);
            ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
            if (head) {
                ex.getResponseHeaders().set("Content-Length", Long.toString(size));
                ex.sendResponseHeaders(200, -1);
                return;
            }
            ex.sendResponseHeaders(200, size == 0 ? -1 : size);
            try (InputStream in = Files.newInputStream(file); OutputStream out = ex.getResponseBody()) {
                in.transferTo(out);
            }
        }
    }

    private Path resolve(String urlPath) {
        if (urlPath == null || !urlPath.startsWith("/") || urlPath.contains("\\") || urlPath.indexOf('\0') >= 0) {
            return null;
        }
        Path p = root;
        for (String seg : urlPath.split("/")) {
            if (seg.isEmpty() || seg.equals(".")) {
                continue;
            }
            if (seg.equals("..")) {
                return null;
            }
            p = p.resolve(seg);
        }
        return p.normalize().startsWith(root) ? p : null;
    }

    private static void send(HttpExchange ex, int status, String body, boolean head) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        if (head) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    /** {@code SampleServer DIR [VERSION [ARCH [PORT]]]}: writes a sample release into DIR and serves it until killed. */
    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 4) {
            System.err.println("usage: SampleServer DIR [VERSION (default v1.31.2) [ARCH (default amd64) [PORT (default any)]]]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        String version = args.length > 1 ? args[1] : "v1.31.2";
        String arch = args.length > 2 ? args[2] : "amd64";
        int port = args.length > 3 ? Integer.parseInt(args[3]) : 0;
        SampleRelease.Written w = SampleRelease.writeRelease(dir, version, arch);
        SampleServer server = start(dir, port);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        System.out.println("serving " + dir.toAbsolutePath() + " at " + server.baseUri());
        System.out.println("release base: " + server.baseUri() + "  tarball: "
                + server.uri("/" + w.version() + "/" + w.tarball().getFileName()) + "  sha256: " + w.sha256());
        System.out.flush();
        Thread.currentThread().join();
    }
}
