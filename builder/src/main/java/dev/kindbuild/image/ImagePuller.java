package dev.kindbuild.image;

import dev.kindbuild.lifecycle.DiskFull;
import dev.kindbuild.lifecycle.TempPaths;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.DescriptorDigest;
import com.google.cloud.tools.jib.api.InsecureRegistryException;
import com.google.cloud.tools.jib.registry.RegistryCredentialsNotSentException;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.api.RegistryAuthenticationFailedException;
import com.google.cloud.tools.jib.api.RegistryUnauthorizedException;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.Platform;
import com.google.cloud.tools.jib.event.events.ProgressEvent;
import com.google.cloud.tools.jib.event.progress.Allocation;
import com.google.cloud.tools.jib.http.ResponseException;
import com.google.cloud.tools.jib.image.json.BuildableManifestTemplate;
import com.google.cloud.tools.jib.image.json.ManifestListTemplate;
import com.google.cloud.tools.jib.image.json.ManifestTemplate;
import com.google.cloud.tools.jib.json.JsonTemplate;
import com.google.cloud.tools.jib.json.JsonTemplateMapper;
import com.google.cloud.tools.jib.registry.ManifestAndDigest;
import com.google.cloud.tools.jib.registry.RegistryClient;
import dev.kindbuild.UserError;
import dev.kindbuild.progress.Progress;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import javax.net.ssl.SSLException;

/**
 * Pulls images for one platform (linux/ARCH, matched strictly) into docker-archive tarballs tagged with the name
 * asked for, through a registry mirror when one is configured, with jib. Thread-safe.
 *
 * <p>Order: resolve the tag to a digest with one manifest request (the mirror first; the original registry only if
 * the mirror says not-found), pick the platform's manifest, then either copy the cached archive for that manifest
 * digest (no layers transferred) or pull it by digest with jib ({@code Jib.from(RegistryImage)} →
 * {@code TarImage}) into a temp file that is renamed on success.
 */
public final class ImagePuller {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RegistryAccess access;
    private final RegistryMirrors mirrors;
    private final ImageCache cache;
    private final boolean noCache;
    private final Progress progress;

    /**
     * @param cache   where pulled images and jib's layer cache live
     * @param noCache true to neither read nor write the cache (layers go to a temp dir that is removed)
     */
    public ImagePuller(RegistryAccess access, RegistryMirrors mirrors, ImageCache cache, boolean noCache, Progress progress) {
        this.access = access;
        this.mirrors = mirrors;
        this.cache = cache;
        this.noCache = noCache;
        this.progress = progress;
    }

    /** The same puller reporting to {@code other}. */
    public ImagePuller withProgress(Progress other) {
        return new ImagePuller(access, mirrors, cache, noCache, other);
    }

    /** A puller with the default cache location. */
    public static ImagePuller create(RegistryAccess access, RegistryMirrors mirrors, boolean noCache, Progress progress) {
        return new ImagePuller(access, mirrors, ImageCache.defaultLocation(), noCache, progress);
    }

    /** Pulls {@code ref} for linux/{@code arch} to {@code outDir/ref.fileName()}, reported as one progress step. */
    public PulledImage pull(ImageRef ref, String arch, Path outDir) {
        return pullTo(ref, arch, outDir.resolve(ref.fileName()));
    }

    /** Pulls {@code ref} for linux/{@code arch} to the file {@code target} (replaced if present). */
    public PulledImage pullTo(ImageRef ref, String arch, Path target) {
        String name = ref.nameWithTag(); // fails early for digest-only references
        return progress.step("Pulling " + ref + " (linux/" + arch + ")", () -> {
                    try {
                        return doPull(ref, name, arch, target);
                    } catch (UserError e) {
                        throw e;
                    } catch (Exception e) {
                        if (DiskFull.is(e)) {
                            throw DiskFull.error("while pulling " + name, e, target.toAbsolutePath().getParent(),
                                    cache.root(), Path.of(System.getProperty("java.io.tmpdir")));
                        }
                        throw e;
                    }
                },
                p -> (p.fromCache() ? "cached, " : "") + p.digest().substring(0, 19)
                        + (p.source().equals(ref) ? "" : " via " + p.source().registry()));
    }

    private record Resolved(ImageRef source, String digest, String platformDigest) {}

