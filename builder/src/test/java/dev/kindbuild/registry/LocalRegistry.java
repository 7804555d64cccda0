package dev.kindbuild.registry;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A scratch distribution registry ({@code docker-registry serve}) on a free loopback port, for one test class:
 * {@code @RegisterExtension static final LocalRegistry REGISTRY = new LocalRegistry();}. Its log is kept so tests can
 * count requests (e.g. blob downloads). Without the binary the tests are skipped — except when {@code CI=true}, where
 * they fail.
 */
public final class LocalRegistry implements BeforeAllCallback, AfterAllCallback {
    private static final List<String> BINARIES = List.of("/usr/bin/docker-registry", "/usr/local/bin/docker-registry",
            "/usr/bin/registry", "/usr/local/bin/registry");

    private Process process;
    private Path dir;
    private Path log;
    private int port;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        String override = System.getProperty("kindbuild.registry.binary");
        String binary = (override != null ? List.of(override) : BINARIES).stream()
                .filter(b -> Files.isExecutable(Path.of(b))).findFirst().orElse(null);
        if (binary == null) {
            String msg = "no distribution registry binary (docker-registry) on this machine: apt-get install docker-registry";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new IllegalStateException(msg + " (CI=true: registry tests must run)");
            }
            Assumptions.abort(msg);
        }
        dir = Files.createTempDirectory("kind-build-registry");
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path config = dir.resolve("config.yml");
        Files.writeString(config, String.join("\n",
                "version: 0.1",
                "log:",
                "  level: info",
                "  accesslog:",
                "    disabled: false",
                "storage:",
                "  filesystem:",
                "    rootdirectory: " + dir.resolve("data"),
                "  delete:",
                "    enabled: true",
                "http:",
                "  addr: 127.0.0.1:" + port,
                ""));
        log = dir.resolve("registry.log");
        process = new ProcessBuilder(binary, "serve", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("docker-registry exited at start: " + Files.readString(log));
            }
            if (answers()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("docker-registry did not answer on 127.0.0.1:" + port + " within 30s");
    }

    private boolean answers() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/v2/").toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(1000);
            int code = c.getResponseCode();
            c.disconnect();
            return code == 200;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        if (dir != null) {
            try (Stream<Path> paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** {@code 127.0.0.1:PORT} */
    public String host() {
        return "127.0.0.1:" + port;
    }

    public Path logFile() {
        return log;
    }

    /** The registry's log so far. */
    public String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** How many access-log lines so far are GETs of a path matching {@code pathRegex}. */
    public long countGets(String pathRegex) {
        Pattern p = Pattern.compile("\"GET (" + pathRegex + ") HTTP");
        return logText().lines().filter(l -> p.matcher(l).find()).count();
    }

    /** GETs of any blob (layer or config) so far. */
    public long blobGets() {
        return countGets("/v2/[^ ]*/blobs/sha256:[0-9a-f]{64}");
    }
}
