package dev.kindbuild.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.sample.SampleImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchGuardTest {

    @Test
    void readsTheArchitectureFromAnElfHeader() {
        assertEquals(Optional.of("arm64"), ArchGuard.elfArch(SampleImages.program("arm64", "hi")));
        assertEquals(Optional.of("amd64"), ArchGuard.elfArch(SampleImages.program("amd64", "hi")));
        assertEquals(Optional.empty(), ArchGuard.elfArch("#!/bin/sh\necho kubelet\n".getBytes(StandardCharsets.UTF_8)));
        assertEquals(Optional.empty(), ArchGuard.elfArch(new byte[] {0x7f, 'E', 'L'}));
    }

    @Test
    void refusesABinaryOfAnotherArchitectureAndPassesScripts(@TempDir Path dir) throws Exception {
        Path amd64 = Files.write(dir.resolve("kubelet"), SampleImages.program("amd64", "kubelet"));
        Path script = Files.writeString(dir.resolve("kubeadm"), "#!/bin/sh\n");
        ArchGuard.checkBinary("kubeadm", script, "arm64");
        ArchGuard.checkBinary("kubelet", amd64, "amd64");
        UserError e = assertThrows(UserError.class, () -> ArchGuard.checkBinary("kubelet of Kubernetes v1.31.2", amd64, "arm64"));
        assertEquals("kubelet of Kubernetes v1.31.2 is amd64, but this node image is for arm64: every part of a node (base userland, "
                + "Kubernetes binaries, images) must be arm64; give the arm64 one", e.getMessage());
        assertTrue(assertThrows(UserError.class, () -> ArchGuard.check("image registry.k8s.io/pause:3.10", "amd64", "arm64"))
                .getMessage().startsWith("image registry.k8s.io/pause:3.10 is amd64"));
    }
}