    private PulledImage doPull(ImageRef ref, String name, String arch, Path target) throws Exception {
        Optional<ImageRef> mirrored = mirrors.mirrored(ref);
        String indexKey = ref.withoutDigest() + " linux/" + arch + " " + mirrored.map(ImageRef::registry).orElse("-");

        // A digest-pinned reference already in the cache needs no registry at all.
        if (!noCache && ref.digest() != null) {
            Optional<ImageCache.IndexEntry> known = cache.lookup(indexKey);
            if (known.isPresent() && (known.get().digest().equals(ref.digest())
                    || known.get().platformDigest().equals(ref.digest()))) {
                Optional<Path> cached = cache.image(known.get().platformDigest(), arch);
                if (cached.isPresent()) {
                    progress.detail(ref + ": cached as " + known.get().platformDigest() + ", registry not contacted");
                    return deliver(ref, name, arch, target, new Resolved(mirrored.orElse(ref), known.get().digest(),
                            known.get().platformDigest()), cached.get(), true);
                }
            }
        }

        Resolved resolved = resolveWithFallback(ref, mirrored, arch);
        if (ref.digest() != null && !ref.digest().equals(resolved.digest()) && !ref.digest().equals(resolved.platformDigest())) {
            throw new UserError("image " + ref + " resolved to " + resolved.digest() + " at " + resolved.source()
                    + ", not the pinned digest");
        }
        if (!noCache) {
            cache.record(indexKey, new ImageCache.IndexEntry(resolved.digest(), resolved.platformDigest()));
            Optional<Path> cached = cache.image(resolved.platformDigest(), arch);
            if (cached.isPresent()) {
                progress.detail(ref + ": " + resolved.platformDigest() + " is cached, no layers transferred");
                return deliver(ref, name, arch, target, resolved, cached.get(), true);
            }
        }
        Path tmp = noCache ? tempNextTo(target) : cache.newTempFile();
        Path layers = noCache ? TempPaths.createOwnedDirectory("kind-build-layers-") : cache.layersDir();
        try {
            jibPull(resolved, name, arch, tmp, layers);
            String got = DockerArchive.architecture(tmp);
            if (got != null && !got.equals(arch)) {
                throw new UserError("image " + ref + " (" + resolved.platformDigest() + ") is for " + got + ", not " + arch);
            }
            if (noCache) {
                return deliver(ref, name, arch, target, resolved, tmp, false);
            }
            Path stored = cache.store(tmp, resolved.platformDigest(), arch);
            return deliver(ref, name, arch, target, resolved, stored, false);
        } finally {
            Files.deleteIfExists(tmp);
            if (noCache) {
                TempPaths.deleteTree(layers);
            }
        }
    }

    /** Copies a pulled archive to {@code target}, tagged {@code name}, reading it once. */
    private PulledImage deliver(ImageRef ref, String name, String arch, Path target, Resolved r, Path pulled, boolean hit)
            throws IOException {
        Files.createDirectories(target.toAbsolutePath().getParent());
        String configDigest = DockerArchive.retag(pulled, target, name);
        return new PulledImage(ref, r.digest(), r.platformDigest(), arch, target, Files.size(target), r.source(), hit,
                configDigest);
    }

    private void jibPull(Resolved r, String name, String arch, Path tmp, Path layers) throws Exception {
        ImageRef byDigest = r.source().withDigest(r.platformDigest());
        Path appCache = TempPaths.createOwnedDirectory("kind-build-app-");
        ByteProgress bytes = new ByteProgress("pull " + name);
        try {
            Containerizer containerizer = Containerizer.to(TarImage.at(tmp).named(RegistryAccess.jibRef(ImageRef.parse(name))))
                    .setAllowInsecureRegistries(access.allowsPlainHttp(byDigest.registry()))
                    .setBaseImageLayersCache(layers)
                    .setApplicationLayersCache(appCache)
                    .setToolName("kind-build")
                    .addEventHandler(LogEvent.class, this::log)
                    .addEventHandler(ProgressEvent.class, bytes::accept);
            Jib.from(access.registryImage(byDigest, this::log))
                    .setPlatforms(Set.of(new Platform(arch, "linux")))
                    .containerize(containerizer);
        } catch (ExecutionException | com.google.cloud.tools.jib.api.RegistryException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            if (DiskFull.is(cause)) {
                throw DiskFull.error("while pulling " + name, cause, tmp.toAbsolutePath().getParent(), layers, appCache);
            }
            RegistryFailure f = classify(byDigest, cause);
            throw new UserError("pulling " + name + " from " + byDigest + " failed: "
                    + (f.kind == Kind.OTHER ? describe(cause) : byDigest.registry() + " " + f.detail), cause);
        } finally {
            TempPaths.deleteTree(appCache);
        }
    }

    // ---- resolution ----

