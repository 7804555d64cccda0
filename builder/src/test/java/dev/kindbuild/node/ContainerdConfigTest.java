package dev.kindbuild.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.kube.KubeVersion;
import dev.kindbuild.recipe.RecipeTree;
import org.junit.jupiter.api.Test;

class ContainerdConfigTest {
    private static final String BASE = RecipeTree.load("base-image").file("files/etc/containerd/config.toml").text();

    @Test
    void aNodeGetsKubeadmsPauseImageAndTheCollectorsDefaults() {
        String toml = ContainerdConfig.forNode(BASE, KubeVersion.parse("v1.31.2", "test"), "registry.k8s.io/pause:3.10");
        assertEquals("registry.k8s.io/pause:3.10", ContainerdConfig.sandboxImage(toml).orElseThrow());
        assertTrue(toml.contains("SystemdCgroup = true"), "1.24 and later keep the systemd driver");
        // The loader does not depend on when the collector runs (node-image/README.md): its settings stay containerd's.
        assertFalse(toml.contains("io.containerd.gc.v1.scheduler"), toml);
    }

    @Test
    void olderKubernetesGetsCgroupfsAndABaseSchedulerSectionIsKept() {
        String own = BASE + "\n[plugins.\"io.containerd.gc.v1.scheduler\"]\n  mutation_threshold = 7\n";
        String toml = ContainerdConfig.forNode(own, KubeVersion.parse("v1.20.2", "test"), "k8s.gcr.io/pause:3.2");
        assertTrue(toml.contains("SystemdCgroup = false"), toml);
        assertTrue(toml.endsWith("mutation_threshold = 7\n"), "the base's own setting wins: " + toml);
        assertEquals("k8s.gcr.io/pause:3.2", ContainerdConfig.sandboxImage(toml).orElseThrow());
    }
}
