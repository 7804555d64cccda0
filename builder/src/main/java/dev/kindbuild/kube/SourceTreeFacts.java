package dev.kindbuild.kube;

import dev.kindbuild.UserError;
import dev.kindbuild.kube.GoToolchain.GoVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a Kubernetes source tree says about itself, read from its files without building anything: the Go it is
 * built with upstream, the vendored modules that constrain Go, and (when it records one) its version.
 *
 * @param root         the tree
 * @param wantedGo     the Go upstream builds it with ({@code .go-version}, else kube-cross's {@code VERSION})
 * @param reflect2     the vendored {@code github.com/modern-go/reflect2} version, if any
 */
public record SourceTreeFacts(Path root, Optional<GoVersion> wantedGo, Optional<String> reflect2) {

    private static final Pattern REFLECT2 = Pattern.compile("(?m)^# github\\.com/modern-go/reflect2 (v[0-9][^\\s]*)(?: => \\S+ (v[0-9][^\\s]*))?");

    public static SourceTreeFacts read(Path root) {
        Optional<GoVersion> go = readFirstLine(root.resolve(".go-version")).flatMap(GoVersion::tryParse)
                .or(() -> readFirstLine(root.resolve("build/build-image/cross/VERSION")).flatMap(GoVersion::tryParse));
        Optional<String> reflect2 = Optional.empty();
        Path modules = root.resolve("vendor/modules.txt");
        if (Files.isRegularFile(modules)) {
            try {
                Matcher m = REFLECT2.matcher(Files.readString(modules, StandardCharsets.UTF_8));
                if (m.find()) {
                    reflect2 = Optional.of(m.group(2) != null ? m.group(2) : m.group(1));
                }
            } catch (IOException e) {
                throw new UserError("cannot read " + modules + ": " + e.getMessage());
            }
        }
        return new SourceTreeFacts(root, go, reflect2);
    }

    /**
     * Why {@code go} cannot build a working Kubernetes from this tree, or empty when it can. Known breakage: Go ≥ 1.18
     * with reflect2 < 1.0.2 vendored (Kubernetes < 1.23) compiles, but kubeadm then panics in
     * {@code reflect2.(*frozenConfig).Type2} during {@code kubeadm init}.
     */
    public Optional<String> incompatibility(GoVersion go) {
        if (go.atLeast(1, 18) && reflect2.isPresent() && olderThan(reflect2.get(), 1, 0, 2)) {
            return Optional.of("Go " + go + " cannot build this tree: it vendors github.com/modern-go/reflect2 "
                    + reflect2.get() + ", which breaks on Go >= 1.18 (kubeadm init panics)"
                    + wantedGo.map(w -> "; use Go " + w.line() + " as upstream does").orElse("; use Go 1.17 or older")
                    + " with --go-root DIR");
        }
        if (wantedGo.isPresent() && go.compareTo(new GoVersion(wantedGo.get().major(), wantedGo.get().minor(), 0)) < 0) {
            return Optional.of("Go " + go + " is older than the Go " + wantedGo.get().line() + " this tree is built with;"
                    + " use Go " + wantedGo.get().line() + " with --go-root DIR");
        }
        return Optional.empty();
    }

    /**
     * The version the tree records: a {@code KUBE_GIT_VERSION_FILE} (as Kubernetes' own build reads it), else
     * {@code hack/print-workspace-status.sh} in a git checkout. Empty when it records none (e.g. a tarball of the tree).
     */
    public Optional<String> recordedVersion(Optional<Path> versionFile) throws IOException, InterruptedException {
        if (versionFile.isPresent()) {
            return Optional.of(versionFromFile(versionFile.get()));
        }
        if (Files.exists(root.resolve(".git")) && Files.isRegularFile(root.resolve("hack/print-workspace-status.sh"))) {
            Process p = new ProcessBuilder("bash", "hack/print-workspace-status.sh").directory(root.toFile())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
            for (String line : out.split("\n")) {
                String[] parts = line.trim().split("\\s+", 2);
                if (parts.length == 2 && parts[0].equals("gitVersion")) {
                    return Optional.of(KubeVersion.parse(parts[1].trim(), "gitVersion of " + root).toString());
                }
            }
        }
        return Optional.empty();
    }

    /** {@code KUBE_GIT_VERSION='v1.20.2'} from a version file in the format Kubernetes' build reads. */
    static String versionFromFile(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new UserError("KUBE_GIT_VERSION_FILE " + file + " does not exist");
        }
        Matcher m = Pattern.compile("(?m)^\\s*KUBE_GIT_VERSION=['\"]?([^'\"\\s]+)").matcher(Files.readString(file, StandardCharsets.UTF_8));
        if (!m.find()) {
            throw new UserError("KUBE_GIT_VERSION_FILE " + file + " sets no KUBE_GIT_VERSION");
        }
        return KubeVersion.parse(m.group(1), "KUBE_GIT_VERSION in " + file).toString();
    }

    /** The file Kubernetes' build reads its version from, for a tree with no git: written under {@code dir}. */
    static Path writeVersionFile(KubeVersion version, Path dir) throws IOException {
        Path file = dir.resolve("kube-version.env");
        Files.writeString(file, String.join("\n", List.of(
                "KUBE_GIT_VERSION='" + version + "'",
                "KUBE_GIT_MAJOR='" + version.major() + "'",
                "KUBE_GIT_MINOR='" + version.minor() + "'",
                "KUBE_GIT_TREE_STATE='clean'",
                // No git tree to take a commit from; kubeadm only prints it.
                "KUBE_GIT_COMMIT='0000000000000000000000000000000000000000'")) + "\n", StandardCharsets.UTF_8);
        return file;
    }

    private static boolean olderThan(String version, int major, int minor, int patch) {
        Matcher m = Pattern.compile("v?(\\d+)\\.(\\d+)\\.(\\d+)").matcher(version);
        if (!m.lookingAt()) {
            return false;
        }
        int a = Integer.parseInt(m.group(1)), b = Integer.parseInt(m.group(2)), c = Integer.parseInt(m.group(3));
        return a != major ? a < major : b != minor ? b < minor : c < patch;
    }

    private static Optional<String> readFirstLine(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8).stream().map(String::strip).filter(l -> !l.isEmpty()).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
