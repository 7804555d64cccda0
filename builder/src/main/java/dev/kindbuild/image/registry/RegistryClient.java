package dev.kindbuild.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryCredential;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.support.EnvProxySelector;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.progress.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import javax.net.ssl.SSLHandshakeException;

/**
 * The distribution API (OCI distribution spec / Docker registry v2) of one registry, on {@link HttpClient}: manifests,
 * blobs, uploads, cross-repository mounts. Thread-safe; one per registry host (see {@link RegistryClients}).
 *
 * <p>Rules it enforces, whoever calls it:
 * <ul>
 *   <li>TLS, verified against {@link RegistryTrust}, by default. Plain HTTP only where
 *       {@link RegistryAccess#allowsPlainHttp} says so (loopback, {@code --insecure-registry}), and only when the TLS
 *       attempt failed for a reason other than a certificate that does not verify (that is reported, not bypassed).</li>
 *   <li>Credentials (Basic, or tokens obtained with them) go only over TLS or to a loopback address; a plain-HTTP
 *       insecure registry gets anonymous requests. They are never logged, and every message is scrubbed of them.</li>
 *   <li>Bearer tokens from the {@code WWW-Authenticate} challenge's realm (anonymous or with the credential), cached
 *       per scope; Basic auth where the registry asks for it.</li>
 *   <li>Proxies from HTTPS_PROXY/HTTP_PROXY/NO_PROXY ({@link EnvProxySelector}: never for loopback).</li>
 *   <li>429, 5xx and broken connections are retried with exponential backoff, {@value #ATTEMPTS} attempts at most.</li>
 *   <li>Redirects (blob downloads often go to storage elsewhere) are followed by hand so that no Authorization header
 *       leaves the registry's host.</li>
 * </ul>
 */
public final class RegistryClient {
    /** Every manifest kind kind-build reads; registries otherwise convert to (or refuse) what the client lacks. */
    static final String MANIFEST_ACCEPT = String.join(", ", MediaTypes.OCI_INDEX, MediaTypes.OCI_MANIFEST,
            MediaTypes.DOCKER_MANIFEST_LIST, MediaTypes.DOCKER_MANIFEST);
    static final int ATTEMPTS = 5;
    /**
     * System property: how many seconds a blob upload may go without the registry accepting a byte before the push
     * fails (default {@value #DEFAULT_STALL_SECONDS}); tests shorten it, a very slow link may lengthen it.
     */
    public static final String STALL_PROPERTY = "kindbuild.registry.stallSeconds";
    static final long DEFAULT_STALL_SECONDS = 60;
    private static final int MAX_MANIFEST = 8 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a cross-repository mount did: mounted, or the registry opened an upload session instead. */
    public record MountAttempt(boolean mounted, URI uploadLocation) {}

    private final String registry;
    private final String apiHost;
    private final RegistryAccess access;
    private final RegistryTrust trust;
    private final Progress progress;
    private final HttpClient http;
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    private final Set<String> secrets = ConcurrentHashMap.newKeySet();
    private volatile Optional<RegistryCredential> credential;
    private volatile URI base;
    private volatile AuthChallenge challenge;
    private final long backoffMillis;
    private final Duration stallLimit;

    RegistryClient(String registry, RegistryAccess access, RegistryTrust trust, Progress progress, long backoffMillis) {
        this.registry = registry;
        this.apiHost = registry.equals(ImageRef.DOCKER_HUB) ? "registry-1.docker.io" : registry;
        this.access = access;
        this.trust = trust;
        this.progress = progress;
        this.backoffMillis = backoffMillis;
        long stallSeconds = Long.getLong(STALL_PROPERTY, DEFAULT_STALL_SECONDS);
        this.stallLimit = Duration.ofSeconds(stallSeconds > 0 ? stallSeconds : DEFAULT_STALL_SECONDS);
        this.http = HttpClient.newBuilder()
                .sslContext(trust.context())
                .proxy(EnvProxySelector.fromEnvironment())
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(15))
                // HTTP/1.1: no h2c upgrade attempts on plain connections, which some registries mishandle.
                .version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    /** A client for {@code registry} (as in {@link ImageRef#registry()}), under {@code access}'s TLS and credential rules. */
    public static RegistryClient connect(String registry, RegistryAccess access, RegistryTrust trust, Progress progress) {
        return new RegistryClient(registry, access, trust, progress, 500);
    }

