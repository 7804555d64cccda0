package dev.kindbuild.components;

import dev.kindbuild.UserError;
import dev.kindbuild.support.Sha256;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** {@code base-image/components.yaml}: the base's runtime components, in the order they are declared. */
public record ComponentsFile(Map<String, Component> components) {
    public static final List<String> NAMES = List.of("containerd", "runc", "crictl", "cni-plugins");

    /** The bundled file, from the base recipe. */
    public static ComponentsFile bundled() {
        return parse(dev.kindbuild.recipe.RecipeTree.load("base-image").file("components.yaml").text(), "base-image/components.yaml");
    }

    public Component get(String name) {
        Component c = components.get(name);
        if (c == null) {
            throw new IllegalStateException("components file declares no " + name);
        }
        return c;
    }

    /** Parses the file; a malformed one is a one-line error naming {@code source} and the entry. */
    @SuppressWarnings("unchecked")
    public static ComponentsFile parse(String text, String source) {
        Object root;
        try {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (RuntimeException e) {
            throw new UserError(source + " is not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new UserError(source + " must be a mapping of component names");
        }
        Map<String, Component> out = new LinkedHashMap<>();
        for (String name : NAMES) {
            Object entry = map.get(name);
            if (!(entry instanceof Map<?, ?> m)) {
                throw new UserError(source + " declares no " + name);
            }
            out.put(name, component(name, (Map<String, Object>) m, source));
        }
        return new ComponentsFile(out);
    }

    @SuppressWarnings("unchecked")
    private static Component component(String name, Map<String, Object> m, String source) {
        String where = source + ", " + name;
        String version = text(m, "version", where).orElseThrow(() -> new UserError(where + ": no version"));
        String url = text(m, "url", where).orElseThrow(() -> new UserError(where + ": no url"));
        if (!url.startsWith("https://") && !url.startsWith("http://")) {
            throw new UserError(where + ": url must be http(s), got " + url);
        }
        Map<String, String> sums = new LinkedHashMap<>();
        Object sha = m.get("sha256");
        if (sha instanceof Map<?, ?> sm) {
            for (Map.Entry<?, ?> e : sm.entrySet()) {
                sums.put(String.valueOf(e.getKey()), Sha256.parseDigest(String.valueOf(e.getValue()), where + " sha256 " + e.getKey()));
            }
        } else if (sha != null) {
            throw new UserError(where + ": sha256 must map arches to digests");
        }
        Component.Install install;
        if (m.get("unpack") instanceof Map<?, ?> u) {
            Object only = u.get("only");
            install = new Component.Install(String.valueOf(u.get("from") == null ? "" : u.get("from")),
                    String.valueOf(u.get("to")), only instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of(),
                    Optional.empty());
            if (!install.to().startsWith("/") || !install.to().endsWith("/")) {
                throw new UserError(where + ": unpack.to must be an absolute directory ending in /");
            }
        } else if (m.get("binary") instanceof String b && b.startsWith("/")) {
            install = new Component.Install("", "", List.of(), Optional.of(b));
        } else {
            throw new UserError(where + ": give unpack {from, to} or binary /path");
        }
        Optional<Component.DebianPackage> debian = Optional.empty();
        if (m.get("debian") instanceof Map<?, ?> d) {
            List<Component.DebianCandidate> versions = new ArrayList<>();
            if (d.get("versions") instanceof List<?> vs) {
                for (Object v : vs) {
                    if (v instanceof Map<?, ?> vm && vm.get("suite") != null && vm.get("version") != null) {
                        versions.add(new Component.DebianCandidate(String.valueOf(vm.get("suite")), String.valueOf(vm.get("version"))));
                    } else {
                        throw new UserError(where + ": each debian version needs suite and version");
                    }
                }
            }
            debian = Optional.of(new Component.DebianPackage(String.valueOf(d.get("package")), List.copyOf(versions)));
        }
        return new Component(name, version, url, text(m, "checksum", where), Map.copyOf(sums), install, debian);
    }

    private static Optional<String> text(Map<String, Object> m, String key, String where) {
        Object v = m.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Map || v instanceof List) {
            throw new UserError(where + ": " + key + " must be a string");
        }
        return Optional.of(String.valueOf(v));
    }
}
