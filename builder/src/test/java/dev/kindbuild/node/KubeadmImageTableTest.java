package dev.kindbuild.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.kube.KubeVersion;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bundled table gives what kubeadm itself lists, per minor and patch. */
class KubeadmImageTableTest {
    private static List<String> images(String version) {
        return KubeadmImageTable.bundled().images(KubeVersion.parse(version, "test"));
    }

    @Test
    void v1202IsWhatTheRealKubeadmLists() {
        // `kubeadm config images list --kubernetes-version v1.20.2` of the real v1.20.2 kubeadm built here.
        assertEquals(List.of("k8s.gcr.io/kube-apiserver:v1.20.2", "k8s.gcr.io/kube-controller-manager:v1.20.2",
                "k8s.gcr.io/kube-scheduler:v1.20.2", "k8s.gcr.io/kube-proxy:v1.20.2", "k8s.gcr.io/pause:3.2",
                "k8s.gcr.io/etcd:3.4.13-0", "k8s.gcr.io/coredns:1.7.0"), images("v1.20.2"));
    }

    @Test
    void patchReleasesPickTheirTags() {
        assertTrue(images("v1.28.5").contains("registry.k8s.io/etcd:3.5.9-0"));
        assertTrue(images("v1.28.6").contains("registry.k8s.io/etcd:3.5.10-0"));
        assertTrue(images("v1.28.15").contains("registry.k8s.io/etcd:3.5.15-0"));
        assertTrue(images("v1.31.0").contains("registry.k8s.io/coredns/coredns:v1.11.1"));
        assertTrue(images("v1.31.2").containsAll(List.of("registry.k8s.io/coredns/coredns:v1.11.3",
                "registry.k8s.io/pause:3.10", "registry.k8s.io/etcd:3.5.15-0", "registry.k8s.io/kube-proxy:v1.31.2")));
    }

    @Test
    void coversEveryMinorFrom120To137() {
        for (int minor = 20; minor <= 37; minor++) {
            List<String> list = images("v1." + minor + ".0");
            assertEquals(7, list.size(), list.toString());
            assertTrue(list.get(0).endsWith("/kube-apiserver:v1." + minor + ".0"), list.toString());
        }
        // `kubeadm config images list` of v1.34.0 and v1.34.1
        assertEquals(List.of("registry.k8s.io/kube-apiserver:v1.34.1", "registry.k8s.io/kube-controller-manager:v1.34.1",
                "registry.k8s.io/kube-scheduler:v1.34.1", "registry.k8s.io/kube-proxy:v1.34.1", "registry.k8s.io/pause:3.10.1",
                "registry.k8s.io/etcd:3.6.4-0", "registry.k8s.io/coredns/coredns:v1.12.1"), images("v1.34.1"));
        assertTrue(images("v1.33.0").containsAll(List.of("registry.k8s.io/etcd:3.5.21-0", "registry.k8s.io/coredns/coredns:v1.12.0",
                "registry.k8s.io/pause:3.10")));
    }

    @Test
    void whatTheTableDoesNotVouchForIsSaid() {
        KubeadmImageTable table = KubeadmImageTable.bundled();
        assertEquals(java.util.Optional.empty(), table.caveat(KubeVersion.parse("v1.34.1", "t")));
        assertEquals(java.util.Optional.empty(), table.caveat(KubeVersion.parse("v1.20.2", "t")));
        assertEquals("the table's 1.34 entry was checked up to 1.34.1; later patch releases may ask for a newer etcd",
                table.caveat(KubeVersion.parse("v1.34.5", "t")).orElseThrow());
        assertEquals("the table's 1.37 entry is not checked against kubeadm 1.37's constants.go",
                table.caveat(KubeVersion.parse("v1.37.0", "t")).orElseThrow());
    }

    @Test
    void aMinorOutsideTheTableSaysWhatToDo() {
        UserError e = assertThrows(UserError.class, () -> images("v1.19.16"));
        assertTrue(e.getMessage().startsWith("kind-build's table of kubeadm images has no entry for Kubernetes 1.19"), e.getMessage());
    }
}
