package dev.kindbuild.node;

import dev.kindbuild.engine.ContainerFile;
import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ExecResult;
import dev.kindbuild.kube.KubernetesArtifacts;
import java.util.ArrayList;
import java.util.List;

/** Step: kubeadm, kubelet and kubectl into /usr/bin (0755, root), and the version into /kind/version. */
public final class InstallKubernetes {
    public static final List<String> BINARIES = List.of("kubeadm", "kubelet", "kubectl");

    private InstallKubernetes() {}

    static void run(DockerEngine engine, BuilderContainer.Builder builder, KubernetesArtifacts k8s) {
        List<ContainerFile> files = new ArrayList<>();
        for (String name : BINARIES) {
            var path = k8s.binaries().get(name);
            if (path == null) {
                throw new IllegalStateException("Kubernetes artifacts lack " + name);
            }
            files.add(ContainerFile.ofHostFile("/usr/bin/" + name, 0755, path));
        }
        // kind reads /kind/version raw: no trailing newline.
        files.add(ContainerFile.ofText("/kind/version", 0644, k8s.version()));
        engine.copyFiles(builder.id(), files);
        checkVersions(engine, builder, k8s.version());
    }

    /**
     * kubeadm and kubelet must be of the version the image is named after and records in /kind/version: binaries of
     * mixed versions would build an image that kind cannot boot (`verify` would only catch it later).
     */
    static void checkVersions(DockerEngine engine, BuilderContainer.Builder builder, String version) {
        List<String> wrong = new ArrayList<>();
        reported(engine, builder, List.of("kubeadm", "version", "-o", "short"))
                .filter(v -> !v.equals(version)).ifPresent(v -> wrong.add("kubeadm reports " + v));
        reported(engine, builder, List.of("kubelet", "--version")).map(v -> v.replaceFirst("^Kubernetes\\s+", ""))
                .filter(v -> !v.equals(version)).ifPresent(v -> wrong.add("kubelet reports " + v));
        if (!wrong.isEmpty()) {
            throw new UserError("the Kubernetes binaries disagree with the version " + version + " they came with ("
                    + String.join(", ", wrong) + "): use kubeadm, kubelet and kubectl from one build of " + version);
        }
    }

    /**
     * What a binary says its version is; empty when it cannot run here (another architecture without emulation):
     * then there is nothing to compare, and what needs it to run says so itself.
     */
    private static java.util.Optional<String> reported(DockerEngine engine, BuilderContainer.Builder builder, List<String> command) {
        ExecResult r = engine.exec(builder.id(), command);
        return r.ok() ? java.util.Optional.of(r.stdout().strip()) : java.util.Optional.empty();
    }
}
