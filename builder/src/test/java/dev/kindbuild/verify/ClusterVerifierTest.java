package dev.kindbuild.verify;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** When a system pod counts as up: Running, and ready unless it is a static pod. */
class ClusterVerifierTest {
    private static boolean up(String line) {
        return ClusterVerifier.podUp(line.split("\\s+"));
    }

    @Test
    void runningAndReadyPodsAreUp() {
        assertTrue(up("kube-system/coredns-1 Running ReplicaSet true"));
        assertTrue(up("kube-system/kindnet-x Running DaemonSet true true"));
    }

    @Test
    void staticPodsNeedOnlyRun() {
        assertTrue(up("kube-system/etcd-node Running Node false"));
    }

    @Test
    void notReadyPendingOrUnknownPodsAreNotUp() {
        assertFalse(up("kube-system/coredns-1 Running ReplicaSet false"));
        assertFalse(up("kube-system/kindnet-x Running DaemonSet true false"));
        assertFalse(up("kube-system/coredns-1 Pending ReplicaSet"));
        assertFalse(up("kube-system/etcd-node Failed Node false"));
        assertFalse(up("local-path-storage/p CrashLoopBackOff"));
    }
}
