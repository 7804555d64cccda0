package dev.kindbuild.node;

import dev.kindbuild.engine.ContainerFile;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.kube.KubeVersion;
import dev.kindbuild.recipe.RecipeTree;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Step: the config tweaks a node needs for this Kubernetes version — containerd's sandbox image pinned to kubeadm's
 * pause image, the cgroupfs driver before v1.24 — plus the image-loading runtime (node-image/files) and kind's
 * addon manifests under /kind/manifests.
 */
public final class ConfigureNode {
    public static final String CONTAINERD_CONFIG = "/etc/containerd/config.toml";

    /** What `systemctl enable` of the loader unit creates (its WantedBy=multi-user.target). */
    public static final String LOADER_UNIT_LINK = "/etc/systemd/system/multi-user.target.wants/" + NodeLayout.LOADER_UNIT;
    public static final String LOADER_UNIT_FILE = "/etc/systemd/system/" + NodeLayout.LOADER_UNIT;

    private ConfigureNode() {}

    static void run(DockerEngine engine, BuilderContainer.Builder builder, KubeVersion version, String pauseImage,
            AddonManifests manifests, RecipeTree nodeFiles) {
        String toml = engine.execOk(builder.id(), List.of("cat", CONTAINERD_CONFIG));
        toml = ContainerdConfig.forNode(toml, version, pauseImage);
        List<ContainerFile> files = new ArrayList<>();
        files.add(ContainerFile.ofText(CONTAINERD_CONFIG, 0644, toml));
        for (RecipeTree.RecipeFile f : nodeFiles.files()) {
            files.add(ContainerFile.ofBytes("/" + f.path(), f.mode(), f.content()));
        }
        for (Map.Entry<String, String> m : AddonManifests.NODE_PATHS.entrySet()) {
            files.add(ContainerFile.ofBytes(m.getValue(), 0644, manifests.tree().file(m.getKey()).content()));
        }
        engine.copyFiles(builder.id(), files);
        // The jar cannot carry the enablement symlink; systemctl makes it without a running systemd.
        engine.execOk(builder.id(), List.of("systemctl", "enable", NodeLayout.LOADER_UNIT));
        engine.execOk(builder.id(), List.of("mkdir", "-p", NodeLayout.IMAGES_DIR));
    }
}
