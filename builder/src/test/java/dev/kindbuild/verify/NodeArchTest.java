package dev.kindbuild.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.ImageInfo;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeArchTest {
    private static ImageInfo image(String arch) {
        return new ImageInfo("sha256:1", List.of("n:1"), arch, List.of(), List.of(), null, Map.of(), 1);
    }

    @Test
    void aNodeOfTheEnginesArchIsNativeAndMayRunAClusterOrBootWithoutEmulation() {
        NodeArch a = NodeArch.of(image("amd64"), "amd64");
        assertFalse(a.emulated());
        assertEquals(a, a.requireNative("n:1").requireBootable("n:1"));
        assertFalse(NodeArch.of(image(null), "amd64").emulated(), "an image without an architecture is amd64, as Docker takes it");
    }

    @Test
    void aForeignNodeIsRefusedAClusterInOneLineNamingBothArches() {
        NodeArch a = NodeArch.of(image("arm64"), "amd64");
        assertTrue(a.emulated());
        UserError e = assertThrows(UserError.class, () -> a.requireNative("kindest/node:v1"));
        assertEquals("verify --cluster needs a node of the engine's architecture (amd64), kindest/node:v1 is arm64 and containers"
                + " cannot start inside a node run under qemu-user emulation: run it on an arm64 machine, or use verify --offline here",
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void aServiceSystemdCouldNotSpawnIsExplainedByTheEmulationOnlyWhenEmulated() {
        String emulated = NodeArch.of(image("arm64"), "amd64").unspawnable();
        assertTrue(emulated.contains("qemu-user emulation") && emulated.contains("on an arm64 machine")
                && emulated.contains("--debian-suite bookworm"), emulated);
        String nativeNode = NodeArch.of(image("amd64"), "amd64").unspawnable();
        assertFalse(nativeNode.contains("qemu"), nativeNode);
        assertTrue(nativeNode.contains("journalctl -b"), nativeNode);
    }
}
