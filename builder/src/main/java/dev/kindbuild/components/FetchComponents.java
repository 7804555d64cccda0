package dev.kindbuild.components;

import dev.kindbuild.UserError;
import dev.kindbuild.kube.Downloader;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.progress.Progress;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Step: obtains each planned component — the upstream download, verified and cached by digest; a local file; or,
 * when upstream cannot be reached, the Debian package planned for it — and says in one notice line what stood in
 * for upstream, and in another what a missing crictl breaks. A wrong checksum, a missing release or an explicit
 * version that cannot be had fails; only an unreachable server falls back.
 */
public final class FetchComponents {
    private FetchComponents() {}

    public static List<ComponentChoice> run(List<ComponentPlan> plans, Downloader downloader, Progress progress) {
        List<ComponentChoice> out = new ArrayList<>();
        Set<String> unreachableHosts = new HashSet<>();
        String unreachableWhy = null;
        for (ComponentPlan p : plans) {
            if (p.file().isPresent()) {
                out.add(fromFile(p));
                continue;
            }
            if (p.url().isPresent()) {
                URI url = URI.create(p.url().get());
                if (!unreachableHosts.contains(url.getAuthority())) {
                    try {
                        out.add(download(p, url, downloader));
                        continue;
                    } catch (UserError e) {
                        if (!unreachable(e)) {
                            throw e;
                        }
                        unreachableHosts.add(url.getAuthority());
                        unreachableWhy = unreachableWhy == null ? "cannot reach " + url.getAuthority() + ": " + rootCause(e) : unreachableWhy;
                        progress.detail("upstream unreachable for " + p.name() + ": " + e.getMessage());
                    }
                }
            }
            out.add(fallback(p, unreachableWhy));
        }
        List<ComponentChoice> debian = out.stream().filter(c -> c.source() == ComponentChoice.Source.DEBIAN).toList();
        if (!debian.isEmpty()) {
            progress.notice((unreachableWhy == null ? "no verified upstream download" : "upstream not reachable (" + unreachableWhy + ")")
                    + ": using Debian's packages instead of kind's pins: " + debian.stream()
                    .map(c -> c.name() + " " + c.version() + " (" + c.origin() + ")").collect(Collectors.joining(", ")));
        }
        boolean offline = unreachableWhy != null;
        out.stream().filter(c -> c.name().equals("crictl") && c.source() == ComponentChoice.Source.ABSENT).findFirst()
                .ifPresent(c -> progress.notice("no crictl in this base (" + (!offline ? "no verified download" : "upstream not reachable")
                        + ", and Debian packages none): `kind load docker-image` re-imports every image every time and `kind export logs` fails;"
                        + " pass --crictl URL|FILE to add it"));
        return List.copyOf(out);
    }

    private static ComponentChoice download(ComponentPlan p, URI url, Downloader downloader) {
        String name = fileName(url);
        String sha;
        if (p.sha256().isPresent()) {
            sha = p.sha256().get();
        } else {
            URI sumUrl = URI.create(p.checksumUrl().orElseThrow());
            String text;
            try {
                text = downloader.fetchText(sumUrl, 64 * 1024);
            } catch (UserError e) {
                if (unreachable(e)) {
                    throw e;
                }
                throw new UserError(p.name() + ": no checksum published at " + sumUrl + " to verify " + name
                        + " against (" + e.getMessage() + "): give --" + p.name() + " a file you trust, or another version", e);
            }
            sha = Sha256.parseChecksumFile(text, name, sumUrl.toString());
        }
        Downloader.Result r = downloader.fetch(url, Optional.of(sha));
        String version = p.version().isEmpty() ? versionIn(name) : p.version();
        return new ComponentChoice(p.name(), version, ComponentChoice.Source.UPSTREAM, url.toString(), Optional.of(r.file()),
                Optional.of(r.sha256()), p);
    }

    private static ComponentChoice fromFile(ComponentPlan p) {
        Path file = Path.of(p.file().get());
        try {
            return new ComponentChoice(p.name(), versionIn(file.getFileName().toString()), ComponentChoice.Source.FILE, file.toString(),
                    Optional.of(file), Optional.of(Sha256.of(file)), p);
        } catch (IOException e) {
            throw new UserError("cannot read --" + p.name() + " " + file + ": " + e.getMessage());
        }
    }

    private static ComponentChoice fallback(ComponentPlan p, String why) {
        if (p.debian().isPresent()) {
            Component.DebianCandidate d = p.debian().get();
            return new ComponentChoice(p.name(), d.version(), ComponentChoice.Source.DEBIAN, d.suite(), Optional.empty(), Optional.empty(), p);
        }
        if (p.explicit()) {
            throw new UserError(p.name() + " " + p.request() + " cannot be had: " + (why == null ? "no upstream download" : "upstream not reachable (" + why + ")")
                    + " and Debian has " + PlanComponents.debianList(p.component().debian().map(Component.DebianPackage::versions).orElse(List.of()))
                    + ": give --" + p.name() + " a file or a reachable URL");
        }
        return new ComponentChoice(p.name(), "", ComponentChoice.Source.ABSENT, "", Optional.empty(), Optional.empty(), p);
    }

    /** A server that cannot be reached at all (name, route, connection), as opposed to one that answered. */
    static boolean unreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof UnknownHostException || t instanceof UnresolvedAddressException
                    || t instanceof HttpConnectTimeoutException || t instanceof NoRouteToHostException) {
                return true;
            }
        }
        return false;
    }

    /** Why a server could not be reached, in a few words. */
    private static String rootCause(Throwable e) {
        String why = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
                return "name does not resolve";
            }
            if (t instanceof HttpConnectTimeoutException) {
                return "no connection within " + Downloader.CONNECT_TIMEOUT.toSeconds() + " s";
            }
            if (t instanceof ConnectException && why == null) {
                why = "connection refused";
            }
            if (t instanceof NoRouteToHostException) {
                return "no route to host";
            }
        }
        return why == null ? e.getMessage() : why;
    }

    /** {@code containerd-2.3.1-linux-amd64.tar.gz} → 2.3.1; "" when the name carries none. */
    static String versionIn(String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("v?(\\d+\\.\\d+\\.\\d+)").matcher(name);
        return m.find() ? m.group(1) : "";
    }

    private static String fileName(URI url) {
        String path = url.getPath();
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
