package dev.kindbuild.node;

import dev.kindbuild.recipe.RecipeTree;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The addon manifests baked into node images (kind's default CNI and storage) and the images they reference,
 * found by parsing the YAML — including YAML embedded in ConfigMap strings, where local-path keeps its helper pod.
 */
public final class AddonManifests {
    /** Manifest file in manifests/ → where kind expects it in the node. */
    public static final Map<String, String> NODE_PATHS = Map.of(
            "default-cni.yaml", "/kind/manifests/default-cni.yaml",
            "default-storage.yaml", "/kind/manifests/default-storage.yaml");

    private final RecipeTree tree;

    private AddonManifests(RecipeTree tree) {
        this.tree = tree;
    }

    public static AddonManifests bundled() {
        return new AddonManifests(RecipeTree.load("manifests"));
    }

    public RecipeTree tree() {
        return tree;
    }

    /** Every image referenced by the manifests, in order of appearance, without duplicates. */
    public List<String> images() {
        Set<String> images = new LinkedHashSet<>();
        for (RecipeTree.RecipeFile file : tree.files()) {
            if (file.path().endsWith(".yaml")) {
                images.addAll(imagesIn(file.text()));
            }
        }
        return List.copyOf(images);
    }

    /** Images in one multi-document YAML text. kind's {{ .Templates }} are only ever inside quoted strings. */
    static List<String> imagesIn(String yamlText) {
        List<String> found = new ArrayList<>();
        Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
        for (Object doc : yaml.loadAll(yamlText)) {
            collect(doc, found);
        }
        return found;
    }

    private static void collect(Object node, List<String> found) {
        if (node instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if ("image".equals(e.getKey()) && e.getValue() instanceof String image) {
                    found.add(image);
                } else {
                    collect(e.getValue(), found);
                }
            }
        } else if (node instanceof List<?> list) {
            list.forEach(item -> collect(item, found));
        } else if (node instanceof String text && text.contains("image:")) {
            // A manifest inside a string (e.g. a helper pod template in a ConfigMap).
            try {
                found.addAll(imagesIn(text));
            } catch (RuntimeException notYaml) {
                // Just text that mentions "image:".
            }
        }
    }
}
