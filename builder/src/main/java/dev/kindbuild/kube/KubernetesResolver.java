package dev.kindbuild.kube;

import dev.kindbuild.UserError;
import dev.kindbuild.lifecycle.CleanupStack;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.support.Urls;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Turns a {@link KubernetesSource} into {@link KubernetesArtifacts} on local disk, reporting through
 * {@link Progress}. Extracted files go under a work directory the caller owns (and deletes).
 *
 * <pre>{@code
 * var options = KubernetesResolver.Options.defaults("amd64").withExpectedSha256(flagOrEmpty);
 * var artifacts = new KubernetesResolver(options, progress, cleanup).resolve(source, workDir);
 * }</pre>
 */
public final class KubernetesResolver {

    /**
     * How to resolve.
     *
     * @param arch              target architecture ({@code amd64}, {@code arm64})
     * @param cacheDir          kind-build cache root (see {@link DownloadCache#defaultRoot()})
     * @param noCache           do not read the download cache (a verified download is still stored)
     * @param allowInsecureHttp allow plain http to non-loopback hosts
     * @param expectedSha256    digest of the tarball the user trusts ({@code --k8s-sha256}); replaces the published
     *                          {@code .sha256} for release/url, and must match for file
     * @param fallbackVersion   version to use when a dir, tarball or source tree records none
     * @param goRoot            the Go that builds a source tree ({@code --go-root}); empty: {@code go} on PATH
     * @param debianMirror      where kube-proxy's Debian root comes from, for a source tree
     */
    public record Options(String arch, Path cacheDir, boolean noCache, boolean allowInsecureHttp,
            Optional<String> expectedSha256, Optional<String> fallbackVersion, Optional<Path> goRoot, String debianMirror) {
        public Options {
            Objects.requireNonNull(arch, "arch");
            Objects.requireNonNull(cacheDir, "cacheDir");
            expectedSha256 = expectedSha256 == null ? Optional.empty() : expectedSha256;
            fallbackVersion = fallbackVersion == null ? Optional.empty() : fallbackVersion;
            goRoot = goRoot == null ? Optional.empty() : goRoot;
            Objects.requireNonNull(debianMirror, "debianMirror");
        }

        /** TLS only, cache at {@link DownloadCache#defaultRoot()}, no pinned digest, no fallback version, Go from PATH. */
        public static Options defaults(String arch) {
            return new Options(arch, DownloadCache.defaultRoot(), false, false, Optional.empty(), Optional.empty(),
                    Optional.empty(), dev.kindbuild.debian.AptSources.machineMirror());
        }

        public Options withCacheDir(Path dir) {
            return new Options(arch, dir, noCache, allowInsecureHttp, expectedSha256, fallbackVersion, goRoot, debianMirror);
        }

        public Options withNoCache(boolean value) {
            return new Options(arch, cacheDir, value, allowInsecureHttp, expectedSha256, fallbackVersion, goRoot, debianMirror);
        }

        public Options withAllowInsecureHttp(boolean value) {
            return new Options(arch, cacheDir, noCache, value, expectedSha256, fallbackVersion, goRoot, debianMirror);
        }

        public Options withExpectedSha256(Optional<String> value) {
            return new Options(arch, cacheDir, noCache, allowInsecureHttp, value, fallbackVersion, goRoot, debianMirror);
        }

        public Options withFallbackVersion(Optional<String> value) {
            return new Options(arch, cacheDir, noCache, allowInsecureHttp, expectedSha256, value, goRoot, debianMirror);
        }

        public Options withGoRoot(Optional<Path> value) {
            return new Options(arch, cacheDir, noCache, allowInsecureHttp, expectedSha256, fallbackVersion, value, debianMirror);
        }

        public Options withDebianMirror(String value) {
            return new Options(arch, cacheDir, noCache, allowInsecureHttp, expectedSha256, fallbackVersion, goRoot, value);
        }
    }

    private final Options options;
    private final Progress progress;
    private final CleanupStack cleanup;

    public KubernetesResolver(Options options, Progress progress) {
        this(options, progress, null);
    }

    /** @param cleanup receives removal of in-flight downloads so Ctrl-C leaves no temp files; may be null */
    public KubernetesResolver(Options options, Progress progress, CleanupStack cleanup) {
        this.options = Objects.requireNonNull(options);
        this.progress = progress == null ? Progress.SILENT : progress;
        this.cleanup = cleanup;
    }

    /** {@code kubernetes-server-linux-<arch>.tar.gz}. */
    public static String serverTarballName(String arch) {
        return "kubernetes-server-linux-" + arch + ".tar.gz";
    }