    private Resolved resolveWithFallback(ImageRef ref, Optional<ImageRef> mirrored, String arch) {
        if (mirrored.isEmpty()) {
            try {
                return resolve(ref, arch);
            } catch (RegistryFailure f) {
                throw f.kind == Kind.NOT_FOUND
                        ? new UserError("image " + ref + " not found in " + ref.registry() + " (" + f.detail + ")", f)
                        : new UserError("cannot pull " + ref + ": " + ref.registry() + " " + f.detail, f);
            }
        }
        ImageRef mirror = mirrored.get();
        try {
            return resolve(mirror, arch);
        } catch (RegistryFailure mf) {
            if (mf.kind != Kind.NOT_FOUND) {
                throw new UserError("cannot pull " + ref + " through mirror " + mirror.registry() + " (as " + mirror + "): "
                        + mirror.registry() + " " + mf.detail, mf);
            }
            progress.detail(ref + " not in mirror " + mirror.registry() + "; trying " + ref.registry());
            try {
                Resolved original = resolve(ref, arch);
                progress.notice(ref + " is not in mirror " + mirror.registry() + "; pulled from " + ref.registry());
                return original;
            } catch (RegistryFailure of) {
                String why = of.kind == Kind.NOT_FOUND ? "does not have it either" : of.detail;
                throw new UserError("image " + ref + " not found in mirror " + mirror.registry() + " (as " + mirror
                        + "), and " + ref.registry() + " " + why, of);
            }
        }
    }

    private enum Kind { NOT_FOUND, UNREACHABLE, DENIED, OTHER }

    private static final class RegistryFailure extends RuntimeException {
        final Kind kind;
        final String detail;

        RegistryFailure(Kind kind, String detail, Throwable cause) {
            super(detail, cause);
            this.kind = kind;
            this.detail = detail;
        }
    }

    /** One manifest request (plus the config for a single-platform image): tag → digest, platform → manifest digest. */
    private Resolved resolve(ImageRef source, String arch) {
        try {
            probe(source);
            RegistryClient client = access.pullClient(source, this::log);
            ManifestAndDigest<ManifestTemplate> m = client.pullManifest(source.qualifier());
            String digest = m.getDigest().toString();
            ManifestTemplate manifest = m.getManifest();
            if (manifest instanceof ManifestListTemplate) {
                JsonNode list = JSON.readTree(JsonTemplateMapper.toUtf8String((JsonTemplate) manifest));
                Set<String> platforms = new TreeSet<>();
                String platformDigest = null;
                for (JsonNode d : list.path("manifests")) {
                    String os = d.path("platform").path("os").asText("");
                    String a = d.path("platform").path("architecture").asText("");
                    if (os.equals("unknown") || a.equals("unknown")) {
                        continue; // attestation manifests
                    }
                    platforms.add(os + "/" + a + (d.path("platform").has("variant") ? "/" + d.path("platform").path("variant").asText() : ""));
                    if (platformDigest == null && os.equals("linux") && a.equals(arch)) {
                        platformDigest = d.path("digest").asText();
                    }
                }
                if (platformDigest == null) {
                    throw new UserError("image " + source + " has no linux/" + arch + " variant (it has "
                            + String.join(", ", platforms) + ")");
                }
                return new Resolved(source, digest, platformDigest);
            }
            // A single-platform image: read its config (a few hundred bytes) to check the platform, unless cached.
            if (noCache || cache.image(digest, arch).isEmpty()) {
                checkPlatform(client, source, (BuildableManifestTemplate) manifest, arch);
            }
            return new Resolved(source, digest, digest);
        } catch (UserError e) {
            throw e;
        } catch (Exception e) {
            throw classify(source, e);
        }
    }

    /**
     * Fails fast (a DNS look-up and a TCP connect, a few seconds at most) when the registry cannot be reached at all,
     * instead of jib's ~45 s of retries. Skipped when a proxy is configured, since then only the proxy is dialled.
     */
    private void probe(ImageRef source) throws IOException {
        if (proxyConfigured()) {
            return;
        }
        String host = RegistryAccess.hostOnly(source.registry());
        int explicit = RegistryAccess.port(source.registry());
        List<Integer> ports = explicit > 0 ? List.of(explicit)
                : access.allowsPlainHttp(source.registry()) ? List.of(443, 80) : List.of(443);
        java.net.InetAddress address = java.net.InetAddress.getByName(host);
        IOException last = null;
        for (int port : ports) {
            try (java.net.Socket socket = new java.net.Socket()) {
                socket.connect(new java.net.InetSocketAddress(address, port), PROBE_TIMEOUT_MS);
                return;
            } catch (SocketTimeoutException e) {
                last = new ConnectException("no answer from " + host + ":" + port + " within " + PROBE_TIMEOUT_MS / 1000 + "s");
            } catch (IOException e) {
                last = e;
            }
        }
        throw last;
    }

    private static final int PROBE_TIMEOUT_MS = 5000;

