package dev.kindbuild.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Kubernetes minor → CRI API → containerd range, and the refusal of a base that cannot serve the kubelet. */
class RuntimeCompatibilityTest {
    private static KubeVersion k(String v) {
        return KubeVersion.parse(v, "test");
    }

    private static ContainerdVersion c(String v) {
        return ContainerdVersion.parse(v).orElseThrow();
    }

    @Test
    void containerdVersionsAsPackagesAndBinariesSpellThem() {
        assertEquals(0, c("1.6.20").compareTo(ContainerdVersion.fromVersionOutput(
                "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3\n").orElseThrow()));
        assertEquals("1.6.20~ds1", ContainerdVersion.fromVersionOutput("containerd github.com/containerd/containerd 1.6.20~ds1 x").orElseThrow().text());
        assertEquals(0, c("2.3.1").compareTo(ContainerdVersion.fromVersionOutput(
                "containerd github.com/containerd/containerd/v2 v2.3.1 0123abcd").orElseThrow()));
        assertEquals(0, c("1.7.27").compareTo(ContainerdVersion.fromVersionOutput("containerd containerd.io 1.7.27 05044ec0").orElseThrow()));
        assertEquals(Optional.empty(), ContainerdVersion.fromVersionOutput("bash: containerd: command not found"));
        assertEquals(Optional.empty(), ContainerdVersion.parse("unknown"));
        assertTrue(c("1.7.24~ds1-1").compareTo(c("1.6.20")) > 0);
        assertTrue(c("2.0.0").compareTo(c("1.7.30")) > 0);
    }

    @Test
    void theTable() {
        assertEquals("v1alpha2", RuntimeCompatibility.of(k("v1.20.2")).criApi());
        assertEquals("v1alpha2", RuntimeCompatibility.of(k("v1.22.17")).criApi());
        assertEquals("v1 (v1alpha2 as fallback)", RuntimeCompatibility.of(k("v1.23.0")).criApi());
        assertEquals("v1", RuntimeCompatibility.of(k("v1.26.0")).criApi());
        // below 1.23: containerd 1.x only (2.0 removed CRI v1alpha2)
        assertTrue(RuntimeCompatibility.of(k("v1.20.2")).accepts(c("1.6.20")));
        assertTrue(RuntimeCompatibility.of(k("v1.20.2")).accepts(c("1.7.24")));
        assertFalse(RuntimeCompatibility.of(k("v1.20.2")).accepts(c("2.1.9")));
        // 1.23 to 1.35: 1.6/1.7 or 2.x
        for (String v : new String[] {"v1.23.0", "v1.31.2", "v1.35.9"}) {
            assertTrue(RuntimeCompatibility.of(k(v)).accepts(c("1.6.20")), v);
            assertTrue(RuntimeCompatibility.of(k(v)).accepts(c("2.3.1")), v);
            assertFalse(RuntimeCompatibility.of(k(v)).accepts(c("1.5.11")), v);
        }
        // 1.36 and later: containerd 2.0 or newer
        assertFalse(RuntimeCompatibility.of(k("v1.36.0")).accepts(c("1.7.24")));
        assertTrue(RuntimeCompatibility.of(k("v1.36.0")).accepts(c("2.0.0")));
        assertTrue(RuntimeCompatibility.of(k("v1.37.0-rc.1")).accepts(c("2.1.9")));
        assertEquals("2.0 or newer", RuntimeCompatibility.of(k("v2.0.0")).containerdRange());
        assertEquals("older than 2.0", RuntimeCompatibility.of(k("v1.21.0")).containerdRange());
    }

    @Test
    void cgroupV1EndsWith135() {
        assertTrue(RuntimeCompatibility.runsOnCgroupV1(k("v1.34.9")));
        assertFalse(RuntimeCompatibility.runsOnCgroupV1(k("v1.35.0")));
        assertFalse(RuntimeCompatibility.runsOnCgroupV1(k("v1.37.0")));
    }

    @Test
    void aMismatchIsOneLineNamingBothVersionsAndTheFix() {
        UserError e = assertThrows(UserError.class, () -> RuntimeCompatibility.check(k("v1.37.0"), c("1.6.20~ds1"),
                "kindest/base:v20261201-abcdef12", "its label dev.kind-build.containerd-version"));
        assertEquals("Kubernetes v1.37.0 needs containerd 2.0 or newer (its kubelet speaks CRI v1), but base image "
                + "kindest/base:v20261201-abcdef12 has containerd 1.6.20~ds1 (its label dev.kind-build.containerd-version): "
                + "pass --base-image with a base whose containerd is 2.0 or newer (kind's kindest/base has containerd 2.x since kind v0.27), "
                + "or build Kubernetes 1.35 or older on this base", e.getMessage());

        UserError old = assertThrows(UserError.class, () -> RuntimeCompatibility.check(k("v1.20.2"), c("2.1.9~ds1-1"), "b:2", "containerd --version"));
        assertTrue(old.getMessage().startsWith("Kubernetes v1.20.2 needs containerd older than 2.0 (its kubelet speaks CRI v1alpha2), "
                + "but base image b:2 has containerd 2.1.9~ds1-1 (containerd --version): pass --base-image with a base whose containerd "
                + "is older than 2.0"), old.getMessage());
        assertTrue(old.getMessage().endsWith("or build Kubernetes 1.23 or newer on this base"), old.getMessage());

        RuntimeCompatibility.check(k("v1.31.2"), c("1.6.20~ds1"), "b", "s");
        RuntimeCompatibility.check(k("v1.20.2"), c("1.6.20~ds1"), "b", "s");
        RuntimeCompatibility.check(k("v1.37.0"), c("2.1.9"), "b", "s");
    }
}