    /**
     * Resolves {@code source}; files are extracted under {@code workDir} (created if needed). Directory and source-tree
     * artifacts point at files in place.
     */
    public KubernetesArtifacts resolve(KubernetesSource source, Path workDir) {
        if (source instanceof KubernetesSource.Ci) {
            return resolve(pin(source), workDir);
        } else if (source instanceof KubernetesSource.CiBuild c) {
            return fromDownload(c.tarballUrl(options.arch()), source.describe(), workDir, Optional.of(c.version()));
        } else if (source instanceof KubernetesSource.Release r) {
            return fromDownload(r.tarballUrl(options.arch()), source.describe(), workDir, Optional.of(r.version()));
        } else if (source instanceof KubernetesSource.Url u) {
            return fromDownload(u.tarball(), source.describe(), workDir, Optional.empty());
        } else if (source instanceof KubernetesSource.File f) {
            return fromFile(f.tarball(), workDir);
        } else if (source instanceof KubernetesSource.Directory d) {
            return fromDirectory(d.dir());
        } else if (source instanceof KubernetesSource.SourceTree s) {
            return fromSourceTree(s.root());
        }
        throw new IllegalArgumentException("unknown source " + source);
    }

    /**
     * The source with its version fixed before anything big is fetched: a CI marker is read (one small request) and
     * becomes the {@link KubernetesSource.CiBuild} it names; every other source is returned as it is.
     */
    public KubernetesSource pin(KubernetesSource source) {
        if (!(source instanceof KubernetesSource.Ci ci)) {
            return source;
        }
        return progress.step("Reading " + ci.marker() + ".txt", () -> {
            String text = downloader().fetchText(ci.markerUrl(), MAX_MARKER_BYTES).strip();
            if (KubeVersion.tryParse(text).isEmpty()) {
                throw new UserError(Urls.redact(ci.markerUrl()) + " holds \"" + (text.length() > 80 ? text.substring(0, 80) + "…" : text)
                        + "\", not a Kubernetes version: check the marker's name and --k8s-release-url");
            }
            return (KubernetesSource) new KubernetesSource.CiBuild(ci.marker(), text, ci.releaseBase());
        }, s -> s.knownVersion().map(KubeVersion::toString).orElse(""));
    }

    private static final int MAX_MARKER_BYTES = 4096;

    private Downloader downloader() {
        return new Downloader(new DownloadCache(options.cacheDir()), options.allowInsecureHttp(), options.noCache(),
                progress, cleanup);
    }

    private KubernetesArtifacts fromDownload(java.net.URI url, String origin, Path workDir, Optional<String> requested) {
        Downloader.Result download = downloader().fetch(url, options.expectedSha256());
        ReleaseTarball.Contents contents = extract(download.file(), download.sha256(), workDir, Urls.redact(url), true);
        String version = versionOf(contents, Urls.redact(url));
        if (requested.isPresent() && !requested.get().equals(version)) {
            // e.g. --k8s-sha256 of another version's tarball, found in the cache: never an image named after the wrong version.
            throw new UserError("asked for Kubernetes " + requested.get() + " but the tarball from " + Urls.redact(url)
                    + " holds " + version + (options.expectedSha256().isPresent() ? " (check --k8s-sha256: it is that tarball's digest)" : ""));
        }
        return new KubernetesArtifacts(version, options.arch(), contents.binaries(), contents.imageTars(),
                origin + " (sha256 " + download.sha256() + ")", Optional.of(download.sha256()));
    }

    private KubernetesArtifacts fromFile(Path tarball, Path workDir) {
        String sha = progress.step("Checking " + tarball.getFileName(), () -> Sha256.of(tarball), s -> "sha256 " + s.substring(0, 12));
        if (options.expectedSha256().isPresent()) {
            String expected = Sha256.parseDigest(options.expectedSha256().get(), "expected SHA-256 of " + tarball);
            if (!expected.equals(sha)) {
                throw new UserError("checksum mismatch for " + tarball + ": expected sha256 " + expected + ", got " + sha);
            }
        }
        ReleaseTarball.Contents contents = extract(tarball, sha, workDir, tarball.toString(), false);
        String version = versionOf(contents, tarball.toString());
        return new KubernetesArtifacts(version, options.arch(), contents.binaries(), contents.imageTars(),
                "tarball " + tarball + " (sha256 " + sha + ")", Optional.of(sha));
    }

    /**
     * The binaries and images of a verified tarball: for a download ({@code cacheable}), from the cache of extracted
     * releases when it has them (unless --no-cache), else extracted into it; a local tarball (the user's file, which
     * kind-build does not copy) and --no-cache builds extract into {@code workDir}.
     */
    private ReleaseTarball.Contents extract(Path tarball, String sha256, Path workDir, String label, boolean cacheable) {
        ExtractedReleases cache = new ExtractedReleases(options.cacheDir());
        boolean cacheExtraction = cacheable && !options.noCache();
        if (cacheExtraction) {
            Optional<ReleaseTarball.Contents> cached = cache.find(sha256, file -> progress.notice("the cached extraction of " + label
                    + " changed since it was made (" + file + " no longer matches its recorded SHA-256): extracting it again"));
            if (cached.isPresent()) {
                progress.step("Extracting Kubernetes binaries and images (cached)", () -> null);
                return cached.get();
            }
        }
        return progress.step("Extracting Kubernetes binaries and images", () -> {
            try {
                return !cacheExtraction ? extractChecked(tarball, sha256, workDir.resolve("kubernetes"), label)
                        : cache.extract(sha256, dest -> extractChecked(tarball, sha256, dest, label));
            } catch (IOException e) {
                if (dev.kindbuild.lifecycle.DiskFull.is(e)) {
                    throw dev.kindbuild.lifecycle.DiskFull.error("extracting " + label, e, cacheExtraction ? options.cacheDir() : workDir);
                }
                throw new UserError("reading " + label + " failed: " + e.getMessage(), e);
            }
        }, c -> c.version().orElse("no version recorded") + ", " + c.imageTars().size() + " image tars");
    }

