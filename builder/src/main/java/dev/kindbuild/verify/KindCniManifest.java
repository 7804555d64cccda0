package dev.kindbuild.verify;

import dev.kindbuild.UserError;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

/**
 * What kind does with a node image's {@code /kind/manifests/default-cni.yaml} before applying it: it renders the file
 * as a template only when it contains {@link #TEMPLATE_MARKER} (the one field being {@code {{ .PodSubnet }}}), and,
 * when it contains {@link #PATCH_MARKER}, adds a {@code CONTROL_PLANE_ENDPOINT} env to the DaemonSets' containers.
 */
public final class KindCniManifest {
    public static final String TEMPLATE_MARKER = "would you kindly template this file";
    public static final String PATCH_MARKER = "would you kindly patch this file";
    private static final Pattern FIELD = Pattern.compile("\\{\\{-?\\s*(.*?)\\s*-?}}");

    private KindCniManifest() {}

    /**
     * The manifest kind would apply. A template with a field other than {@code .PodSubnet} is a {@link UserError}:
     * kind's template step would fail on it too.
     */
    public static String render(String manifest, String podSubnet, String controlPlaneEndpoint) {
        String out = manifest;
        if (manifest.contains(TEMPLATE_MARKER)) {
            Matcher m = FIELD.matcher(manifest);
            StringBuilder sb = new StringBuilder();
            while (m.find()) {
                if (!m.group(1).equals(".PodSubnet")) {
                    throw new UserError("default-cni.yaml uses template field {{ " + m.group(1) + " }}; kind fills only {{ .PodSubnet }}");
                }
                m.appendReplacement(sb, Matcher.quoteReplacement(podSubnet));
            }
            m.appendTail(sb);
            out = sb.toString();
        }
        if (manifest.contains(PATCH_MARKER)) {
            out = addEndpointEnv(out, controlPlaneEndpoint);
        }
        return out;
    }

    /** Whether kind would leave template fields in place (no marker), which then reach the cluster verbatim. */
    public static boolean hasUnrenderedFields(String rendered) {
        return FIELD.matcher(rendered).find() && !rendered.contains(TEMPLATE_MARKER);
    }

    @SuppressWarnings("unchecked")
    private static String addEndpointEnv(String manifest, String endpoint) {
        Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
        List<Object> docs = new ArrayList<>();
        for (Object doc : yaml.loadAll(manifest)) {
            if (doc instanceof Map<?, ?> map && "DaemonSet".equals(map.get("kind"))) {
                Object spec = ((Map<String, Object>) map).get("spec");
                Object template = spec instanceof Map<?, ?> s ? s.get("template") : null;
                Object podSpec = template instanceof Map<?, ?> t ? t.get("spec") : null;
                Object containers = podSpec instanceof Map<?, ?> p ? p.get("containers") : null;
                if (containers instanceof List<?> list) {
                    for (Object c : list) {
                        if (c instanceof Map<?, ?> container) {
                            Map<String, Object> cm = (Map<String, Object>) container;
                            List<Object> env = cm.get("env") instanceof List<?> l ? new ArrayList<>(l) : new ArrayList<>();
                            Map<String, Object> var = new LinkedHashMap<>();
                            var.put("name", "CONTROL_PLANE_ENDPOINT");
                            var.put("value", endpoint);
                            env.add(var);
                            cm.put("env", env);
                        }
                    }
                }
            }
            if (doc != null) {
                docs.add(doc);
            }
        }
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        return new Yaml(new SafeConstructor(new LoaderOptions()), new Representer(options), options).dumpAll(docs.iterator());
    }
}
