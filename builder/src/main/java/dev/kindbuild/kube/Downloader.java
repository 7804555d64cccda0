package dev.kindbuild.kube;

import dev.kindbuild.UserError;
import dev.kindbuild.lifecycle.CleanupStack;
import dev.kindbuild.lifecycle.DiskFull;
import dev.kindbuild.progress.ConsoleProgress;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.support.EnvProxySelector;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.support.Urls;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.Authenticator;
import java.net.PasswordAuthentication;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Verified, cached downloads over http(s).
 *
 * <ul>
 *   <li>TLS unless the host is loopback or {@code allowInsecureHttp}; redirects are followed (at most 10) and
 *       every hop is checked before it is contacted.</li>
 *   <li>Every file is checked against a SHA-256: the caller's, or else the {@code .sha256} published beside it
 *       (missing → {@link UserError}).</li>
 *   <li>Content-addressed cache ({@link DownloadCache}); a cached digest means no transfer. {@code noCache} skips
 *       cache reads (a verified download is still stored).</li>
 *   <li>Streams to a temp file in the cache directory while hashing, then renames atomically; on any failure
 *       (mismatch, I/O error, interrupt) the temp file is removed.</li>
 *   <li>Credentials in the URL are sent only to that host (on a 401 challenge) and never appear in messages.</li>
 * </ul>
 */
public final class Downloader {
    /** Connect timeout, as kind. */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
    /** How long to wait for response headers. */
    public static final Duration RESPONSE_TIMEOUT = Duration.ofMinutes(2);
    private static final int MAX_CHECKSUM_BYTES = 64 * 1024;
    private static final long BYTES_EVENT_EVERY = 1 << 20;

    /**
     * A verified file.
     *
     * @param file             the cache entry
     * @param sha256           its lower-case hex digest
     * @param cached           true when nothing was transferred
     * @param bytesTransferred bytes of the file received over the network (0 when cached)
     */
    public record Result(Path file, String sha256, boolean cached, long bytesTransferred) {}

    private final DownloadCache cache;
    private final boolean allowInsecureHttp;
    private final boolean noCache;
    private final Progress progress;
    private final CleanupStack cleanup;

    /**
     * @param cleanup where to register removal of in-flight temp files (so Ctrl-C leaves nothing); may be null
     */
    public Downloader(DownloadCache cache, boolean allowInsecureHttp, boolean noCache, Progress progress,
            CleanupStack cleanup) {
        this.cache = Objects.requireNonNull(cache);
        this.allowInsecureHttp = allowInsecureHttp;
        this.noCache = noCache;
        this.progress = progress == null ? Progress.SILENT : progress;
        this.cleanup = cleanup;
    }

    /**
     * Fetches {@code url} into the cache, verified, as one progress step "Downloading <file name>" (note "cached" when
     * nothing was transferred).
     *
     * @param expectedSha256 a digest the user trusts (e.g. {@code --k8s-sha256}); when present the published
     *                       {@code .sha256} is not consulted
     */
    public Result fetch(URI url, Optional<String> expectedSha256) {
        Urls.checkTransport(url, allowInsecureHttp);
        String name = fileName(url);
        return progress.step("Downloading " + name, () -> fetchInStep(url, name, expectedSha256),
                r -> r.cached() ? "cached" : ConsoleProgress.humanBytes(r.bytesTransferred()) + ", sha256 verified");
    }

    private Result fetchInStep(URI url, String name, Optional<String> expectedSha256) throws IOException {
        HttpClient client = client(url);
        String expected;
        if (expectedSha256 != null && expectedSha256.isPresent()) {
            expected = Sha256.parseDigest(expectedSha256.get(), "expected SHA-256 of " + Urls.redact(url));
        } else {
            expected = publishedChecksum(client, url, name);
        }
        progress.detail("expecting sha256 " + expected + " for " + Urls.redact(url));
        if (!noCache) {
            Optional<Path> hit = cache.lookup(expected);
            if (hit.isPresent()) {
                progress.detail("cache hit: " + hit.get());
                return new Result(hit.get(), expected, true, 0);
            }
        }
        return download(client, url, name, expected);
    }

