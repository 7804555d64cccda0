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
    private static final Pattern REFERENCE = Pattern.compile("\\bdev\\.kindbuild\\.([a-z]+)\\.");

    /** Package → the packages it may use (besides itself and the root package: UserError, CacheLocation). */
    private static final Map<String, Set<String>> MAY_USE = Map.ofEntries(
            Map.entry("lifecycle", Set.of()),
            Map.entry("recipe", Set.of()),
            Map.entry("debian", Set.of()),
            Map.entry("progress", Set.of("lifecycle")),
            Map.entry("engine", Set.of("lifecycle")),
            Map.entry("kube", Set.of("debian", "engine", "lifecycle", "progress")),
            Map.entry("image", Set.of("engine", "kube", "lifecycle", "progress")),
            Map.entry("registry", Set.of("engine", "image", "progress")),
            Map.entry("cri", Set.of("engine")),
            Map.entry("components", Set.of("kube", "progress", "recipe")),
            Map.entry("base", Set.of("components", "debian", "engine", "image", "kube", "lifecycle", "progress", "recipe")),
            Map.entry("node", Set.of("base", "components", "engine", "image", "kube", "lifecycle", "progress", "recipe")),
            Map.entry("sample", Set.of("image", "kube", "lifecycle", "node", "progress")),
            Map.entry("release", Set.of("base", "engine", "image", "kube", "node", "progress")),
            Map.entry("verify", Set.of("cri", "engine", "kube", "lifecycle", "node", "progress")),
            Map.entry("cli", Set.of("base", "components", "engine", "image", "kube", "lifecycle", "node", "progress", "registry",
                    "release", "sample", "verify")));

    @Test
    void everyPackageUsesOnlyWhatItsRowAllows() throws IOException {
        List<String> offences = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Path rel = MAIN.relativize(file);
                if (rel.getNameCount() < 2) {
                    continue; // the root package (Main, UserError, CacheLocation)
                }
                String pkg = rel.getName(0).toString();
                Set<String> allowed = MAY_USE.get(pkg);
                if (allowed == null) {
                    offences.add(pkg + ": a new package: give it a row in PackageDependenciesTest");
                    continue;
                }
                Set<String> used = new TreeSet<>();
                Matcher m = REFERENCE.matcher(Files.readString(file));
                while (m.find()) {
                    used.add(m.group(1));
                }
                for (String u : used) {
                    if (!u.equals(pkg) && !allowed.contains(u) && MAY_USE.containsKey(u)) {
                        offences.add(rel + " uses " + u);
                    }
                }
            }
        }
        assertEquals(List.of(), offences);
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
