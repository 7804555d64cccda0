package dev.kindbuild.kube;

import dev.kindbuild.UserError;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.support.Sha256;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Builds a Kubernetes source tree into node-image artifacts on the host, with no Docker, no buildx and no network:
 * {@code make WHAT=...} with a Go the tree can be built with, then the control-plane images packaged by
 * {@link ComponentImages}. Results are cached by tree content, Go version, arch and version, so an unchanged tree is
 * built once.
 */
final class SourceTreeBuild {
    /** What kind's node image needs, plus the component images kubeadm runs. */
    static final List<String> TARGETS = List.of("cmd/kubeadm", "cmd/kubelet", "cmd/kubectl", "cmd/kube-apiserver",
            "cmd/kube-controller-manager", "cmd/kube-scheduler", "cmd/kube-proxy");
    /** Bumped when the layout of a cached build changes. */
    private static final String FORMAT = "1";

    private final KubernetesResolver.Options options;
    private final Progress progress;

    SourceTreeBuild(KubernetesResolver.Options options, Progress progress) {
        this.options = options;
        this.progress = progress;
    }

    KubernetesArtifacts build(Path root) {
        String arch = options.arch();
        SourceTreeFacts facts = SourceTreeFacts.read(root);
        GoToolchain go = progress.step("Checking Go", () -> {
            GoToolchain g = GoToolchain.find(options.goRoot());
            Optional<String> problem = facts.incompatibility(g.version());
            if (problem.isPresent()) {
                throw new UserError(problem.get());
            }
            return g;
        }, g -> "go " + g.version() + facts.wantedGo().map(w -> " (the tree is built with " + w + " upstream)").orElse(""));

        Optional<Path> versionFile = Optional.ofNullable(System.getenv("KUBE_GIT_VERSION_FILE")).filter(s -> !s.isBlank()).map(Path::of);
        KubeVersion version = progress.step("Reading Kubernetes source version", () -> facts.recordedVersion(versionFile)
                .or(options::fallbackVersion)
                .map(v -> KubeVersion.parse(v, "Kubernetes version"))
                .orElseThrow(() -> new UserError(root + " records no version (no git checkout, no KUBE_GIT_VERSION_FILE):"
                        + " pass --k8s-version vX.Y.Z with the tree")), KubeVersion::toString);

        String treeDigest = progress.step("Hashing source tree", () -> treeDigest(root), d -> "sha256 " + d.substring(0, 12));
        String key = Sha256.of(String.join("\n", FORMAT, treeDigest, go.version().toString(), arch, version.toString())
                .getBytes(StandardCharsets.UTF_8)).substring(0, 24);
        Path out = options.cacheDir().resolve("source-builds").resolve(key);
        if (Files.isRegularFile(out.resolve("version"))) {
            progress.notice("reusing the build of this tree from " + out);
        } else {
            Path binDir = progress.step("Building Kubernetes " + version + " from source (linux/" + arch + ", go " + go.version() + ")",
                    () -> make(root, go, version, arch), p -> p.toString());
            progress.run("Packaging control-plane images", () -> store(binDir, out, version, arch, go));
        }
        Map<String, Path> binaries = new LinkedHashMap<>();
        for (String b : KubernetesSource.BINARIES) {
            binaries.put(b, out.resolve(b));
        }
        List<Path> images = ComponentImages.COMPONENTS.stream().map(c -> out.resolve(c + ".tar")).toList();
        return new KubernetesArtifacts(version.toString(), arch, binaries, images,
                "source tree " + root + " (built with go " + go.version() + ", tree sha256 " + treeDigest.substring(0, 12) + ")",
                Optional.empty());
    }