    public String registry() {
        return registry;
    }

    /** {@code https://host} or {@code http://host}, once {@link #ping} decided. */
    public URI base() {
        ping();
        return base;
    }

    // ---- distribution operations ----

    /** {@code GET /v2/}: picks the scheme and learns how the registry wants to be authenticated. Idempotent. */
    public void ping() {
        if (base != null) {
            return;
        }
        synchronized (this) {
            if (base != null) {
                return;
            }
            URI https = URI.create("https://" + apiHost + "/v2/");
            try {
                pingAt(https);
                return;
            } catch (IOException e) {
                if (isCertificateFailure(e)) {
                    throw failure("has a TLS certificate not trusted by " + trust.describe(), 0, "", e);
                }
                if (!access.allowsPlainHttp(registry)) {
                    throw failure(isTlsFailure(e) ? "does not speak TLS (" + describe(e) + "); plain HTTP is used only for "
                            + "loopback registries and those named by --insecure-registry" : "is unreachable (" + describe(e) + ")", 0, "", e);
                }
                progress.detail(registry + ": no TLS (" + describe(e) + "), using plain HTTP");
            }
            try {
                pingAt(URI.create("http://" + apiHost + "/v2/"));
            } catch (IOException e) {
                throw failure("is unreachable (" + describe(e) + ")", 0, "", e);
            }
        }
    }

    private void pingAt(URI uri) throws IOException {
        HttpResponse<Void> r = sendWithRetries(() -> HttpRequest.newBuilder(uri).GET().timeout(Duration.ofSeconds(30)),
                BodyHandlers.discarding(), "GET /v2/");
        if (r.statusCode() == 401) {
            challenge = r.headers().firstValue("WWW-Authenticate").flatMap(AuthChallenge::parse).orElse(null);
        } else if (r.statusCode() / 100 != 2) {
            throw failure("does not speak the registry API (GET /v2/ answered " + r.statusCode() + ")", r.statusCode(), "", null);
        }
        base = URI.create(uri.getScheme() + "://" + apiHost);
    }

    /**
     * The manifest (image manifest or index) {@code reference} (a tag or a digest) names in {@code repository}, exactly
     * as served. Its digest is computed from the bytes; a registry header that disagrees is an error.
     */
    public RegistryManifest manifest(String repository, String reference) {
        String what = "manifest " + repository + (reference.startsWith("sha256:") ? "@" : ":") + reference;
        HttpResponse<InputStream> r = send("GET", path(repository, "manifests/" + reference), pull(repository), null,
                Map.of("Accept", MANIFEST_ACCEPT), what);
        expect(r, what, 200);
        byte[] bytes;
        try (InputStream in = r.body()) {
            bytes = in.readNBytes(MAX_MANIFEST + 1);
        } catch (IOException e) {
            throw failure("broke off sending " + what + " (" + describe(e) + ")", 0, "", e);
        }
        if (bytes.length > MAX_MANIFEST) {
            throw failure("sent a " + what + " larger than " + (MAX_MANIFEST >> 20) + " MiB", 200, "", null);
        }
        String digest = "sha256:" + Sha256.of(bytes);
        Optional<String> header = r.headers().firstValue("Docker-Content-Digest");
        if (header.isPresent() && header.get().startsWith("sha256:") && !header.get().equals(digest)) {
            throw failure("sent " + what + " whose bytes hash to " + digest + " but labelled it " + header.get(), 200, "", null);
        }
        String mediaType = r.headers().firstValue("Content-Type").map(t -> t.split(";")[0].strip()).orElse("");
        if (!MediaTypes.IMAGE_MANIFESTS.contains(mediaType) && !MediaTypes.INDEXES.contains(mediaType)) {
            mediaType = mediaTypeField(bytes).orElseThrow(() -> failure("sent " + what + " of unknown type "
                    + r.headers().firstValue("Content-Type").orElse("(none)"), 200, "", null));
        }
        return new RegistryManifest(mediaType, bytes, digest);
    }

