package dev.kindbuild.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real Kubernetes v1.20.2 of this machine (scripts/fetch-real-kubernetes: Debian's source tree, built with Go
 * 1.15 on first use and cached) and the images its cluster needs beyond its own (scripts/real-cluster-images: real
 * pause and etcd, stand-in addons) pushed to a registry.
 *
 * @param tree   the source tree
 * @param goRoot the Go toolchain that builds it
 */
public record RealKubernetes(Path tree, Path goRoot) {
    public static final String VERSION = "v1.20.2";

    /** Fetches (or finds) the tree and its Go. */
    public static RealKubernetes fetch() throws IOException, InterruptedException {
        Map<String, String> fetched = keyValues(run(projectRoot().resolve("scripts/fetch-real-kubernetes").toString()));
        return new RealKubernetes(Path.of(fetched.get("tree")), Path.of(fetched.get("goroot")));
    }

    /** Pushes the cluster's other images to {@code registry}; {@code more} go to the script after it (e.g. an arch); returns its stdout. */
    public String pushClusterImages(String registry, String... more) throws IOException, InterruptedException {
        String[] command = new String[3 + more.length];
        command[0] = projectRoot().resolve("scripts/real-cluster-images").toString();
        command[1] = registry;
        command[2] = tree.toString();
        System.arraycopy(more, 0, command, 3, more.length);
        return run(command);
    }

    public static Path projectRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("scripts/fetch-real-kubernetes"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the project root (scripts/fetch-real-kubernetes) above " + Path.of("").toAbsolutePath());
    }

    /** Runs a project script; its stderr goes to the test log, its stdout is returned. Fails on a non-zero exit. */
    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed (exit " + p.exitValue() + ")");
        }
        return out;
    }

    private static Map<String, String> keyValues(String out) {
        Map<String, String> m = new LinkedHashMap<>();
        out.lines().filter(l -> l.contains("=")).forEach(l -> m.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
        return m;
    }
}
