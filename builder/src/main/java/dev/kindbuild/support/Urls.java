package dev.kindbuild.support;

import dev.kindbuild.UserError;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/** URL rules for downloads: credentials never shown, TLS unless the host is loopback or the user opted out. */
public final class Urls {
    private Urls() {}

    /** The CLI flag that lets plain http reach a non-loopback host; named in the error that refuses it. */
    public static final String ALLOW_INSECURE_FLAG = "--allow-insecure-http";

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern USERINFO_IN_TEXT = Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*://)[^/@\\s]*@");

    /** True for http and https URIs with a host. */
    public static boolean isHttpUrl(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        return lower.startsWith("http://") || lower.startsWith("https://");
    }

    /** Parses an http(s) URL; a one-line {@link UserError} (with credentials removed) when it is not one. */
    public static URI parseHttpUrl(String text) {
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            throw new UserError("not a valid URL: " + redact(text) + " (" + e.getReason() + ")"
                    + (text.trim().matches(".*\\s.*") ? "; percent-encode spaces as %20" : ""));
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
            throw new UserError("not an http(s) URL with a host: " + redact(uri));
        }
        return uri;
    }

    /** The URI without user info ({@code https://user:pw@host/x} → {@code https://host/x}). */
    public static URI withoutUserInfo(URI uri) {
        if (uri.getRawUserInfo() == null) {
            return uri;
        }
        if (uri.getHost() == null) {
            return URI.create(redact(uri.toString()));
        }
        return URI.create(uri.getScheme() + "://" + hostPort(uri)
                + (uri.getRawPath() == null ? "" : uri.getRawPath())
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery())
                + (uri.getRawFragment() == null ? "" : "#" + uri.getRawFragment()));
    }

    /** {@code https://dl.k8s.io/} → {@code https://dl.k8s.io}: a base to append {@code /path} to. */
    public static String withoutTrailingSlash(URI base) {
        String s = base.toString();
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return s;
    }

    /** The URI as text for messages: never with credentials. */
    public static String redact(URI uri) {
        return uri == null ? "" : redact(withoutUserInfo(uri).toString());
    }

    /** Removes {@code user:pw@} after any {@code scheme://} in free text (e.g. an exception message). */
    public static String redact(String text) {
        return text == null ? null : USERINFO_IN_TEXT.matcher(text).replaceAll("$1");
    }

    /** {@code user:password} of the URI, decoded; null when there is none. */
    public static String userInfo(URI uri) {
        return uri.getUserInfo();
    }

    /**
     * Loopback by name or literal address only (no DNS): {@code localhost}, {@code *.localhost}, 127.0.0.0/8, ::1,
     * ::ffff:127.x.
     */
    public static boolean isLoopbackHost(String host) {
        if (host == null || host.isEmpty()) {
            return false;
        }
        String h = host.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        if (h.equals("localhost") || h.endsWith(".localhost")) {
            return true;
        }
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        boolean literal = IPV4.matcher(h).matches() || h.contains(":");
        if (!literal) {
            return false;
        }
        if (IPV4.matcher(h).matches()) {
            for (String octet : h.split("\\.")) {
                if (Integer.parseInt(octet) > 255) {
                    return false;
                }
            }
        }
        try {
            // A literal address: InetAddress parses it without any lookup.
            return InetAddress.getByName(h).isLoopbackAddress()
                    || h.startsWith("::ffff:127.");
        } catch (UnknownHostException | SecurityException e) {
            return false;
        }
    }

    /**
     * Refuses plain http unless the host is loopback or {@code allowInsecureHttp}; refuses schemes other than http(s).
     */
    public static void checkTransport(URI uri, boolean allowInsecureHttp) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("https")) {
            return;
        }
        if (!scheme.equals("http")) {
            throw new UserError("unsupported URL scheme \"" + scheme + "\" in " + redact(uri) + ": use https://");
        }
        if (allowInsecureHttp || isLoopbackHost(uri.getHost())) {
            return;
        }
        throw new UserError("refusing to download over plain http from " + uri.getHost() + " (" + redact(uri)
                + "): use https://, or pass " + ALLOW_INSECURE_FLAG + " if you trust the network path");
    }

    private static String hostPort(URI uri) {
        String host = uri.getHost();
        if (host != null && host.contains(":") && !host.startsWith("[")) {
            host = "[" + host + "]";
        }
        return host + (uri.getPort() >= 0 ? ":" + uri.getPort() : "");
    }
}
