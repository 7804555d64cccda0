package dev.kindbuild.node.daemonless;

import dev.kindbuild.image.layer.Layer;
import dev.kindbuild.image.layer.LayerBuilder;
import dev.kindbuild.image.layer.LayerEntry;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.kube.KubernetesArtifacts;
import dev.kindbuild.node.InstallKubernetes;
import dev.kindbuild.node.NodeLayout;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/** Step: the first node layer — kubeadm, kubelet and kubectl in /usr/bin (0755, root) and /kind/version. */
final class KubernetesLayer {
    private KubernetesLayer() {}

    static Layer write(KubernetesArtifacts k8s, ImageStore store, Instant mtime) {
        LayerBuilder layer = new LayerBuilder();
        for (String name : InstallKubernetes.BINARIES) {
            layer.add(LayerEntry.file("/usr/bin/" + name, k8s.binary(name), 0755, 0, 0));
        }
        // kind reads /kind/version raw: no trailing newline.
        layer.add(LayerEntry.file(NodeLayout.VERSION_FILE, k8s.version().getBytes(StandardCharsets.UTF_8), 0644));
        return layer.write(store, mtime);
    }
}
