package dev.kindbuild.image.registry;

import dev.kindbuild.image.ImageRef;
import dev.kindbuild.UserError;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Registry mirrors from {@code --registry-mirror HOST=MIRROR} flags, e.g. {@code registry.k8s.io=127.0.0.1:5000} or
 * {@code docker.io=mirror.example:5000/hub}. An image {@code HOST/path:tag} is looked up as {@code MIRROR/path:tag}
 * (docker.io's implicit {@code library/} included, as Docker's own mirrors do).
 */
public final class RegistryMirrors {

    /** One mirror: where {@code source}'s repositories are found, under an optional path prefix. */
    public record Mirror(String source, String host, String pathPrefix) {
        /** {@code host[/prefix]} as given. */
        public String display() {
            return pathPrefix.isEmpty() ? host : host + "/" + pathPrefix;
        }
    }

    private static final Pattern HOST = Pattern.compile(
            "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?");
    private static final Pattern PREFIX = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");

    public static final RegistryMirrors NONE = new RegistryMirrors(Map.of());

    private final Map<String, Mirror> bySource;

    private RegistryMirrors(Map<String, Mirror> bySource) {
        this.bySource = Collections.unmodifiableMap(bySource);
    }

    /** Parses {@code HOST=MIRROR} flags; anything malformed is a one-line {@link UserError} naming the flag. */
    public static RegistryMirrors parse(List<String> flags) {
        Map<String, Mirror> map = new LinkedHashMap<>();
        for (String flag : flags == null ? List.<String>of() : flags) {
            Mirror m = parseOne(flag);
            Mirror previous = map.putIfAbsent(m.source(), m);
            if (previous != null && !previous.equals(m)) {
                throw new UserError("--registry-mirror " + ImageRef.redact(flag) + ": " + m.source() + " already has mirror "
                        + previous.display() + "; give one mirror per registry");
            }
        }
        return new RegistryMirrors(map);
    }

    static Mirror parseOne(String flag) {
        String hint = " (expected HOST=MIRROR, e.g. registry.k8s.io=127.0.0.1:5000)";
        if (flag == null || flag.isBlank()) {
            throw new UserError("--registry-mirror: empty value" + hint);
        }
        String shown = "--registry-mirror " + ImageRef.redact(flag);
        ImageRef.refuseCredentials(flag, shown);
        String f = flag.strip();
        int eq = f.indexOf('=');
        if (eq <= 0 || eq == f.length() - 1) {
            throw new UserError(shown + ": missing HOST or MIRROR" + hint);
        }
        String source = f.substring(0, eq).strip();
        String mirror = f.substring(eq + 1).strip();
        if (source.contains("://") || mirror.contains("://")) {
            throw new UserError(shown + ": give host[:port] without a scheme; plain HTTP is used "
                    + "for loopback mirrors and those named by --insecure-registry");
        }
        if (!HOST.matcher(source).matches()) {
            throw new UserError(shown + ": \"" + source + "\" is not a registry host name" + hint);
        }
        while (mirror.endsWith("/")) {
            mirror = mirror.substring(0, mirror.length() - 1);
        }
        int slash = mirror.indexOf('/');
        String host = slash < 0 ? mirror : mirror.substring(0, slash);
        String prefix = slash < 0 ? "" : mirror.substring(slash + 1);
        if (!HOST.matcher(host).matches()) {
            throw new UserError(shown + ": \"" + host + "\" is not a registry host[:port]" + hint);
        }
        if (!prefix.isEmpty() && !PREFIX.matcher(prefix).matches()) {
            throw new UserError(shown + ": \"" + prefix + "\" is not a valid repository path prefix");
        }
        if (hasBadPort(source) || hasBadPort(host)) {
            throw new UserError(shown + ": port out of range (1-65535)");
        }
        String normSource = ImageRef.normalizeRegistry(source);
        String normHost = host.toLowerCase(java.util.Locale.ROOT);
        if (normSource.equals(ImageRef.normalizeRegistry(normHost)) && prefix.isEmpty()) {
            throw new UserError(shown + ": a registry cannot be its own mirror");
        }
        return new Mirror(normSource, normHost, prefix);
    }

    private static boolean hasBadPort(String host) {
        int colon = host.lastIndexOf(':');
        if (colon < 0 || host.endsWith("]")) {
            return false;
        }
        int port = Integer.parseInt(host.substring(colon + 1));
        return port < 1 || port > 65535;
    }

    public Optional<Mirror> mirrorFor(String registry) {
        return Optional.ofNullable(bySource.get(ImageRef.normalizeRegistry(registry)));
    }

    /** Where to look for {@code ref} in its registry's mirror, if one is configured. */
    public Optional<ImageRef> mirrored(ImageRef ref) {
        return mirrorFor(ref.registry()).map(m -> ref.onRegistry(m.host(), m.pathPrefix()));
    }

    public Map<String, Mirror> all() {
        return bySource;
    }

    public boolean isEmpty() {
        return bySource.isEmpty();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        bySource.values().forEach(m -> sb.append(sb.length() == 0 ? "" : ",").append(m.source()).append('=').append(m.display()));
        return sb.toString();
    }
}
