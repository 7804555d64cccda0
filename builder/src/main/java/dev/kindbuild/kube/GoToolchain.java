package dev.kindbuild.kube;

import dev.kindbuild.UserError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Go that builds a Kubernetes tree: {@code --go-root DIR} or the {@code go} on {@code PATH}, and its version.
 *
 * @param goRoot  GOROOT (the directory holding {@code bin/go})
 * @param version e.g. {@code 1.15.15}
 */
public record GoToolchain(Path goRoot, GoVersion version) {

    /** A Go release number; patch 0 when the release has none ({@code go1.21}). */
    public record GoVersion(int major, int minor, int patch) implements Comparable<GoVersion> {
        private static final Pattern TEXT = Pattern.compile("v?(?:go)?(\\d+)\\.(\\d+)(?:\\.(\\d+))?.*");

        /** Parses {@code go1.15.15}, {@code 1.15.5}, {@code v1.15.5-1} (kube-cross's tag); empty when it is none of those. */
        public static Optional<GoVersion> tryParse(String text) {
            Matcher m = TEXT.matcher(text.strip());
            if (!m.matches()) {
                return Optional.empty();
            }
            return Optional.of(new GoVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                    m.group(3) == null ? 0 : Integer.parseInt(m.group(3))));
        }

        public boolean atLeast(int major, int minor) {
            return this.major > major || (this.major == major && this.minor >= minor);
        }

        /** {@code 1.15}: the release line, which is what language and runtime compatibility follow. */
        public String line() {
            return major + "." + minor;
        }

        @Override
        public int compareTo(GoVersion o) {
            int c = Integer.compare(major, o.major);
            if (c == 0) c = Integer.compare(minor, o.minor);
            if (c == 0) c = Integer.compare(patch, o.patch);
            return c;
        }

        @Override
        public String toString() {
            return major + "." + minor + "." + patch;
        }
    }

    /** The {@code go} binary. */
    public Path goBinary() {
        return goRoot.resolve("bin/go");
    }

    /**
     * Finds Go: {@code goRoot} when given, else the {@code go} on {@code PATH} (following symlinks to its GOROOT).
     * A missing or broken Go is a one-line {@link UserError} saying how to supply one.
     */
    public static GoToolchain find(Optional<Path> goRoot) {
        Path root;
        if (goRoot.isPresent()) {
            root = goRoot.get().toAbsolutePath().normalize();
            if (!Files.isExecutable(root.resolve("bin/go"))) {
                throw new UserError("--go-root " + goRoot.get() + " has no executable bin/go: give the directory Go is installed in (its GOROOT)");
            }
        } else {
            Path onPath = onPath("go").orElseThrow(() -> new UserError(
                    "no Go found to build the Kubernetes tree: put `go` on PATH or pass --go-root DIR"
                            + " (scripts/fetch-real-kubernetes fetches a Go that builds v1.20)"));
            try {
                root = onPath.toRealPath().getParent().getParent();
            } catch (IOException e) {
                throw new UserError("cannot resolve " + onPath + ": " + e.getMessage());
            }
        }
        String out = run(root.resolve("bin/go"), root);
        GoVersion version = parseVersionOutput(out).orElseThrow(() -> new UserError(
                root.resolve("bin/go") + " version printed `" + out.strip() + "`, not a Go version"));
        return new GoToolchain(root, version);
    }

    /** Reads {@code go version go1.15.15 linux/amd64}. */
    static Optional<GoVersion> parseVersionOutput(String output) {
        Matcher m = Pattern.compile("\\bgo(\\d+\\.\\d+(?:\\.\\d+)?)").matcher(output);
        return m.find() ? GoVersion.tryParse(m.group(1)) : Optional.empty();
    }

    private static Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p) && !Files.isDirectory(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private static String run(Path go, Path root) {
        try {
            ProcessBuilder pb = new ProcessBuilder(go.toString(), "version").redirectErrorStream(true);
            pb.environment().put("GOROOT", root.toString());
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new UserError(go + " version failed: " + new String(out, StandardCharsets.UTF_8).strip());
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UserError("cannot run " + go + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted");
        }
    }
}
