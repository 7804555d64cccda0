package dev.kindbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Which of kind-build's packages may use which (imports and fully qualified names alike), so the layers stay layers:
 * the engine and the image store know nothing of nodes, a node build knows nothing of verify or the CLI, and only the
 * CLI sees everything. Adding an edge here is a design decision; the table must stay free of cycles.
 */
class PackageDependenciesTest {
    private static final Path MAIN = Path.of(System.getProperty("kindbuild.home", "..")).resolve("builder/src/main/java/dev/kindbuild");
    /** A use of a kind-build package: its dotted path up to the first capitalised name (a class). */
    private static final Pattern REFERENCE = Pattern.compile("\\bdev\\.kindbuild\\.((?:[a-z]+\\.)+)[A-Z*]");

    /** Packages every package may use: small helpers that know nothing of kind-build's domain. */
    private static final Set<String> EVERYONE_MAY_USE = Set.of("support");

    /** "image.*" in a row: the image package and every unit under it. */
    private static final Set<String> IMAGE = Set.of("image", "image.store", "image.layer", "image.archive", "image.registry",
            "image.delivery");

    /**
     * Unit → the units it may use (besides itself and the root package: UserError, CacheLocation). A unit is a top-level
     * package with its sub-packages, unless a sub-package has a row of its own (image's layers, the node pipeline).
     */
    private static final Map<String, Set<String>> MAY_USE = Map.ofEntries(
            Map.entry("lifecycle", Set.of()),
            // Hashing, URLs and proxy selection: any package may use it (EVERYONE_MAY_USE); it uses nothing.
            Map.entry("support", Set.of()),
            Map.entry("recipe", Set.of()),
            Map.entry("debian", Set.of("progress")),
            Map.entry("progress", Set.of("lifecycle")),
            Map.entry("engine", Set.of("lifecycle")),
            Map.entry("kube", Set.of("debian", "engine", "lifecycle", "progress", "support")),
            // kind-build's own container image: a Debian root with a JRE and the jar, assembled in the store.
            Map.entry("selfimage", with(IMAGE, "debian", "engine", "progress")),
            // The image layers, bottom up: names; the content-addressed store; layers written into it; archives and
            // engines read and written from it; registries pulled into and pushed from it.
            Map.entry("image", Set.of()),
            Map.entry("image.store", Set.of("lifecycle")),
            Map.entry("image.layer", Set.of("image.store")),
            Map.entry("image.archive", Set.of("image", "image.store", "image.layer", "engine")),
            Map.entry("image.registry", Set.of("image", "image.store", "engine", "lifecycle", "progress")),
            // An image from the store to the places asked for: a file, the engine, a registry.
            Map.entry("image.delivery", Set.of("image", "image.store", "image.archive", "image.registry", "engine", "progress")),
            Map.entry("cri", Set.of("engine")),
            Map.entry("components", Set.of("kube", "progress", "recipe")),
            Map.entry("base", with(IMAGE, "components", "debian", "engine", "kube", "lifecycle", "progress", "recipe")),
            // What a node is (request, layout, checks); the pipeline that builds one uses it, never the other way.
            Map.entry("node", with(IMAGE, "base", "components", "engine", "kube", "lifecycle", "progress", "recipe")),
            Map.entry("node.pipeline", with(IMAGE, "node", "base", "components", "engine", "kube", "lifecycle", "progress", "recipe")),
            Map.entry("release", with(IMAGE, "base", "engine", "kube", "node", "node.pipeline", "progress")),
            Map.entry("verify", Set.of("cri", "engine", "kube", "lifecycle", "node", "progress")),
            Map.entry("cli", with(IMAGE, "base", "components", "engine", "kube", "lifecycle", "node", "node.pipeline", "progress",
                    "release", "selfimage", "verify")));

    private static Set<String> with(Set<String> some, String... more) {
        Set<String> all = new TreeSet<>(some);
        all.addAll(List.of(more));
        return Set.copyOf(all);
    }

    /** The unit a package path (dotted, under dev.kindbuild) belongs to: its own row, else its top-level package's. */
    private static String unit(String packagePath) {
        return MAY_USE.containsKey(packagePath) ? packagePath : packagePath.split("\\.")[0];
    }

    @Test
    void everyPackageUsesOnlyWhatItsRowAllows() throws IOException {
        List<String> offences = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Path rel = MAIN.relativize(file);
                if (rel.getNameCount() < 2) {
                    continue; // the root package (Main, UserError, CacheLocation)
                }
                String pkg = unit(rel.getParent().toString().replace('/', '.'));
                if (!MAY_USE.containsKey(pkg)) {
                    offences.add(pkg + ": a new package: give it a row in PackageDependenciesTest");
                    continue;
                }
                offences.addAll(offences(rel.toString(), pkg, Files.readString(file)));
            }
        }
        assertEquals(List.of(), offences);
    }

    /** What {@code source} (a file of unit {@code pkg}) uses that the table does not allow it. */
    private static List<String> offences(String file, String pkg, String source) {
        Set<String> used = new TreeSet<>();
        Matcher m = REFERENCE.matcher(source);
        while (m.find()) {
            String path = m.group(1);
            used.add(unit(path.substring(0, path.length() - 1)));
        }
        Set<String> allowed = MAY_USE.get(pkg);
        return used.stream().filter(u -> !u.equals(pkg) && !allowed.contains(u) && !EVERYONE_MAY_USE.contains(u) && MAY_USE.containsKey(u))
                .map(u -> file + " uses " + u).toList();
    }

    @Test
    void aLowerLayerUsingAHigherOneIsCaughtByImportOrByQualifiedName() {
        assertEquals(List.of("image/X.java uses kube"),
                offences("image/X.java", "image", "package dev.kindbuild.image;\nimport dev.kindbuild.kube.KubeVersion;\n"));
        assertEquals(List.of("image/X.java uses node"),
                offences("image/X.java", "image", "class X { Object o = dev.kindbuild.node.NodeLayout.IMAGES_DIR; }"));
        assertEquals(List.of(), offences("image/archive/X.java", "image.archive", "import dev.kindbuild.support.Sha256;\nimport dev.kindbuild.engine.DockerEngine;"));
        assertEquals(List.of("engine/X.java uses image"), offences("engine/X.java", "engine", "import dev.kindbuild.image.ImageRef;"));
        // Inside a package too: the store knows nothing of registries; a node's own types nothing of the pipeline.
        assertEquals(List.of("image/store/X.java uses image.registry"), offences("image/store/X.java", "image.store",
                "import dev.kindbuild.image.registry.RegistryPull;"));
        assertEquals(List.of("node/X.java uses node.pipeline"), offences("node/X.java", "node",
                "Object o = dev.kindbuild.node.pipeline.NodeBuild.class;"));
        assertEquals(List.of(), offences("node/pipeline/X.java", "node.pipeline", "import dev.kindbuild.node.NodeLayout;"));
    }

    @Test
    void theTableHasNoCycle() {
        for (String start : MAY_USE.keySet()) {
            Set<String> seen = new HashSet<>();
            List<String> todo = new ArrayList<>(MAY_USE.get(start));
            while (!todo.isEmpty()) {
                String p = todo.remove(todo.size() - 1);
                assertTrue(!p.equals(start), start + " reaches itself through the table");
                if (seen.add(p)) {
                    todo.addAll(MAY_USE.getOrDefault(p, Set.of()));
                }
            }
        }
    }
}
