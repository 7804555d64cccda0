package dev.kindbuild.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.kindbuild.base.BaseImageRequest;
import dev.kindbuild.base.BaseRecipe;
import dev.kindbuild.components.ComponentRequest;
import dev.kindbuild.kube.KubeVersion;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which bundled base a node build takes when it is given none: the one whose containerd serves the kubelet. */
class BundledBaseChoiceTest {
    private static BaseImageRequest forVersion(String v) {
        return EnsureBaseImage.bundledRequest("amd64", Optional.of(KubeVersion.parse(v, "test")));
    }

    @Test
    void aKubeletThatSpeaksOnlyV1alpha2GetsTheContainerd17Base() {
        assertEquals(Map.of("containerd", new ComponentRequest(ComponentRequest.Kind.VERSION, "1.7")), forVersion("v1.20.2").components());
        assertEquals(Map.of("containerd", new ComponentRequest(ComponentRequest.Kind.VERSION, "1.7")), forVersion("v1.22.17").components());
        assertEquals(Map.of(), forVersion("v1.23.0").components());
        assertEquals(Map.of(), forVersion("v1.37.0").components());
        assertEquals(Map.of(), EnsureBaseImage.bundledRequest("amd64", Optional.empty()).components(), "unknown: the default");
        assertEquals(BaseImageRequest.DEFAULT_FROM, forVersion("v1.20.2").fromImage());
        assertEquals("debian:trixie-slim", BaseImageRequest.DEFAULT_FROM);
    }

    @Test
    void bothBundledBasesAreDistinctRecipesSoTheySitSideBySide() {
        BaseImageRequest legacy = forVersion("v1.20.2");
        BaseImageRequest current = forVersion("v1.31.2");
        assertEquals("containerd=version:1.7", legacy.componentsKey());
        assertEquals("", current.componentsKey());
        String a = BaseRecipe.bundled(legacy.fromImage(), "amd64", legacy.componentsKey()).hash();
        String b = BaseRecipe.bundled(current.fromImage(), "amd64", current.componentsKey()).hash();
        assertNotEquals(a, b);
        assertEquals(b, BaseRecipe.bundled(current.fromImage(), "amd64").hash(), "the defaults keep the plain recipe's identity");
    }
}
