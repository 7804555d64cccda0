package dev.kindbuild.base;

import dev.kindbuild.UserError;
import dev.kindbuild.components.ComponentChoice;
import dev.kindbuild.components.ComponentRequest;
import dev.kindbuild.components.InstalledComponent;
import dev.kindbuild.engine.ContainerSpec;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ExecResult;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.kube.ContainerdVersion;
import dev.kindbuild.lifecycle.CleanupStack;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads the runtime components a freshly built base really has (each binary's own {@code --version}; Debian's CNI
 * plugins only tell dpkg) and checks an explicit version request against it: what a Debian suite has can move, and
 * a version that was asked for must never silently be another.
 */
final class ComponentLabels {
    private ComponentLabels() {}

    /** The installed components, in the choices' order; a UserError when an explicit version is not what was built. */
    static List<InstalledComponent> read(DockerEngine engine, String image, List<ComponentChoice> choices) {
        String name = "kind-build-base-probe-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        List<InstalledComponent> out = new ArrayList<>();
        try (CleanupStack cleanup = new CleanupStack()) {
            String id = engine.create(ContainerSpec.builder(name, image).entrypoint("sleep").cmd("infinity")
                    .labels(Labels.forContainer("base-probe")).networkMode("none").build());
            cleanup.push("container " + name, () -> engine.remove(id));
            engine.start(id);
            for (ComponentChoice c : choices) {
                String version = c.source() == ComponentChoice.Source.ABSENT ? "" : version(engine, id, c);
                if (c.plan().request().kind() == ComponentRequest.Kind.VERSION && !matches(c.plan().request().value(), version)) {
                    throw new UserError("--" + c.name() + " " + c.plan().request().value() + " was asked for, but " + c.sourceText()
                            + " gave " + c.name() + " " + version + " (the components file says " + c.version() + "): update "
                            + "base-image/components.yaml or ask for " + version);
                }
                out.add(new InstalledComponent(c.name(), version, c.sourceText()));
            }
        }
        return List.copyOf(out);
    }

    /** The labels recording them; containerd's keeps its old name, which node builds read. */
    static Map<String, String> labels(List<InstalledComponent> installed) {
        Map<String, String> labels = new LinkedHashMap<>();
        for (InstalledComponent c : installed) {
            String key = c.name().equals("containerd") ? Labels.CONTAINERD_VERSION : InstalledComponent.versionLabel(c.name());
            labels.put(key, c.version().isEmpty() ? "none" : c.version());
        }
        labels.put(InstalledComponent.LABEL, InstalledComponent.toLabel(installed));
        return labels;
    }

    private static boolean matches(String asked, String version) {
        String plain = version.startsWith("v") ? version.substring(1) : version;
        return plain.equals(asked) || plain.startsWith(asked + ".") || plain.startsWith(asked + "~") || plain.startsWith(asked + "+");
    }

    private static String version(DockerEngine engine, String id, ComponentChoice c) {
        return switch (c.name()) {
            case "containerd" -> {
                ExecResult r = engine.exec(id, List.of("containerd", "--version"));
                yield ContainerdVersion.fromVersionOutput(r.stdout()).map(v -> plain(v.text())).orElseThrow(() -> new UserError(
                        "the built base image has no working containerd (`containerd --version`: " + (r.ok() ? r.stdout().strip() : r.lastErrorLine())
                                + "): check " + c.sourceText()));
            }
            // "runc version 1.3.6+ds1", "crictl version v1.36.0": the third word
            case "runc", "crictl" -> {
                ExecResult r = engine.exec(id, List.of(c.name(), "--version"));
                String[] words = r.stdout().strip().split("\\s+");
                if (!r.ok() || words.length < 3) {
                    throw new UserError("the built base image has no working " + c.name() + " (`" + c.name() + " --version`: "
                            + (r.ok() ? r.stdout().strip() : r.lastErrorLine()) + "): check " + c.sourceText());
                }
                yield plain(words[2]);
            }
            default -> {
                if (c.source() != ComponentChoice.Source.DEBIAN) {
                    yield c.version();
                }
                String pkg = c.plan().component().debian().orElseThrow().name();
                ExecResult r = engine.exec(id, List.of("dpkg-query", "-W", "-f=${Version}", pkg));
                yield r.ok() ? plain(r.stdout().strip()) : c.version();
            }
        };
    }

    /** {@code 1.6.20~ds1-1+b1} → 1.6.20; {@code v1.36.0} → 1.36.0. */
    static String plain(String version) {
        String v = version.startsWith("v") ? version.substring(1) : version;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+(?:\\.\\d+)*)").matcher(v);
        return m.find() ? m.group(1) : v;
    }
}
