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
    void aMinorOutsideTheTableSaysWhatToDo() {
        UserError e = assertThrows(UserError.class, () -> images("v1.19.16"));
        assertTrue(e.getMessage().startsWith("kind-build's table of kubeadm images has no entry for Kubernetes 1.19"), e.getMessage());
    }
}
