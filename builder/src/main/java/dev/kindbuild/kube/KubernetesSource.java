package dev.kindbuild.kube;

import dev.kindbuild.UserError;
import dev.kindbuild.support.Urls;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Where the Kubernetes binaries and images of a node image come from. {@link #detect} turns the command-line argument
 * (and an optional {@code --type}) into one of these; {@link KubernetesResolver} turns it into
 * {@link KubernetesArtifacts}.
 */
public sealed interface KubernetesSource {

    /** dl.k8s.io, where official release tarballs live. */
    URI DEFAULT_RELEASE_BASE = URI.create("https://dl.k8s.io");

    /** Accepted values of {@code --type}. */
    List<String> TYPES = List.of("release", "ci", "url", "file", "dir", "source");

    /** One line for humans, never containing credentials. */
    String describe();

    /** The type name as accepted by {@code --type}. */
    String type();

    /** The Kubernetes version, when the source names it before anything is downloaded (a release, a resolved CI build). */
    default Optional<KubeVersion> knownVersion() {
        return Optional.empty();
    }

    /** A released version: {@code <releaseBase>/<version>/kubernetes-server-linux-<arch>.tar.gz}. */
    record Release(String version, URI releaseBase) implements KubernetesSource {
        public Release {
            version = KubeVersion.parse(version, "release version").toString();
            releaseBase = releaseBase == null ? DEFAULT_RELEASE_BASE : releaseBase;
        }

        /** The tarball URL for {@code arch}. */
        public URI tarballUrl(String arch) {
            return URI.create(Urls.withoutTrailingSlash(releaseBase) + "/" + version + "/" + KubernetesResolver.serverTarballName(arch));
        }

        @Override
        public String describe() {
            return "release " + version + " from " + Urls.redact(releaseBase);
        }

        @Override
        public Optional<KubeVersion> knownVersion() {
            return KubeVersion.tryParse(version);
        }

        @Override
        public String type() {
            return "release";
        }

        @Override
        public String toString() {
            return "Release[version=" + version + ", releaseBase=" + Urls.redact(releaseBase) + "]";
        }
    }

    /**
     * A CI build named by a version marker, as kind v0.32's {@code --type ci}: {@code ci/latest} (or {@code latest},
     * {@code ci/latest-1.36}) is read from {@code <releaseBase>/ci/latest.txt}, which names the build
     * ({@link CiBuild}). {@link KubernetesResolver#pin} reads it.
     *
     * @param marker the marker's path under the release base, without {@code .txt} (e.g. {@code ci/latest})
     */
    record Ci(String marker, URI releaseBase) implements KubernetesSource {
        public Ci {
            marker = normalizeMarker(marker);
            releaseBase = releaseBase == null ? DEFAULT_RELEASE_BASE : releaseBase;
        }

        /** {@code <releaseBase>/<marker>.txt}. */
        public URI markerUrl() {
            return URI.create(Urls.withoutTrailingSlash(releaseBase) + "/" + marker + ".txt");
        }

        /**
         * kind's normalisation: empty means {@code latest}; {@code ci/} is prepended and {@code .txt} dropped (it is
         * added back to fetch). Each path segment must be a plain name, so a marker cannot leave the release base.
         */
        static String normalizeMarker(String given) {
            String m = given == null ? "" : given.strip();
            if (m.isEmpty()) {
                m = "latest";
            }
            if (!m.startsWith("ci/")) {
                m = "ci/" + m;
            }
            if (m.endsWith(".txt")) {
                m = m.substring(0, m.length() - 4);
            }
            for (String segment : m.split("/", -1)) {
                if (!segment.matches("[A-Za-z0-9][A-Za-z0-9._-]*") || segment.contains("..")) {
                    throw new UserError("--type ci: \"" + Urls.redact(given) + "\" is not a CI version marker (expected e.g. ci/latest or ci/latest-1.36)");
                }
            }
            return m;
        }

        @Override
        public String describe() {
            return "CI marker " + marker + " at " + Urls.redact(releaseBase);
        }

        @Override
        public String type() {
            return "ci";
        }

        @Override
        public String toString() {
            return "Ci[marker=" + marker + ", releaseBase=" + Urls.redact(releaseBase) + "]";
        }
    }

    /**
     * A CI build, as a marker named it: {@code <releaseBase>/ci/<version>/kubernetes-server-linux-<arch>.tar.gz}.
     *
     * @param marker  the marker it was read from (for messages)
     * @param version the build's version, e.g. {@code v1.37.0-alpha.1.123+0123456789abcd}
     */
    record CiBuild(String marker, String version, URI releaseBase) implements KubernetesSource {
        public CiBuild {
            version = KubeVersion.parse(version, marker + ".txt").toString();
            releaseBase = releaseBase == null ? DEFAULT_RELEASE_BASE : releaseBase;
        }

        /** The tarball URL for {@code arch}. */
        public URI tarballUrl(String arch) {
            return URI.create(Urls.withoutTrailingSlash(releaseBase) + "/ci/" + version + "/" + KubernetesResolver.serverTarballName(arch));
        }

        @Override
        public Optional<KubeVersion> knownVersion() {
            return KubeVersion.tryParse(version);
        }

        @Override
        public String describe() {
            return "CI build " + version + " (" + marker + ") from " + Urls.redact(releaseBase);
        }

        @Override
        public String type() {
            return "ci";
        }

        @Override
        public String toString() {
            return "CiBuild[marker=" + marker + ", version=" + version + ", releaseBase=" + Urls.redact(releaseBase) + "]";
        }
    }

    /** A kubernetes-server tarball at an http(s) URL (no arch substitution). */
    record Url(URI tarball) implements KubernetesSource {
        @Override
        public String describe() {
            return "tarball " + Urls.redact(tarball);
        }

        @Override
        public String type() {
            return "url";
        }

        @Override
        public String toString() {
            return "Url[tarball=" + Urls.redact(tarball) + "]";
        }
    }

    /** A local kubernetes-server tarball. */
    record File(Path tarball) implements KubernetesSource {
        @Override
        public String describe() {
            return "tarball " + tarball;
        }

        @Override
        public String type() {
            return "file";
        }
    }

    /** A directory holding kubeadm, kubelet and kubectl (and optionally image tars and a {@code version} file). */
    record Directory(Path dir) implements KubernetesSource {
        @Override
        public String describe() {
            return "directory " + dir;
        }

        @Override
        public String type() {
            return "dir";
        }
    }

    /** A Kubernetes source checkout, built with {@code make quick-release-images}. */
    record SourceTree(Path root) implements KubernetesSource {
        @Override
        public String describe() {
            return "source tree " + root;
        }

        @Override
        public String type() {
            return "source";
        }
    }

    /** The binaries every node image needs. */
    List<String> BINARIES = List.of("kubeadm", "kubelet", "kubectl");

    /**
     * Detects the source of {@code arg} as kind does: an http(s) URL is a {@code url}; an existing regular file a
     * {@code file}; an existing directory a {@code dir} when it holds kubeadm, kubelet and kubectl, or a {@code source}
     * tree when its go.mod declares {@code module k8s.io/kubernetes}; a semver (leading {@code v} optional) a
     * {@code release}. Anything else is a one-line {@link UserError}. {@code forcedType} (from {@code --type}) skips
     * detection but is still validated.
     *
     * @param releaseBase where releases live; null means {@link #DEFAULT_RELEASE_BASE}
     */
    static KubernetesSource detect(String arg, Optional<String> forcedType, URI releaseBase) {
        if (arg == null || arg.isBlank()) {
            throw new UserError("no Kubernetes source given: " + Detection.ACCEPTED);
        }
        if (forcedType != null && forcedType.isPresent()) {
            return Detection.forced(arg, forcedType.get().trim().toLowerCase(Locale.ROOT), releaseBase);
        }
        if (Urls.isHttpUrl(arg)) {
            return new Url(Urls.parseHttpUrl(arg));
        }
        Path path = Detection.toPath(arg);
        if (path != null && Files.isRegularFile(path)) {
            return new File(path);
        }
        if (path != null && Files.isDirectory(path)) {
            if (Detection.missingBinaries(path).isEmpty()) {
                return new Directory(path);
            }
            if (Detection.isKubernetesSourceTree(path)) {
                return new SourceTree(path);
            }
            throw new UserError("directory " + path + " is neither a Kubernetes binaries directory (it lacks "
                    + String.join(", ", Detection.missingBinaries(path))
                    + ") nor a Kubernetes source tree (no go.mod declaring module k8s.io/kubernetes)");
        }
        if (arg.startsWith("ci/")) {
            return new Ci(arg, releaseBase);
        }
        Optional<KubeVersion> version = KubeVersion.tryParse(arg);
        if (version.isPresent()) {
            return new Release(version.get().toString(), releaseBase);
        }
        throw new UserError(Detection.notASource(arg));
    }
}