    /**
     * Extracts {@code tarball}, hashing its bytes as they are read: a cached download changed on disk since it was
     * verified (the download cache is trusted by its name) is removed, and the run fails in one line, before anything
     * extracted from it is used or cached. A change that breaks the gzip or tar stream is named the same way.
     */
    private ReleaseTarball.Contents extractChecked(Path tarball, String sha256, Path dest, String label) throws IOException {
        String got;
        ReleaseTarball.Contents contents = null;
        try {
            contents = ReleaseTarball.extract(tarball, dest, label);
            got = contents.tarballSha256();
        } catch (UserError e) {
            got = Sha256.of(tarball); // only on this failure path: is the file still the one verified?
            if (got.equals(sha256)) {
                throw e;
            }
        }
        if (got.equals(sha256)) {
            return contents;
        }
        String why = " (its bytes hash to sha256 " + got.substring(0, 12) + "…, not to the " + sha256.substring(0, 12) + "… it was verified as)";
        if (tarball.toAbsolutePath().startsWith(new DownloadCache(options.cacheDir()).downloadsDir().toAbsolutePath())) {
            try {
                Files.deleteIfExists(tarball);
            } catch (IOException e) {
                throw new UserError("the cached download " + tarball + " of " + label + " is damaged" + why + ": delete it, then run the command again", e);
            }
            throw new UserError("the cached download " + tarball + " of " + label + " is damaged" + why
                    + ": removed it, so running the command again downloads it");
        }
        throw new UserError(tarball + " changed while it was read" + why + ": run the command again once nothing writes to it");
    }

    private String versionOf(ReleaseTarball.Contents contents, String label) {
        if (contents.version().isPresent()) {
            return contents.version().get();
        }
        return options.fallbackVersion()
                .map(v -> KubeVersion.parse(v, "given Kubernetes version").toString())
                .orElseThrow(() -> new UserError(label + " records no version (neither " + ReleaseTarball.VERSION_ENTRY
                        + " nor " + ReleaseTarball.DOCKER_TAG_ENTRY + "): give its version with --k8s-version vX.Y.Z"));
    }

    private KubernetesArtifacts fromDirectory(Path dir) {
        return progress.step("Reading Kubernetes binaries from " + dir, () -> {
            Map<String, Path> binaries = binariesIn(dir, dir.toString());
            List<Path> images = tarsIn(dir);
            String version;
            Path versionFile = dir.resolve("version");
            Path dockerTag = dir.resolve("kube-apiserver.docker_tag");
            if (Files.isRegularFile(versionFile)) {
                version = KubeVersion.parse(readSmall(versionFile), versionFile.toString()).toString();
            } else if (Files.isRegularFile(dockerTag)) {
                version = ReleaseTarball.parseDockerTag(readSmall(dockerTag), dockerTag.toString());
            } else if (options.fallbackVersion().isPresent()) {
                version = KubeVersion.parse(options.fallbackVersion().get(), "given Kubernetes version").toString();
            } else {
                throw new UserError("cannot tell the Kubernetes version of " + dir + ": add a file " + versionFile
                        + " containing it (e.g. v1.31.2), or give it with --k8s-version vX.Y.Z");
            }
            return new KubernetesArtifacts(version, options.arch(), binaries, images, "directory " + dir, Optional.empty());
        }, a -> a.version());
    }

    private KubernetesArtifacts fromSourceTree(Path root) {
        return new SourceTreeBuild(options, progress).build(root);
    }

    private static Map<String, Path> binariesIn(Path dir, String label) {
        Map<String, Path> binaries = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String b : KubernetesSource.BINARIES) {
            Path p = dir.resolve(b);
            if (Files.isRegularFile(p)) {
                binaries.put(b, p);
            } else {
                missing.add(b);
            }
        }
        if (!missing.isEmpty()) {
            throw new UserError(label + " lacks " + String.join(", ", missing) + " (kubeadm, kubelet and kubectl are required)");
        }
        return binaries;
    }

    private static List<Path> tarsIn(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tar") && Files.isRegularFile(p)).sorted().toList();
        } catch (IOException e) {
            throw new UserError("cannot list image tars in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static String readSmall(Path p) throws IOException {
        if (Files.size(p) > 4096) {
            throw new UserError(p + " is larger than 4 KiB; expected just a version like v1.31.2");
        }
        return Files.readString(p, StandardCharsets.UTF_8).trim();
    }
}
