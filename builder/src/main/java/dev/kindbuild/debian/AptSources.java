package dev.kindbuild.debian;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Debian mirror this machine's apt is configured with, so that mirrors, proxies and local caches set up there
 * apply to kind-build's Debian downloads too. deb822 {@code .sources} files are read first (Debian 12's default),
 * then one-line {@code sources.list} entries; security suites are skipped (they hold updates, not the release).
 */
public final class AptSources {
    private AptSources() {}

    /** The main mirror configured under {@code /etc/apt}, if any. */
    public static Optional<String> mirror() {
        return mirror(Path.of("/etc/apt"));
    }

    /**
     * {@link #mirror()}, or Debian's own redirector when this machine's apt names no mirror (e.g. not Debian at all);
     * the redirector's address is Debian's published default, the one mmdebstrap itself falls back to.
     */
    public static String mirrorOrDefault() {
        return mirror().orElse(DEBIAN_DEFAULT);
    }

    /** mmdebstrap's and debootstrap's own default. */
    static final String DEBIAN_DEFAULT = "http://" + "deb.debian.org/debian";

    /** {@link #mirror()} for an apt configuration directory (for tests). */
    public static Optional<String> mirror(Path etcApt) {
        List<Path> sources = new ArrayList<>();
        List<Path> lists = new ArrayList<>();
        lists.add(etcApt.resolve("sources.list"));
        Path dir = etcApt.resolve("sources.list.d");
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
                for (Path p : s) {
                    String n = p.getFileName().toString();
                    if (n.endsWith(".sources")) sources.add(p);
                    else if (n.endsWith(".list")) lists.add(p);
                }
            } catch (IOException e) {
                return Optional.empty();
            }
        }
        sources.sort(null);
        for (Path p : sources) {
            Optional<String> m = fromDeb822(read(p));
            if (m.isPresent()) return m;
        }
        for (Path p : lists) {
            Optional<String> m = fromOneLine(read(p));
            if (m.isPresent()) return m;
        }
        return Optional.empty();
    }

    /** The first {@code URIs:} of a stanza offering {@code deb} for a non-security suite. */
    static Optional<String> fromDeb822(String text) {
        for (String stanza : text.split("\n\\s*\n")) {
            String uris = null, suites = "", types = "", enabled = "yes";
            for (String raw : stanza.split("\n")) {
                String line = raw.strip();
                if (line.startsWith("#") || !line.contains(":")) continue;
                String key = line.substring(0, line.indexOf(':')).strip().toLowerCase(java.util.Locale.ROOT);
                String value = line.substring(line.indexOf(':') + 1).strip();
                switch (key) {
                    case "uris" -> uris = value;
                    case "suites" -> suites = value;
                    case "types" -> types = value;
                    case "enabled" -> enabled = value.toLowerCase(java.util.Locale.ROOT);
                    default -> { }
                }
            }
            if (uris != null && !uris.isBlank() && (" " + types + " ").contains(" deb ") && !suites.contains("security")
                    && !enabled.equals("no")) {
                return Optional.of(trimSlash(uris.split("\\s+")[0]));
            }
        }
        return Optional.empty();
    }

    /** The URI of the first {@code deb URI SUITE ...} line whose suite is not a security suite. */
    static Optional<String> fromOneLine(String text) {
        for (String raw : text.split("\n")) {
            String[] f = raw.strip().split("\\s+");
            if (f.length < 3 || !f[0].equals("deb")) continue;
            int i = 1;
            if (f[i].startsWith("[")) {
                while (i < f.length && !f[i].endsWith("]")) i++;
                i++;
            }
            if (i + 1 < f.length && f[i].contains("://") && !f[i + 1].contains("security")) {
                return Optional.of(trimSlash(f[i]));
            }
        }
        return Optional.empty();
    }

    private static String trimSlash(String uri) {
        return uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri;
    }

    private static String read(Path p) {
        try {
            return Files.isRegularFile(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
