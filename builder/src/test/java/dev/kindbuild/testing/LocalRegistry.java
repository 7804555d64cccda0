package dev.kindbuild.testing;

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
 *
 * <p>{@link #withHtpasswd} adds Basic authentication (an htpasswd file made with {@code htpasswd -Bbn}, from Debian's
 * apache2-utils); {@link #withTls} serves HTTPS with a certificate for 127.0.0.1 signed by a CA made here with openssl
 * ({@link #caCert()}). A missing tool skips, or with {@code CI=true} fails, like a missing registry.
 */
public final class LocalRegistry implements BeforeAllCallback, AfterAllCallback {
    private static final List<String> BINARIES = List.of("/usr/bin/docker-registry", "/usr/local/bin/docker-registry",
            "/usr/bin/registry", "/usr/local/bin/registry");

    private Process process;
    private Path dir;
    private Path log;
    private int port;
    private String user;
    private String password;
    private boolean tls;

    /** Requires {@code user}/{@code password} (Basic auth from an htpasswd file). */
    public LocalRegistry withHtpasswd(String user, String password) {
        this.user = user;
        this.password = password;
        return this;
    }

    /** Serves HTTPS only, with a certificate for 127.0.0.1 from a CA made for this registry. */
    public LocalRegistry withTls() {
        this.tls = true;
        return this;
    }

    private static void unavailable(String msg) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException(msg + " (CI=true: registry tests must run; scripts/install-deps provides it)");
        }
        Assumptions.abort(msg);
    }

    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    private List<String> authAndTlsConfig() throws IOException, InterruptedException {
        List<String> lines = new java.util.ArrayList<>();
        if (user != null) {
            if (!onPath("htpasswd")) {
                unavailable("htpasswd is missing, so the registry cannot require a password: apt-get install apache2-utils");
            }
            Files.writeString(dir.resolve("htpasswd"), run(dir, "htpasswd", "-Bbn", user, password).strip() + "\n");
            lines.addAll(List.of("auth:", "  htpasswd:", "    realm: kind-build-test", "    path: " + dir.resolve("htpasswd")));
        }
        if (tls) {
            if (!onPath("openssl")) {
                unavailable("openssl is missing, so no CA can be made for the TLS registry: apt-get install openssl");
            }
            run(dir, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
                    "-days", "2", "-subj", "/CN=kind-build test CA",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
            run(dir, "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                    "-subj", "/CN=127.0.0.1");
            Files.writeString(dir.resolve("server.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                    + "extendedKeyUsage=serverAuth\n");
            run(dir, "openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "server.crt", "-days", "2", "-extfile", "server.ext");
            lines.addAll(List.of("  tls:", "    certificate: " + dir.resolve("server.crt"), "    key: " + dir.resolve("server.key")));
        }
        return lines;
    }

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
        List<String> extra = authAndTlsConfig();
        List<String> auth = extra.stream().takeWhile(l -> !l.equals("  tls:")).toList();
        List<String> tlsLines = extra.subList(auth.size(), extra.size());
        Path config = dir.resolve("config.yml");
        Files.writeString(config, String.join("\n", auth) + "\n" + String.join("\n",
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
                String.join("\n", tlsLines),
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
        if (tls) {
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port), 500);
                return true;
            } catch (IOException e) {
                return false;
            }
        }
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/v2/").toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(1000);
            int code = c.getResponseCode();
            c.disconnect();
            return code == 200 || (user != null && code == 401);
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

    /** The PEM certificate of the CA that signed a {@link #withTls} registry's certificate. */
    public Path caCert() {
        if (!tls) {
            throw new IllegalStateException("not a TLS registry");
        }
        return dir.resolve("ca.crt");
    }

    /** Where the registry keeps its content ({@code docker/registry/v2/blobs/sha256/…/data}): for tampering tests. */
    public Path storageDir() {
        return dir.resolve("data");
    }

    /** The file holding blob {@code digest} in the registry's storage. */
    public Path blobFile(String digest) {
        String hex = digest.substring("sha256:".length());
        return storageDir().resolve("docker/registry/v2/blobs/sha256/" + hex.substring(0, 2) + "/" + hex + "/data");
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
