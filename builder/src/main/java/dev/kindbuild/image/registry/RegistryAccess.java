package dev.kindbuild.image.registry;

import dev.kindbuild.image.ImageRef;
import com.google.cloud.tools.jib.api.Credential;
import com.google.cloud.tools.jib.api.CredentialRetriever;
import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.frontend.CredentialRetrieverFactory;
import dev.kindbuild.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * How kind-build talks to registries: TLS (verified) by default; plain HTTP only for loopback registries
 * (127.0.0.0/8, ::1, localhost) and those named by {@code --insecure-registry HOST}. Credentials come from the Docker
 * client config ({@code $DOCKER_CONFIG/config.json} or {@code ~/.docker/config.json}: {@code auths}, {@code credsStore},
 * {@code credHelpers}) through jib's retriever; they are never printed.
 */
public final class RegistryAccess {

    private final Set<String> insecure;
    private final Path dockerConfig;

    private RegistryAccess(Set<String> insecure, Path dockerConfig) {
        this.insecure = insecure;
        this.dockerConfig = dockerConfig;
    }

    /** The default policy: TLS except loopback, credentials from the user's Docker config. */
    public static RegistryAccess defaults() {
        return of(Set.of());
    }

    /** The default policy plus plain HTTP for the {@code --insecure-registry} hosts given. */
    public static RegistryAccess of(Collection<String> insecureRegistries) {
        return new RegistryAccess(validateInsecure(insecureRegistries), defaultDockerConfig());
    }

    /** The same policy, reading credentials from {@code configJson} (a Docker {@code config.json}). */
    public RegistryAccess withDockerConfig(Path configJson) {
        return new RegistryAccess(insecure, configJson);
    }

    private static Set<String> validateInsecure(Collection<String> hosts) {
        Set<String> out = new TreeSet<>();
        for (String h : hosts) {
            String host = h == null ? "" : h.strip();
            ImageRef.refuseCredentials(host, "--insecure-registry " + ImageRef.redact(host));
            if (host.contains("://")) {
                throw new UserError("--insecure-registry " + ImageRef.redact(h) + ": give host[:port] without a scheme");
            }
            if (host.isEmpty() || host.contains("/") || host.contains("=") || host.contains(" ")) {
                throw new UserError("--insecure-registry \"" + ImageRef.redact(h) + "\": expected a registry host[:port], e.g. myregistry.lan:5000");
            }
            out.add(ImageRef.normalizeRegistry(host));
        }
        return Set.copyOf(out);
    }

    static Path defaultDockerConfig() {
        String env = System.getenv("DOCKER_CONFIG");
        if (env != null && !env.isBlank()) {
            return Paths.get(env, "config.json");
        }
        return Paths.get(System.getProperty("user.home"), ".docker", "config.json");
    }

    /** True for 127.0.0.0/8, ::1 and localhost, with or without a port. */
    public static boolean isLoopback(String registry) {
        String host = hostOnly(registry).toLowerCase(Locale.ROOT);
        if (host.equals("localhost") || host.endsWith(".localhost")) {
            return true;
        }
        if (host.equals("::1") || host.equals("0:0:0:0:0:0:0:1")) {
            return true;
        }
        String[] octets = host.split("\\.", -1);
        if (octets.length != 4 || !octets[0].equals("127")) {
            return false;
        }
        for (String o : octets) {
            if (!o.matches("[0-9]{1,3}") || Integer.parseInt(o) > 255) {
                return false;
            }
        }
        return true;
    }

    /** {@code host:port} → {@code host}; {@code [::1]:5000} → {@code ::1}. */
    static String hostOnly(String registry) {
        String r = registry;
        if (r.startsWith("[")) {
            int end = r.indexOf(']');
            return end < 0 ? r : r.substring(1, end);
        }
        int colon = r.lastIndexOf(':');
        return colon >= 0 && r.indexOf(':') == colon ? r.substring(0, colon) : r;
    }

    /** The explicit port of {@code host:port} / {@code [v6]:port}, or -1. */
    static int port(String registry) {
        int close = registry.lastIndexOf(']');
        int colon = registry.lastIndexOf(':');
        if (colon <= close || (close < 0 && registry.indexOf(':') != colon)) {
            return -1;
        }
        try {
            return Integer.parseInt(registry.substring(colon + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Whether kind-build may fall back to plain HTTP (and skip certificate checks) for {@code registry}. */
    public boolean allowsPlainHttp(String registry) {
        String r = ImageRef.normalizeRegistry(registry);
        return isLoopback(r) || insecure.contains(r) || insecure.contains(hostOnly(r));
    }

    public Set<String> insecureRegistries() {
        return insecure;
    }

    // ---- credentials, through jib's Docker-config retriever (auths, credsStore, credHelpers) ----

    private static ImageReference jibRef(ImageRef ref) {
        return ImageReference.of(ref.registry(), ref.repository(), ref.tag(), ref.digest());
    }

    /** jib's Docker-config retriever for {@code ref}'s registry (auths, credsStore, credHelpers). */
    public CredentialRetriever credentials(ImageRef ref, Consumer<LogEvent> log) {
        CredentialRetrieverFactory factory = CredentialRetrieverFactory.forImage(jibRef(ref), quiet(log));
        CredentialRetriever fromConfig = factory.dockerConfig(dockerConfig);
        return () -> Files.exists(dockerConfig) ? fromConfig.retrieve() : Optional.empty();
    }

    /** The credential for {@code ref}'s registry, if the Docker config has one. */
    public Optional<Credential> credential(ImageRef ref, Consumer<LogEvent> log) {
        try {
            return credentials(ref, log).retrieve();
        } catch (Exception e) {
            throw new UserError("cannot read credentials for " + ref.registry() + " from " + dockerConfig + ": "
                    + oneLine(e.getMessage()), e);
        }
    }

    /**
     * The credential the Docker config (auths, credsStore, credHelpers) holds for {@code registry}, for clients other
     * than jib (kind-build's own registry client). Docker Hub's config key is its legacy index URL; jib's retriever
     * knows that.
     */
    public Optional<RegistryCredential> credentialFor(String registry) {
        ImageRef any = new ImageRef(registry, "kind-build/credential-lookup", "latest", null);
        return credential(any, event -> {}).map(c -> new RegistryCredential(c.getUsername(), c.getPassword()));
    }

    /** Drops jib log lines that could echo secrets; passes the rest on. */
    static Consumer<LogEvent> quiet(Consumer<LogEvent> log) {
        return event -> {
            String m = event.getMessage() == null ? "" : event.getMessage().toLowerCase(Locale.ROOT);
            if (m.contains("password") || m.contains("token") || m.contains("authorization:")) {
                return;
            }
            log.accept(event);
        };
    }

    static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        String line = s.strip();
        int nl = line.indexOf('\n');
        return nl < 0 ? line : line.substring(0, nl);
    }
}
