package dev.kindbuild.image.registry;

import dev.kindbuild.image.ImageRef;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.cloud.tools.jib.api.Credential;
import dev.kindbuild.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RegistryAccessTest {

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1:5000", "127.0.0.1", "127.1.2.3:80", "localhost", "localhost:5000", "[::1]:5000", "::1"})
    void loopbackMayUsePlainHttp(String registry) {
        assertTrue(RegistryAccess.isLoopback(registry));
        assertTrue(RegistryAccess.defaults().allowsPlainHttp(registry));
    }

    @ParameterizedTest
    @ValueSource(strings = {"registry.k8s.io", "docker.io", "10.0.0.1:5000", "128.0.0.1", "127.0.0.1.example.com", "[::2]:5000", "localhostx"})
    void everythingElseNeedsTls(String registry) {
        assertFalse(RegistryAccess.isLoopback(registry));
        assertFalse(RegistryAccess.defaults().allowsPlainHttp(registry));
    }

    @Test
    void insecureRegistriesByName() {
        RegistryAccess a = RegistryAccess.of(List.of("myregistry.lan:5000", "index.docker.io"));
        assertTrue(a.allowsPlainHttp("myregistry.lan:5000"));
        assertTrue(a.allowsPlainHttp("docker.io"));
        assertFalse(a.allowsPlainHttp("myregistry.lan:5001"));
        assertFalse(a.allowsPlainHttp("registry.k8s.io"));
        assertThrows(UserError.class, () -> RegistryAccess.of(List.of("http://x.lan")));
        assertThrows(UserError.class, () -> RegistryAccess.of(List.of("")));
    }

    @Test
    void ports() {
        assertEquals(5000, RegistryAccess.port("127.0.0.1:5000"));
        assertEquals(5000, RegistryAccess.port("[::1]:5000"));
        assertEquals(-1, RegistryAccess.port("::1"));
        assertEquals(-1, RegistryAccess.port("registry.k8s.io"));
        assertEquals("::1", RegistryAccess.hostOnly("[::1]:5000"));
    }

    @Test
    void credentialsFromDockerConfigAuthsAndNeverInLogs(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("config.json");
        String auth = Base64.getEncoder().encodeToString("alice:s3cret-pw".getBytes());
        Files.writeString(config, "{\"auths\":{\"private.example:5000\":{\"auth\":\"" + auth + "\"},"
                + "\"https://index.docker.io/v1/\":{\"auth\":\"" + Base64.getEncoder().encodeToString("bob:hub-pw".getBytes()) + "\"}}}");
        RegistryAccess a = RegistryAccess.defaults().withDockerConfig(config);
        List<String> logs = new ArrayList<>();
        Optional<Credential> c = a.credential(ImageRef.parse("private.example:5000/x:1"), e -> logs.add(e.getMessage()));
        assertEquals("alice", c.orElseThrow().getUsername());
        assertEquals("s3cret-pw", c.orElseThrow().getPassword());
        assertEquals("bob", a.credential(ImageRef.parse("kindest/kindnetd:v1"), e -> logs.add(e.getMessage())).orElseThrow().getUsername());
        assertTrue(a.credential(ImageRef.parse("registry.k8s.io/pause:3.10"), e -> logs.add(e.getMessage())).isEmpty());
        assertTrue(logs.stream().noneMatch(l -> l.contains("s3cret") || l.contains(auth)), logs::toString);
        assertTrue(RegistryAccess.defaults().withDockerConfig(dir.resolve("missing.json"))
                .credential(ImageRef.parse("private.example:5000/x:1"), e -> {}).isEmpty());
    }
}
