package dev.kindbuild.node.daemonless;

import dev.kindbuild.image.layer.ImageContents;
import dev.kindbuild.image.layer.Layer;
import dev.kindbuild.image.layer.LayerBuilder;
import dev.kindbuild.image.layer.LayerEntry;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.kube.KubeVersion;
import dev.kindbuild.node.AddonManifests;
import dev.kindbuild.node.ConfigureNode;
import dev.kindbuild.node.ContainerdConfig;
import dev.kindbuild.node.EnsureBaseImage;
import dev.kindbuild.node.NodeLayout;
import dev.kindbuild.recipe.RecipeTree;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Step: the second node layer, the configuration — containerd's config patched from the base image's own file (as
 * the docker builder patches it), the image-loading runtime (node-image/files) enabled as `systemctl enable` would,
 * kind's addon manifests, and the empty /kind/images the third layer fills.
 */
final class ConfigurationLayer {
    private ConfigurationLayer() {}

    /** Fails with one line when the base lacks what every kind base image has. */
    static void checkBase(ImageContents base, String name) {
        List<String> missing = new ArrayList<>();
        for (String path : EnsureBaseImage.REQUIRED_FILES) {
            if (EnsureBaseImage.alternatives(path).stream().noneMatch(base::exists)) {
                missing.add(path);
            }
        }
        if (!missing.isEmpty()) {
            throw EnsureBaseImage.notABaseImage(name, missing);
        }
    }

    static Layer write(ImageContents base, KubeVersion version, String pauseImage, AddonManifests manifests, RecipeTree nodeFiles,
            ImageStore store, Instant mtime) {
        String toml = ContainerdConfig.forNode(base.readText(ConfigureNode.CONTAINERD_CONFIG), version, pauseImage);
        LayerBuilder layer = new LayerBuilder();
        layer.add(LayerEntry.file(ConfigureNode.CONTAINERD_CONFIG, toml.getBytes(StandardCharsets.UTF_8), 0644));
        for (RecipeTree.RecipeFile f : nodeFiles.files()) {
            layer.add(LayerEntry.file("/" + f.path(), f.content(), f.mode()));
        }
        layer.add(LayerEntry.symlink(ConfigureNode.LOADER_UNIT_LINK, ConfigureNode.LOADER_UNIT_FILE));
        for (Map.Entry<String, String> m : AddonManifests.NODE_PATHS.entrySet()) {
            layer.add(LayerEntry.file(m.getValue(), manifests.tree().file(m.getKey()).content(), 0644));
        }
        layer.add(LayerEntry.directory(NodeLayout.IMAGES_DIR, 0755, 0, 0));
        return layer.write(store, mtime);
    }
}
