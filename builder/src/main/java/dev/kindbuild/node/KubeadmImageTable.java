package dev.kindbuild.node;

import dev.kindbuild.UserError;
import dev.kindbuild.kube.KubeVersion;
import dev.kindbuild.recipe.RecipeTree;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * kubeadm's image list per Kubernetes minor, from {@code node-image/kubeadm-images.yaml} (its source is noted there):
 * what a node image needs when the release's own kubeadm cannot run on this host (another architecture).
 */
public final class KubeadmImageTable {
    static final String FILE = "kubeadm-images.yaml";
    private static final List<String> COMPONENTS = List.of("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy");

    private final Map<String, Object> minors;

    private KubeadmImageTable(Map<String, Object> minors) {
        this.minors = minors;
    }

    /** The table bundled with kind-build. */
    public static KubeadmImageTable bundled() {
        return parse(RecipeTree.load("node-image").file(FILE).text());
    }

    @SuppressWarnings("unchecked")
    static KubeadmImageTable parse(String yaml) {
        Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
        if (!(doc instanceof Map<?, ?> m) || !(m.get("minors") instanceof Map<?, ?> minors)) {
            throw new IllegalStateException(FILE + " has no minors: map");
        }
        return new KubeadmImageTable((Map<String, Object>) minors);
    }

    /** kubeadm's list for {@code version}, in kubeadm's order; a minor the table lacks is a one-line {@link UserError}. */
    @SuppressWarnings("unchecked")
    public List<String> images(KubeVersion version) {
        String minor = version.major() + "." + version.minor();
        if (!(minors.get(minor) instanceof Map<?, ?> raw)) {
            throw new UserError("kind-build's table of kubeadm images has no entry for Kubernetes " + minor
                    + " (it covers " + String.join(", ", minors.keySet()) + "): build on a host that can run this release's kubeadm");
        }
        Map<String, Object> entry = (Map<String, Object>) raw;
        String registry = (String) entry.get("registry");
        String tag = version.toString().replace('+', '_');
        List<String> images = new ArrayList<>();
        for (String c : COMPONENTS) {
            images.add(registry + "/" + c + ":" + tag);
        }
        images.add(registry + "/pause:" + pick(entry.get("pause"), version.patch()));
        images.add(registry + "/etcd:" + pick(entry.get("etcd"), version.patch()));
        images.add(registry + "/" + pick(entry.get("coredns"), version.patch()));
        return images;
    }

    /**
     * What the table does not vouch for at {@code version}: an entry not checked against that minor's kubeadm, or a
     * patch release later than the last one checked. Empty when the entry was checked for it (or has no record).
     */
    @SuppressWarnings("unchecked")
    public Optional<String> caveat(KubeVersion version) {
        String minor = version.major() + "." + version.minor();
        if (!(minors.get(minor) instanceof Map<?, ?> raw)) {
            return Optional.empty();
        }
        Map<String, Object> entry = (Map<String, Object>) raw;
        if (entry.get("unchecked") instanceof String why) {
            return Optional.of("the table's " + minor + " entry is " + why);
        }
        if (entry.get("checked-through") instanceof Number last && version.patch() > last.intValue()) {
            return Optional.of("the table's " + minor + " entry was checked up to " + minor + "." + last
                    + "; later patch releases may ask for a newer etcd");
        }
        return Optional.empty();
    }

    /** A plain value, or the last {@code {from: PATCH, tag: T}} whose patch is at most {@code patch}. */
    @SuppressWarnings("unchecked")
    private static String pick(Object value, int patch) {
        if (value instanceof String s) {
            return s;
        }
        String chosen = null;
        for (Map<String, Object> step : (List<Map<String, Object>>) value) {
            if (((Number) step.get("from")).intValue() <= patch) {
                chosen = String.valueOf(step.get("tag"));
            }
        }
        if (chosen == null) {
            throw new IllegalStateException(FILE + ": no tag for patch " + patch + " in " + value);
        }
        return chosen;
    }
}
