package dev.kindbuild.support;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) like curl and Go do; Java's default selector only reads
 * system properties. NO_PROXY entries: {@code *}, host names (matching the host and its subdomains, with or without a
 * leading dot) and literal addresses; CIDR ranges are not supported. Loopback hosts never use a proxy. Proxy
 * credentials are not supported (Java refuses Basic auth for CONNECT tunnels by default).
 */
public final class EnvProxySelector extends ProxySelector {
    private final Map<String, String> env;
    private final ProxySelector fallback;

    EnvProxySelector(Map<String, String> env, ProxySelector fallback) {
        this.env = env;
        this.fallback = fallback;
    }

    /** The environment's proxy rules (the JVM default when already installed), for clients that set a selector. */
    public static ProxySelector fromEnvironment() {
        ProxySelector current = ProxySelector.getDefault();
        return current instanceof EnvProxySelector ? current : new EnvProxySelector(System.getenv(), current);
    }

    /**
     * Makes the environment's proxy settings the JVM default, so every HTTP client kind-build uses (downloads, and
     * jib's registry client, which asks the default selector) goes through the same proxy rules.
     */
    public static void installAsDefault() {
        ProxySelector.setDefault(fromEnvironment());
    }

    @Override
    public List<Proxy> select(URI uri) {
        String host = uri.getHost();
        if (host == null || Urls.isLoopbackHost(host) || noProxy(host)) {
            return List.of(Proxy.NO_PROXY);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        String setting = scheme.equals("https") ? get("HTTPS_PROXY") : get("HTTP_PROXY");
        if (setting == null) {
            return fallback != null ? fallback.select(uri) : List.of(Proxy.NO_PROXY);
        }
        InetSocketAddress address = parse(setting);
        return address == null ? List.of(Proxy.NO_PROXY) : List.of(new Proxy(Proxy.Type.HTTP, address));
    }

    @Override
    public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {
        // Nothing to learn: the download reports the failure.
    }

    private String get(String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            v = env.get(name.toLowerCase(Locale.ROOT));
        }
        return v == null || v.isBlank() ? null : v.trim();
    }

    boolean noProxy(String host) {
        String list = get("NO_PROXY");
        if (list == null) {
            return false;
        }
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        for (String raw : list.split(",")) {
            String e = raw.trim().toLowerCase(Locale.ROOT);
            if (e.isEmpty()) {
                continue;
            }
            if (e.equals("*")) {
                return true;
            }
            if (e.startsWith("[")) {
                e = e.substring(1, e.indexOf(']') > 0 ? e.indexOf(']') : e.length());
            } else if (e.indexOf(':') > 0 && e.indexOf(':') == e.lastIndexOf(':')) {
                e = e.substring(0, e.indexOf(':')); // host:port
            }
            if (e.startsWith("*.")) {
                e = e.substring(1);
            }
            String bare = e.startsWith(".") ? e.substring(1) : e;
            if (h.equals(bare) || h.endsWith("." + bare)) {
                return true;
            }
        }
        return false;
    }

    static InetSocketAddress parse(String setting) {
        String s = setting.contains("://") ? setting : "http://" + setting;
        try {
            URI u = URI.create(s);
            if (u.getHost() == null) {
                return null;
            }
            int port = u.getPort() > 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
            return InetSocketAddress.createUnresolved(u.getHost(), port);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** For tests: what {@link #select} would pick, as host:port strings. */
    List<String> describe(URI uri) {
        List<String> out = new ArrayList<>();
        for (Proxy p : select(uri)) {
            if (p.type() == Proxy.Type.DIRECT) {
                out.add("DIRECT");
            } else {
                InetSocketAddress a = (InetSocketAddress) p.address();
                out.add(a.getHostString() + ":" + a.getPort());
            }
        }
        return out;
    }
}
