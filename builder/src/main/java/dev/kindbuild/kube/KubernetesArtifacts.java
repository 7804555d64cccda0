package dev.kindbuild.kube;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a node image needs from Kubernetes, on local disk.
 *
 * @param version       normalised {@code vX.Y.Z[-pre][+build]}
 * @param arch          {@code amd64}, {@code arm64}, ...
 * @param binaries      {@code kubeadm}, {@code kubelet}, {@code kubectl} → executable file
 * @param imageTars     docker-archive tars of the control-plane images that came with the source (may be empty)
 * @param origin        one human line saying where they came from (no credentials)
 * @param tarballSha256 lower-case hex SHA-256 of the server tarball, when there was one
 */
public record KubernetesArtifacts(
        String version,
        String arch,
        Map<String, Path> binaries,
        List<Path> imageTars,
        String origin,
        Optional<String> tarballSha256) {

    public KubernetesArtifacts {
        binaries = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(binaries));
        imageTars = List.copyOf(imageTars);
        tarballSha256 = tarballSha256 == null ? Optional.empty() : tarballSha256;
    }

    /** The parsed {@link #version()}. */
    public KubeVersion kubeVersion() {
        return KubeVersion.parse(version, "Kubernetes version");
    }

    /** The path of one binary; IllegalArgumentException for a name not in {@link #binaries()}. */
    public Path binary(String name) {
        Path p = binaries.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no binary " + name + " in " + binaries.keySet());
        }
        return p;
    }
}
