package dev.kindbuild.components;

import dev.kindbuild.UserError;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the user asked for one component: nothing (the file's default), a version ({@code 2.3.1}, {@code v1.7}), an
 * http(s) URL, or a local file.
 *
 * @param kind  which of the four
 * @param value the version without a leading v, the URL, or the file's absolute path ("" for the default)
 */
public record ComponentRequest(Kind kind, String value) {
    public enum Kind { DEFAULT, VERSION, URL, FILE }

    public static final ComponentRequest DEFAULT = new ComponentRequest(Kind.DEFAULT, "");

    /** Parses {@code --<name> VALUE}; null or blank is the default. A value that is none of the three is one line. */
    public static ComponentRequest parse(String name, String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT;
        }
        String t = text.strip();
        if (t.startsWith("https://") || t.startsWith("http://")) {
            return new ComponentRequest(Kind.URL, t);
        }
        if (t.matches("v?\\d{1,4}(\\.\\d{1,4}){1,2}")) {
            return new ComponentRequest(Kind.VERSION, t.startsWith("v") ? t.substring(1) : t);
        }
        Path p = Path.of(t);
        if (Files.isRegularFile(p)) {
            return new ComponentRequest(Kind.FILE, p.toAbsolutePath().normalize().toString());
        }
        throw new UserError("invalid --" + name + " '" + t + "': give a version (e.g. 2.1 or 2.1.9), an http(s) URL with a"
                + " published .sha256 beside it, or an existing file");
    }

    /** Whether a version of this request names one release exactly (x.y.z), so an upstream URL can be made from it. */
    boolean fullVersion() {
        return kind == Kind.VERSION && value.matches("\\d+\\.\\d+\\.\\d+");
    }

    /** Whether {@code version} (e.g. 1.7.24) is what this version request asks for (1.7, 1.7.24). */
    boolean matches(String version) {
        return version.equals(value) || version.startsWith(value + ".");
    }

    /** The request in the recipe's identity: two bases built from different requests never reuse each other. */
    public String key() {
        return kind == Kind.DEFAULT ? "default" : kind.name().toLowerCase() + ":" + value;
    }

    @Override
    public String toString() {
        return kind == Kind.DEFAULT ? "default" : value;
    }
}
