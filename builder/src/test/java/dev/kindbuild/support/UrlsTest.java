package dev.kindbuild.support;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UrlsTest {

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "LOCALHOST", "localhost.", "dl.localhost", "127.0.0.1", "127.1.2.3",
        "127.255.255.255", "[::1]", "::1", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]"})
    void loopbackHosts(String host) {
        assertTrue(Urls.isLoopbackHost(host), host);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "dl.k8s.io", "localhost.example.com", "mylocalhost", "128.0.0.1", "10.0.0.1",
        "127.0.0.256", "0.0.0.0", "[::2]", "[fe80::1]", "127.0.0.1.nip.io", "[::ffff:10.0.0.1]"})
    void nonLoopbackHosts(String host) {
        assertFalse(Urls.isLoopbackHost(host), host);
    }

    @Test
    void tlsPolicy() {
        assertDoesNotThrow(() -> Urls.checkTransport(URI.create("https://dl.k8s.io/x"), false));
        assertDoesNotThrow(() -> Urls.checkTransport(URI.create("http://127.0.0.1:8080/x"), false));
        assertDoesNotThrow(() -> Urls.checkTransport(URI.create("http://[::1]:8080/x"), false));
        assertDoesNotThrow(() -> Urls.checkTransport(URI.create("http://localhost/x"), false));
        assertDoesNotThrow(() -> Urls.checkTransport(URI.create("http://mirror.internal/x"), true));
        UserError e = assertThrows(UserError.class,
                () -> Urls.checkTransport(URI.create("http://alice:s3cret@mirror.internal/k.tar.gz"), false));
        assertTrue(e.getMessage().contains("plain http"), e.getMessage());
        assertTrue(e.getMessage().contains(Urls.ALLOW_INSECURE_FLAG), e.getMessage());
        assertTrue(e.getMessage().contains("http://mirror.internal/k.tar.gz"), e.getMessage());
        assertFalse(e.getMessage().contains("s3cret") || e.getMessage().contains("alice"), e.getMessage());
        UserError ftp = assertThrows(UserError.class, () -> Urls.checkTransport(URI.create("ftp://h/x"), true));
        assertTrue(ftp.getMessage().contains("unsupported URL scheme"), ftp.getMessage());
    }

    @Test
    void scrubsCredentials() {
        assertEquals("https://dl.example.com:8443/a/b.tar.gz?x=1",
                Urls.redact(URI.create("https://user:p%40ss@dl.example.com:8443/a/b.tar.gz?x=1")));
        assertEquals("https://dl.example.com/a", Urls.redact(URI.create("https://token@dl.example.com/a")));
        assertEquals("http://[::1]:9/a", Urls.redact(URI.create("http://u:p@[::1]:9/a")));
        assertEquals("https://h/x", Urls.redact(URI.create("https://h/x")));
        assertEquals("GET https://h/x failed; then http://h2/y", Urls.redact("GET https://u:pw@h/x failed; then http://a@h2/y"));
        UserError e = assertThrows(UserError.class, () -> Urls.parseHttpUrl("https://u:secret@/nohost"));
        assertFalse(e.getMessage().contains("secret"), e.getMessage());
    }

    @Test
    void proxyFromEnvironment() {
        EnvProxySelector s = new EnvProxySelector(Map.of(
                "HTTPS_PROXY", "http://proxy.corp:3128", "http_proxy", "proxy2.corp", "NO_PROXY", "internal.corp,.svc, 10.1.2.3"),
                null);
        assertEquals(List.of("proxy.corp:3128"), s.describe(URI.create("https://dl.k8s.io/x")));
        assertEquals(List.of("proxy2.corp:80"), s.describe(URI.create("http://example.com/x")));
        assertEquals(List.of("DIRECT"), s.describe(URI.create("https://mirror.internal.corp/x")));
        assertEquals(List.of("DIRECT"), s.describe(URI.create("https://a.b.svc/x")));
        assertEquals(List.of("DIRECT"), s.describe(URI.create("https://10.1.2.3/x")));
        assertEquals(List.of("DIRECT"), s.describe(URI.create("http://127.0.0.1:1/x")));
        assertEquals(List.of("DIRECT"), new EnvProxySelector(Map.of(), null).describe(URI.create("https://dl.k8s.io/")));
    }
}
