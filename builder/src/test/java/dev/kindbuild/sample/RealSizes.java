package dev.kindbuild.sample;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sizes of a real Kubernetes v1.31.2 linux/amd64 server tarball and of the images a kind cluster pulls, which
 * {@link SampleSize#REAL} copies (decimal MB, rounded as the release and registry listings show them). Whatever the
 * version asked for, these are the sizes: they only need to be realistic, not exact.
 */
final class RealSizes {
    private RealSizes() {}

    static final long MB = 1_000_000L;

    /** The real tarball: kubernetes-server-linux-amd64.tar.gz of v1.31.2. */
    static final long SERVER_TARBALL_GZIPPED = 348 * MB;
    static final long SERVER_TARBALL_UNPACKED = 988 * MB;
    /** The images of {@link SampleEnvironment#mirrorTargets}, uncompressed (their layers in the registry are gzipped). */
    static final long PULLED_IMAGES = 449 * MB;

    /** kubernetes/server/bin/* binaries and their sizes. */
    static final Map<String, Long> SERVER_BINARIES = binaries();

    private static Map<String, Long> binaries() {
        Map<String, Long> b = new LinkedHashMap<>();
        b.put("kubeadm", 48 * MB);
        b.put("kubelet", 78 * MB);
        b.put("kubectl", 56 * MB);
        b.put("kube-apiserver", 93 * MB);
        b.put("kube-controller-manager", 87 * MB);
        b.put("kube-scheduler", 64 * MB);
        b.put("kube-proxy", 65 * MB);
        b.put("apiextensions-apiserver", 52 * MB);
        b.put("kube-aggregator", 51 * MB);
        b.put("kubectl-convert", 52 * MB);
        b.put("kube-log-runner", 2 * MB);
        b.put("mounter", 2 * MB);
        return b;
    }

    /**
     * The layers of a control-plane image tar under its binary's layer: distroless static + go-runner for all; kube-proxy
     * is built on distroless-iptables, which is bigger.
     */
    static List<Long> controlPlaneBaseLayers(String name) {
        return name.equals("kube-proxy") ? List.of(2 * MB, 16 * MB, 2 * MB) : List.of(2 * MB, 2 * MB);
    }

    /**
     * The layers of a pulled image, base first; the last one holds the image's program. Keyed by the last path segment
     * of the repository ({@code registry.k8s.io/coredns/coredns} → {@code coredns}).
     */
    static List<Long> pulledImageLayers(String repository) {
        String name = repository.substring(repository.lastIndexOf('/') + 1);
        return switch (name) {
            case "etcd" -> List.of(2 * MB, 6 * MB, 32 * MB, 40 * MB, 70 * MB);
            case "coredns" -> List.of(2 * MB, 1 * MB, 58 * MB);
            case "pause" -> List.of(MB * 7 / 10);
            case "kindnetd" -> List.of(25 * MB, 40 * MB, 55 * MB);
            case "local-path-provisioner" -> List.of(30 * MB, 20 * MB, 60 * MB);
            case "local-path-helper" -> List.of(2 * MB, 5 * MB);
            default -> List.of(2 * MB, 20 * MB);
        };
    }
}