    /** Runs {@code make WHAT=...}; returns the directory holding the built binaries. */
    private Path make(Path root, GoToolchain go, KubeVersion version, String arch) throws IOException, InterruptedException {
        Path scratch = Files.createTempDirectory("kind-build-src-");
        try {
            List<String> command = List.of("make", "-C", root.toString(), "WHAT=" + String.join(" ", TARGETS),
                    "KUBE_BUILD_PLATFORMS=linux/" + arch);
            ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true);
            Map<String, String> env = pb.environment();
            env.put("GOROOT", go.goRoot().toString());
            env.put("PATH", go.goRoot().resolve("bin") + ":" + env.getOrDefault("PATH", "/usr/bin:/bin"));
            // Static binaries, as released: they run on any node userland.
            env.put("CGO_ENABLED", "0");
            // The make turns cgo back on when cross-compiling (CC=aarch64-linux-gnu-gcc for linux/arm64) for every
            // binary not on its static list; kubelet is the only target missing there.
            env.put("KUBE_STATIC_OVERRIDES", "kubelet");
            env.put("GOCACHE", options.cacheDir().resolve("go-build").toString());
            env.put("GOTOOLCHAIN", "local");
            env.remove("GOFLAGS");
            env.put("KUBE_VERBOSE", "1");
            Optional<String> given = Optional.ofNullable(System.getenv("KUBE_GIT_VERSION_FILE")).filter(s -> !s.isBlank());
            env.put("KUBE_GIT_VERSION_FILE", given.orElse(SourceTreeFacts.writeVersionFile(version, scratch).toString()));
            progress.detail(String.join(" ", command));
            Deque<String> tail = new ArrayDeque<>();
            int exit = runStreaming(pb, tail);
            if (exit != 0) {
                String last = tail.stream().filter(l -> !l.matches("^make(\\[\\d+\\])?: .*") && !l.startsWith("!!!"))
                        .reduce((a, b) -> b).map(l -> ": " + l.strip()).orElse("");
                throw new UserError("building Kubernetes from " + root + " failed (make exited " + exit + ")" + last
                        + " — rerun with -v for the full output");
            }
        } finally {
            TempPaths.deleteTree(scratch);
        }
        Path bin = root.resolve("_output/local/bin/linux").resolve(arch);
        for (String t : TARGETS) {
            String name = t.substring(t.indexOf('/') + 1);
            if (!Files.isRegularFile(bin.resolve(name))) {
                throw new UserError("make finished but " + bin.resolve(name) + " is missing");
            }
        }
        return bin;
    }

    /** Copies the binaries into the cache and packages the component images next to them; atomic per build. */
    private void store(Path binDir, Path out, KubeVersion version, String arch, GoToolchain go) throws IOException {
        Files.createDirectories(out.getParent());
        Path partial = Files.createTempDirectory(out.getParent(), ".partial-");
        try {
            for (String t : TARGETS) {
                String name = t.substring(t.indexOf('/') + 1);
                Files.copy(binDir.resolve(name), partial.resolve(name), StandardCopyOption.COPY_ATTRIBUTES);
            }
            Instant mtime = SourceDateEpoch.orElse(Instant.EPOCH);
            String registry = imageRegistry(partial.resolve("kubeadm"), version, arch);
            String tag = version.toString().replace('+', '_');
            for (String component : ComponentImages.COMPONENTS) {
                Optional<Path> base = component.equals("kube-proxy")
                        ? Optional.of(dev.kindbuild.debian.DebianRoot.obtain(options.cacheDir(), ComponentImages.kubeProxyRoot(arch),
                                options.debianMirror(), progress))
                        : Optional.empty();
                ComponentImages.write(partial.resolve(component + ".tar"), registry + "/" + component + "-" + arch + ":" + tag,
                        component, arch, partial.resolve(component), base, mtime);
                progress.detail("packaged " + component + " on " + (base.isPresent() ? "a Debian root" : "a minimal root"));
            }
            Files.writeString(partial.resolve("version"), version + "\n", StandardCharsets.UTF_8);
            Files.writeString(partial.resolve("go-version"), go.version() + "\n", StandardCharsets.UTF_8);
            if (Files.exists(out)) {
                TempPaths.deleteTree(out);
            }
            Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            TempPaths.deleteTree(partial);
        }
    }

    /**
     * The registry kubeadm of this version names its images under: asked of the kubeadm just built when it runs on
     * this host, else by version (registry.k8s.io from v1.25, k8s.gcr.io before).
     */
    private String imageRegistry(Path kubeadm, KubeVersion version, String arch) {
        if (arch.equals(dev.kindbuild.engine.DockerEngine.normalizeArch(System.getProperty("os.arch")))) {
            try {
                Process p = new ProcessBuilder(kubeadm.toString(), "config", "images", "list", "--kubernetes-version",
                        version.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (p.waitFor() == 0) {
                    for (String line : out.split("\n")) {
                        String s = line.strip();
                        int at = s.indexOf("/kube-apiserver:");
                        if (at > 0) {
                            return s.substring(0, at);
                        }
                    }
                }
            } catch (IOException e) {
                progress.detail("could not run the built kubeadm: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UserError("interrupted", 130, e);
            }
        }
        return version.minor() >= 25 || version.major() > 1 ? "registry.k8s.io" : "k8s.gcr.io";
    }

    /**
     * SHA-256 over every file's relative path, execute bit and content. Left out: build output ({@code _output}),
     * VCS and make state (top-level dot directories), and the files the build regenerates in place
     * ({@code zz_generated.*}, {@code bindata.go}), so a build does not change the digest of its own tree.
     */
    static String treeDigest(Path root) throws IOException {
        MessageDigest digest = Sha256.newDigest();
        byte[] buffer = new byte[1 << 16];
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(p -> {
                Path rel = root.relativize(p);
                String first = rel.getNameCount() == 0 ? "" : rel.getName(0).toString();
                String file = p.getFileName().toString();
                return !first.equals("_output") && !(first.startsWith(".") && rel.getNameCount() > 1)
                        && !file.startsWith("zz_generated.") && !file.equals("bindata.go")
                        && (Files.isRegularFile(p) || Files.isSymbolicLink(p));
            }).sorted().toList();
        }
        for (Path f : files) {
            String rel = root.relativize(f).toString();
            if (Files.isSymbolicLink(f)) {
                digest.update(("L " + rel + " -> " + Files.readSymbolicLink(f) + "\n").getBytes(StandardCharsets.UTF_8));
                continue;
            }
            digest.update(((Files.isExecutable(f) ? "X " : "F ") + rel + " " + Files.size(f) + "\n").getBytes(StandardCharsets.UTF_8));
            try (InputStream in = Files.newInputStream(f)) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    digest.update(buffer, 0, n);
                }
            }
        }
        return Sha256.hex(digest);
    }

    private int runStreaming(ProcessBuilder pb, Deque<String> tail) throws IOException, InterruptedException {
        Process p = pb.start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                progress.detail(line);
                if (!line.isBlank()) {
                    tail.addLast(line);
                    if (tail.size() > 20) tail.removeFirst();
                }
            }
            return p.waitFor();
        } catch (IOException | InterruptedException e) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
            throw e;
        } finally {
            if (p.isAlive()) {
                p.descendants().forEach(ProcessHandle::destroy);
                p.destroy();
            }
        }
    }

    /** The build time SOURCE_DATE_EPOCH asks for, if set. */
    private static final class SourceDateEpoch {
        static Instant orElse(Instant fallback) {
            String s = System.getenv("SOURCE_DATE_EPOCH");
            if (s == null || s.isBlank()) {
                return fallback;
            }
            try {
                return Instant.ofEpochSecond(Long.parseLong(s.strip()));
            } catch (NumberFormatException e) {
                throw new UserError("SOURCE_DATE_EPOCH=" + s + " is not a number of seconds");
            }
        }
    }
}