    private static boolean proxyConfigured() {
        for (String v : new String[] {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"}) {
            String val = System.getenv(v);
            if (val != null && !val.isBlank()) {
                return true;
            }
        }
        return System.getProperty("https.proxyHost") != null || System.getProperty("http.proxyHost") != null;
    }

    private void checkPlatform(RegistryClient client, ImageRef source, BuildableManifestTemplate manifest, String arch)
            throws IOException {
        DescriptorDigest config = manifest.getContainerConfiguration().getDigest();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        client.pullBlob(config, size -> {}, written -> {}).writeTo(buf);
        JsonNode c = JSON.readTree(buf.toByteArray());
        String os = c.path("os").asText("linux");
        String a = c.path("architecture").asText("");
        if (!os.equals("linux") || !a.equals(arch)) {
            throw new UserError("image " + source + " is a single-platform image for " + os + "/" + a
                    + ", not linux/" + arch);
        }
    }

    private RegistryFailure classify(ImageRef source, Throwable e) {
        boolean plainHttp = access.allowsPlainHttp(source.registry());
        String detail = describe(e);
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InsecureRegistryException) {
                return new RegistryFailure(Kind.UNREACHABLE, "does not offer verified TLS; if you "
                        + "trust it, allow plain HTTP with --insecure-registry " + source.registry(), e);
            }
            if (t instanceof UnknownHostException || t instanceof ConnectException || t instanceof NoRouteToHostException
                    || t instanceof SocketTimeoutException || t instanceof SSLException) {
                return new RegistryFailure(Kind.UNREACHABLE, "is unreachable (" + detail + ")", e);
            }
            if (t instanceof RegistryCredentialsNotSentException) {
                return new RegistryFailure(Kind.DENIED, "asks for credentials, which kind-build never sends over plain "
                        + "HTTP: serve " + source.registry() + " over TLS, or allow anonymous pulls from it", e);
            }
            if ((t instanceof RegistryUnauthorizedException || t instanceof RegistryAuthenticationFailedException)
                    && plainHttp) {
                return new RegistryFailure(Kind.DENIED, "asks for credentials, which kind-build never sends over plain "
                        + "HTTP: serve " + source.registry() + " over TLS, or allow anonymous pulls from it", e);
            }
            if (t instanceof RegistryUnauthorizedException || t instanceof RegistryAuthenticationFailedException) {
                return new RegistryFailure(Kind.DENIED, "denied access to " + source + " (" + detail
                        + "); log in with docker login " + source.registry(), e);
            }
            if (t instanceof ResponseException re && re.getStatusCode() == 404) {
                return new RegistryFailure(Kind.NOT_FOUND, "manifest unknown", e);
            }
            if (t instanceof com.google.cloud.tools.jib.api.RegistryException) {
                String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
                if (m.contains("manifest unknown") || m.contains("name unknown") || m.contains("not found")
                        || m.contains("manifest_unknown") || m.contains("name_unknown")) {
                    return new RegistryFailure(Kind.NOT_FOUND, "manifest unknown", e);
                }
            }
        }
        return new RegistryFailure(Kind.OTHER, "failed: " + detail, e);
    }

    /** The innermost useful message, one line. */
    static String describe(Throwable e) {
        Throwable t = e;
        String msg = null;
        while (t != null) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                msg = t.getClass().getSimpleName() + ": " + RegistryAccess.oneLine(t.getMessage());
            }
            t = t.getCause() == t ? null : t.getCause();
        }
        return msg == null ? e.getClass().getSimpleName() : msg;
    }

    private void log(LogEvent e) {
        if (e.getLevel() == LogEvent.Level.ERROR || e.getLevel() == LogEvent.Level.WARN) {
            progress.detail("jib: " + e.getMessage());
        }
    }

    /** Sums jib's per-layer pull progress into one byte count. */
    private final class ByteProgress {
        private final String what;
        private final Map<Allocation, Long> totals = new ConcurrentHashMap<>();
        private final AtomicLong done = new AtomicLong();

        ByteProgress(String what) {
            this.what = what;
        }

        void accept(ProgressEvent e) {
            Allocation a = e.getAllocation();
            String d = a.getDescription() == null ? "" : a.getDescription().toLowerCase(Locale.ROOT);
            if (!d.contains("layer") || !d.contains("pull")) {
                return;
            }
            totals.putIfAbsent(a, a.getAllocationUnits());
            long now = done.addAndGet(e.getUnits());
            long total = totals.values().stream().mapToLong(Long::longValue).sum();
            progress.bytes(what, now, total);
        }
    }

    private static Path tempNextTo(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        return dir.resolve("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    }
}
