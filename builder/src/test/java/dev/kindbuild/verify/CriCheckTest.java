package dev.kindbuild.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.node.ImageRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CriCheckTest {
    private static final String BASE_CONFIG = Path.of(System.getProperty("kindbuild.home", ".."))
            .resolve("base-image/files/etc/containerd/config.toml").toString();

    @Test
    void readsSandboxImageAndCgroupDriverFromTheNodesContainerdConfig() throws Exception {
        String toml = Files.readString(Path.of(BASE_CONFIG));
        assertTrue(CriCheck.systemdCgroup(toml), "the base's runc runs under systemd");
        assertTrue(CriCheck.sandboxImage(toml).isPresent());
        String v120 = toml.replace("SystemdCgroup = true", "SystemdCgroup = false")
                .replaceFirst("(?m)^(\\s*)sandbox_image = \"[^\"]*\"", "$1sandbox_image = \"k8s.gcr.io/pause:3.2\"");
        assertFalse(CriCheck.systemdCgroup(v120));
        assertEquals(Optional.of("k8s.gcr.io/pause:3.2"), CriCheck.sandboxImage(v120));
        assertFalse(CriCheck.systemdCgroup("version = 2\n"), "containerd's default is cgroupfs");
        assertEquals(Optional.empty(), CriCheck.sandboxImage("version = 2\n"));
    }

    @Test
    void runsThePauseImageInThePodElseTheFirstRecorded() {
        ImageRecord etcd = new ImageRecord("registry.k8s.io/etcd:3.5.16-0", "", "sha256:1", "f", "pulled", 1);
        ImageRecord pause = new ImageRecord("registry.k8s.io/pause:3.10", "", "sha256:2", "f", "pulled", 1);
        assertEquals(Optional.of("registry.k8s.io/pause:3.10"), CriCheck.podImage(List.of(etcd, pause)));
        assertEquals(Optional.of("registry.k8s.io/etcd:3.5.16-0"), CriCheck.podImage(List.of(etcd)));
        assertEquals(Optional.empty(), CriCheck.podImage(List.of()));
    }

    @Test
    void writesTheConfigKindnetWritesForOneNode() throws Exception {
        var conf = new ObjectMapper().readTree(CriCheck.kindnetConflist("10.244.0.0/24"));
        assertEquals("kindnet", conf.path("name").asText());
        assertEquals("ptp", conf.path("plugins").path(0).path("type").asText());
        assertEquals("10.244.0.0/24", conf.path("plugins").path(0).path("ipam").path("ranges").path(0).path(0).path("subnet").asText());
        assertEquals("portmap", conf.path("plugins").path(1).path("type").asText());
    }
}
