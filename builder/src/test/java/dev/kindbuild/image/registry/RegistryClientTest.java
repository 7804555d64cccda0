package dev.kindbuild.image.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.progress.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client's protocol rules against fake registries (the JDK's HTTP server): Bearer tokens from the challenge's
 * realm with the credential, retries on 503, no Authorization header across a redirect to another host, and no
 * credential ever sent over plain HTTP to a non-loopback registry.
 */
class RegistryClientTest {
    static final String USER = "robot";
    static final String PASSWORD = "Top-Secret-42";
    static final byte[] MANIFEST = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST
            + "\",\"config\":{},\"layers\":[]}").getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    final List<HttpServer> servers = new CopyOnWriteArrayList<>();
    final List<PlainHttpFront> fronts = new CopyOnWriteArrayList<>();
    /** Every request the fakes saw: "METHOD path?query auth=<Authorization header or -> ". */
    final List<String> seen = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws IOException {
        for (PlainHttpFront f : fronts) {
            f.close();
        }
        servers.forEach(s -> s.stop(0));
    }

    /** A fake registry on {@code address}, reached through a front that rejects TLS as Go's servers do. */
    HttpServer server(InetAddress address) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        s.start();
        servers.add(s);
        fronts.add(new PlainHttpFront(address, InetAddress.getLoopbackAddress(), s.getAddress().getPort()));
        return s;
    }

    /** The address clients use for {@code s}: its front's. */
    String hostPort(HttpServer s) {
        return fronts.get(servers.indexOf(s)).hostPort();
    }

    int port(HttpServer s) {
        return fronts.get(servers.indexOf(s)).port();
    }

    void record(HttpExchange x) {
        String q = x.getRequestURI().getRawQuery();
        seen.add(x.getRequestMethod() + " " + x.getRequestURI().getPath() + (q == null ? "" : "?" + q) + " auth="
                + Optional.ofNullable(x.getRequestHeaders().getFirst("Authorization")).orElse("-"));
    }

    static void reply(HttpExchange x, int status, Map<String, String> headers, byte[] body) throws IOException {
        headers.forEach((k, v) -> x.getResponseHeaders().add(k, v));
        x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            x.getResponseBody().write(body);
        }
        x.close();
    }

    RegistryClient client(String registry, RegistryAccess access) {
        return new RegistryClient(registry, access, RegistryTrust.jvmDefault(), Progress.SILENT, 10);
    }

    @Test
    void bearerTokenFromTheRealmWithTheCredentialRetriesAndRedirectsWithoutAuthorization() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        HttpServer storage = server(loopback);
        byte[] blob = "layer bytes".getBytes(StandardCharsets.UTF_8);
        String blobDigest = "sha256:" + Sha256.of(blob);
        storage.createContext("/", x -> {
            record(x);
            reply(x, 200, Map.of(), blob);
        });
        HttpServer registry = server(loopback);
        String realm = "http://" + hostPort(registry) + "/token";
        AtomicInteger manifestCalls = new AtomicInteger();
        registry.createContext("/", x -> {
            record(x);
            String path = x.getRequestURI().getPath();
            String auth = x.getRequestHeaders().getFirst("Authorization");
            if (path.equals("/token")) {
                boolean basic = ("Basic " + DockerConfigs.basic(USER, PASSWORD)).equals(auth);
                reply(x, basic ? 200 : 401, Map.of(), basic ? "{\"token\":\"tok-xyz-789\"}".getBytes(StandardCharsets.UTF_8) : new byte[0]);
                return;
            }
            if (!"Bearer tok-xyz-789".equals(auth)) {
                reply(x, 401, Map.of("WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"fake-registry\""), new byte[0]);
                return;
            }
            if (path.equals("/v2/team/app/manifests/1")) {
                if (manifestCalls.incrementAndGet() == 1) {
                    reply(x, 503, Map.of(), new byte[0]);
                    return;
                }
                reply(x, 200, Map.of("Content-Type", MediaTypes.OCI_MANIFEST), MANIFEST);
                return;
            }
            if (path.equals("/v2/team/app/blobs/" + blobDigest)) {
                // "localhost" is another authority than 127.0.0.1: the header must not follow.
                reply(x, 307, Map.of("Location", "http://localhost:" + port(storage) + "/bucket/blob"), new byte[0]);
                return;
            }
            reply(x, 404, Map.of(), new byte[0]);
        });
        String host = hostPort(registry);
        Path config = DockerConfigs.withLogin(tmp, host, USER, PASSWORD);
        RegistryClient client = client(host, RegistryAccess.defaults().withDockerConfig(config));

        RegistryManifest m = client.manifest("team/app", "1");
        assertArrayEquals(MANIFEST, m.bytes());
        assertEquals(MediaTypes.OCI_MANIFEST, m.mediaType());
        assertEquals("sha256:" + Sha256.of(MANIFEST), m.digest());
        assertEquals(2, manifestCalls.get(), "the 503 was retried");
        assertTrue(seen.contains("GET /token?service=fake-registry&scope=repository%3Ateam%2Fapp%3Apull auth=Basic "
                + DockerConfigs.basic(USER, PASSWORD)), seen.toString());

        try (InputStream in = client.blob("team/app", blobDigest)) {
            assertArrayEquals(blob, in.readAllBytes());
        }
        assertTrue(seen.contains("GET /bucket/blob auth=-"), seen.toString());
        assertEquals(1, seen.stream().filter(s -> s.startsWith("GET /token")).count(), "the token is cached for its scope");
    }

    @Test
    void noCredentialTravelsOverPlainHttpToANonLoopbackRegistry() throws Exception {
        InetAddress external = nonLoopbackAddress();
        Assumptions.assumeTrue(external != null, "this machine has no non-loopback IPv4 address");
        HttpServer registry = server(external);
        registry.createContext("/", x -> {
            record(x);
            if (x.getRequestHeaders().containsKey("Authorization")) {
                reply(x, 200, Map.of("Content-Type", MediaTypes.OCI_MANIFEST), MANIFEST);
                return;
            }
            reply(x, 401, Map.of("WWW-Authenticate", "Basic realm=\"fake\""), new byte[0]);
        });
        String host = hostPort(registry);
        Path config = DockerConfigs.withLogin(tmp, host, USER, PASSWORD);
        RegistryClient client = client(host, RegistryAccess.of(List.of(host)).withDockerConfig(config));

        RegistryException e = assertThrows(RegistryException.class, () -> client.manifest("team/app", "1"));
        assertTrue(e.getMessage().contains("only over TLS or to loopback"), e.getMessage());
        assertFalse(seen.isEmpty(), "it did talk plain HTTP (the host is --insecure-registry)");
        assertTrue(seen.stream().allMatch(s -> s.endsWith("auth=-")), seen.toString());
        assertFalse(DockerConfigs.allMessages(e).contains(PASSWORD));
    }

    @Test
    void plainHttpIsRefusedWhereTheRuleDoesNotAllowIt() throws Exception {
        InetAddress external = nonLoopbackAddress();
        Assumptions.assumeTrue(external != null, "this machine has no non-loopback IPv4 address");
        HttpServer registry = server(external);
        registry.createContext("/", x -> {
            record(x);
            reply(x, 200, Map.of(), new byte[0]);
        });
        RegistryException e = assertThrows(RegistryException.class,
                () -> client(hostPort(registry), RegistryAccess.defaults()).manifest("team/app", "1"));
        assertTrue(e.getMessage().contains("does not speak TLS") && e.getMessage().contains("--insecure-registry"), e.getMessage());
        assertEquals(List.of(), seen, "no plain HTTP request was made");
    }

    @Test
    void manifestWhoseBytesDisagreeWithTheRegistrysDigestIsRefused() throws Exception {
        HttpServer registry = server(InetAddress.getLoopbackAddress());
        registry.createContext("/", x -> reply(x, 200, Map.of("Content-Type", MediaTypes.OCI_MANIFEST,
                "Docker-Content-Digest", "sha256:" + "0".repeat(64)), MANIFEST));
        RegistryException e = assertThrows(RegistryException.class,
                () -> client(hostPort(registry), RegistryAccess.defaults()).manifest("team/app", "1"));
        assertTrue(e.getMessage().contains("labelled it sha256:000"), e.getMessage());
    }

    @Test
    void aBlobDownloadThatBreaksOffIsStartedAgainAndVerified() throws Exception {
        ImageStore layout = ImageStore.open(tmp.resolve("layout"));
        StoredImage image = TestImages.image(layout, Platform.linux("amd64"), "broken",
                List.of(TestImages.layer(layout, "big", new byte[300_000])));
        String layer = image.layers().get(0).digest();
        AtomicInteger layerGets = new AtomicInteger();
        HttpServer registry = server(InetAddress.getLoopbackAddress());
        registry.createContext("/", x -> {
            record(x);
            String path = x.getRequestURI().getPath();
            if (path.equals("/v2/")) {
                reply(x, 200, Map.of(), new byte[0]);
            } else if (path.endsWith("/manifests/1")) {
                reply(x, 200, Map.of("Content-Type", MediaTypes.OCI_MANIFEST), layout.readSmall(image.manifest().digest()));
            } else if (path.contains("/blobs/")) {
                byte[] all = Files.readAllBytes(layout.blobPath(path.substring(path.lastIndexOf('/') + 1)));
                if (path.endsWith(layer) && layerGets.incrementAndGet() == 1) {
                    x.sendResponseHeaders(200, all.length);
                    x.getResponseBody().write(all, 0, all.length / 2);
                    x.getResponseBody().flush();
                    x.close(); // fewer bytes than announced: the JDK server drops the connection
                    return;
                }
                reply(x, 200, Map.of(), all);
            } else {
                reply(x, 404, Map.of(), new byte[0]);
            }
        });
        RegistryClients clients = new RegistryClients(RegistryAccess.defaults(), RegistryTrust.jvmDefault(), Progress.SILENT, 10);
        ImageStore store = ImageStore.open(tmp.resolve("store"));

        PullResult r = new RegistryPull(clients, RegistryMirrors.NONE, store, Progress.SILENT)
                .pull(ImageRef.parse(hostPort(registry) + "/team/app:1"), Platform.linux("amd64"));

        assertEquals(2, layerGets.get(), "the broken download was started again");
        assertEquals(image.config().digest(), r.configDigest());
        assertTrue(store.has(layer));
        assertEquals(1, r.layersTransferred());
    }

    static InetAddress nonLoopbackAddress() throws IOException {
        Map<String, InetAddress> found = new ConcurrentHashMap<>();
        for (NetworkInterface ni : java.util.Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!ni.isUp() || ni.isLoopback()) {
                continue;
            }
            for (InetAddress a : java.util.Collections.list(ni.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
                    found.putIfAbsent("a", a);
                }
            }
        }
        return found.get("a");
    }
}
