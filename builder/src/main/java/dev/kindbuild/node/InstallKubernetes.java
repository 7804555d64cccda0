package dev.kindbuild.node;

import dev.kindbuild.engine.ContainerFile;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.kube.KubernetesArtifacts;
import java.util.ArrayList;
import java.util.List;

/** Step: kubeadm, kubelet and kubectl into /usr/bin (0755, root), and the version into /kind/version. */
final class InstallKubernetes {
    static final List<String> BINARIES = List.of("kubeadm", "kubelet", "kubectl");

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
    }
}
