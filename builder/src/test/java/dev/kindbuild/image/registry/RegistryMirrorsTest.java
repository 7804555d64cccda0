package dev.kindbuild.image.registry;

import dev.kindbuild.image.ImageRef;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RegistryMirrorsTest {

    @Test
    void mapsImagesToTheirMirror() {
        RegistryMirrors m = RegistryMirrors.parse(List.of("registry.k8s.io=127.0.0.1:5000", "docker.io=127.0.0.1:5000"));
        assertEquals("127.0.0.1:5000/pause:3.10", m.mirrored(ImageRef.parse("registry.k8s.io/pause:3.10")).orElseThrow().toString());
        assertEquals("127.0.0.1:5000/coredns/coredns:v1.11.3",
                m.mirrored(ImageRef.parse("registry.k8s.io/coredns/coredns:v1.11.3")).orElseThrow().toString());
        assertEquals("127.0.0.1:5000/kindest/kindnetd:v1", m.mirrored(ImageRef.parse("kindest/kindnetd:v1")).orElseThrow().toString());
        assertEquals("127.0.0.1:5000/library/busybox:latest", m.mirrored(ImageRef.parse("busybox")).orElseThrow().toString());
        assertTrue(m.mirrored(ImageRef.parse("quay.io/x/y:1")).isEmpty());
        assertEquals("registry.k8s.io=127.0.0.1:5000,docker.io=127.0.0.1:5000", m.toString());
    }

    @Test
    void aliasesPrefixesAndDuplicates() {
        RegistryMirrors m = RegistryMirrors.parse(List.of("index.docker.io=mirror.lan:5000/hub/", " docker.io = mirror.lan:5000/hub "));
        assertEquals("mirror.lan:5000/hub/kindest/kindnetd:v1", m.mirrored(ImageRef.parse("kindest/kindnetd:v1")).orElseThrow().toString());
        assertTrue(RegistryMirrors.parse(List.of()).isEmpty());
        assertTrue(RegistryMirrors.parse(null).isEmpty());
        UserError dup = assertThrows(UserError.class,
                () -> RegistryMirrors.parse(List.of("docker.io=a.lan", "docker.io=b.lan")));
        assertTrue(dup.getMessage().contains("docker.io"), dup.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "registry.k8s.io", "=127.0.0.1:5000", "registry.k8s.io=", "registry.k8s.io=http://127.0.0.1:5000",
        "https://registry.k8s.io=127.0.0.1:5000", "registry.k8s.io=127.0.0.1:99999", "bad host=127.0.0.1", "docker.io=docker.io",
        "registry.k8s.io=127.0.0.1:5000/UPPER"})
    void rejectsMalformedFlagsInOneLine(String flag) {
        UserError e = assertThrows(UserError.class, () -> RegistryMirrors.parse(List.of(flag)));
        assertTrue(e.getMessage().startsWith("--registry-mirror"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"registry.k8s.io=kbuser:Secret@127.0.0.1:5092", "registry.k8s.io=kbuser:Secret@127.0.0.1:5092/prefix",
        "kbuser:Secret@registry.k8s.io=127.0.0.1:5092", "registry.k8s.io=kbuser:Se=cret@127.0.0.1:5092"})
    void aMirrorWithCredentialsIsRefusedWithoutPrintingThem(String flag) {
        UserError e = assertThrows(UserError.class, () -> RegistryMirrors.parse(List.of(flag)));
        assertTrue(e.getMessage().startsWith("--registry-mirror"), e.getMessage());
        assertFalse(e.getMessage().contains("Secret") || e.getMessage().contains("cret") || e.getMessage().contains("kbuser"), e.getMessage());
        assertTrue(e.getMessage().contains("docker login"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void anInsecureRegistryWithCredentialsIsRefusedWithoutPrintingThem() {
        UserError e = assertThrows(UserError.class, () -> RegistryAccess.of(List.of("kbuser:Secret@127.0.0.1:5092")));
        assertFalse(e.getMessage().contains("Secret") || e.getMessage().contains("kbuser"), e.getMessage());
        assertTrue(e.getMessage().startsWith("--insecure-registry") && e.getMessage().contains("docker login"), e.getMessage());
    }
}
