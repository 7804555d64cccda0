package dev.kindbuild.base;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which images found by the base's recipe label may be reused as the base: images built from it inherit the label. */
class BaseReuseTest {
    private static final Map<String, String> BASE = Map.of("dev.kind-build.image", "base", "dev.kind-build.recipe-hash", "ae25");

    @Test
    void theBaseItselfIsNoNodeImage() {
        assertFalse(BaseImageBuild.isNodeImage(BASE));
    }

    @Test
    void anImageBuiltFromTheBaseAsANodeIsNeverTakenForIt() {
        // A Dockerfile FROM the base that adds kind's version label (what once got the shared base tag moved onto it).
        Map<String, String> derived = new java.util.HashMap<>(BASE);
        derived.put("io.x-k8s.kind.kubernetes-version", "v1.31.2");
        assertTrue(BaseImageBuild.isNodeImage(derived));
        assertTrue(BaseImageBuild.isNodeImage(Map.of("dev.kind-build.image", "node", "dev.kind-build.recipe-hash", "ae25")));
        assertTrue(BaseImageBuild.isNodeImage(Map.of("dev.kind-build.images", "registry.k8s.io/pause:3.10@sha256:00")));
    }
}
