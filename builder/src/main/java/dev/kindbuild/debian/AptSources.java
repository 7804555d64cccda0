package dev.kindbuild.debian;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The Debian mirror this machine's apt uses for its main suite (not the security archive), so the Debian bootstrap
 * goes where apt goes: through the proxies and local mirrors configured there. Read from deb822
 * {@code sources.list.d/*.sources} files (URIs of a stanza whose suites are not security ones), else from one-line
 * {@code deb} entries in {@code sources.list} and {@code sources.list.d/*.list}.
 */
public final class AptSources {
    private AptSources() {}

    /** The mirror of the machine's apt sources, or "" when none is configured (then --debian-mirror must be given). */
    public static String machineMirror() {
        return mirror(Path.of("/etc/apt")).orElse("");
    }

    static Optional<String> mirror(Path etcApt) {
        Path dir = etcApt.resolve("sources.list.d");
        for (Path file : files(dir, ".sources")) {
            Optional<String> found = fromDeb822(read(file));
            if (found.isPresent()) {
                return found;
            }
        }
        List<Path> oneLine = new ArrayList<>();
        oneLine.add(etcApt.resolve("sources.list"));
        oneLine.addAll(files(dir, ".list"));
        for (Path file : oneLine) {
            Optional<String> found = fromOneLine(read(file));
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    /** The first URI of an enabled deb stanza whose suites are not security ones. */
    static Optional<String> fromDeb822(String text) {
        for (String stanza : text.split("\\n\\s*\\n")) {
            String uri = null;
            boolean deb = false;
            boolean security = false;
            boolean enabled = true;
            for (String raw : stanza.split("\\n")) {
                String line = raw.strip();
                if (line.startsWith("#") || !line.contains(":")) {
                    continue;
                }
                String key = line.substring(0, line.indexOf(':')).strip().toLowerCase(Locale.ROOT);
                String[] values = line.substring(line.indexOf(':') + 1).strip().split("\\s+");
                switch (key) {
                    case "types" -> deb = List.of(values).contains("deb");
                    case "uris" -> uri = values.length > 0 && !values[0].isEmpty() ? values[0] : null;
                    case "suites" -> security = Stream.of(values).anyMatch(v -> v.contains("security"));
                    case "enabled" -> enabled = !values[0].equalsIgnoreCase("no");
                    default -> { }
                }
            }
            if (deb && enabled && !security && usable(uri)) {
                return Optional.of(trim(uri));
            }
        }
        return Optional.empty();
    }

    /** The URI of the first {@code deb} line that is not for a security suite. */
    static Optional<String> fromOneLine(String text) {
        for (String raw : text.split("\\n")) {
            String line = raw.strip();
            if (!line.startsWith("deb ") || line.contains("security")) {
                continue;
            }
            // deb [options] URI suite components…
            String rest = line.substring(4).strip();
            if (rest.startsWith("[")) {
                int close = rest.indexOf(']');
                rest = close < 0 ? "" : rest.substring(close + 1).strip();
            }
            String uri = rest.split("\\s+")[0];
            if (usable(uri)) {
                return Optional.of(trim(uri));
            }
        }
        return Optional.empty();
    }

    private static boolean usable(String uri) {
        return uri != null && uri.matches("https?://\\S+");
    }

    private static String trim(String uri) {
        return uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri;
    }

    private static List<Path> files(Path dir, String suffix) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String read(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