    /**
     * A small text file (a version marker), whole: TLS rules, redirects and credentials as for {@link #fetch}; there
     * is nothing to verify it against, and it is not cached (a marker moves). A missing file is a one-line
     * {@link UserError}.
     */
    public String fetchText(URI url, int maxBytes) {
        Urls.checkTransport(url, allowInsecureHttp);
        try {
            HttpResponse<InputStream> response = send(client(url), url);
            try (InputStream body = response.body()) {
                int status = response.statusCode();
                if (status == 404 || status == 410) {
                    throw new UserError("there is no " + fileName(url) + " at " + Urls.redact(url) + " (HTTP " + status
                            + "): check the marker's name and --k8s-release-url");
                }
                if (status / 100 != 2) {
                    throw new UserError("fetching " + Urls.redact(url) + " failed: HTTP " + status);
                }
                byte[] bytes = body.readNBytes(maxBytes + 1);
                if (bytes.length > maxBytes) {
                    throw new UserError(Urls.redact(url) + " is larger than " + maxBytes + " bytes: not a version marker");
                }
                return new String(bytes, StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw networkError(url, e);
        }
    }

    /** {@code <url>.sha256}: the published digest, or a UserError when there is none. */
    private String publishedChecksum(HttpClient client, URI url, String name) throws IOException {
        URI sumUrl = checksumUrl(url);
        HttpResponse<InputStream> response = send(client, sumUrl);
        try (InputStream body = response.body()) {
            int status = response.statusCode();
            if (status == 404 || status == 410) {
                int fileStatus = statusOf(client, url);
                if (fileStatus == 404 || fileStatus == 410) {
                    throw notFound(url, fileStatus);
                }
                throw new UserError("no checksum published at " + Urls.redact(sumUrl) + " (HTTP " + status
                        + "): pass --k8s-sha256 HEX with a digest you trust to verify " + name);
            }
            if (status / 100 != 2) {
                throw new UserError("fetching checksum " + Urls.redact(sumUrl) + " failed: HTTP " + status);
            }
            byte[] bytes = body.readNBytes(MAX_CHECKSUM_BYTES + 1);
            if (bytes.length > MAX_CHECKSUM_BYTES) {
                throw new UserError("checksum file " + Urls.redact(sumUrl) + " is larger than 64 KiB: not a checksum file");
            }
            return Sha256.parseChecksumFile(new String(bytes, StandardCharsets.UTF_8), name, Urls.redact(sumUrl));
        }
    }

    private Result download(HttpClient client, URI url, String name, String expected) throws IOException {
        Path dir = cache.downloadsDir();
        Files.createDirectories(dir);
        // The PID in the name lets `kind-build cleanup` remove it if this process is killed (kill -9).
        Path temp;
        try {
            temp = Files.createTempFile(dir, ".partial-" + ProcessHandle.current().pid() + "-", ".tmp");
        } catch (IOException e) {
            if (DiskFull.is(e)) {
                throw DiskFull.error("downloading " + name, e, dir);
            }
            throw e;
        }
        CleanupStack.Handle undo = cleanup == null ? null : cleanup.push("partial download " + temp, () -> Files.deleteIfExists(temp));
        boolean done = false;
        try {
            HttpResponse<InputStream> response = send(client, url);
            long total = response.headers().firstValueAsLong("Content-Length").orElse(-1);
            MessageDigest digest = Sha256.newDigest();
            long received = 0;
            try (InputStream in = response.body()) {
                int status = response.statusCode();
                if (status == 404 || status == 410) {
                    throw notFound(url, status);
                }
                if (status / 100 != 2) {
                    throw new UserError("downloading " + Urls.redact(url) + " failed: HTTP " + status);
                }
                try (OutputStream out = Files.newOutputStream(temp)) {
                    byte[] buf = new byte[1 << 16];
                    long lastEvent = 0;
                    for (int n; (n = in.read(buf)) > 0; ) {
                        digest.update(buf, 0, n);
                        out.write(buf, 0, n);
                        received += n;
                        if (received - lastEvent >= BYTES_EVENT_EVERY) {
                            progress.bytes(name, received, total);
                            lastEvent = received;
                        }
                    }
                }
            } catch (IOException e) {
                if (DiskFull.is(e)) {
                    throw DiskFull.error("downloading " + name, e, dir);
                }
                throw networkError(url, e);
            }
            progress.bytes(name, received, total > 0 ? total : received);
            if (total >= 0 && received != total) {
                throw new UserError("downloading " + Urls.redact(url) + " failed: got " + received + " of " + total
                        + " bytes (connection closed early)");
            }
            String actual = Sha256.hex(digest);
            if (!actual.equals(expected)) {
                throw new UserError("checksum mismatch for " + Urls.redact(url) + ": expected sha256 " + expected
                        + ", got " + actual);
            }
            Path target = cache.pathFor(expected);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
            return new Result(target, expected, false, received);
        } finally {
            if (!done) {
                Files.deleteIfExists(temp);
            }
            if (undo != null) {
                undo.keep();
            }
        }
    }

    /** The status a GET of {@code url} answers (the body is not read). */
    private int statusOf(HttpClient client, URI url) throws IOException {
        HttpResponse<InputStream> response = send(client, url);
        response.body().close();
        return response.statusCode();
    }

    /** The file itself is missing: a version or architecture the server does not have, not a missing checksum. */
    private static UserError notFound(URI url, int status) {
        return new UserError("there is no " + fileName(url) + " at " + Urls.redact(url) + " (HTTP " + status
                + "): check that the version exists for this architecture on the release server (--k8s-release-url, --arch)");
    }

    private static final int MAX_REDIRECTS = 10;

    /**
     * GET with redirects followed here (not by the client) so every hop is checked against the TLS policy before it is
     * contacted; https → http downgrades are refused like any other plain-http hop.
     */
    private HttpResponse<InputStream> send(HttpClient client, URI url) throws IOException {
        URI current = Urls.withoutUserInfo(url);
        for (int hop = 0; ; hop++) {
            HttpRequest request = HttpRequest.newBuilder(current)
                    .timeout(RESPONSE_TIMEOUT)
                    .header("User-Agent", "kind-build")
                    .GET()
                    .build();
            HttpResponse<InputStream> response;
            try {
                response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while downloading " + Urls.redact(url));
            } catch (IOException e) {
                throw networkError(current, e);
            } catch (IllegalArgumentException e) {
                throw new UserError("cannot download " + Urls.redact(current) + ": " + Urls.redact(e.getMessage()), e);
            }
            int status = response.statusCode();
            boolean redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
            if (!redirect) {
                return response;
            }
            response.body().close();
            String location = response.headers().firstValue("Location").orElse(null);
            if (location == null) {
                throw new UserError(Urls.redact(current) + " answered HTTP " + status + " without a Location");
            }
            if (hop + 1 >= MAX_REDIRECTS) {
                throw new UserError(Urls.redact(url) + " redirected more than " + MAX_REDIRECTS + " times");
            }
            URI next;
            try {
                next = current.resolve(location.trim());
            } catch (IllegalArgumentException e) {
                throw new UserError(Urls.redact(current) + " redirected to an invalid URL: " + Urls.redact(location));
            }
            try {
                Urls.checkTransport(next, allowInsecureHttp);
            } catch (UserError e) {
                throw new UserError(Urls.redact(url) + " redirected to " + Urls.redact(next) + "; " + e.getMessage());
            }
            progress.detail("redirected to " + Urls.redact(next));
            current = Urls.withoutUserInfo(next);
        }
    }

    private static UserError networkError(URI url, IOException e) {
        if (e instanceof InterruptedIOException && !(e instanceof HttpTimeoutException)) {
            return new UserError("download of " + Urls.redact(url) + " was interrupted", e);
        }
        String why;
        if (e instanceof HttpConnectTimeoutException) {
            why = "could not connect within " + CONNECT_TIMEOUT.toSeconds() + "s";
        } else if (e instanceof HttpTimeoutException) {
            why = "no response within " + RESPONSE_TIMEOUT.toMinutes() + " minutes";
        } else if (e.getMessage() == null || e.getMessage().isBlank()) {
            why = e.getClass().getSimpleName();
        } else {
            why = Urls.redact(e.getMessage());
        }
        return new UserError("download of " + Urls.redact(url) + " failed: " + why, e);
    }

    private HttpClient client(URI url) {
        HttpClient.Builder b = HttpClient.newBuilder()
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .proxy(EnvProxySelector.fromEnvironment());
        String userInfo = url.getUserInfo();
        if (userInfo != null && !userInfo.isEmpty()) {
            String host = url.getHost();
            int colon = userInfo.indexOf(':');
            String user = colon < 0 ? userInfo : userInfo.substring(0, colon);
            char[] password = colon < 0 ? new char[0] : userInfo.substring(colon + 1).toCharArray();
            b.authenticator(new Authenticator() {
                @Override
                protected PasswordAuthentication getPasswordAuthentication() {
                    // Only the server named in the URL gets the credentials; never a redirect target or a proxy.
                    if (getRequestorType() == RequestorType.SERVER && host.equalsIgnoreCase(getRequestingHost())) {
                        return new PasswordAuthentication(user, password.clone());
                    }
                    return null;
                }
            });
        }
        return b.build();
    }

    /** {@code .../x.tar.gz?q} → {@code .../x.tar.gz.sha256?q}. */
    static URI checksumUrl(URI url) {
        String s = url.toString();
        int cut = s.length();
        int q = s.indexOf('?');
        int f = s.indexOf('#');
        if (q >= 0) cut = q;
        if (f >= 0 && f < cut) cut = f;
        int end = f >= 0 ? f : s.length();
        return URI.create(s.substring(0, cut) + ".sha256" + s.substring(cut, end));
    }

    /** Last path segment, or "download". */
    static String fileName(URI url) {
        String path = url.getPath();
        if (path == null || path.isEmpty() || path.endsWith("/")) {
            return "download";
        }
        String n = path.substring(path.lastIndexOf('/') + 1);
        return n.isEmpty() ? "download" : n;
    }
}
