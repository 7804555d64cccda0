package dev.kindbuild.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.kube.KubeVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Where a base's containerd version is read from, and what happens when it cannot be. */
class BaseContainerdTest {
    private static final String STATUS = """
            Package: containerd-doc
            Status: install ok installed
            Version: 9.9.9

            Package: containerd
            Status: deinstall ok config-files
            Version: 1.4.13~ds1-1

            Package: runc
            Status: install ok installed
            Version: 1.1.5+ds1-1+deb12u1
            """;

    @Test
    void theLabelKindBuildPutsOnItsBases() {
        BaseContainerd b = BaseContainerd.fromLabels(Map.of("dev.kind-build.containerd-version", "1.6.20~ds1")).orElseThrow();
        assertEquals("1.6.20~ds1", b.version().text());
        assertEquals("its label dev.kind-build.containerd-version", b.source());
        assertEquals(Optional.empty(), BaseContainerd.fromLabels(Map.of()));
    }

    @Test
    void theInstalledDebianPackage() {
        assertEquals(Optional.empty(), BaseContainerd.fromDpkgStatus(STATUS), "removed packages and look-alikes do not count");
        String installed = STATUS + "\nPackage: containerd\nStatus: install ok installed\nPriority: optional\nVersion: 1.7.24~ds1-1\n";
        BaseContainerd b = BaseContainerd.fromDpkgStatus(installed).orElseThrow();
        assertEquals("1.7.24~ds1-1", b.version().text());
        assertEquals("its Debian package containerd", b.source());
    }

    @Test
    void anUnknownContainerdIsANoticeAndAKnownMismatchARefusal() {
        List<String> notices = new ArrayList<>();
        BaseContainerd.check(KubeVersion.parse("v1.37.0", "t"), Optional.empty(), "kindest/base:v1.0.0", notices::add);
        assertEquals(1, notices.size());
        assertTrue(notices.get(0).startsWith("cannot tell which containerd kindest/base:v1.0.0 has"), notices.get(0));
        assertTrue(notices.get(0).endsWith("not checked that it is 2.0 or newer, which Kubernetes v1.37.0 needs"), notices.get(0));

        Optional<BaseContainerd> old = BaseContainerd.fromLabels(Map.of("dev.kind-build.containerd-version", "1.6.20~ds1"));
        UserError e = assertThrows(UserError.class, () -> BaseContainerd.check(KubeVersion.parse("v1.36.1", "t"), old, "b", notices::add));
        assertTrue(e.getMessage().contains("base image b has containerd 1.6.20~ds1 (its label dev.kind-build.containerd-version)"), e.getMessage());
        BaseContainerd.check(KubeVersion.parse("v1.35.0", "t"), old, "b", notices::add);
        assertEquals(1, notices.size());
    }
}