    private static Optional<String> mediaTypeField(byte[] manifest) {
        try {
            JsonNode m = JSON.readTree(manifest);
            String t = m.path("mediaType").asText("");
            if (MediaTypes.IMAGE_MANIFESTS.contains(t) || MediaTypes.INDEXES.contains(t)) {
                return Optional.of(t);
            }
            // OCI allows omitting mediaType: an index has "manifests", an image "config".
            if (m.has("manifests")) {
                return Optional.of(MediaTypes.OCI_INDEX);
            }
            return m.has("config") ? Optional.of(MediaTypes.OCI_MANIFEST) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The blob's bytes, streamed (the caller verifies them, e.g. with {@code ImageStore.putVerified}, and closes). */
    public InputStream blob(String repository, String digest) {
        String what = "blob " + digest + " of " + repository;
        HttpResponse<InputStream> r = send("GET", path(repository, "blobs/" + digest), pull(repository), null, Map.of(), what);
        expect(r, what, 200);
        return r.body();
    }

    /** {@code HEAD} of a blob: whether {@code repository} already has it. */
    public boolean hasBlob(String repository, String digest) {
        String what = "blob " + digest + " of " + repository;
        HttpResponse<InputStream> r = send("HEAD", path(repository, "blobs/" + digest), pushPull(repository), null, Map.of(), what);
        close(r);
        if (r.statusCode() == 404) {
            return false;
        }
        expect(r, what, 200);
        return true;
    }

    /**
     * Asks the registry to mount {@code digest} from {@code fromRepository} (same registry) into {@code repository}
     * instead of uploading it. Registries may decline and open an upload session instead, which is returned.
     */
    public MountAttempt mountBlob(String repository, String digest, String fromRepository) {
        String what = "mount of " + digest + " from " + fromRepository + " into " + repository;
        List<String> scopes = List.of(scope(repository, "pull,push"), scope(fromRepository, "pull"));
        HttpResponse<InputStream> r = send("POST", path(repository, "blobs/uploads/?mount=" + enc(digest) + "&from="
                + enc(fromRepository)), scopes, BodyPublishers::noBody, Map.of(), what);
        close(r);
        if (r.statusCode() == 201) {
            return new MountAttempt(true, null);
        }
        expect(r, what, 202);
        return new MountAttempt(false, location(r, what));
    }

    /** Opens an upload session ({@code POST /v2/<repo>/blobs/uploads/}); returns where to send the bytes. */
    public URI startUpload(String repository) {
        String what = "upload to " + repository;
        HttpResponse<InputStream> r = send("POST", path(repository, "blobs/uploads/"), pushPull(repository),
                BodyPublishers::noBody, Map.of(), what);
        close(r);
        expect(r, what, 202);
        return location(r, what);
    }

    /**
     * Uploads a whole blob (a monolithic upload: one PUT that closes the session with the digest), into
     * {@code session} if the registry already opened one (a declined mount does), else into a new one. The content is
     * opened afresh for each attempt, so it streams from the store and is never held in memory.
     *
     * <p>A broken connection, or an answer that the session is gone or the registry is busy, is retried in a fresh
     * session ({@code POST}), {@value #ATTEMPTS} attempts at most: a registry drops a session whose upload broke off, so
     * sending the bytes again to it only earns 404s. An upload that stalls (no bytes accepted for the stall bound, no
     * answer long after the last byte) is not retried: it fails with one line naming the registry and the blob.
     */
    public void uploadBlob(String repository, Descriptor blob, URI session, Supplier<InputStream> content) {
        String what = "upload of " + blob.digest() + " to " + repository;
        URI current = session;
        for (int attempt = 1; ; attempt++) {
            if (current == null) {
                current = startUpload(repository);
            }
            String sep = current.getRawQuery() == null ? "?" : "&";
            URI put = URI.create(current + sep + "digest=" + enc(blob.digest()));
            UploadWatchdog watchdog = new UploadWatchdog(blob.size(), stallLimit, ANSWER_TIMEOUT);
            String problem;
            try {
                HttpResponse<InputStream> r = exchange("PUT", put, pushPull(repository),
                        () -> BodyPublishers.fromPublisher(BodyPublishers.ofInputStream(() -> watchdog.watch(content.get())), blob.size()),
                        Map.of("Content-Type", "application/octet-stream"), what, null, request -> watchdog.send(http, request.get().build()));
                int status = r.statusCode();
                if (status == 201) {
                    close(r);
                    return;
                }
                if (!sessionRetryable(status) || attempt >= ATTEMPTS) {
                    expect(r, what, 201);
                }
                close(r);
                problem = "answered " + status;
            } catch (UploadWatchdog.Stalled stalled) {
                throw failure(stalled.bodySent
                        ? "took all " + mib(blob.size()) + " of blob " + blob.digest() + " for " + repository + " but sent no answer within "
                                + stalled.idle.toMinutes() + " min; check the registry's storage, then push again"
                        : "stopped taking blob " + blob.digest() + " for " + repository + ": no bytes accepted for "
                                + stalled.idle.toSeconds() + " s after " + mib(stalled.sent) + " of " + mib(blob.size())
                                + "; check the registry (its storage, a proxy in front of it) and the network to it, then push again",
                        0, "", stalled);
            } catch (java.io.InterruptedIOException | InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failure("is unreachable during " + what + " (interrupted)", 0, "", e);
            } catch (IOException e) {
                UserError local = localFailure(e);
                if (local != null) {
                    abandon(repository, current);
                    throw local; // e.g. a store blob that no longer matches its digest: another session would not cure it
                }
                if (isTlsFailure(e) || isRefused(e) || attempt >= ATTEMPTS) {
                    throw failure("is unreachable during " + what + " (" + describe(e) + (attempt > 1 ? ", " + attempt + " attempts" : "")
                            + ")", 0, "", e);
                }
                problem = describe(e);
            }
            abandon(repository, current);
            current = null;
            progress.detail(registry + ": " + what + " failed (" + problem + "), retrying in a new upload session (" + attempt + "/"
                    + ATTEMPTS + ")");
            try {
                Thread.sleep(Math.min(backoffMillis << (attempt - 1), 30_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failure("is unreachable during " + what + " (interrupted)", 0, "", e);
            }
        }
    }

    /** Answers to an upload that a new session may cure: the session is gone, or the registry is busy. */
    private static boolean sessionRetryable(int status) {
        return status == 404 || status == 408 || status == 416 || status == 429 || status / 100 == 5;
    }

    /** Tells the registry a broken upload session will not be used again (best effort: it expires them anyway). */
    private void abandon(String repository, URI session) {
        try {
            HttpResponse<InputStream> r = exchange("DELETE", session, pushPull(repository), null, Map.of(),
                    "cancel of an upload to " + repository, Duration.ofSeconds(10),
                    request -> http.send(request.get().build(), BodyHandlers.ofInputStream()));
            close(r);
        } catch (IOException | RuntimeException e) {
            // the registry will expire the session
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    /** {@code PUT} of a manifest's exact bytes under {@code reference} (tag or digest); returns the digest. */
    public String putManifest(String repository, String reference, byte[] bytes, String mediaType) {
        String what = "manifest " + repository + (reference.startsWith("sha256:") ? "@" : ":") + reference;
        String digest = "sha256:" + Sha256.of(bytes);
        HttpResponse<InputStream> r = send("PUT", path(repository, "manifests/" + reference), pushPull(repository),
                () -> BodyPublishers.ofByteArray(bytes), Map.of("Content-Type", mediaType), what);
        close(r);
        expect(r, what, 201);
        Optional<String> header = r.headers().firstValue("Docker-Content-Digest");
        if (header.isPresent() && !header.get().equals(digest)) {
            throw failure("stored " + what + " as " + header.get() + ", not as the " + digest + " sent", 201, "", null);
        }
        return digest;
    }

    // ---- requests ----

    private static List<String> pull(String repository) {
        return List.of(scope(repository, "pull"));
    }

    private static List<String> pushPull(String repository) {
        return List.of(scope(repository, "pull,push"));
    }

    private static String scope(String repository, String actions) {
        return "repository:" + repository + ":" + actions;
    }

    private URI path(String repository, String rest) {
        return URI.create(base() + "/v2/" + repository + "/" + rest);
    }

    /**
     * Until the answer's headers arrive; for a blob upload, from its last byte (its bytes themselves are bounded by the
     * stall limit, not by a total time).
     */
    private static final Duration ANSWER_TIMEOUT = Duration.ofMinutes(5);

    private HttpResponse<InputStream> send(String method, URI uri, List<String> scopes, Supplier<BodyPublisher> body,
            Map<String, String> headers, String what) {
        return send(method, uri, scopes, body, headers, what, ANSWER_TIMEOUT);
    }

    private HttpResponse<InputStream> send(String method, URI uri, List<String> scopes, Supplier<BodyPublisher> body,
            Map<String, String> headers, String what, Duration timeout) {
        try {
            return exchange(method, uri, scopes, body, headers, what, timeout,
                    request -> sendWithRetries(request, BodyHandlers.ofInputStream(), method + " " + what));
        } catch (IOException e) {
            throw failure("is unreachable during " + what + " (" + describe(e) + ")", 0, "", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure("is unreachable during " + what + " (interrupted)", 0, "", e);
        }
    }

    /** How one request goes out: with retries (most), or once under a watchdog (blob uploads). */
    private interface Transport {
        HttpResponse<InputStream> send(Supplier<HttpRequest.Builder> request) throws IOException, InterruptedException;
    }

    /**
     * One request with authentication (a 401 with a new challenge is answered once) and, for GET and HEAD,
     * redirects followed by hand. {@code timeout}: until the answer's headers arrive; null for none.
     */
    private HttpResponse<InputStream> exchange(String method, URI uri, List<String> scopes, Supplier<BodyPublisher> body,
            Map<String, String> headers, String what, Duration timeout, Transport transport) throws IOException, InterruptedException {
        ping();
        URI target = uri;
        boolean retriedAuth = false;
        for (int redirects = 0; ; ) {
            URI current = target;
            Supplier<HttpRequest.Builder> request = () -> {
                HttpRequest.Builder b = HttpRequest.newBuilder(current)
                        .method(method, body == null ? BodyPublishers.noBody() : body.get())
                        .header("User-Agent", "kind-build");
                if (timeout != null) {
                    b.timeout(timeout);
                }
                headers.forEach(b::header);
                authorization(current, scopes).ifPresent(a -> b.header("Authorization", a));
                return b;
            };
            HttpResponse<InputStream> r = transport.send(request);
            int status = r.statusCode();
            if (status == 401 && !retriedAuth && sameHost(current)) {
                retriedAuth = true;
                Optional<AuthChallenge> c = r.headers().firstValue("WWW-Authenticate").flatMap(AuthChallenge::parse);
                close(r);
                if (c.isEmpty()) {
                    throw failure("refused " + what + " (401) without saying how to authenticate", 401, "UNAUTHORIZED", null);
                }
                challenge = c.get();
                tokens.remove(String.join(" ", scopes));
                if (challenge.isBasic() && credential().isEmpty()) {
                    throw denied(what, 401);
                }
                continue;
            }
            if ((status == 301 || status == 302 || status == 303 || status == 307 || status == 308)
                    && (method.equals("GET") || method.equals("HEAD")) && redirects++ < 5) {
                URI next = location(r, what);
                close(r);
                target = next;
                continue;
            }
            return r;
        }
    }

    /** Sends, retrying broken connections, 429 and 5xx with backoff (Retry-After honoured up to 30 s). */
    private <T> HttpResponse<T> sendWithRetries(Supplier<HttpRequest.Builder> request, BodyHandler<T> handler, String what)
            throws IOException {
        IOException last = null;
        for (int attempt = 1; ; attempt++) {
            long wait = backoffMillis << (attempt - 1);
            try {
                HttpResponse<T> r = http.send(request.get().build(), handler);
                int s = r.statusCode();
                boolean transientStatus = s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
                if (!transientStatus || attempt >= ATTEMPTS) {
                    return r;
                }
                wait = Math.max(wait, retryAfterMillis(r));
                if (r.body() instanceof InputStream in) {
                    in.close();
                }
                progress.detail(registry + ": " + what + " answered " + s + ", retrying (" + attempt + "/" + ATTEMPTS + ")");
            } catch (IOException e) {
                UserError local = localFailure(e);
                if (local != null) {
                    throw local;
                }
                if (isTlsFailure(e) || attempt >= ATTEMPTS || isRefused(e)) {
                    throw e;
                }
                last = e;
                progress.detail(registry + ": " + what + " failed (" + describe(e) + "), retrying (" + attempt + "/" + ATTEMPTS + ")");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted during " + what);
            }
            try {
                Thread.sleep(Math.min(wait, 30_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw last != null ? last : new java.io.InterruptedIOException("interrupted during " + what);
            }
        }
    }

    private static long retryAfterMillis(HttpResponse<?> r) {
        try {
            return Math.min(30_000, Long.parseLong(r.headers().firstValue("Retry-After").orElse("0").strip()) * 1000);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * A failure of ours while the request body was read (a store blob that does not match its digest) is the cause,
     * not the registry: it is reported as it is, and not retried.
     */
    private static UserError localFailure(IOException e) {
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof UserError u) {
                return u;
            }
        }
        return null;
    }

    /** A refused connection is not transient at the scale of seconds: report it at once. */
    private static boolean isRefused(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException || t instanceof java.net.UnknownHostException) {
                return true;
            }
        }
        return false;
    }

    /**
     * The server spoke TLS but its certificate did not verify (as opposed to a server that does not speak TLS at all,
     * which may be a plain-HTTP registry).
     */
    private static boolean isCertificateFailure(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.security.cert.CertificateException) {
                return true;
            }
            if (t instanceof SSLHandshakeException && t.getMessage() != null) {
                String m = t.getMessage().toLowerCase(Locale.ROOT);
                if (m.contains("pkix") || m.contains("certificate") || m.contains("subject alternative")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** TLS that fails for another reason (e.g. the server speaks plain HTTP) fails the same way every time. */
    private static boolean isTlsFailure(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException) {
                return true;
            }
        }
        return false;
    }

    // ---- authentication ----

    private boolean sameHost(URI uri) {
        return base != null && uri.getScheme().equals(base.getScheme()) && (uri.getRawAuthority().equalsIgnoreCase(base.getRawAuthority()));
    }

    /** Credentials travel only over TLS or to loopback. */
    private static boolean mayCarryCredentials(URI uri) {
        return uri.getScheme().equalsIgnoreCase("https") || RegistryAccess.isLoopback(uri.getRawAuthority());
    }

    private Optional<RegistryCredential> credential() {
        Optional<RegistryCredential> c = credential;
        if (c == null) {
            c = access.credentialFor(registry);
            c.ifPresent(cred -> {
                secrets.add(cred.secret());
                secrets.add(Base64.getEncoder().encodeToString((cred.username() + ":" + cred.secret()).getBytes(StandardCharsets.UTF_8)));
            });
            credential = c;
        }
        return c;
    }

    private Optional<String> authorization(URI uri, List<String> scopes) {
        AuthChallenge c = challenge;
        if (c == null || !sameHost(uri)) {
            return Optional.empty();
        }
        if (c.isBasic()) {
            if (!mayCarryCredentials(uri)) {
                return Optional.empty();
            }
            return credential().filter(cred -> !cred.isIdentityToken()).map(cred -> "Basic " + Base64.getEncoder()
                    .encodeToString((cred.username() + ":" + cred.secret()).getBytes(StandardCharsets.UTF_8)));
        }
        String key = String.join(" ", scopes);
        String token = tokens.get(key);
        if (token == null) {
            token = fetchToken(c, scopes, uri);
            tokens.put(key, token);
        }
        return Optional.of("Bearer " + token);
    }

    /** A token from the challenge's realm for {@code scopes}: anonymous, or with the credential where that is safe. */
    private String fetchToken(AuthChallenge c, List<String> scopes, URI forRequest) {
        URI realm;
        try {
            realm = URI.create(c.realm());
            if (realm.getScheme() == null || realm.getHost() == null) {
                throw new IllegalArgumentException("no host");
            }
        } catch (IllegalArgumentException e) {
            throw failure("sent an unusable token realm \"" + c.realm() + "\"", 401, "", e);
        }
        StringBuilder q = new StringBuilder();
        c.service().ifPresent(s -> q.append("service=").append(enc(s)));
        for (String s : scopes) {
            q.append(q.length() == 0 ? "" : "&").append("scope=").append(enc(s));
        }
        // Credentials only when both the registry connection and the realm are TLS or loopback.
        Optional<RegistryCredential> cred = mayCarryCredentials(forRequest) && mayCarryCredentials(realm) ? credential() : Optional.empty();
        String what = "token for " + String.join(" ", scopes) + " from " + realm.getScheme() + "://" + realm.getRawAuthority() + realm.getRawPath();
        Supplier<HttpRequest.Builder> request;
        if (cred.isPresent() && cred.get().isIdentityToken()) {
            String form = q + (q.length() == 0 ? "" : "&") + "grant_type=refresh_token&client_id=kind-build&refresh_token="
                    + enc(cred.get().secret());
            request = () -> HttpRequest.newBuilder(realm).timeout(Duration.ofSeconds(60))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(BodyPublishers.ofString(form));
        } else {
            URI get = URI.create(c.realm() + (c.realm().contains("?") ? "&" : "?") + q);
            request = () -> {
                HttpRequest.Builder b = HttpRequest.newBuilder(get).timeout(Duration.ofSeconds(60)).GET();
                cred.ifPresent(cr -> b.header("Authorization", "Basic " + Base64.getEncoder()
                        .encodeToString((cr.username() + ":" + cr.secret()).getBytes(StandardCharsets.UTF_8))));
                return b;
            };
        }
        HttpResponse<byte[]> r;
        try {
            r = sendWithRetries(request, BodyHandlers.ofByteArray(), what);
        } catch (IOException e) {
            throw failure("could not give a " + what + " (" + describe(e) + ")", 0, "", e);
        }
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            throw denied(what, r.statusCode());
        }
        if (r.statusCode() != 200) {
            throw failure("refused a " + what + " (" + r.statusCode() + ")", r.statusCode(), "", null);
        }
        try {
            JsonNode body = JSON.readTree(r.body());
            String token = body.path("token").asText(body.path("access_token").asText(""));
            if (token.isEmpty()) {
                throw failure("answered a " + what + " without a token", 200, "", null);
            }
            secrets.add(token);
            return token;
        } catch (IOException e) {
            throw failure("answered a " + what + " with something that is not JSON", 200, "", e);
        }
    }

    private RegistryException denied(String what, int status) {
        if (base != null && !mayCarryCredentials(base) && credential().isPresent()) {
            return failure("denied " + what + " (" + status + "): kind-build sends credentials only over TLS or to loopback, "
                    + "and this registry is reached over plain HTTP", status, "DENIED", null);
        }
        String how = credential().isPresent() ? "the credential from the Docker config was refused; log in again with docker login "
                : "no credential for it in the Docker config; log in with docker login ";
        return failure("denied " + what + " (" + status + "): " + how + registry, status, "DENIED", null);
    }

    // ---- answers ----

    private void expect(HttpResponse<InputStream> r, String what, int wanted) {
        if (r.statusCode() == wanted) {
            return;
        }
        String body = "";
        try (InputStream in = r.body()) {
            body = in == null ? "" : new String(in.readNBytes(4096), StandardCharsets.UTF_8);
        } catch (IOException ignored) {
            // the status says enough
        }
        String code = "";
        String message = "";
        try {
            JsonNode errors = JSON.readTree(body).path("errors");
            if (errors.size() > 0) {
                code = errors.get(0).path("code").asText("");
                message = errors.get(0).path("message").asText("");
            }
        } catch (IOException ignored) {
            // not a distribution error body
        }
        int s = r.statusCode();
        if (s == 401 || s == 403) {
            throw denied(what, s);
        }
        String codeText = code.toLowerCase(Locale.ROOT).replace('_', ' ');
        String detail = code.isEmpty() ? "HTTP " + s
                : codeText + (message.isEmpty() || message.equalsIgnoreCase(codeText) ? "" : ": " + message);
        throw failure(s == 404 ? "has no " + what + " (" + detail + ")" : "refused " + what + " (" + s + ", " + detail + ")", s, code, null);
    }

    private URI location(HttpResponse<?> r, String what) {
        String loc = r.headers().firstValue("Location")
                .orElseThrow(() -> failure("answered " + what + " without a Location", r.statusCode(), "", null));
        return r.uri().resolve(loc);
    }

    private static void close(HttpResponse<InputStream> r) {
        try (InputStream in = r.body()) {
            if (in != null) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            }
        } catch (IOException ignored) {
            // nothing left to read
        }
    }

    /** An error naming the registry, with every known secret scrubbed out. */
    RegistryException failure(String whatHappened, int status, String code, Throwable cause) {
        return new RegistryException(redact("registry " + registry + " " + whatHappened), status, code, cause);
    }

    /** {@code text} with every secret this client has seen (passwords, their Basic form, tokens) replaced by ***. */
    String redact(String text) {
        String out = text;
        for (String s : secrets) {
            if (s.length() >= 3) {
                out = out.replace(s, "***");
            }
        }
        return out;
    }

    private String describe(Throwable e) {
        String msg = null;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                msg = t.getClass().getSimpleName() + ": " + t.getMessage().strip().lines().findFirst().orElse("");
            }
        }
        return redact(msg == null ? e.getClass().getSimpleName() : msg);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
